/**
 * CUDA C++ renderer of the kernel IR: the same templates as the WGSL renderer (map, row, matmul, flash
 * attention), an op table for CUDA syntax, one `extern "C" __global__` function per kernel. Parameters are
 * the dims array (the symbolic sizes) when used, then every buffer the body touches in id order; inputs are
 * `const T* __restrict__` (the memory plan never gives a kernel's operands and output the same storage).
 *
 * Numerics follow the reference interpreter: precise f32 functions (expf, not __expf), integer x / 0 = 0 and
 * INT_MIN / -1 = INT_MIN through helpers in CUDA_PRELUDE, float -> int saturating with NaN -> 0.
 * Generated locals are declared only when used, so nvcc has nothing to warn about.
 */
import type { DType } from '../core/dtype.js';
import { ExprPrinter, type TargetTable } from '../ir/kernel-emit.js';
import {
  delinearize, dimExpr, kbin, kconst, kvar, walkK,
  type AttentionKernel, type KBuffer, type KExpr, type Kernel, type MapKernel, type MatmulKernel, type RowKernel,
} from '../ir/kernel.js';
import { evalSize, sizeText } from '../ir/kernel.js';

const F32_MAX = 3.4028234663852886e38;
/** Divisors that need no zero guard: positive integer literals. */
const isPositiveLiteral = (s: string) => /^[1-9]\d*$/.test(s);

export function f32Literal(v: number): string {
  if (Number.isNaN(v)) return '__int_as_float(0x7fc00000)';
  if (v === Infinity) return '__int_as_float(0x7f800000)';
  if (v === -Infinity) return '(-__int_as_float(0x7f800000))';
  const f = Math.fround(v);
  // fround can overflow a finite double just above FLT_MAX to infinity; keep it finite like the WGSL side.
  const c = Number.isFinite(f) ? f : Math.sign(v) * F32_MAX;
  let s = String(c);
  if (!/[.eE]/.test(s)) s += '.0';
  return c < 0 || Object.is(c, -0) ? `(${s}f)` : `${s}f`;
}

function intLiteral(v: number): string {
  const i = v | 0;
  return i === -2147483648 ? '(-2147483647 - 1)' : i < 0 ? `(${i})` : String(i);
}

/** C type of a value in expressions; half types are computed in float, bool is a C++ bool. */
export function cudaType(t: DType): string {
  switch (t) {
    case 'f32': case 'f16': case 'bf16': return 'float';
    case 'bool': return 'bool';
    case 'u32': return 'unsigned int';
    default: return 'int';
  }
}

/** C type of a buffer element in memory (bool and ints as int, halves as their 16-bit types). */
export function cudaStorageType(t: DType): string {
  return t === 'f32' ? 'float' : t === 'f16' ? '__half' : t === 'bf16' ? '__nv_bfloat16' : 'int';
}

const isF = (t: DType) => t === 'f32' || t === 'f16' || t === 'bf16';

export const CUDA = {
  unary: {
    neg: (a) => `(-${a})`, exp: (a) => `expf(${a})`, log: (a) => `logf(${a})`, sqrt: (a) => `sqrtf(${a})`,
    rsqrt: (a) => `rsqrtf(${a})`, tanh: (a) => `tanhf(${a})`,
    sigmoid: (a) => `(1.0f / (1.0f + expf(-${a})))`, silu: (a) => `(${a} / (1.0f + expf(-${a})))`,
    gelu: (a) => `(0.5f * ${a} * (1.0f + tanhf(0.7978845608028654f * (${a} + 0.044715f * ${a} * ${a} * ${a}))))`,
    sin: (a) => `sinf(${a})`, cos: (a) => `cosf(${a})`, abs: (a, t) => (isF(t) ? `fabsf(${a})` : `abs(${a})`),
    recip: (a) => `(1.0f / ${a})`, not: (a) => `(!${a})`,
    floor: (a, t) => (isF(t) ? `floorf(${a})` : a), ceil: (a, t) => (isF(t) ? `ceilf(${a})` : a),
  },
  binary: {
    add: (a, b) => `(${a} + ${b})`, sub: (a, b) => `(${a} - ${b})`, mul: (a, b) => `(${a} * ${b})`,
    div: (a, b, t) => (isF(t) ? `(${a} / ${b})` : t === 'u32' ? `tfx_udiv(${a}, ${b})` : isPositiveLiteral(b) ? `(${a} / ${b})` : `tfx_idiv(${a}, ${b})`),
    mod: (a, b, t) => (isF(t) ? `fmodf(${a}, ${b})` : t === 'u32' ? `tfx_umod(${a}, ${b})` : isPositiveLiteral(b) ? `(${a} % ${b})` : `tfx_imod(${a}, ${b})`),
    pow: (a, b, t) => (isF(t) ? `powf(${a}, ${b})` : `tfx_f2i(powf((float)(${a}), (float)(${b})))`),
    max: (a, b, t) => (isF(t) ? `tfx_fmax(${a}, ${b})` : `max(${a}, ${b})`),
    min: (a, b, t) => (isF(t) ? `tfx_fmin(${a}, ${b})` : `min(${a}, ${b})`),
    lt: (a, b) => `(${a} < ${b})`, le: (a, b) => `(${a} <= ${b})`, gt: (a, b) => `(${a} > ${b})`, ge: (a, b) => `(${a} >= ${b})`,
    eq: (a, b) => `(${a} == ${b})`, ne: (a, b) => `(${a} != ${b})`, and: (a, b) => `(${a} && ${b})`, or: (a, b) => `(${a} || ${b})`,
  },
  where: (c, a, b) => `(${c} ? ${a} : ${b})`,
  cast: (a, from, to) => {
    if (to === 'bool') return isF(from) ? `(${a} != 0.0f)` : `(${a} != 0)`;
    if (from === 'bool') return isF(to) ? `(${a} ? 1.0f : 0.0f)` : `(${a} ? 1 : 0)`;
    if (isF(from) && !isF(to)) return to === 'u32' ? `tfx_f2u(${a})` : `tfx_f2i(${a})`;
    if (isF(from) && isF(to)) return to === 'f16' ? `__half2float(__float2half_rn(${a}))` : to === 'bf16' ? `__bfloat162float(__float2bfloat16_rn(${a}))` : a;
    return `((${cudaType(to)})(${a}))`;
  },
  literal: (v, t) => (t === 'bool' ? (v ? 'true' : 'false') : isF(t) ? f32Literal(v) : t === 'u32' ? `${v >>> 0}u` : intLiteral(v)),
  type: (t) => cudaType(t),
  letDecl: (name, t, value) => `const ${cudaType(t)} ${name} = ${value};`,
  load: (buf, at, t) => (t === 'f16' ? `__half2float(g${buf}[${at}])` : t === 'bf16' ? `__bfloat162float(g${buf}[${at}])` : `g${buf}[${at}]`),
  sym: (i) => `dims[${i}]`,
} satisfies TargetTable;

