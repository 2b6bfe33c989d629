/**
 * WGSL renderer of the kernel IR: an op table plus one template per kernel kind. Buffers are bound as
 * binding 0 = dims (the symbolic sizes), then every buffer the kernel reads, then its output; only bindings
 * the code uses are declared (Dawn rejects unused ones with layout 'auto').
 */
import type { DType } from '../core/dtype.js';
import { ExprPrinter, type TargetTable } from '../ir/kernel-emit.js';
import { kconst, kvar, type AttentionKernel, type KBuffer, type KExpr, type Kernel, type MapKernel, type MatmulKernel, type RowKernel } from '../ir/kernel.js';
import { evalSize, sizeText } from '../ir/kernel.js';
import { delinearize, dimExpr, kbin } from '../ir/kernel.js';

const F32_MAX = 3.4028234663852886e38;
/** x / 0 = x % 0 = 0 (the interpreter's rule): a literal zero folds, a divisor read at run time is guarded. */
function intDivMod(op: '/' | '%', a: string, b: string, t: DType): string {
  if (t !== 'i32') return `(${a} ${op} ${b})`;
  if (/^\(?-?0i?\)?$/.test(b)) return '0i';
  return isIntLiteral(b) ? `(${a} ${op} ${b})` : `select(${a} ${op} ${b}, 0i, ${b} == 0i)`;
}
const isIntLiteral = (s: string) => /^\(?-?\d+i?\)?$/.test(s) || /^dims\[\d+\]$/.test(s);

function f32Literal(v: number): string {
  if (Number.isNaN(v)) return '(0.0f / 0.0f)';
  const c = Math.max(-F32_MAX, Math.min(F32_MAX, v));
  let s = Math.fround(c) === c ? String(c) : String(Math.fround(c));
  if (!/[.eE]/.test(s)) s += '.0';
  return c < 0 ? `(${s}f)` : `${s}f`;
}

export const WGSL = {
  unary: {
    neg: (a) => `(-${a})`, exp: (a) => `exp(${a})`, log: (a) => `log(${a})`, sqrt: (a) => `sqrt(${a})`,
    rsqrt: (a) => `inverseSqrt(${a})`, tanh: (a) => `tanh(clamp(${a}, -15.0f, 15.0f))`,
    sigmoid: (a) => `(1.0f / (1.0f + exp(-(${a}))))`, silu: (a) => `(${a} / (1.0f + exp(-(${a}))))`,
    gelu: (a) => `(0.5f * ${a} * (1.0f + tanh(clamp(0.7978845608028654f * (${a} + 0.044715f * ${a} * ${a} * ${a}), -15.0f, 15.0f))))`,
    sin: (a) => `sin(${a})`, cos: (a) => `cos(${a})`, abs: (a) => `abs(${a})`, recip: (a) => `(1.0f / ${a})`,
    not: (a) => `(!${a})`, floor: (a, t) => (t === 'f32' ? `floor(${a})` : a), ceil: (a, t) => (t === 'f32' ? `ceil(${a})` : a),
  },
  binary: {
    add: (a, b) => `(${a} + ${b})`, sub: (a, b) => `(${a} - ${b})`, mul: (a, b) => `(${a} * ${b})`,
    div: (a, b, t) => intDivMod('/', a, b, t),
    mod: (a, b, t) => intDivMod('%', a, b, t),
    pow: (a, b) => `pow(${a}, ${b})`, max: (a, b) => `max(${a}, ${b})`, min: (a, b) => `min(${a}, ${b})`,
    lt: (a, b) => `(${a} < ${b})`, le: (a, b) => `(${a} <= ${b})`, gt: (a, b) => `(${a} > ${b})`, ge: (a, b) => `(${a} >= ${b})`,
    eq: (a, b) => `(${a} == ${b})`, ne: (a, b) => `(${a} != ${b})`, and: (a, b) => `(${a} && ${b})`, or: (a, b) => `(${a} || ${b})`,
  },
  where: (c, a, b) => `select(${b}, ${a}, ${c})`,
  cast: (a, from, to) => {
    if (to === 'bool') return from === 'f32' ? `(${a} != 0.0f)` : `(${a} != 0i)`;
    if (from === 'bool') return to === 'f32' ? `select(0.0f, 1.0f, ${a})` : `select(0i, 1i, ${a})`;
    return `${wgslType(to)}(${a})`;
  },
  literal: (v, t) => (t === 'bool' ? (v ? 'true' : 'false') : t === 'f32' || t === 'f16' || t === 'bf16' ? f32Literal(v) : v === -2147483648 ? 'i32(-2147483647 - 1)' : v < 0 ? `(${v}i)` : `${v}i`),
  type: (t) => wgslType(t),
  letDecl: (name, t, value) => `let ${name}: ${wgslType(t)} = ${value};`,
  load: (buf, at, t) => (t === 'f16' ? `f32(buf${buf}[${at}])` : `buf${buf}[${at}]`),
  sym: (i) => `dims[${i}]`,
} satisfies TargetTable;

