/**
 * The kernel IR: what the WGSL and CUDA renderers both print. A kernel is a loop nest over its output with
 * scalar expressions (KExpr) for loads, arithmetic and reductions; the schedule (workgroup shape, tiles,
 * work per thread) is a separate value so tuning never changes the algorithm.
 *
 * Names in kernels are generated here (i0, r, acc, b3 ...) and buffers are referred to by number:
 * no identifier from a spec ever reaches generated source.
 */
import type { Origin } from './provenance.js';
import type { DType } from '../core/dtype.js';
import { dimAsConst, dimEval, type Dim, type Shape } from '../core/dim.js';
import type { BinaryOp, UnaryOp } from './graph.js';

/**
 * Variables a kernel body can mention. The algorithm-level expressions below use i<n> (output index), b<n>
 * (batch), r (reduction), m, n, k, acc (matmul), red<j> (finished reductions), q, kv (attention mask); kernel
 * bodies (kernel-ir.ts) declare these and their own locals.
 */
export type KVar = string;

/**
 * Launch indices: workgroup id, local id, flat local index, linear workgroup id over a 2-D grid; `sgid`: the
 * invocation's lane in its subgroup (WGSL subgroup_invocation_id, CUDA linear thread index % 32).
 */
export type KSpecial = 'wid.x' | 'wid.y' | 'wid.z' | 'lid.x' | 'lid.y' | 'lix' | 'wlin' | 'sgid';

export type KExpr =
  | { readonly k: 'var'; readonly name: KVar; readonly dtype: DType }
  | { readonly k: 'const'; readonly v: number; readonly dtype: DType }
  | { readonly k: 'sym'; readonly i: number; readonly dtype: 'i32' }        // dims[i]: a symbolic size bound at run time
  | { readonly k: 'load'; readonly buf: number; readonly at: KExpr; readonly dtype: DType }
  | { readonly k: 'un'; readonly op: UnaryOp; readonly a: KExpr; readonly dtype: DType }
  | { readonly k: 'bin'; readonly op: BinaryOp; readonly a: KExpr; readonly b: KExpr; readonly dtype: DType }
  | { readonly k: 'where'; readonly c: KExpr; readonly a: KExpr; readonly b: KExpr; readonly dtype: DType }
  | { readonly k: 'cast'; readonly a: KExpr; readonly dtype: DType }
  | { readonly k: 'special'; readonly name: KSpecial; readonly dtype: 'i32' }
  | { readonly k: 'aload'; readonly arr: string; readonly at: KExpr; readonly dtype: DType }   // local or workgroup array
  | { readonly k: 'fma'; readonly a: KExpr; readonly b: KExpr; readonly c: KExpr; readonly dtype: 'f32' }
  // `a` as held by lane `lane` (a constant) of this invocation's subgroup. Every lane of the subgroup reaches it
  // (uniform control flow, full subgroups: builders and schedule validation keep both).
  | { readonly k: 'bcast'; readonly a: KExpr; readonly lane: number; readonly dtype: 'f32' };

export type BufferKind = 'input' | 'param' | 'temp' | 'output';
export interface KBuffer {
  readonly name: string;         // a readable label for plans and profiles, never printed into source
  readonly kind: BufferKind;
  readonly dtype: DType;         // element type in memory (bool is stored as i32)
  readonly numel: Dim;
  /** Tile-class maps: numel = B * ceil(Sq / bq) * ceil(Sk / bk), which is not a polynomial in the dims. */
  readonly tileGrid?: { readonly B: Dim; readonly Sq: Dim; readonly Sk: Dim; readonly bq: number; readonly bk: number };
}

/** Element count of a buffer once the symbolic dims are bound. */
export function bufferNumel(b: KBuffer, dims: Readonly<Record<string, number>>): number {
  if (b.tileGrid) {
    const t = b.tileGrid;
    return dimEval(t.B, dims) * Math.ceil(dimEval(t.Sq, dims) / t.bq) * Math.ceil(dimEval(t.Sk, dims) / t.bk);
  }
  return dimEval(b.numel, dims);
}

