/**
 * CUDA C++ renderer of the kernel IR: op and statement tables plus declarations, one `extern "C" __global__`
 * function per kernel. Every kernel kind is built once (src/ir/kernel-build.ts), the same bodies the WGSL
 * renderer prints. Parameters are
 * the dims array (the symbolic sizes) when used, then every buffer the body touches in id order; inputs are
 * `const T* __restrict__` (the memory plan never gives a kernel's operands and output the same storage).
 *
 * Numerics follow the reference interpreter: precise f32 functions (expf, not __expf), integer x / 0 = 0 and
 * INT_MIN / -1 = INT_MIN through helpers in CUDA_PRELUDE, float -> int saturating with NaN -> 0. Vector
 * loads and stores are float4 through the buffer pointer: every buffer starts 256-byte aligned (cuMemAlloc, the
 * emulation's posix_memalign) and the builders only vectorize element offsets that are multiples of 4.
 * Generated locals are declared only when used, so nvcc has nothing to warn about.
 */
import type { DType } from '../core/dtype.js';
import { printStmts, type StmtTable, type TargetTable } from '../ir/kernel-emit.js';
import type { KBuffer, Kernel } from '../ir/kernel.js';
import { buildKernel } from '../ir/kernel-build.js';
import { bodyResources, gridText, launchGrid, lowerBody, type KBody } from '../ir/kernel-ir.js';
import type { TargetLimits } from '../ir/schedule.js';
import { GELU_C, GELU_K } from '../ir/semantics.js';

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
    gelu: (a) => `(0.5f * ${a} * (1.0f + tanhf(${GELU_K}f * (${a} + ${GELU_C}f * ${a} * ${a} * ${a}))))`,
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
  special: (n, wg) => {
    if (n === 'wlin') return '(int)(blockIdx.y * gridDim.x + blockIdx.x)';
    if (n === 'lix') return wg[1] * wg[2] === 1 ? '(int)threadIdx.x' : `(int)(threadIdx.y * ${wg[0]}u + threadIdx.x)`;
    // A warp is 32 consecutive linear thread indices (the block's x fastest).
    if (n === 'sgid') return wg[1] * wg[2] === 1 ? '(int)(threadIdx.x & 31u)' : `(int)((threadIdx.y * ${wg[0]}u + threadIdx.x) & 31u)`;
    return `(int)${n.startsWith('w') ? 'blockIdx' : 'threadIdx'}.${n.slice(-1)}`;
  },
  aload: (arr, at) => `${arr}[${at}]`,
  fma: (a, b, c) => `fmaf(${a}, ${b}, ${c})`,
  bcast: (a, lane) => `__shfl_sync(0xffffffffu, ${a}, ${lane})`,
} satisfies TargetTable;

const STMT = {
  let: (n, t, v) => `const ${cudaType(t)} ${n} = ${v};`,
  var: (n, t, v) => `${cudaType(t)} ${n} = ${v};`,
  set: (n, v) => `${n} = ${v};`,
  array: (n, t, size) => `${cudaType(t)} ${n}[${size}] = {};`,
  aset: (a, at, v) => `${a}[${at}] = ${v};`,
  vload: (tmp, buf, at) => `const float4 ${tmp} = *reinterpret_cast<const float4*>(g${buf} + (${at}));`,
  lane: (tmp, l) => `${tmp}.${'xyzw'[l]}`,
  vstore: (buf, at, vs) => `*reinterpret_cast<float4*>(g${buf} + (${at})) = make_float4(${vs.join(', ')});`,
  store: (buf, at, v, t) => `g${buf}[${at}] = ${t === 'f16' ? `__float2half_rn(${v})` : t === 'bf16' ? `__float2bfloat16_rn(${v})` : v};`,
  for: (v, from, to, step) => `for (int ${v} = ${from}; ${v} < ${to}; ${v} += ${step}) {`,
  if: (c) => `if (${c}) {`,
  break: 'break;', continue: 'continue;', return: 'return;', barrier: '__syncthreads();',
} satisfies StmtTable;

/** sm_80 / sm_90 limits (static shared memory, threads per block, grid). */
export const CUDA_LIMITS: TargetLimits = {
  name: 'cuda', workgroupBytes: 49152, invocations: 1024, workgroupSize: [1024, 1024, 64], groupsPerDim: 65535, bindingBytes: 2 ** 31 - 1, storageBuffers: 64, bf16Storage: true,
  subgroups: { min: 32, max: 32 },
};

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
  /** The `extern "C"` function to launch (shared by structurally identical kernels, see module.ts). */
  readonly fn: string;
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

export function renderCuda(k: Kernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  if (!/^[A-Za-z_]\w*$/.test(k.name)) throw new Error(`internal error: kernel name '${k.name}' is not an identifier`);
  return renderCudaBody(buildKernel(k, buffers, symbols), buffers, symbols);
}

/** The signature over exactly the buffers the body touches, the __shared__ arrays, the body. */
export function renderCudaBody(built: KBody, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedCudaKernel {
  const b = lowerBody(built);
  const res = bodyResources(b);
  const params: number[] = [];
  const decl: string[] = [];
  if (res.dims) { decl.push('const int* __restrict__ dims'); params.push(-1); }
  for (const id of res.buffers) {
    const t = cudaStorageType(buffers[id]!.dtype);
    decl.push(id === b.out ? `${t}* __restrict__ g${id}` : `const ${t}* __restrict__ g${id}`);
    params.push(id);
  }
  const threads = b.workgroup[0] * b.workgroup[1] * b.workgroup[2];
  const code = [
    `// ${b.name}: ${b.label.replace(/[^\x20-\x7e]/g, '?').replace(/\*\//g, '* /')}`,
    `extern "C" __global__ void __launch_bounds__(${threads}) ${b.name}(${decl.join(', ')}) {`,
    ...b.shared.map((a) => `  __shared__ ${cudaType(a.dtype)} ${a.name}[${a.size}];`),
    ...printStmts(b, CUDA, STMT, (id) => buffers[id]!.dtype), '}', '',
  ].join('\n');
  return {
    name: b.name, fn: b.name, code, params, block: b.workgroup, sharedBytes: 0, staticSharedBytes: b.shared.reduce((n, a) => n + 4 * a.size, 0),
    grid: (dims) => launchGrid(b, dims, CUDA_LIMITS.groupsPerDim), dispatchText: `${gridText(b, symbols)} x [${b.workgroup.join(', ')}]`,
  };
}