function storageType(t: DType): string { return t === 'f16' ? 'f16' : wgslType(t); }
function wgslType(t: DType): string {
  return t === 'bool' ? 'bool' : t === 'f32' || t === 'f16' || t === 'bf16' ? 'f32' : 'i32';
}

export interface RenderedKernel {
  readonly name: string;
  readonly code: string;
  /** Buffer ids in binding order; -1 stands for the dims buffer. */
  readonly bindings: readonly number[];
  /** Workgroup counts once dims are bound. */
  readonly workgroups: (dims: readonly number[]) => [number, number, number];
  /** The dispatch as text over the symbols, for plan.json. */
  readonly dispatchText: string;
}

const MAX_GROUPS = 65535;

/** Spread n workgroups over x and y so neither exceeds the per-dimension limit. */
export function grid2d(n: number): [number, number, number] {
  if (n <= MAX_GROUPS) return [Math.max(1, n), 1, 1];
  const y = Math.ceil(n / MAX_GROUPS);
  if (y > MAX_GROUPS) throw new Error(`kernel needs ${n} workgroups, more than ${MAX_GROUPS}^2`);
  return [Math.ceil(n / y), y, 1];
}

const evalK = evalSize;
const textK = sizeText;

class Module {
  readonly lines: string[] = [];
  readonly printer = new ExprPrinter(WGSL);
  constructor(readonly buffers: readonly KBuffer[], readonly symbols: readonly string[]) {}
  dim(d: Parameters<typeof dimExpr>[0]): KExpr { return dimExpr(d, this.symbols); }
  expr(e: KExpr, indent: string): string { return this.printer.print([e], this.lines, indent)[0]!; }
  push(s: string): void { this.lines.push(s); }
  /** f16 buffers hold storage only: values are f32 in registers, converted at the load and the store. */
  ld(buf: number, at: string): string { return this.buffers[buf]!.dtype === 'f16' ? `f32(buf${buf}[${at}])` : `buf${buf}[${at}]`; }
  st(buf: number, v: string): string { return this.buffers[buf]!.dtype === 'f16' ? `f16(${v})` : v; }