export interface MapSchedule { readonly wg: number; readonly perThread: number }
/**
 * `wg` invocations per workgroup; `rows` (default 1, a power of two dividing wg) rows per workgroup, each reduced
 * by wg / rows lanes (a strided pass, then a tree in workgroup memory); wg / rows = 1: one row per invocation,
 * reduced serially, no workgroup memory and no barrier (short rows on CPU-like devices).
 */
export interface RowSchedule { readonly wg: number; readonly rows?: number }
/**
 * wgX x wgY invocations, each owning a tm x tn register tile of C (rows interleaved by wgY, columns by wgX);
 * `shared`: operands staged through workgroup memory in tk-deep tiles. `ku` > 1 unrolls the K loop ku times
 * (a remainder loop takes K mod ku; with `shared`, ku divides tk). `sg` > 0 (register tiles, wgY 1): A is read
 * `sg` k-values at a time, one per subgroup lane, and passed to the other lanes by subgroup broadcast instead of
 * every lane loading it (needs subgroups of at least `sg` lanes; see kernel-build.ts, buildMatmul).
 * `vec` (tn a multiple of 4): operands read and C written four elements at a time where the layout allows
 * (A along K, B along N or K, C along N; kernel-vec.ts), each invocation's columns in groups of 4 consecutive
 * ones; the K loop steps by 4; with `shared`, tiles are staged four elements at a time. Where the alignment
 * depends on the dims, a uniform test picks the vector or the scalar path at run time (kernel-build.ts).
 */
export interface MatmulSchedule { readonly wgX: number; readonly wgY: number; readonly tm: number; readonly tn: number; readonly tk: number; readonly shared: boolean; readonly ku?: number; readonly sg?: number; readonly vec?: boolean }
/**
 * bq query rows per workgroup (prefill, image-block denoising) and bk keys per tile; `splitk` > 0 selects the
 * decode schedule instead: one workgroup per query row, its `splitk` threads splitting the key tiles and merging
 * their partial softmax states at the end (a single query row cannot fill a workgroup otherwise).
 */
/**
 * bq query rows x bk keys per tile (the tile-class grid); `splitk`: decode, keys split over that many invocations;
 * `rows` > 1: each invocation owns that many query rows of the tile (bq / rows invocations), scores and the
 * output updated as small register-tiled matmuls (kernel-build.ts, buildAttentionRows); with `gqa` (forward,
 * constant head counts) those rows span the G = Hq / Hkv query heads sharing a KV head: bq positions of all G
 * heads per workgroup (bq * G / rows invocations), every key / value read shared by the group; `lanes` > 1
 * (forward): that many invocations share each invocation's rows, each owning D / lanes of the head dim (its
 * slice of Q, K, V and O), the partial score dot products summed across the lanes through workgroup memory.
 */
export interface AttentionSchedule { readonly bq: number; readonly bk: number; readonly sparse: boolean; readonly splitk?: number; readonly rows?: number; readonly gqa?: boolean; readonly lanes?: number }

interface KernelBase {
  readonly name: string;         // k<index>_<kind>: generated, safe in any target
  readonly label: string;        // human description (graph ops fused into it)
  readonly opKind: string;       // for profiles: 'matmul', 'elementwise', 'softmax', 'attention', ...
  /** Spec spans of the graph nodes fused into this kernel (./provenance.ts); filled by lowering. */
  readonly src?: readonly Origin[];
  readonly reads: readonly number[];   // buffer ids read
  readonly out: number;          // buffer id written
}

/** out[flat(i0..)] = value, one element per thread (times perThread). */
export interface MapKernel extends KernelBase {
  readonly kind: 'map';
  readonly shape: Shape;         // vars i0..i{rank-1}
  readonly value: KExpr;
  readonly schedule: MapSchedule;
}