/**
 * Helpers every module defines once before its kernels. Non-static inline, so a module that does not call
 * one gets no "declared but never referenced" warning.
 */
export const CUDA_PRELUDE = `#include <cuda_fp16.h>
#include <cuda_bf16.h>

// Integer division and remainder with x / 0 = x % 0 = 0 and INT_MIN / -1 = INT_MIN (the interpreter's rules).
__device__ __forceinline__ int tfx_idiv(int a, int b) { return b == 0 ? 0 : b == -1 ? (int)(0u - (unsigned int)a) : a / b; }
__device__ __forceinline__ int tfx_imod(int a, int b) { return (b == 0 || b == -1) ? 0 : a % b; }
__device__ __forceinline__ unsigned int tfx_udiv(unsigned int a, unsigned int b) { return b == 0u ? 0u : a / b; }
__device__ __forceinline__ unsigned int tfx_umod(unsigned int a, unsigned int b) { return b == 0u ? 0u : a % b; }
// Float to int: truncate, saturate, NaN -> 0 (what cvt.rzi does on the GPU, spelled out for the CPU emulation).
__device__ __forceinline__ int tfx_f2i(float x) {
  return x != x ? 0 : x >= 2147483647.0f ? 2147483647 : x <= -2147483648.0f ? (-2147483647 - 1) : (int)x;
}
__device__ __forceinline__ unsigned int tfx_f2u(float x) { return x != x || x <= 0.0f ? 0u : x >= 4294967295.0f ? 4294967295u : (unsigned int)x; }
// max/min that propagate NaN (fmaxf would drop it).
__device__ __forceinline__ float tfx_fmax(float a, float b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
__device__ __forceinline__ float tfx_fmin(float a, float b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
`;

export interface RenderedCudaKernel {
  readonly name: string;
  /** One `extern "C" __global__` function; compile it after CUDA_PRELUDE (see module.ts). */
  readonly code: string;
  /** Kernel parameters in order: buffer ids, -1 for the dims array. */
  readonly params: readonly number[];
  /** Blocks per grid dimension once the dims (in symbol order) are bound. */
  readonly grid: (dims: readonly number[]) => [number, number, number];
  readonly block: readonly [number, number, number];
  /** Dynamic shared memory per launch (every template uses static __shared__ arrays, so 0 today). */
  readonly sharedBytes: number;
  /** Static __shared__ bytes the code declares (for reports; ptxas says the same). */
  readonly staticSharedBytes: number;
  /** The launch as text over the symbols, for plan.json. */
  readonly dispatchText: string;
}

const MAX_GRID_X = 2147483647;
const MAX_GRID_YZ = 65535;
/** Map kernels stride over the output beyond this many blocks (enough to fill any current GPU several times). */
export const MAP_MAX_BLOCKS = 8192;

const evalK = evalSize;
const textK = sizeText;

/** Names of the variables an expression mentions. */
function varsOf(...es: (KExpr | null)[]): Set<string> {
  const out = new Set<string>();
  for (const e of es) if (e) walkK(e, (x) => { if (x.k === 'var') out.add(x.name); });
  return out;
}

const product = (ds: readonly KExpr[]): KExpr => ds.reduce((a, d) => kbin('mul', a, d), kconst(1));

class Fn {
  readonly lines: string[] = [];
  readonly printer = new ExprPrinter(CUDA);
  constructor(readonly buffers: readonly KBuffer[], readonly symbols: readonly string[]) {}
  dim(d: Parameters<typeof dimExpr>[0]): KExpr { return dimExpr(d, this.symbols); }
  expr(e: KExpr, indent: string): string { return this.printer.print([e], this.lines, indent)[0]!; }
  exprs(es: readonly KExpr[], indent: string): string[] { return this.printer.print(es, this.lines, indent); }
  push(...s: string[]): void { this.lines.push(...s); }