  /** Declarations for exactly the buffers the body mentions. */
  finish(k: Kernel, header: string[]): { code: string; bindings: number[] } {
    const body = this.lines.join('\n');
    const used = new Set<number>();
    for (const m of body.matchAll(/\bbuf(\d+)\[/g)) used.add(Number(m[1]));
    const decl: string[] = [];
    const bindings: number[] = [];
    if (/\bdims\[/.test(body)) { decl.push(`@group(0) @binding(0) var<storage, read> dims: array<i32>;`); bindings.push(-1); }
    const ids = [...used].sort((a, b) => a - b);
    for (const id of ids) {
      const rw = id === k.out ? 'read_write' : 'read';
      decl.push(`@group(0) @binding(${bindings.length}) var<storage, ${rw}> buf${id}: array<${storageType(this.buffers[id]!.dtype)}>;`);
      bindings.push(id);
    }
    if (ids.some((id) => this.buffers[id]!.dtype === 'f16')) decl.unshift('enable f16;');
    return { code: [`// ${k.name}: ${k.label.replace(/[^\x20-\x7e]/g, '?')}`, ...decl, ...header, body, ''].join('\n'), bindings };
  }
}

export function renderWgsl(k: Kernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  switch (k.kind) {
    case 'map': return renderMap(k, buffers, symbols);
    case 'row': return renderRow(k, buffers, symbols);
    case 'matmul': return renderMatmul(k, buffers, symbols);
    case 'attention': return renderAttention(k, buffers, symbols);
  }
}

function renderMap(k: MapKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  const m = new Module(buffers, symbols);
  const { wg, perThread } = k.schedule;
  let total: KExpr = kconst(1);
  for (const d of k.shape) total = kbin('mul', total, m.dim(d));
  const ind = '    ';
  m.push(`@compute @workgroup_size(${wg})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lix: u32) {`);
  m.push(`  let total = ${m.expr(total, '  ')};`);
  m.push(`  let base = (i32(wid.y * nwg.x + wid.x) * ${wg}i + i32(lix)) * ${perThread}i;`);
  m.push(`  for (var e = 0i; e < ${perThread}i; e++) {`);
  m.push(`${ind}let gid = base + e;`);
  m.push(`${ind}if (gid >= total) { break; }`);
  const idx = delinearize(kvar('gid' as never), k.shape, symbols);
  const names = idx.map((e, i) => { const s = m.expr(e, ind); m.push(`${ind}let i${i} = ${s};`); return `i${i}`; });
  void names;
  const v = m.expr(k.value, ind);
  m.push(`${ind}buf${k.out}[gid] = ${m.st(k.out, v)};`);
  m.push(`  }`, );
  m.push(`}`);
  const { code, bindings } = m.finish(k, []);
  const per = wg * perThread;
  return {
    name: k.name, code, bindings,
    workgroups: (dims) => grid2d(Math.ceil(evalK(total, dims) / per)),
    dispatchText: `ceil(${textK(total, symbols)} / ${per})`,
  };
}

function combine(op: 'sum' | 'max' | 'min', a: string, b: string): string {
  return op === 'sum' ? `${a} + ${b}` : `${op}(${a}, ${b})`;
}

function renderRow(k: RowKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  const m = new Module(buffers, symbols);
  const wg = k.schedule.wg;
  let nrows: KExpr = kconst(1);
  for (const d of k.rows) nrows = kbin('mul', nrows, m.dim(d));
  const header: string[] = [];
  const types = new Set(k.reds.map((r) => r.value.dtype === 'f32' ? 'f32' : 'i32'));
  for (const t of types) header.push(`var<workgroup> sh_${t}: array<${t}, ${wg}>;`);
  m.push(`@compute @workgroup_size(${wg})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lix: u32) {`);
  m.push(`  let row = i32(wid.y * nwg.x + wid.x);`);
  m.push(`  if (row >= ${m.expr(nrows, '  ')}) { return; }`);
  delinearize(kvar('row' as never), k.rows, symbols).forEach((e, i) => m.push(`  let i${i} = ${m.expr(e, '  ')};`));
  m.push(`  let len = ${m.expr(m.dim(k.len), '  ')};`);
  k.reds.forEach((r, j) => {
    const t = r.value.dtype === 'f32' ? 'f32' : 'i32';
    const init = r.op === 'sum' ? (t === 'f32' ? '0.0f' : '0i') : r.op === 'max' ? (t === 'f32' ? `${f32Literal(-F32_MAX)}` : 'i32(-2147483647 - 1)') : (t === 'f32' ? f32Literal(F32_MAX) : '2147483647i');
    m.push(`  var a${j}: ${t} = ${init};`);
    m.push(`  for (var r = i32(lix); r < len; r += ${wg}i) {`);
    const v = m.expr(r.value, '    ');
    m.push(`    a${j} = ${combine(r.op, `a${j}`, v)};`);
    m.push(`  }`);
    m.push(`  sh_${t}[lix] = a${j};`);
    m.push(`  workgroupBarrier();`);
    for (let s = wg / 2; s >= 1; s /= 2) {
      m.push(`  if (lix < ${s}u) { sh_${t}[lix] = ${combine(r.op, `sh_${t}[lix]`, `sh_${t}[lix + ${s}u]`)}; }`);
      m.push(`  workgroupBarrier();`);
    }
    m.push(`  let red${j} = sh_${t}[0];`);
    m.push(`  workgroupBarrier();`);
  });
  if (k.store.perElement) {
    m.push(`  for (var r = i32(lix); r < len; r += ${wg}i) {`);
    const [at, v] = m.printer.print([k.store.at, k.store.value], m.lines, '    ') as [string, string];
    m.push(`    buf${k.out}[${at}] = ${m.st(k.out, v)};`);
    m.push(`  }`);
  } else {
    m.push(`  if (lix == 0u) {`);
    const [at, v] = m.printer.print([k.store.at, k.store.value], m.lines, '    ') as [string, string];
    m.push(`    buf${k.out}[${at}] = ${m.st(k.out, v)};`);
    m.push(`  }`);
  }
  m.push(`}`);
  const { code, bindings } = m.finish(k, header);
  return { name: k.name, code, bindings, workgroups: (dims) => grid2d(evalK(nrows, dims)), dispatchText: `rows ${textK(nrows, symbols)}` };
}

function renderMatmul(k: MatmulKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  if (k.schedule.shared) return renderMatmulShared(k, buffers, symbols);
  const m = new Module(buffers, symbols);
  const { wgX, wgY, tm, tn } = k.schedule;
  let nb: KExpr = kconst(1);
  for (const d of k.batch) nb = kbin('mul', nb, m.dim(d));
  const M = m.dim(k.M), N = m.dim(k.N), K = m.dim(k.K);
  m.push(`@compute @workgroup_size(${wgX}, ${wgY})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {`);
  m.push(`  let bz = i32(wid.z);`);
  delinearize(kvar('bz' as never), k.batch, symbols).forEach((e, i) => m.push(`  let b${i} = ${m.expr(e, '  ')};`));
  m.push(`  let M = ${m.expr(M, '  ')};`);
  m.push(`  let N = ${m.expr(N, '  ')};`);
  m.push(`  let K = ${m.expr(K, '  ')};`);
  // Thread (x, y) owns rows m0 + i*wgY and columns n0 + j*wgX: neighbouring invocations touch neighbouring
  // columns, so loads and stores of B and C are contiguous across a SIMD group (and coalesced on a GPU).
  m.push(`  let m0 = i32(wid.y) * ${wgY * tm}i + i32(lid.y);`);
  m.push(`  let n0 = i32(wid.x) * ${wgX * tn}i + i32(lid.x);`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) m.push(`  var c${i}_${j} = 0.0f;`);
  m.push(`  for (var k = 0i; k < K; k++) {`);
  for (let i = 0; i < tm; i++) {
    m.push(`    var av${i}: f32;`);
    m.push(`    {`);
    m.push(`      let m = min(m0 + ${i * wgY}i, M - 1i);`);
    m.push(`      av${i} = ${m.expr(k.a, '      ')};`);
    m.push(`    }`);
  }
  for (let j = 0; j < tn; j++) {
    m.push(`    var bv${j}: f32;`);
    m.push(`    {`);
    m.push(`      let n = min(n0 + ${j * wgX}i, N - 1i);`);
    m.push(`      bv${j} = ${m.expr(k.b, '      ')};`);
    m.push(`    }`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) m.push(`    c${i}_${j} = fma(av${i}, bv${j}, c${i}_${j});`);
  m.push(`  }`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) {
    m.push(`  {`);
    m.push(`    let m = m0 + ${i * wgY}i;`);
    m.push(`    let n = n0 + ${j * wgX}i;`);
    m.push(`    if (m < M && n < N) {`);
    m.push(`      let acc = c${i}_${j};`);
    const [at, v] = m.printer.print([k.at, k.epilogue], m.lines, '      ') as [string, string];
    m.push(`      buf${k.out}[${at}] = ${m.st(k.out, v)};`);
    m.push(`    }`);
    m.push(`  }`);
  }
  m.push(`}`);
  const { code, bindings } = m.finish(k, []);
  return {
    name: k.name, code, bindings,
    workgroups: (dims) => {
      const x = Math.ceil(evalK(N, dims) / (wgX * tn)), y = Math.ceil(evalK(M, dims) / (wgY * tm)), z = evalK(nb, dims);
      if (x > MAX_GROUPS || y > MAX_GROUPS || z > MAX_GROUPS) throw new Error(`${k.name}: matmul grid ${x} x ${y} x ${z} exceeds ${MAX_GROUPS} workgroups per dimension`);
      return [Math.max(1, x), Math.max(1, y), Math.max(1, z)];
    },
    dispatchText: `[ceil(${textK(N, symbols)} / ${wgX * tn}), ceil(${textK(M, symbols)} / ${wgY * tm}), ${textK(nb, symbols)}]`,
  };
}

/**
 * Flash attention: one workgroup per (batch * head, query tile); thread i owns query row q0 + i. Key/value
 * tiles are staged in workgroup memory; scores of a tile are computed, then one online-softmax rescale.
 * With a tile map, EMPTY tiles are skipped before any load and FULL tiles skip the mask test.
 */
function renderAttention(k: AttentionKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  if (k.schedule.splitk) return renderAttentionSplitK(k, buffers, symbols);
  if (k.D <= 128 && k.Dv <= 128 && k.schedule.bk <= 32) return renderAttentionUnrolled(k, buffers, symbols);
  const m = new Module(buffers, symbols);
  const { bq, bk } = k.schedule;
  const D = k.D, Dv = k.Dv;
  const header = [`var<workgroup> kt: array<f32, ${bk * D}>;`, `var<workgroup> vt: array<f32, ${bk * Dv}>;`];
  m.push(`@compute @workgroup_size(${bq})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {`);
  attentionHead(m, k);
  m.push(`  let qt = i32(wid.x);`);
  m.push(`  let q = qt * ${bq}i + i32(lix);`);
  m.push(`  let qc = min(q, Sq - 1i);`);
  m.push(`  let qbase = (bh * Sq + qc) * ${D}i;`);
  m.push(`  var qr: array<f32, ${D}>;`);
  m.push(`  for (var d = 0i; d < ${D}i; d++) { qr[d] = ${m.ld(k.q, 'qbase + d')} * ${f32Literal(k.scale)}; }`);
  m.push(`  var o: array<f32, ${Dv}>;`);
  m.push(`  var mx = ${f32Literal(-F32_MAX)};`);
  m.push(`  var l = 0.0f;`);
  m.push(`  let nkt = (Sk + ${bk - 1}i) / ${bk}i;`);
  m.push(`  let nqt = (Sq + ${bq - 1}i) / ${bq}i;`);
  m.push(`  let kvbase = (b0 * Hkv + hk) * Sk;`);
  m.push(`  for (var t = 0i; t < nkt; t++) {`);
  if (k.tiles !== null) {
    m.push(`    let cls = buf${k.tiles}[(b0 * nqt + qt) * nkt + t];`);
    m.push(`    if (cls == 0i) { continue; }`);
  } else m.push(`    let cls = 2i;`);
  // Cooperative load of the key and value tile (rows past Sk are zero and masked below).
  m.push(`    for (var e = i32(lix); e < ${bk * Math.max(D, Dv)}i; e += ${bq}i) {`);
  m.push(`      let j = e / ${Math.max(D, Dv)}i;`);
  m.push(`      let d = e % ${Math.max(D, Dv)}i;`);
  m.push(`      let kv = min(t * ${bk}i + j, Sk - 1i);`);
  if (D >= Dv) {
    m.push(`      kt[j * ${D}i + d] = ${m.ld(k.kbuf, `(kvbase + kv) * ${D}i + d`)};`);
    m.push(`      if (d < ${Dv}i) { vt[j * ${Dv}i + d] = ${m.ld(k.v, `(kvbase + kv) * ${Dv}i + d`)}; }`);
  } else {
    m.push(`      vt[j * ${Dv}i + d] = ${m.ld(k.v, `(kvbase + kv) * ${Dv}i + d`)};`);
    m.push(`      if (d < ${D}i) { kt[j * ${D}i + d] = ${m.ld(k.kbuf, `(kvbase + kv) * ${D}i + d`)}; }`);
  }
  m.push(`    }`);
  m.push(`    workgroupBarrier();`);
  m.push(`    var s: array<f32, ${bk}>;`);
  m.push(`    var tmax = ${f32Literal(-F32_MAX)};`);
  m.push(`    for (var j = 0i; j < ${bk}i; j++) {`);
  m.push(`      let kv = t * ${bk}i + j;`);
  m.push(`      var ok = kv < Sk && q < Sq;`);
  if (k.mask) {
    m.push(`      if (ok && cls == 2i) {`);
    m.push(`        let q = qc;`);
    m.push(`        ok = ${m.expr(k.mask, '        ')};`);
    m.push(`      }`);
  }
  m.push(`      var dot = 0.0f;`);
  m.push(`      for (var d = 0i; d < ${D}i; d++) { dot = fma(qr[d], kt[j * ${D}i + d], dot); }`);
  m.push(`      s[j] = select(${f32Literal(-F32_MAX)}, dot, ok);`);
  m.push(`      if (ok) { tmax = max(tmax, dot); }`);
  m.push(`    }`);
  m.push(`    if (tmax > ${f32Literal(-F32_MAX)}) {`);
  m.push(`      let nm = max(mx, tmax);`);
  m.push(`      let corr = exp(mx - nm);`);
  m.push(`      l = l * corr;`);
  m.push(`      for (var d = 0i; d < ${Dv}i; d++) { o[d] = o[d] * corr; }`);
  m.push(`      for (var j = 0i; j < ${bk}i; j++) {`);
  m.push(`        if (s[j] > ${f32Literal(-F32_MAX)}) {`);
  m.push(`          let p = exp(s[j] - nm);`);
  m.push(`          l = l + p;`);
  m.push(`          for (var d = 0i; d < ${Dv}i; d++) { o[d] = fma(p, vt[j * ${Dv}i + d], o[d]); }`);
  m.push(`        }`);
  m.push(`      }`);
  m.push(`      mx = nm;`);
  m.push(`    }`);
  m.push(`    workgroupBarrier();`);
  m.push(`  }`);
  m.push(`  if (q < Sq) {`);
  m.push(`    let inv = select(0.0f, 1.0f / l, l > 0.0f);`);
  m.push(`    let obase = (bh * Sq + q) * ${Dv}i;`);
  m.push(`    for (var d = 0i; d < ${Dv}i; d++) { buf${k.out}[obase + d] = ${m.st(k.out, 'o[d] * inv')}; }`);
  m.push(`  }`);
  m.push(`}`);
  const { code, bindings } = m.finish(k, header);
  return {
    name: k.name, code, bindings,
    ...attentionGrid(k, symbols, bq),
  };
}

/**
 * Decode schedule: one workgroup per (batch * head, query row). Thread t takes key tiles t, t + W, ...; each keeps
 * its own running max, sum and output, read straight from memory (no staging: no reuse across rows). The W
 * partial states are merged through workgroup memory at the end. EMPTY tiles are skipped, FULL tiles skip the mask.
 */
function renderAttentionSplitK(k: AttentionKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  const m = new Module(buffers, symbols);
  const { bq, bk } = k.schedule;
  const W = k.schedule.splitk!;
  const D = k.D, Dv = k.Dv;
  const NEG = f32Literal(-F32_MAX);
  const header = [`var<workgroup> pm: array<f32, ${W}>;`, `var<workgroup> pl: array<f32, ${W}>;`, `var<workgroup> po: array<f32, ${W * Dv}>;`];
  m.push(`@compute @workgroup_size(${W})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {`);
  attentionHead(m, k);
  m.push(`  let q = i32(wid.x);`);
  m.push(`  let qt = q / ${bq}i;`);
  m.push(`  let qbase = (bh * Sq + q) * ${D}i;`);
  m.push(`  var qr: array<f32, ${D}>;`);
  m.push(`  for (var d = 0i; d < ${D}i; d++) { qr[d] = ${m.ld(k.q, 'qbase + d')} * ${f32Literal(k.scale)}; }`);
  m.push(`  var o: array<f32, ${Dv}>;`);
  m.push(`  var mx = ${NEG};`);
  m.push(`  var l = 0.0f;`);
  m.push(`  let nkt = (Sk + ${bk - 1}i) / ${bk}i;`);
  m.push(`  let nqt = (Sq + ${bq - 1}i) / ${bq}i;`);
  m.push(`  let kvbase = (b0 * Hkv + hk) * Sk;`);
  m.push(`  for (var t = i32(lix); t < nkt; t += ${W}i) {`);
  if (k.tiles !== null) {
    m.push(`    let cls = buf${k.tiles}[(b0 * nqt + qt) * nkt + t];`);
    m.push(`    if (cls == 0i) { continue; }`);
  } else m.push(`    let cls = 2i;`);
  m.push(`    for (var j = 0i; j < ${bk}i; j++) {`);
  m.push(`      let kv = t * ${bk}i + j;`);
  m.push(`      if (kv >= Sk) { break; }`);
  if (k.mask) {
    m.push(`      if (cls == 2i) {`);
    m.push(`        let ok = ${m.expr(k.mask, '        ')};`);
    m.push(`        if (!ok) { continue; }`);
    m.push(`      }`);
  }
  m.push(`      var dot = 0.0f;`);
  m.push(`      for (var d = 0i; d < ${D}i; d++) { dot = fma(qr[d], ${m.ld(k.kbuf, `(kvbase + kv) * ${D}i + d`)}, dot); }`);
  m.push(`      let nm = max(mx, dot);`);
  m.push(`      let corr = exp(mx - nm);`);
  m.push(`      let p = exp(dot - nm);`);
  m.push(`      l = l * corr + p;`);
  m.push(`      for (var d = 0i; d < ${Dv}i; d++) { o[d] = fma(p, ${m.ld(k.v, `(kvbase + kv) * ${Dv}i + d`)}, o[d] * corr); }`);
  m.push(`      mx = nm;`);
  m.push(`    }`);
  m.push(`  }`);
  m.push(`  pm[lix] = mx;`);
  m.push(`  pl[lix] = l;`);
  m.push(`  for (var d = 0i; d < ${Dv}i; d++) { po[i32(lix) * ${Dv}i + d] = o[d]; }`);
  m.push(`  workgroupBarrier();`);
  m.push(`  if (lix == 0u) {`);
  m.push(`    var gm = ${NEG};`);
  m.push(`    for (var t = 0i; t < ${W}i; t++) { gm = max(gm, pm[t]); }`);
  m.push(`    var gl = 0.0f;`);
  m.push(`    for (var t = 0i; t < ${W}i; t++) { if (pl[t] > 0.0f) { gl = gl + pl[t] * exp(pm[t] - gm); } }`);
  m.push(`    let inv = select(0.0f, 1.0f / gl, gl > 0.0f);`);
  m.push(`    let obase = (bh * Sq + q) * ${Dv}i;`);
  m.push(`    for (var d = 0i; d < ${Dv}i; d++) {`);
  m.push(`      var acc = 0.0f;`);
  m.push(`      for (var t = 0i; t < ${W}i; t++) { if (pl[t] > 0.0f) { acc = fma(po[t * ${Dv}i + d], exp(pm[t] - gm), acc); } }`);
  m.push(`      buf${k.out}[obase + d] = ${m.st(k.out, 'acc * inv')};`);
  m.push(`    }`);
  m.push(`  }`);
  m.push(`}`);
  const { code, bindings } = m.finish(k, header);
  return {
    name: k.name, code, bindings,
    ...attentionGrid(k, symbols, 1),
  };
}

/**
 * Matmul with workgroup-memory tiling: the workgroup stages a (wgY*tm) x tk tile of A and a tk x (wgX*tn) tile
 * of B (operand expressions evaluated once per staged element, zero outside the matrix), then every thread
 * accumulates its tm x tn block from the staged tiles. Wins on real GPUs; on lavapipe register tiling does.
 */
function renderMatmulShared(k: MatmulKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  const m = new Module(buffers, symbols);
  const { wgX, wgY, tm, tn, tk } = k.schedule;
  const BM = wgY * tm, BN = wgX * tn, T = wgX * wgY;
  let nb: KExpr = kconst(1);
  for (const d of k.batch) nb = kbin('mul', nb, m.dim(d));
  const M = m.dim(k.M), N = m.dim(k.N), K = m.dim(k.K);
  const header = [`var<workgroup> ta: array<f32, ${BM * tk}>;`, `var<workgroup> tb: array<f32, ${tk * BN}>;`];
  m.push(`@compute @workgroup_size(${wgX}, ${wgY})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {`);
  m.push(`  let bz = i32(wid.z);`);
  delinearize(kvar('bz' as never), k.batch, symbols).forEach((e, i) => m.push(`  let b${i} = ${m.expr(e, '  ')};`));
  m.push(`  let M = ${m.expr(M, '  ')};`);
  m.push(`  let N = ${m.expr(N, '  ')};`);
  m.push(`  let K = ${m.expr(K, '  ')};`);
  m.push(`  let bm0 = i32(wid.y) * ${BM}i;`);
  m.push(`  let bn0 = i32(wid.x) * ${BN}i;`);
  m.push(`  let tm0 = i32(lid.y);`);
  m.push(`  let tn0 = i32(lid.x);`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) m.push(`  var c${i}_${j} = 0.0f;`);
  m.push(`  for (var k0 = 0i; k0 < K; k0 += ${tk}i) {`);
  m.push(`    for (var e = i32(lix); e < ${BM * tk}i; e += ${T}i) {`);
  m.push(`      let m = bm0 + e / ${tk}i;`);
  m.push(`      let k = k0 + e % ${tk}i;`);
  m.push(`      var v = 0.0f;`);
  m.push(`      if (m < M && k < K) { v = ${m.expr(k.a, '        ')}; }`);
  m.push(`      ta[e] = v;`);
  m.push(`    }`);
  m.push(`    for (var e = i32(lix); e < ${tk * BN}i; e += ${T}i) {`);
  m.push(`      let k = k0 + e / ${BN}i;`);
  m.push(`      let n = bn0 + e % ${BN}i;`);
  m.push(`      var v = 0.0f;`);
  m.push(`      if (n < N && k < K) { v = ${m.expr(k.b, '        ')}; }`);
  m.push(`      tb[e] = v;`);
  m.push(`    }`);
  m.push(`    workgroupBarrier();`);
  m.push(`    for (var kk = 0i; kk < ${tk}i; kk++) {`);
  for (let i = 0; i < tm; i++) m.push(`      let av${i} = ta[(tm0 + ${i * wgY}i) * ${tk}i + kk];`);
  for (let j = 0; j < tn; j++) m.push(`      let bv${j} = tb[kk * ${BN}i + tn0 + ${j * wgX}i];`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) m.push(`      c${i}_${j} = fma(av${i}, bv${j}, c${i}_${j});`);
  m.push(`    }`);
  m.push(`    workgroupBarrier();`);
  m.push(`  }`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) {
    m.push(`  {`);
    m.push(`    let m = bm0 + tm0 + ${i * wgY}i;`);
    m.push(`    let n = bn0 + tn0 + ${j * wgX}i;`);
    m.push(`    if (m < M && n < N) {`);
    m.push(`      let acc = c${i}_${j};`);
    const [at, v] = m.printer.print([k.at, k.epilogue], m.lines, '      ') as [string, string];
    m.push(`      buf${k.out}[${at}] = ${m.st(k.out, v)};`);
    m.push(`    }`);
    m.push(`  }`);
  }
  m.push(`}`);
  const { code, bindings } = m.finish(k, header);
  return {
    name: k.name, code, bindings,
    workgroups: (dims) => {
      const x = Math.ceil(evalK(N, dims) / BN), y = Math.ceil(evalK(M, dims) / BM), z = evalK(nb, dims);
      if (x > MAX_GROUPS || y > MAX_GROUPS || z > MAX_GROUPS) throw new Error(`${k.name}: matmul grid ${x} x ${y} x ${z} exceeds ${MAX_GROUPS} workgroups per dimension`);
      return [Math.max(1, x), Math.max(1, y), Math.max(1, z)];
    },
    dispatchText: `[ceil(${textK(N, symbols)} / ${BN}), ceil(${textK(M, symbols)} / ${BM}), ${textK(nb, symbols)}]`,
  };
}

/**
 * The flash kernel with the head dimension unrolled into scalars: the query row and the output accumulator
 * live in registers instead of private arrays (which lavapipe keeps in scratch memory), and each key updates
 * the online softmax directly. Same masks, tiles and results as the loop form above.
 */
function renderAttentionUnrolled(k: AttentionKernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  const m = new Module(buffers, symbols);
  const { bq, bk } = k.schedule;
  const D = k.D, Dv = k.Dv, W = Math.max(D, Dv);
  const NEG = f32Literal(-F32_MAX);
  const header = [`var<workgroup> kt: array<f32, ${bk * D}>;`, `var<workgroup> vt: array<f32, ${bk * Dv}>;`];
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  m.push(`@compute @workgroup_size(${bq})`);
  m.push(`fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {`);
  attentionHead(m, k);
  m.push(`  let qt = i32(wid.x);`);
  m.push(`  let q = qt * ${bq}i + i32(lix);`);
  m.push(`  let qc = min(q, Sq - 1i);`);
  m.push(`  let qbase = (bh * Sq + qc) * ${D}i;`);
  for (const d of range(D)) m.push(`  let q${d} = ${m.ld(k.q, `qbase + ${d}i`)} * ${f32Literal(k.scale)};`);
  for (const d of range(Dv)) m.push(`  var o${d} = 0.0f;`);
  m.push(`  var mx = ${NEG};`);
  m.push(`  var l = 0.0f;`);
  m.push(`  let nkt = (Sk + ${bk - 1}i) / ${bk}i;`);
  m.push(`  let nqt = (Sq + ${bq - 1}i) / ${bq}i;`);
  m.push(`  let kvbase = (b0 * Hkv + hk) * Sk;`);
  m.push(`  for (var t = 0i; t < nkt; t++) {`);
  if (k.tiles !== null) {
    m.push(`    let cls = buf${k.tiles}[(b0 * nqt + qt) * nkt + t];`);
    m.push(`    if (cls == 0i) { continue; }`);
  } else m.push(`    let cls = 2i;`);
  m.push(`    for (var e = i32(lix); e < ${bk * W}i; e += ${bq}i) {`);
  m.push(`      let j = e / ${W}i;`);
  m.push(`      let d = e % ${W}i;`);
  m.push(`      let kv = min(t * ${bk}i + j, Sk - 1i);`);
  m.push(`      if (d < ${D}i) { kt[j * ${D}i + d] = ${m.ld(k.kbuf, `(kvbase + kv) * ${D}i + d`)}; }`);
  m.push(`      if (d < ${Dv}i) { vt[j * ${Dv}i + d] = ${m.ld(k.v, `(kvbase + kv) * ${Dv}i + d`)}; }`);
  m.push(`    }`);
  m.push(`    workgroupBarrier();`);
  // Keys one at a time with the online softmax update (no per-tile score array to keep).
  m.push(`    for (var j = 0i; j < ${bk}i; j++) {`);
  m.push(`      let kv = t * ${bk}i + j;`);
  m.push(`      var ok = kv < Sk && q < Sq;`);
  if (k.mask) {
    m.push(`      if (ok && cls == 2i) {`);
    m.push(`        let q = qc;`);
    m.push(`        ok = ${m.expr(k.mask, '        ')};`);
    m.push(`      }`);
  }
  m.push(`      if (ok) {`);
  m.push(`        let kb = j * ${D}i;`);
  m.push(`        var dot = 0.0f;`);
  for (const d of range(D)) m.push(`        dot = fma(q${d}, kt[kb + ${d}i], dot);`);
  // Rescale only when the running max moves: after the first keys of a row it rarely does.
  m.push(`        if (dot > mx) {`);
  m.push(`          let corr = exp(mx - dot);`);
  m.push(`          l = l * corr;`);
  for (const d of range(Dv)) m.push(`          o${d} = o${d} * corr;`);
  m.push(`          mx = dot;`);
  m.push(`        }`);
  m.push(`        let p = exp(dot - mx);`);
  m.push(`        l = l + p;`);
  m.push(`        let vb = j * ${Dv}i;`);
  for (const d of range(Dv)) m.push(`        o${d} = fma(p, vt[vb + ${d}i], o${d});`);
  m.push(`      }`);
  m.push(`    }`);
  m.push(`    workgroupBarrier();`);
  m.push(`  }`);
  m.push(`  if (q < Sq) {`);
  m.push(`    let inv = select(0.0f, 1.0f / l, l > 0.0f);`);
  m.push(`    let obase = (bh * Sq + q) * ${Dv}i;`);
  for (const d of range(Dv)) m.push(`    buf${k.out}[obase + ${d}i] = ${m.st(k.out, `o${d} * inv`)};`);
  m.push(`  }`);
  m.push(`}`);
  const { code, bindings } = m.finish(k, header);
  return {
    name: k.name, code, bindings,
    ...attentionGrid(k, symbols, bq),
  };
}

/** Sizes and the (batch, head) decomposition every attention template starts with. */
function attentionHead(m: Module, k: AttentionKernel): void {
  m.push(`  let Hq = ${m.expr(m.dim(k.Hq), '  ')};`);
  m.push(`  let Hkv = ${m.expr(m.dim(k.Hkv), '  ')};`);
  m.push(`  let Sq = ${m.expr(m.dim(k.Sq), '  ')};`);
  m.push(`  let Sk = ${m.expr(m.dim(k.Sk), '  ')};`);
  m.push(`  let bh = i32(wid.y);`);
  m.push(`  let b0 = bh / Hq;`);
  m.push(`  let h = bh % Hq;`);
  m.push(`  let hk = h / (Hq / Hkv);`);
}

/** One workgroup per (query tile of `rows`, batch * head). */
function attentionGrid(k: AttentionKernel, symbols: readonly string[], rows: number): Pick<RenderedKernel, 'workgroups' | 'dispatchText'> {
  const B = dimExpr(k.B, symbols), Hq = dimExpr(k.Hq, symbols), Sq = dimExpr(k.Sq, symbols);
  return {
    workgroups: (dims) => {
      const x = Math.ceil(evalK(Sq, dims) / rows), y = evalK(B, dims) * evalK(Hq, dims);
      if (x > MAX_GROUPS || y > MAX_GROUPS) throw new Error(`${k.name}: attention grid ${x} x ${y} exceeds ${MAX_GROUPS} workgroups per dimension`);
      return [Math.max(1, x), Math.max(1, y), 1];
    },
    dispatchText: rows === 1 ? `[${textK(Sq, symbols)}, ${textK(B, symbols)} * ${textK(Hq, symbols)}, 1]` : `[ceil(${textK(Sq, symbols)} / ${rows}), ${textK(B, symbols)} * ${textK(Hq, symbols)}, 1]`,
  };
}