/** Rows (one per workgroup by default; see RowSchedule): sequential reductions over r in [0, len), then a per-element or per-row store. */
export interface RowKernel extends KernelBase {
  readonly kind: 'row';
  readonly rows: Shape;          // vars i0..: the kept dimensions
  readonly len: Dim;             // var r
  readonly reds: readonly { readonly op: 'sum' | 'max' | 'min'; readonly value: KExpr }[]; // may use red<j> for j < own index
  readonly store: { readonly perElement: boolean; readonly at: KExpr; readonly value: KExpr };
  readonly schedule: RowSchedule;
}

/** C[b.., m, n] = epilogue(sum_k A(b.., m, k) * B(b.., k, n)). */
export interface MatmulKernel extends KernelBase {
  readonly kind: 'matmul';
  readonly batch: Shape;         // vars b0..
  readonly M: Dim; readonly N: Dim; readonly K: Dim;
  readonly a: KExpr;             // vars b*, m, k
  readonly b: KExpr;             // vars b*, k, n
  readonly epilogue: KExpr;      // vars b*, m, n, acc
  readonly at: KExpr;            // flat store index, vars b*, m, n
  readonly schedule: MatmulSchedule;
}

/**
 * Fused flash attention: per (batch*head, query tile) one workgroup; online softmax over key tiles; the mask
 * predicate inline (vars b0 = batch, q, kv). `tiles` optionally names a buffer with one class per (q tile,
 * k tile): 0 EMPTY (skipped), 1 FULL (no mask test), 2 PARTIAL.
 */
export interface AttentionKernel extends KernelBase {
  readonly kind: 'attention';
  readonly B: Dim; readonly Hq: Dim; readonly Hkv: Dim; readonly Sq: Dim; readonly Sk: Dim; readonly D: number; readonly Dv: number;
  readonly q: number; readonly kbuf: number; readonly v: number;   // contiguous [B, H, S, D] buffers
  readonly mask: KExpr | null;   // vars b0, q, kv
  readonly scale: number;
  readonly tiles: number | null; // buffer id of the tile-class map, when sparse
  readonly schedule: AttentionSchedule;
}

/**
 * Flash attention backward (kernel-build-attn-bwd.ts), one `part` per kernel: `stats` writes per query row
 * [log-sum-exp, dO . O] (2 f32 per row of [B, Hq, Sq]); `dq` walks key tiles per query tile; `dk` / `dv` walk
 * the query tiles of every query head of the group per key tile. Same mask predicate and tile-class map as the
 * forward (vars b0, q, kv); no atomics: each output element has one owner.
 */
export interface AttentionBwdKernel extends KernelBase {
  readonly kind: 'attention_bwd';
  readonly part: 'stats' | 'dq' | 'dk' | 'dv';
  readonly B: Dim; readonly Hq: Dim; readonly Hkv: Dim; readonly Sq: Dim; readonly Sk: Dim; readonly D: number; readonly Dv: number;
  readonly q: number; readonly kbuf: number; readonly v: number; readonly o: number; readonly dO: number;
  readonly stats: number;        // the stats buffer (the output of the `stats` part)
  readonly mask: KExpr | null;
  readonly scale: number;
  readonly tiles: number | null;
  readonly schedule: AttentionSchedule;
}

/**
 * Deterministic scatter-add (kernel-build-scatter.ts): one invocation per output element (vars i0..), summing in
 * row-major order over the free value axes (vars f0..) the `value` where `cond` holds (null: always); value axes
 * passed straight to an output axis are not looped. No atomics: the order is fixed, the result reproducible.
 */
export interface ScatterKernel extends KernelBase {
  readonly kind: 'scatter';
  readonly shape: Shape;         // output, vars i0..
  readonly free: Shape;          // free value axes, vars f0..
  readonly cond: KExpr | null;
  readonly value: KExpr;         // f32
  readonly schedule: MapSchedule;
}