  /** `const int name = expr;` for each variable the kernel uses, in order (shared index math hoisted once). */
  declareInts(names: readonly string[], values: readonly KExpr[], used: ReadonlySet<string>, indent: string): void {
    const keep = names.map((n, i) => [n, values[i]!] as const).filter(([n]) => used.has(n));
    const texts = this.exprs(keep.map(([, v]) => v), indent);
    keep.forEach(([n], i) => this.push(`${indent}const int ${n} = ${texts[i]!};`));
  }

  /** The store of `value` into buffer `buf` at `at`, converting to the buffer's element type. */
  store(buf: number, at: string, value: string, indent: string): void {
    const t = this.buffers[buf]!.dtype;
    const v = t === 'f16' ? `__float2half_rn(${value})` : t === 'bf16' ? `__float2bfloat16_rn(${value})` : value;
    this.push(`${indent}g${buf}[${at}] = ${v};`);
  }

  /** Signature over exactly the buffers the body mentions, then the body. */
  finish(k: Kernel, threads: number, shared: string[]): { code: string; params: number[] } {
    const body = this.lines.join('\n');
    const used = new Set<number>();
    for (const m of body.matchAll(/\bg(\d+)\[/g)) used.add(Number(m[1]));
    const params: number[] = [];
    const decl: string[] = [];
    if (/\bdims\[/.test(body)) { decl.push('const int* __restrict__ dims'); params.push(-1); }
    for (const id of [...used].sort((a, b) => a - b)) {
      const t = cudaStorageType(this.buffers[id]!.dtype);
      decl.push(id === k.out ? `${t}* __restrict__ g${id}` : `const ${t}* __restrict__ g${id}`);
      params.push(id);
    }
    const label = k.label.replace(/[^\x20-\x7e]/g, '?').replace(/\*\//g, '* /');
    const code = [
      `// ${k.name}: ${label}`,
      `extern "C" __global__ void __launch_bounds__(${threads}) ${k.name}(${decl.join(', ')}) {`,
      ...shared.map((s) => `  ${s}`),
      body,
      '}',
      '',
    ].join('\n');
    return { code, params };
  }
}

export function renderCuda(k: Kernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  if (!/^[A-Za-z_]\w*$/.test(k.name)) throw new Error(`internal error: kernel name '${k.name}' is not an identifier`);
  switch (k.kind) {
    case 'map': return renderMap(k, buffers, symbols);
    case 'row': return renderRow(k, buffers, symbols);
    case 'matmul': return renderMatmul(k, buffers, symbols);
    case 'attention': return renderAttention(k, buffers, symbols);
  }
}

/** Element-wise: a grid-stride loop over the flat output; each thread handles `perThread` consecutive elements. */
function renderMap(k: MapKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  const f = new Fn(buffers, symbols);
  const { wg, perThread } = k.schedule;
  const total = product(k.shape.map((d) => f.dim(d)));
  const used = varsOf(k.value);
  f.push(`  const int total = ${f.expr(total, '  ')};`);
  f.push(`  const int stride = (int)gridDim.x * ${wg * perThread};`);
  f.push(`  for (int base = ((int)blockIdx.x * ${wg} + (int)threadIdx.x) * ${perThread}; base < total; base += stride) {`);
  let ind = '    ';
  if (perThread > 1) {
    f.push(`${ind}for (int e = 0; e < ${perThread}; e++) {`);
    ind += '  ';
    f.push(`${ind}const int gid = base + e;`);
    f.push(`${ind}if (gid >= total) break;`);
  } else f.push(`${ind}const int gid = base;`);
  const idx = delinearize(kvar('gid' as never), k.shape, symbols);
  f.declareInts(idx.map((_, i) => `i${i}`), idx, used, ind);
  f.store(k.out, 'gid', f.expr(k.value, ind), ind);
  if (perThread > 1) f.push('    }');
  f.push('  }');
  const { code, params } = f.finish(k, wg, []);
  const per = wg * perThread;
  return {
    name: k.name, code, params, block: [wg, 1, 1], sharedBytes: 0, staticSharedBytes: 0,
    grid: (dims) => [Math.max(1, Math.min(MAP_MAX_BLOCKS, Math.ceil(evalK(total, dims) / per))), 1, 1],
    dispatchText: `[min(ceil(${textK(total, symbols)} / ${per}), ${MAP_MAX_BLOCKS}), 1, 1] x ${wg}`,
  };
}

function combine(op: 'sum' | 'max' | 'min', a: string, b: string, float: boolean): string {
  if (op === 'sum') return `(${a} + ${b})`;
  return float ? `tfx_f${op}(${a}, ${b})` : `${op}(${a}, ${b})`;
}

function reductionInit(op: 'sum' | 'max' | 'min', float: boolean): string {
  if (op === 'sum') return float ? '0.0f' : '0';
  if (float) return op === 'max' ? f32Literal(-Infinity) : f32Literal(Infinity);
  return op === 'max' ? '(-2147483647 - 1)' : '2147483647';
}

/**
 * One block per row. Each reduction: a strided per-thread pass, warp shuffles, one partial per warp in
 * __shared__, and every thread combines the partials (no second broadcast barrier). Blocks that are not a
 * multiple of 32 threads reduce through a shared-memory tree instead.
 */
function renderRow(k: RowKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  const f = new Fn(buffers, symbols);
  const wg = k.schedule.wg;
  const warps = wg % 32 === 0 ? wg / 32 : 0;
  if (!warps && (wg & (wg - 1)) !== 0) throw new Error(`internal error: ${k.name}: row block of ${wg} threads is neither a multiple of 32 nor a power of two`);
  const slots = warps || wg;
  const nrows = product(k.rows.map((d) => f.dim(d)));
  const used = varsOf(...k.reds.map((r) => r.value), k.store.at, k.store.value);
  const shared = new Set<string>();
  f.push(`  const int row = (int)blockIdx.x;`);
  f.push(`  if (row >= ${f.expr(nrows, '  ')}) return;`);
  const rowIdx = delinearize(kvar('row' as never), k.rows, symbols);
  f.declareInts(rowIdx.map((_, i) => `i${i}`), rowIdx, used, '  ');
  // `len` bounds the strided loops; a per-row store after no reduction has none.
  if (k.reds.length || k.store.perElement) f.push(`  const int len = ${f.expr(f.dim(k.len), '  ')};`);
  k.reds.forEach((r, j) => {
    const float = r.value.dtype === 'f32';
    const t = float ? 'float' : 'int';
    const sh = `sh_${t}`;
    shared.add(`__shared__ ${t} ${sh}[${slots}];`);
    f.push(`  ${t} a${j} = ${reductionInit(r.op, float)};`);
    f.push(`  for (int r = (int)threadIdx.x; r < len; r += ${wg}) {`);
    const v = f.expr(r.value, '    ');
    f.push(`    a${j} = ${combine(r.op, `a${j}`, v, float)};`);
    f.push('  }');
    if (warps) {
      for (let o = 16; o >= 1; o /= 2) f.push(`  a${j} = ${combine(r.op, `a${j}`, `__shfl_xor_sync(0xffffffffu, a${j}, ${o})`, float)};`);
      if (warps === 1) { f.push(`  const ${t} red${j} = a${j};`); return; }
      f.push(`  if ((threadIdx.x & 31u) == 0u) ${sh}[threadIdx.x >> 5] = a${j};`);
      f.push('  __syncthreads();');
      let all = `${sh}[0]`;
      for (let w = 1; w < warps; w++) all = combine(r.op, all, `${sh}[${w}]`, float);
      f.push(`  const ${t} red${j} = ${all};`);
    } else {
      f.push(`  ${sh}[threadIdx.x] = a${j};`);
      f.push('  __syncthreads();');
      for (let s = wg / 2; s >= 1; s /= 2) {
        f.push(`  if (threadIdx.x < ${s}u) ${sh}[threadIdx.x] = ${combine(r.op, `${sh}[threadIdx.x]`, `${sh}[threadIdx.x + ${s}u]`, float)};`);
        f.push('  __syncthreads();');
      }
      f.push(`  const ${t} red${j} = ${sh}[0];`);
    }
    // The partials array is written again by the next reduction: everyone must have read it first.
    if (k.reds.slice(j + 1).some((x) => (x.value.dtype === 'f32') === float)) f.push('  __syncthreads();');
  });
  if (k.store.perElement) {
    f.push(`  for (int r = (int)threadIdx.x; r < len; r += ${wg}) {`);
    const [at, v] = f.exprs([k.store.at, k.store.value], '    ');
    f.store(k.out, at!, v!, '    ');
    f.push('  }');
  } else {
    f.push('  if (threadIdx.x == 0u) {');
    const [at, v] = f.exprs([k.store.at, k.store.value], '    ');
    f.store(k.out, at!, v!, '    ');
    f.push('  }');
  }
  const { code, params } = f.finish(k, wg, [...shared]);
  const staticSharedBytes = shared.size * slots * 4;
  return {
    name: k.name, code, params, block: [wg, 1, 1], sharedBytes: 0, staticSharedBytes,
    grid: (dims) => {
      const n = evalK(nrows, dims);
      if (n > MAX_GRID_X) throw new Error(`${k.name}: ${n} rows exceed the CUDA grid limit`);
      return [Math.max(1, n), 1, 1];
    },
    dispatchText: `[${textK(nrows, symbols)}, 1, 1] x ${wg}`,
  };
}

/** Register tiling: a (wgX, wgY) block, each thread a tm x tn tile of C; operands are read (and fused prologues evaluated) per k. */
function renderMatmul(k: MatmulKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  if (k.schedule.shared) return renderMatmulShared(k, buffers, symbols);
  const f = new Fn(buffers, symbols);
  const { wgX, wgY, tm, tn } = k.schedule;
  const nb = product(k.batch.map((d) => f.dim(d)));
  const M = f.dim(k.M), N = f.dim(k.N), K = f.dim(k.K);
  const used = varsOf(k.a, k.b, k.epilogue, k.at);
  const usesM = varsOf(k.a).has('m'), usesN = varsOf(k.b).has('n');
  const bIdx = delinearize(kvar('bz' as never), k.batch, symbols);
  if (bIdx.some((_, i) => used.has(`b${i}`))) {
    f.push('  const int bz = (int)blockIdx.z;');
    f.declareInts(bIdx.map((_, i) => `b${i}`), bIdx, used, '  ');
  }
  f.push(`  const int M = ${f.expr(M, '  ')};`);
  f.push(`  const int N = ${f.expr(N, '  ')};`);
  f.push(`  const int K = ${f.expr(K, '  ')};`);
  // Thread (x, y) owns rows m0 + i*wgY and columns n0 + j*wgX: a warp's loads and stores of B and C coalesce.
  f.push(`  const int m0 = (int)blockIdx.y * ${wgY * tm} + (int)threadIdx.y;`);
  f.push(`  const int n0 = (int)blockIdx.x * ${wgX * tn} + (int)threadIdx.x;`);
  for (let i = 0; i < tm; i++) f.push(`  float ${Array.from({ length: tn }, (_, j) => `c${i}_${j} = 0.0f`).join(', ')};`);
  f.push('  for (int k = 0; k < K; k++) {');
  for (let i = 0; i < tm; i++) {
    f.push(`    float av${i};`, '    {');
    if (usesM) f.push(`      const int m = min(m0 + ${i * wgY}, M - 1);`);
    f.push(`      av${i} = ${f.expr(k.a, '      ')};`, '    }');
  }
  for (let j = 0; j < tn; j++) {
    f.push(`    float bv${j};`, '    {');
    if (usesN) f.push(`      const int n = min(n0 + ${j * wgX}, N - 1);`);
    f.push(`      bv${j} = ${f.expr(k.b, '      ')};`, '    }');
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) f.push(`    c${i}_${j} = fmaf(av${i}, bv${j}, c${i}_${j});`);
  f.push('  }');
  const usesAcc = varsOf(k.epilogue).has('acc');
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) {
    f.push('  {', `    const int m = m0 + ${i * wgY};`, `    const int n = n0 + ${j * wgX};`, '    if (m < M && n < N) {');
    if (usesAcc) f.push(`      const float acc = c${i}_${j};`);
    const [at, v] = f.exprs([k.at, k.epilogue], '      ');
    f.store(k.out, at!, v!, '      ');
    f.push('    }', '  }');
  }
  const { code, params } = f.finish(k, wgX * wgY, []);
  return {
    name: k.name, code, params, block: [wgX, wgY, 1], sharedBytes: 0, staticSharedBytes: 0,
    grid: (dims) => {
      const x = Math.ceil(evalK(N, dims) / (wgX * tn)), y = Math.ceil(evalK(M, dims) / (wgY * tm)), z = evalK(nb, dims);
      if (x > MAX_GRID_X || y > MAX_GRID_YZ || z > MAX_GRID_YZ) throw new Error(`${k.name}: matmul grid ${x} x ${y} x ${z} exceeds CUDA's limits (2^31-1 x 65535 x 65535)`);
      return [Math.max(1, x), Math.max(1, y), Math.max(1, z)];
    },
    dispatchText: `[ceil(${textK(N, symbols)} / ${wgX * tn}), ceil(${textK(M, symbols)} / ${wgY * tm}), ${textK(nb, symbols)}] x (${wgX}, ${wgY})`,
  };
}

/**
 * Flash attention: one block per (query tile, batch * head); thread i owns query row q0 + i. Key/value
 * tiles are staged in __shared__; scores of a tile are computed, then one online-softmax rescale. With a
 * tile map, EMPTY tiles are skipped (uniformly for the block, so no barrier is split) and FULL tiles skip
 * the mask test. A row with no visible key ends with l = 0 and stores zeros.
 */
function renderAttention(k: AttentionKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  if (k.schedule.splitk) return renderAttentionSplitK(k, buffers, symbols);
  const f = new Fn(buffers, symbols);
  const { bq, bk } = k.schedule;
  const D = k.D, Dv = k.Dv, W = Math.max(D, Dv);
  const B = f.dim(k.B), Hq = f.dim(k.Hq), Hkv = f.dim(k.Hkv), Sq = f.dim(k.Sq), Sk = f.dim(k.Sk);
  const div = (a: string, b: string) => CUDA.binary.div(a, b, 'i32');
  const NEG = f32Literal(-F32_MAX);
  const maskVars = varsOf(k.mask);
  const shared = [`__shared__ float kt[${bk * D}];`, `__shared__ float vt[${bk * Dv}];`];
  attentionHead(f, k);
  f.push('  const int qt = (int)blockIdx.x;');
  f.push(`  const int qi = qt * ${bq} + (int)threadIdx.x;`);
  f.push('  const int qc = max(min(qi, Sq - 1), 0);');
  f.push(`  const int qbase = (bh * Sq + qc) * ${D};`);
  attentionState(f, k, buffers);
  f.push('  for (int t = 0; t < nkt; t++) {');
  const testMask = k.mask !== null;
  if (k.tiles !== null) {
    f.push(`    const int cls = g${k.tiles}[(b0 * nqt + qt) * nkt + t];`);
    f.push('    if (cls == 0) continue;');
  }
  // Cooperative load of the key and value tile (rows past Sk repeat the last row and are masked below).
  f.push(`    for (int e = (int)threadIdx.x; e < ${bk * W}; e += ${bq}) {`);
  f.push(`      const int j = e / ${W};`);
  f.push(`      const int d = e % ${W};`);
  f.push(`      const int kv = max(min(t * ${bk} + j, Sk - 1), 0);`);
  const kLoad = `kt[j * ${D} + d] = ${loadText(buffers, k.kbuf, `(kvbase + kv) * ${D} + d`)};`;
  const vLoad = `vt[j * ${Dv} + d] = ${loadText(buffers, k.v, `(kvbase + kv) * ${Dv} + d`)};`;
  f.push(`      ${D === W ? kLoad : `if (d < ${D}) ${kLoad}`}`);
  f.push(`      ${Dv === W ? vLoad : `if (d < ${Dv}) ${vLoad}`}`);
  f.push('    }');
  f.push('    __syncthreads();');
  f.push(`    float s[${bk}];`);
  f.push(`    float tmax = ${NEG};`);
  f.push('#pragma unroll');
  f.push(`    for (int j = 0; j < ${bk}; j++) {`);
  f.push(`      ${testMask ? '' : 'const '}bool ok = t * ${bk} + j < Sk && qi < Sq;`);
  if (testMask) {
    f.push(`      if (ok${k.tiles !== null ? ' && cls == 2' : ''}) {`);
    if (maskVars.has('q')) f.push('        const int q = qc;');
    if (maskVars.has('kv')) f.push(`        const int kv = t * ${bk} + j;`);
    f.push(`        ok = ${f.expr(k.mask!, '        ')};`);
    f.push('      }');
  }
  f.push('      float dot = 0.0f;');
  f.push('#pragma unroll');
  f.push(`      for (int d = 0; d < ${D}; d++) dot = fmaf(qr[d], kt[j * ${D} + d], dot);`);
  f.push(`      s[j] = ok ? dot : ${NEG};`);
  f.push('      if (ok) tmax = fmaxf(tmax, dot);');
  f.push('    }');
  f.push(`    if (tmax > ${NEG}) {`);
  f.push('      const float nm = fmaxf(mx, tmax);');
  f.push('      const float corr = expf(mx - nm);');
  f.push('      l = l * corr;');
  f.push('#pragma unroll');
  f.push(`      for (int d = 0; d < ${Dv}; d++) o[d] = o[d] * corr;`);
  f.push('#pragma unroll');
  f.push(`      for (int j = 0; j < ${bk}; j++) {`);
  f.push(`        if (s[j] > ${NEG}) {`);
  f.push('          const float p = expf(s[j] - nm);');
  f.push('          l = l + p;');
  f.push('#pragma unroll');
  f.push(`          for (int d = 0; d < ${Dv}; d++) o[d] = fmaf(p, vt[j * ${Dv} + d], o[d]);`);
  f.push('        }');
  f.push('      }');
  f.push('      mx = nm;');
  f.push('    }');
  f.push('    __syncthreads();');
  f.push('  }');
  f.push('  if (qi < Sq) {');
  f.push('    const float inv = l > 0.0f ? 1.0f / l : 0.0f;');
  f.push(`    const int obase = (bh * Sq + qi) * ${Dv};`);
  f.push('#pragma unroll');
  f.push(`    for (int d = 0; d < ${Dv}; d++) ${storeText(buffers, k.out, 'obase + d', 'o[d] * inv')}`);
  f.push('  }');
  const { code, params } = f.finish(k, bq, shared);
  return {
    name: k.name, code, params, block: [bq, 1, 1], sharedBytes: 0, staticSharedBytes: 4 * bk * (D + Dv),
    grid: (dims) => {
      const x = Math.ceil(evalK(Sq, dims) / bq), y = evalK(B, dims) * evalK(Hq, dims);
      if (x > MAX_GRID_X || y > MAX_GRID_YZ) throw new Error(`${k.name}: attention grid ${x} x ${y} exceeds CUDA's limits (2^31-1 x 65535)`);
      return [Math.max(1, x), Math.max(1, y), 1];
    },
    dispatchText: `[ceil(${textK(Sq, symbols)} / ${bq}), ${textK(B, symbols)} * ${textK(Hq, symbols)}, 1] x ${bq}`,
  };
}

/** A load as float whatever the buffer's element type (half types convert explicitly: `__half * float` is ambiguous). */
function loadText(buffers: readonly KBuffer[], buf: number, at: string): string {
  return CUDA.load(buf, at, buffers[buf]!.dtype);
}

function storeText(buffers: readonly KBuffer[], buf: number, at: string, value: string): string {
  const t = buffers[buf]!.dtype;
  const v = t === 'f16' ? `__float2half_rn(${value})` : t === 'bf16' ? `__float2bfloat16_rn(${value})` : value;
  return `g${buf}[${at}] = ${v};`;
}

/** Decode schedule (see the WGSL twin): one block per query row, threads split the key tiles, states merged. */
function renderAttentionSplitK(k: AttentionKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  const f = new Fn(buffers, symbols);
  const { bq, bk } = k.schedule;
  const W = k.schedule.splitk!;
  const D = k.D, Dv = k.Dv;
  const B = f.dim(k.B), Hq = f.dim(k.Hq), Hkv = f.dim(k.Hkv), Sq = f.dim(k.Sq), Sk = f.dim(k.Sk);
  const div = (a: string, b: string) => CUDA.binary.div(a, b, 'i32');
  const NEG = f32Literal(-F32_MAX);
  const maskVars = varsOf(k.mask);
  const shared = [`__shared__ float pm[${W}];`, `__shared__ float pl[${W}];`, `__shared__ float po[${W * Dv}];`];
  attentionHead(f, k);
  f.push('  const int qi = (int)blockIdx.x;');
  f.push(`  const int qbase = (bh * Sq + qi) * ${D};`);
  attentionState(f, k, buffers);
  f.push(`  for (int t = (int)threadIdx.x; t < nkt; t += ${W}) {`);
  if (k.tiles !== null) {
    f.push(`    const int cls = g${k.tiles}[(b0 * nqt + qi / ${bq}) * nkt + t];`);
    f.push('    if (cls == 0) continue;');
  }
  f.push(`    for (int j = 0; j < ${bk}; j++) {`);
  f.push(`      const int kv = t * ${bk} + j;`);
  f.push('      if (kv >= Sk) break;');
  if (k.mask) {
    f.push(`      if (${k.tiles !== null ? 'cls == 2' : 'true'}) {`);
    if (maskVars.has('q')) f.push('        const int q = qi;');
    f.push(`        const bool ok = ${f.expr(k.mask, '        ')};`);
    f.push('        if (!ok) continue;');
    f.push('      }');
  }
  f.push('      float dot = 0.0f;');
  f.push(`      for (int d = 0; d < ${D}; d++) dot = fmaf(qr[d], ${loadText(buffers, k.kbuf, `(kvbase + kv) * ${D} + d`)}, dot);`);
  f.push('      const float nm = fmaxf(mx, dot);');
  f.push('      const float corr = expf(mx - nm);');
  f.push('      const float p = expf(dot - nm);');
  f.push('      l = l * corr + p;');
  f.push(`      for (int d = 0; d < ${Dv}; d++) o[d] = fmaf(p, ${loadText(buffers, k.v, `(kvbase + kv) * ${Dv} + d`)}, o[d] * corr);`);
  f.push('      mx = nm;');
  f.push('    }');
  f.push('  }');
  f.push('  pm[threadIdx.x] = mx;');
  f.push('  pl[threadIdx.x] = l;');
  f.push(`  for (int d = 0; d < ${Dv}; d++) po[threadIdx.x * ${Dv} + d] = o[d];`);
  f.push('  __syncthreads();');
  f.push('  if (threadIdx.x == 0) {');
  f.push(`    float gm = ${NEG};`);
  f.push(`    for (int t = 0; t < ${W}; t++) gm = fmaxf(gm, pm[t]);`);
  f.push('    float gl = 0.0f;');
  f.push(`    for (int t = 0; t < ${W}; t++) if (pl[t] > 0.0f) gl += pl[t] * expf(pm[t] - gm);`);
  f.push('    const float inv = gl > 0.0f ? 1.0f / gl : 0.0f;');
  f.push(`    const int obase = (bh * Sq + qi) * ${Dv};`);
  f.push(`    for (int d = 0; d < ${Dv}; d++) {`);
  f.push('      float acc = 0.0f;');
  f.push(`      for (int t = 0; t < ${W}; t++) if (pl[t] > 0.0f) acc = fmaf(po[t * ${Dv} + d], expf(pm[t] - gm), acc);`);
  f.push(`      ${storeText(buffers, k.out, 'obase + d', 'acc * inv')}`);
  f.push('    }');
  f.push('  }');
  const { code, params } = f.finish(k, W, shared);
  return {
    name: k.name, code, params, block: [W, 1, 1], sharedBytes: 0, staticSharedBytes: 4 * W * (2 + Dv),
    grid: (dims) => {
      const x = evalK(Sq, dims), y = evalK(B, dims) * evalK(Hq, dims);
      if (x > MAX_GRID_X || y > MAX_GRID_YZ) throw new Error(`${k.name}: attention grid ${x} x ${y} exceeds CUDA's limits (2^31-1 x 65535)`);
      return [Math.max(1, x), Math.max(1, y), 1];
    },
    dispatchText: `[${textK(Sq, symbols)}, ${textK(B, symbols)} * ${textK(Hq, symbols)}, 1] x ${W}`,
  };
}

/** Matmul with shared-memory tiles (see the WGSL twin): operands staged once per tile, zero outside. */
function renderMatmulShared(k: MatmulKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  const f = new Fn(buffers, symbols);
  const { wgX, wgY, tm, tn, tk } = k.schedule;
  const BM = wgY * tm, BN = wgX * tn, T = wgX * wgY;
  const nb = product(k.batch.map((d) => f.dim(d)));
  const M = f.dim(k.M), N = f.dim(k.N), K = f.dim(k.K);
  const used = varsOf(k.a, k.b, k.epilogue, k.at);
  const bIdx = delinearize(kvar('bz' as never), k.batch, symbols);
  if (bIdx.some((_, i) => used.has(`b${i}`))) {
    f.push('  const int bz = (int)blockIdx.z;');
    f.declareInts(bIdx.map((_, i) => `b${i}`), bIdx, used, '  ');
  }
  const shared = [`__shared__ float ta[${BM * tk}];`, `__shared__ float tb[${tk * BN}];`];
  f.push(`  const int M = ${f.expr(M, '  ')};`);
  f.push(`  const int N = ${f.expr(N, '  ')};`);
  f.push(`  const int K = ${f.expr(K, '  ')};`);
  f.push(`  const int bm0 = (int)blockIdx.y * ${BM};`);
  f.push(`  const int bn0 = (int)blockIdx.x * ${BN};`);
  f.push('  const int tm0 = (int)threadIdx.y;');
  f.push('  const int tn0 = (int)threadIdx.x;');
  f.push(`  const int lix = (int)(threadIdx.y * ${wgX} + threadIdx.x);`);
  for (let i = 0; i < tm; i++) f.push(`  float ${Array.from({ length: tn }, (_, j) => `c${i}_${j} = 0.0f`).join(', ')};`);
  f.push(`  for (int k0 = 0; k0 < K; k0 += ${tk}) {`);
  f.push(`    for (int e = lix; e < ${BM * tk}; e += ${T}) {`);
  f.push(`      const int m = bm0 + e / ${tk};`);
  f.push(`      const int k = k0 + e % ${tk};`);
  f.push(`      ta[e] = (m < M && k < K) ? ${f.expr(k.a, '      ')} : 0.0f;`);
  f.push('    }');
  f.push(`    for (int e = lix; e < ${tk * BN}; e += ${T}) {`);
  f.push(`      const int k = k0 + e / ${BN};`);
  f.push(`      const int n = bn0 + e % ${BN};`);
  f.push(`      tb[e] = (n < N && k < K) ? ${f.expr(k.b, '      ')} : 0.0f;`);
  f.push('    }');
  f.push('    __syncthreads();');
  f.push('#pragma unroll');
  f.push(`    for (int kk = 0; kk < ${tk}; kk++) {`);
  for (let i = 0; i < tm; i++) f.push(`      const float av${i} = ta[(tm0 + ${i * wgY}) * ${tk} + kk];`);
  for (let j = 0; j < tn; j++) f.push(`      const float bv${j} = tb[kk * ${BN} + tn0 + ${j * wgX}];`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) f.push(`      c${i}_${j} = fmaf(av${i}, bv${j}, c${i}_${j});`);
  f.push('    }');
  f.push('    __syncthreads();');
  f.push('  }');
  const usesAcc = varsOf(k.epilogue).has('acc');
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) {
    f.push('  {', `    const int m = bm0 + tm0 + ${i * wgY};`, `    const int n = bn0 + tn0 + ${j * wgX};`, '    if (m < M && n < N) {');
    if (usesAcc) f.push(`      const float acc = c${i}_${j};`);
    const [at, v] = f.exprs([k.at, k.epilogue], '      ');
    f.store(k.out, at!, v!, '      ');
    f.push('    }', '  }');
  }
  const { code, params } = f.finish(k, T, shared);
  return {
    name: k.name, code, params, block: [wgX, wgY, 1], sharedBytes: 0, staticSharedBytes: 4 * (BM * tk + tk * BN),
    grid: (dims) => {
      const x = Math.ceil(evalK(N, dims) / BN), y = Math.ceil(evalK(M, dims) / BM), z = evalK(nb, dims);
      if (x > MAX_GRID_X || y > MAX_GRID_YZ || z > MAX_GRID_YZ) throw new Error(`${k.name}: matmul grid ${x} x ${y} x ${z} exceeds CUDA's limits (2^31-1 x 65535 x 65535)`);
      return [Math.max(1, x), Math.max(1, y), Math.max(1, z)];
    },
    dispatchText: `[ceil(${textK(N, symbols)} / ${BN}), ceil(${textK(M, symbols)} / ${BM}), ${textK(nb, symbols)}] x (${wgX}, ${wgY})`,
  };
}

/** Sizes and the (batch, head) decomposition every attention template starts with. */
function attentionHead(f: Fn, k: AttentionKernel): void {
  const div = (a: string, b: string) => CUDA.binary.div(a, b, 'i32');
  f.push(`  const int Hq = ${f.expr(f.dim(k.Hq), '  ')};`);
  f.push(`  const int Hkv = ${f.expr(f.dim(k.Hkv), '  ')};`);
  f.push(`  const int Sq = ${f.expr(f.dim(k.Sq), '  ')};`);
  f.push(`  const int Sk = ${f.expr(f.dim(k.Sk), '  ')};`);
  f.push('  const int bh = (int)blockIdx.y;');
  f.push(`  const int b0 = ${div('bh', 'Hq')};`);
  f.push(`  const int hk = ${div('(bh - b0 * Hq)', div('Hq', 'Hkv'))};`);
}

/** The query row (scaled, from qbase), the online-softmax state and the key-tile bounds. */
function attentionState(f: Fn, k: AttentionKernel, buffers: readonly KBuffer[]): void {
  const { bq, bk } = k.schedule;
  f.push(`  float qr[${k.D}];`);
  f.push('#pragma unroll');
  f.push(`  for (int d = 0; d < ${k.D}; d++) qr[d] = ${loadText(buffers, k.q, 'qbase + d')} * ${f32Literal(k.scale)};`);
  f.push(`  float o[${k.Dv}];`);
  f.push('#pragma unroll');
  f.push(`  for (int d = 0; d < ${k.Dv}; d++) o[d] = 0.0f;`);
  f.push(`  float mx = ${f32Literal(-F32_MAX)};`);
  f.push('  float l = 0.0f;');
  f.push(`  const int nkt = (Sk + ${bk - 1}) / ${bk};`);
  if (k.tiles !== null) f.push(`  const int nqt = (Sq + ${bq - 1}) / ${bq};`);
  f.push('  const int kvbase = (b0 * Hkv + hk) * Sk;');
}