export type Kernel = MapKernel | RowKernel | MatmulKernel | AttentionKernel | AttentionBwdKernel | ScatterKernel;

/** A whole entry lowered: buffers, kernels in execution order, where inputs/params/outputs live. */
export interface KernelPlan {
  readonly entry: string;
  readonly symbols: readonly string[];
  readonly buffers: readonly KBuffer[];
  readonly kernels: readonly Kernel[];
  readonly inputs: readonly { readonly name: string; readonly buf: number; readonly shape: Shape; readonly dtype: DType }[];
  readonly params: readonly { readonly name: string; readonly buf: number }[];
  readonly outputs: readonly { readonly name: string; readonly buf: number; readonly shape: Shape; readonly dtype: DType }[];
  /** Tile-class maps the runtime must compute before launching (block-sparse attention). */
  readonly tileMaps: readonly TileMapSpec[];
  /** Ids of the graph nodes whose values the kernels store in a buffer (the rest live in registers). */
  readonly stored?: ReadonlySet<number>;
}

/** How the runtime derives one attention's tile classes from the per-position inputs, in O(tiles + S). */
export interface TileMapSpec {
  readonly buf: number;
  readonly kernel: string;
  readonly node: number;         // id of the attention node in the entry graph
  readonly bq: number; readonly bk: number;
  readonly B: Dim; readonly Sq: Dim; readonly Sk: Dim;
  readonly maskName: string;
}

// ---- KExpr smart constructors: fold constants and identities so index math stays readable ----------------

export const kvar = (name: KVar, dtype: DType = 'i32'): KExpr => ({ k: 'var', name, dtype });
export const kconst = (v: number, dtype: DType = 'i32'): KExpr => ({ k: 'const', v, dtype });
export const isConst = (e: KExpr, v?: number): boolean => e.k === 'const' && (v === undefined || e.v === v);

export function kbin(op: BinaryOp, a: KExpr, b: KExpr, dtype?: DType): KExpr {
  const t = dtype ?? (['lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or'].includes(op) ? 'bool' : a.dtype);
  const intMath = t === 'i32';
  if (intMath && a.k === 'const' && b.k === 'const') {
    switch (op) {
      case 'add': return kconst((a.v + b.v) | 0);
      case 'sub': return kconst((a.v - b.v) | 0);
      case 'mul': return kconst(Math.imul(a.v, b.v));
      case 'div': if (b.v !== 0) return kconst(Math.trunc(a.v / b.v)); break;
      case 'mod': if (b.v !== 0) return kconst(a.v % b.v); break;
      case 'max': return kconst(Math.max(a.v, b.v));
      case 'min': return kconst(Math.min(a.v, b.v));
    }
  }
  if (intMath) {
    if (op === 'add' && isConst(a, 0)) return b;
    if ((op === 'add' || op === 'sub') && isConst(b, 0)) return a;
    if (op === 'mul' && (isConst(a, 0) || isConst(b, 0))) return kconst(0);
    if (op === 'mul' && isConst(a, 1)) return b;
    if ((op === 'mul' || op === 'div') && isConst(b, 1)) return a;
    if (op === 'mod' && isConst(b, 1)) return kconst(0);
  }
  return { k: 'bin', op, a, b, dtype: t };
}
export const kadd = (a: KExpr, b: KExpr) => kbin('add', a, b);
export const kmul = (a: KExpr, b: KExpr) => kbin('mul', a, b);
export const kun = (op: UnaryOp, a: KExpr, dtype?: DType): KExpr => ({ k: 'un', op, a, dtype: dtype ?? a.dtype });
export const kwhere = (c: KExpr, a: KExpr, b: KExpr): KExpr => (isConst(c, 1) ? a : isConst(c, 0) ? b : { k: 'where', c, a, b, dtype: a.dtype });
export const kcast = (a: KExpr, dtype: DType): KExpr => (a.dtype === dtype ? a : a.k === 'const' && dtype === 'f32' ? kconst(a.v, 'f32') : { k: 'cast', a, dtype });
export const kload = (buf: number, at: KExpr, dtype: DType): KExpr => ({ k: 'load', buf, at, dtype });
export const kclamp = (e: KExpr, hi: KExpr): KExpr => kbin('max', kbin('min', e, kbin('sub', hi, kconst(1))), kconst(0));

/** A symbolic size as an i32 expression over dims[]. */
export function dimExpr(d: Dim, symbols: readonly string[]): KExpr {
  const c = dimAsConst(d);
  if (c !== undefined) return kconst(c);
  let sum: KExpr = kconst(0);
  for (const t of d.terms) {
    let p: KExpr = kconst(t.c);
    for (const s of t.syms) {
      const i = symbols.indexOf(s);
      if (i < 0) throw new Error(`internal error: unknown symbol ${s}`);
      p = kmul(p, { k: 'sym', i, dtype: 'i32' });
    }
    sum = kadd(sum, p);
  }
  return sum;
}

/** Row-major flat offset of a multi-index in a shape. */
export function linearize(idx: readonly KExpr[], shape: Shape, symbols: readonly string[]): KExpr {
  let flat: KExpr = kconst(0);
  idx.forEach((e, i) => { flat = kadd(kmul(flat, dimExpr(shape[i]!, symbols)), e); });
  return flat;
}

/** Multi-index of a flat offset (div/mod chain); size-1 dims give 0 without arithmetic. */
export function delinearize(flat: KExpr, shape: Shape, symbols: readonly string[]): KExpr[] {
  const out: KExpr[] = new Array(shape.length);
  let rest = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = dimExpr(shape[i]!, symbols);
    if (i === 0) { out[i] = rest; break; }
    if (isConst(d, 1)) { out[i] = kconst(0); continue; }
    out[i] = kbin('mod', rest, d);
    rest = kbin('div', rest, d);
  }
  return out;
}

/** Visit every node of an expression (for buffer-use and variable analyses). */
export function walkK(e: KExpr, f: (x: KExpr) => void): void {
  f(e);
  switch (e.k) {
    case 'load': case 'aload': walkK(e.at, f); break;
    case 'un': case 'cast': case 'bcast': walkK(e.a, f); break;
    case 'fma': walkK(e.a, f); walkK(e.b, f); walkK(e.c, f); break;
    case 'bin': walkK(e.a, f); walkK(e.b, f); break;
    case 'where': walkK(e.c, f); walkK(e.a, f); walkK(e.b, f); break;
  }
}

/** The value of a size expression (consts, dims, + - * /) once dims are bound: for launch grids. */
export function evalSize(e: KExpr, dims: readonly number[]): number {
  switch (e.k) {
    case 'const': return e.v;
    case 'sym': return dims[e.i] ?? 0;
    case 'bin': {
      const a = evalSize(e.a, dims), b = evalSize(e.b, dims);
      switch (e.op) { case 'add': return a + b; case 'sub': return a - b; case 'mul': return a * b; case 'div': return b ? Math.trunc(a / b) : 0; default: break; }
    }
  }
  throw new Error('internal error: launch size is not an expression of sizes');
}

/** A size expression as text over the symbols, for plan.json. */
export function sizeText(e: KExpr, symbols: readonly string[]): string {
  switch (e.k) {
    case 'const': return String(e.v);
    case 'sym': return symbols[e.i] ?? '?';
    case 'bin': return `(${sizeText(e.a, symbols)} ${e.op === 'add' ? '+' : e.op === 'sub' ? '-' : e.op === 'mul' ? '*' : '/'} ${sizeText(e.b, symbols)})`;
    default: return '?';
  }
}
