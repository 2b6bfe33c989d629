/**
 * Graph IR -> kernel IR, with fusion. Requires: a verified Graph. Guarantees: a KernelPlan whose kernels,
 * run in order, compute every output; every load index is in bounds by construction.
 *
 * Fusion rules (one pass over the graph):
 * - materialized nodes (own buffer): inputs, params, outputs, matmul, reductions, softmax/log_softmax, norms,
 *   attention, and elementwise nodes with several users (unless they are only index arithmetic);
 * - everything else (elementwise math, casts, where, expand, reshape, permute, slice, concat, gather, rope,
 *   compute) is inlined into its user as index arithmetic and scalar math: no copies;
 * - a matmul whose only user is elementwise at the same index takes that chain as its epilogue (bias,
 *   activation, residual, the SwiGLU gate); reductions absorb their elementwise prologue through inlining.
 */
import { unionOrigins } from './provenance.js';
import { isFloat, type DType } from '../core/dtype.js';
import { dimAdd as addDim, dimAsConst, dimConst, shapeProduct, type Dim, type Shape } from '../core/dim.js';
import { graphNodes, type Graph, type IExpr, type Node } from './graph.js';
import { DEFAULT_MAP, DEFAULT_MATMUL, DEFAULT_ROW, defaultAttention, defaultAttentionBwd } from './schedule.js';
import {
  delinearize, dimExpr, kadd, kbin, kcast, kclamp, kconst, kload, kmul, kun, kvar, kwhere, linearize,
  type AttentionSchedule, type KBuffer, type KExpr, type Kernel, type KernelPlan, type KVar, type MapSchedule, type MatmulSchedule, type RowSchedule, type TileMapSpec,
} from './kernel.js';

export interface LowerOptions {
  /** How attention is lowered: one fused flash kernel (default) or QK^T, masked softmax, PV as three kernels. */
  readonly attention?: 'fused' | 'unfused';
  readonly attentionSchedule?: AttentionSchedule;
  readonly matmulSchedule?: MatmulSchedule;
  readonly rowSchedule?: RowSchedule;
  /** The schedule of element-wise (map) kernels (tests of the tuner's space). */
  readonly mapSchedule?: MapSchedule;
  /** Per-kernel schedule overrides by kernel name (the autotuner's cache). */
  readonly overrides?: ReadonlyMap<string, unknown>;
  /** Fuse elementwise epilogues into matmuls (on by default; off to measure the gain). */
  readonly fuse?: boolean;
}

export { DEFAULT_ATTENTION, DEFAULT_MATMUL } from './schedule.js';
const MAP = DEFAULT_MAP;
const NEG_BIG = -3.0e38;

const MATERIAL = new Set(['input', 'param', 'matmul', 'reduce', 'softmax', 'log_softmax', 'rmsnorm', 'layernorm', 'attention', 'attention_grad', 'scatter_add']);
const INDEX_ONLY = new Set(['expand', 'reshape', 'permute', 'slice', 'const']);

const storeType = (d: DType): DType => (d === 'bool' ? 'i32' : d === 'f16' || d === 'bf16' ? d : d === 'u32' || d === 'i64' ? 'i32' : d);

export function lowerGraph(g: Graph, symbols: readonly string[], opts: LowerOptions = {}): KernelPlan {
  return new Lowering(g, symbols, opts).run();
}

class Lowering {
  readonly buffers: KBuffer[] = [];
  readonly kernels: Kernel[] = [];
  readonly tileMaps: TileMapSpec[] = [];
  readonly bufOf = new Map<number, number>();       // node id -> buffer id (materialized nodes)
  readonly users = new Map<number, Node[]>();
  readonly outputs = new Set<number>();
  readonly fuse: boolean;
  /** log_softmax nodes lowered as a per-row logsumexp buffer: their value is x - lse, computed where read. */
  readonly lseOf = new Map<number, number>();
  /** Node currently lowered as a matmul epilogue root: its matmul reads as `acc`. */
  private accNode: Node | null = null;

  constructor(readonly g: Graph, readonly symbols: readonly string[], readonly opts: LowerOptions) {
    this.fuse = opts.fuse ?? true;
  }

  run(): KernelPlan {
    const nodes = graphNodes(this.g);
    for (const n of nodes) for (const s of n.src) {
      const u = this.users.get(s.id) ?? [];
      if (!u.includes(n)) u.push(n);
      this.users.set(s.id, u);
    }
    for (const o of this.g.outputs) this.outputs.add(o.node.id);

    const inputs: KernelPlan['inputs'][number][] = [];
    const params: KernelPlan['params'][number][] = [];
    for (const n of nodes) {
      if (n.op === 'input') {
        const arg = n.arg as { name: string };
        inputs.push({ name: arg.name, buf: this.alloc(n, 'input', `input ${arg.name}`), shape: n.shape, dtype: n.dtype });
      } else if (n.op === 'param') {
        const arg = n.arg as { name: string };
        params.push({ name: arg.name, buf: this.alloc(n, 'param', `param ${arg.name}`) });
      }
    }
    // Decide which matmuls absorb their user chain as an epilogue: root node id -> matmul node.
    const epilogueOf = new Map<number, Node>();
    const absorbed = new Set<number>();
    const claimed = new Set<number>();   // nodes already inside some matmul's epilogue
    if (this.fuse) for (const n of nodes) {
      if (n.op !== 'matmul' || this.outputs.has(n.id)) continue;
      let top: Node = n;
      const chain: Node[] = [];
      for (;;) {
        const us = this.users.get(top.id) ?? [];
        if (us.length !== 1 || this.outputs.has(top.id) && top !== n) break;
        const u = us[0]!;
        if (!['binary', 'unary', 'where', 'cast'].includes(u.op) || !sameShape(u.shape, n.shape)) break;
        // The chain must reach the matmul only through one operand position per step (true for trees).
        if (u.src.filter((s) => s === top).length !== 1) break;
        if (claimed.has(u.id)) break;
        top = u;
        chain.push(u);
        if (this.outputs.has(u.id) || (this.users.get(u.id) ?? []).length !== 1) break;
      }
      if (top !== n) { epilogueOf.set(top.id, n); absorbed.add(n.id); for (const c of chain) claimed.add(c.id); }
    }

    for (const n of nodes) {
      if (n.op === 'input' || n.op === 'param') continue;
      if (absorbed.has(n.id)) continue;
      const mm = epilogueOf.get(n.id);
      const first = this.kernels.length;
      this.inlined.length = 0;
      if (mm) { this.matmulKernel(mm, n); this.inlined.push([mm, this.kernels.length - 1]); this.tagSources(first, n); continue; }
      if (!this.isMaterialized(n)) continue;
      switch (n.op) {
        case 'matmul': this.matmulKernel(n, n); break;
        case 'reduce': this.reduceKernel(n); break;
        case 'log_softmax': this.outputs.has(n.id) ? this.normKernel(n) : this.logSumExp(n); break;
        case 'softmax': case 'rmsnorm': case 'layernorm': this.normKernel(n); break;
        case 'attention': (this.opts.attention ?? 'fused') === 'fused' ? this.flashAttention(n) : this.unfusedAttention(n); break;
        case 'attention_grad': this.flashAttentionGrad(n); break;
        case 'scatter_add': this.scatterKernel(n); break;
        default: this.mapKernel(n);
      }
      this.tagSources(first, n);
    }
    // An output that is itself an input or param still needs its own buffer written: copy it.
    const outputs = this.g.outputs.map((o) => {
      let buf = this.bufOf.get(o.node.id)!;
      if (this.buffers[buf]!.kind !== 'output') {
        buf = this.newBuffer('output', `output ${o.name}`, o.node.dtype, shapeProduct(o.node.shape));
        const idx = o.node.shape.map((_, i) => kvar(`i${i}`));
        this.kernels.push({
          kind: 'map', name: this.kname('copy'), label: `copy to output ${o.name}`, opKind: 'copy', shape: o.node.shape,
          value: this.at(o.node, idx), reads: [], out: buf, schedule: MAP,
        });
        this.fixReads();
      }
      return { name: o.name, buf, shape: o.node.shape, dtype: o.node.dtype };
    });
    this.fixReads();
    return { entry: this.g.entry, symbols: this.symbols, buffers: this.buffers, kernels: this.kernels, inputs, params, outputs, tileMaps: this.tileMaps, stored: new Set(this.bufOf.keys()) };
  }

  /** Graph nodes computed inside kernels being lowered (read through `at` without a buffer), each with the
   * index of the kernel it went into: expressions are built before their kernel is pushed. */
  private readonly inlined: [Node, number][] = [];

  /** Kernels from `first` on get the origins of the nodes inlined into each; the last also those of `root`. */
  tagSources(first: number, root: Node): void {
    const last = this.kernels.length - 1;
    for (let k = first; k <= last; k++) {
      const nodes = this.inlined.filter(([, at]) => at === k).map(([n]) => n);
      const src = unionOrigins(k === last || nodes.length === 0 ? [root, ...nodes] : nodes);
      this.kernels[k] = { ...this.kernels[k]!, src };
    }
  }

  /** Fill each kernel's read list from the loads its expressions contain. */
  fixReads(): void {
    for (let i = 0; i < this.kernels.length; i++) {
      const k = this.kernels[i]!;
      const reads = new Set<number>();
      const visit = (e: KExpr | null) => {
        if (!e) return;
        const st: KExpr[] = [e];
        while (st.length) {
          const x = st.pop()!;
          if (x.k === 'load') { reads.add(x.buf); st.push(x.at); }
          else if (x.k === 'un' || x.k === 'cast') st.push(x.a);
          else if (x.k === 'bin') st.push(x.a, x.b);
          else if (x.k === 'where') st.push(x.c, x.a, x.b);
        }
      };
      switch (k.kind) {
        case 'map': visit(k.value); break;
        case 'scatter': visit(k.cond); visit(k.value); break;
        case 'row': k.reds.forEach((r) => visit(r.value)); visit(k.store.value); visit(k.store.at); break;
        case 'matmul': visit(k.a); visit(k.b); visit(k.epilogue); break;
        case 'attention': reads.add(k.q); reads.add(k.kbuf); reads.add(k.v); visit(k.mask); if (k.tiles !== null) reads.add(k.tiles); break;
        case 'attention_bwd':
          for (const b of k.part === 'stats' ? [k.q, k.kbuf, k.o, k.dO] : k.part === 'dv' ? [k.q, k.kbuf, k.dO, k.stats] : [k.q, k.kbuf, k.v, k.dO, k.stats]) reads.add(b);
          visit(k.mask); if (k.tiles !== null) reads.add(k.tiles); break;
      }
      reads.delete(k.out);
      this.kernels[i] = { ...k, reads: [...reads].sort((a, b) => a - b) } as Kernel;
    }
  }

  isMaterialized(n: Node): boolean {
    if (MATERIAL.has(n.op) || this.outputs.has(n.id)) return true;
    const us = this.users.get(n.id) ?? [];
    if (us.length <= 1 || INDEX_ONLY.has(n.op) || n.op === 'cast' || n.op === 'gather') return false;
    // A cheap elementwise node read by several kernels at the same index is recomputed rather than stored.
    return !(n.op === 'unary' || n.op === 'binary' || n.op === 'where') || !n.src.every((s) => this.bufOf.has(s.id) || s.op === 'const' || s.op === 'expand');
  }

  kname(kind: string): string { return `k${this.kernels.length}_${kind}`; }

  newBuffer(kind: KBuffer['kind'], name: string, dtype: DType, numel: Dim): number {
    this.buffers.push({ name, kind, dtype: storeType(dtype), numel });
    return this.buffers.length - 1;
  }
  alloc(n: Node, kind: KBuffer['kind'], name: string): number {
    const out = this.outputs.has(n.id) && kind === 'temp';
    const b = this.newBuffer(out ? 'output' : kind, out ? `output ${this.g.outputs.find((o) => o.node.id === n.id)!.name}` : name, n.dtype, shapeProduct(n.shape));
    this.bufOf.set(n.id, b);
    return b;
  }

  dim(d: Dim): KExpr { return dimExpr(d, this.symbols); }
  flat(idx: readonly KExpr[], shape: Shape): KExpr { return linearize(idx, shape, this.symbols); }

  /** The value of a node stored in a buffer at a flat index, or undefined when it has no buffer. */
  private storedAt(n: Node, flat: KExpr): KExpr | undefined {
    const b = this.bufOf.get(n.id);
    if (b === undefined) return undefined;
    const raw = kload(b, flat, this.buffers[b]!.dtype);
    return n.dtype === 'bool' ? kbin('ne', raw, kconst(0)) : raw.dtype === n.dtype ? raw : kcast(raw, n.dtype);
  }

  /** The value of node n at multi-index idx, inlining whatever is not materialized. */
  at(n: Node, idx: readonly KExpr[]): KExpr {
    if (this.accNode === n) return kvar('acc', n.dtype);
    const lse = this.lseOf.get(n.id);
    if (lse !== undefined) {
      const axis = (n.arg as { axis: number }).axis;
      const rowIdx = idx.filter((_, i) => i !== axis);
      const rowShape = n.shape.filter((_, i) => i !== axis);
      return kcast(kbin('sub', kcast(this.at(n.src[0]!, idx), 'f32'), kload(lse, this.flat(rowIdx, rowShape), 'f32'), 'f32'), n.dtype);
    }
    const stored = this.storedAt(n, this.flat(idx, n.shape));
    if (stored) return stored;
    const s = n.src;
    if (n.op !== 'const') this.inlined.push([n, this.kernels.length]);
    switch (n.op) {
      case 'const': return kconst((n.arg as { value: number }).value, n.dtype === 'bool' ? 'bool' : n.dtype);
      case 'unary': return kun((n.arg as { op: never }).op, this.at(s[0]!, idx), n.dtype);
      case 'binary': return kbin((n.arg as { op: never }).op, this.at(s[0]!, idx), this.at(s[1]!, idx), n.dtype);
      case 'where': return kwhere(this.at(s[0]!, idx), this.at(s[1]!, idx), this.at(s[2]!, idx));
      case 'cast': return kcast(this.at(s[0]!, idx), n.dtype);
      case 'expand': {
        const src = s[0]!;
        const off = n.shape.length - src.shape.length;
        return this.at(src, src.shape.map((d, i) => (dimAsConst(d) === 1 && dimAsConst(n.shape[i + off]!) !== 1 ? kconst(0) : idx[i + off]!)));
      }
      case 'reshape': {
        // A source in a buffer is row-major: the reshape's flat index is its own (no div/mod round trip).
        const flat = this.flat(idx, n.shape);
        return (this.accNode !== s[0] && !this.lseOf.has(s[0]!.id) && this.storedAt(s[0]!, flat)) || this.at(s[0]!, delinearize(flat, s[0]!.shape, this.symbols));
      }
      case 'permute': {
        const perm = (n.arg as { perm: number[] }).perm;
        const src: KExpr[] = new Array(perm.length);
        perm.forEach((p, i) => { src[p] = idx[i]!; });
        return this.at(s[0]!, src);
      }
      case 'slice': {
        const { axis, start } = n.arg as { axis: number; start: Dim };
        return this.at(s[0]!, idx.map((e, i) => (i === axis ? kadd(e, this.dim(start)) : e)));
      }
      case 'concat': {
        const axis = (n.arg as { axis: number }).axis;
        // Select the piece by comparing the index against running offsets; later pieces are shifted.
        let offset: Dim = dimConst(0);
        const pieces = s.map((src) => { const o = offset; offset = addDim(offset, src.shape[axis]!); return { src, o }; });
        let e: KExpr = this.at(pieces[pieces.length - 1]!.src, idx.map((x, i) => (i === axis ? kclamp(kbin('sub', x, this.dim(pieces[pieces.length - 1]!.o)), this.dim(pieces[pieces.length - 1]!.src.shape[axis]!)) : x)));
        for (let p = pieces.length - 2; p >= 0; p--) {
          const { src, o } = pieces[p]!;
          const local = kclamp(kbin('sub', idx[axis]!, this.dim(o)), this.dim(src.shape[axis]!));
          const end = this.dim(addDim(o, src.shape[axis]!));
          e = kwhere(kbin('lt', idx[axis]!, end), this.at(src, idx.map((x, i) => (i === axis ? local : x))), e);
        }
        return e;
      }
      case 'gather': {
        const [table, ids] = s as [Node, Node];
        const r = ids.shape.length;
        const id = kclamp(kcast(this.at(ids, idx.slice(0, r)), 'i32'), this.dim(table.shape[0]!));
        return this.at(table, [id, ...idx.slice(r)]);
      }
      case 'rope': {
        const [x, pos] = s as [Node, Node];
        const D = this.dim(n.shape[3]!);
        const half = kbin('div', D, kconst(2));
        const d = idx[3]!;
        const lo = kbin('lt', d, half);
        const i = kwhere(lo, d, kbin('sub', d, half));
        const theta = (n.arg as { theta: number }).theta;
        // angle = pos * theta^(-2i/D) = pos * exp(-(2i/D) * ln(theta))
        const expo = kbin('mul', kbin('div', kcast(kmul(kconst(2), i), 'f32'), kcast(D, 'f32'), 'f32'), kconst(-Math.log(theta), 'f32'), 'f32');
        const ang = kbin('mul', kcast(this.at(pos, [idx[0]!, idx[2]!]), 'f32'), kun('exp', expo), 'f32');
        const partner = [idx[0]!, idx[1]!, idx[2]!, kwhere(lo, kadd(d, half), kbin('sub', d, half))];
        const xv = kcast(this.at(x, idx), 'f32'), xp = kcast(this.at(x, partner), 'f32');
        const sgn = kwhere(lo, kconst(-1, 'f32'), kconst(1, 'f32'));
        const v = kbin('add', kbin('mul', xv, kun('cos', ang), 'f32'), kbin('mul', kbin('mul', sgn, xp, 'f32'), kun('sin', ang), 'f32'), 'f32');
        return kcast(v, n.dtype);
      }
      case 'compute': return this.iexpr((n.arg as { body: IExpr }).body, idx, s);
      default: throw new Error(`internal error: cannot inline ${n.op}`);
    }
  }

  /** An IExpr (compute body or mask) at the given index variables; loads are clamped per source dim. */
  iexpr(e: IExpr, idx: readonly KExpr[], srcs: readonly Node[]): KExpr {
    switch (e.k) {
      case 'idx': return idx[e.i]!;
      case 'const': return kconst(e.v, e.dtype);
      case 'dim': return this.dim(e.d);
      case 'load': {
        const src = srcs[e.src]!;
        return this.at(src, e.idx.map((x, i) => kclamp(this.iexpr(x, idx, srcs), this.dim(src.shape[i]!))));
      }
      case 'un': return kun(e.op, this.iexpr(e.a, idx, srcs), e.dtype);
      case 'bin': return kbin(e.op, this.iexpr(e.a, idx, srcs), this.iexpr(e.b, idx, srcs), e.dtype);
      case 'where': return kwhere(this.iexpr(e.c, idx, srcs), this.iexpr(e.a, idx, srcs), this.iexpr(e.b, idx, srcs));
      case 'cast': return kcast(this.iexpr(e.a, idx, srcs), e.dtype);
    }
  }

  mapKernel(n: Node): void {
    const idx = n.shape.map((_, i) => kvar(`i${i}`));
    const value = this.at(n, idx);
    const out = this.alloc(n, 'temp', `${n.op} %${n.id}`);
    this.kernels.push({ kind: 'map', name: this.kname('map'), label: describeChain(n), opKind: n.op === 'compute' || n.op === 'gather' || n.op === 'concat' || n.op === 'rope' ? n.op : 'elementwise', shape: n.shape, value: this.storeValue(value, n.dtype), reads: [], out, schedule: this.opts.mapSchedule ?? MAP });
  }

  storeValue(v: KExpr, dtype: DType): KExpr {
    if (dtype === 'bool') return kwhere(v, kconst(1), kconst(0));
    return v;
  }

  matmulKernel(mm: Node, root: Node): void {
    const [A, B] = mm.src as [Node, Node];
    const r = mm.shape.length;
    const batch = mm.shape.slice(0, r - 2);
    const bv = batch.map((_, i) => kvar(`b${i}`));
    const M = mm.shape[r - 2]!, N = mm.shape[r - 1]!, K = A.shape[r - 1]!;
    const a = kcast(this.at(A, [...bv, kvar('m'), kvar('k')]), 'f32');
    const b = kcast(this.at(B, [...bv, kvar('k'), kvar('n')]), 'f32');
    const outIdx = [...bv, kvar('m'), kvar('n')];
    this.accNode = mm;
    const epi = root === mm ? kvar('acc', 'f32') : this.at(root, outIdx);
    this.accNode = null;
    const out = this.alloc(root, 'temp', `matmul %${mm.id}`);
    this.bufOf.set(mm.id, out);
    this.kernels.push({
      kind: 'matmul', name: this.kname('matmul'), label: root === mm ? 'matmul' : `matmul + ${describeChain(root, mm)}`, opKind: 'matmul',
      batch, M, N, K, a, b, epilogue: this.storeValue(epi, root.dtype), at: this.flat(outIdx, root.shape), reads: [], out,
      schedule: this.opts.matmulSchedule ?? DEFAULT_MATMUL,
    });
  }

  rowKernel(name: string, opKind: string, label: string, rows: Shape, len: Dim, reds: { op: 'sum' | 'max' | 'min'; value: KExpr }[], store: { perElement: boolean; at: KExpr; value: KExpr }, out: number): void {
    this.kernels.push({ kind: 'row', name, label, opKind, rows, len, reds, store, reads: [], out, schedule: this.opts.rowSchedule ?? DEFAULT_ROW });
  }

  reduceKernel(n: Node): void {
    const { kind, axes } = n.arg as { kind: 'sum' | 'max' | 'min' | 'mean'; axes: number[] };
    const x = n.src[0]!;
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const redShape = axes.map((a) => x.shape[a]!);
    const len = shapeProduct(redShape);
    const rowVars = kept.map((_, i) => kvar(`i${i}`));
    const rIdx = delinearize(kvar('r'), redShape, this.symbols);
    const full: KExpr[] = new Array(x.shape.length);
    kept.forEach((a, i) => { full[a] = rowVars[i]!; });
    axes.forEach((a, i) => { full[a] = rIdx[i]!; });
    const acc = isFloat(n.dtype) ? 'f32' : 'i32';
    const v = kcast(this.at(x, full), acc);
    const op = kind === 'mean' ? 'sum' : kind;
    const red = kvar('red0', acc);
    const value = kind === 'mean' ? kbin('div', red, kcast(this.dim(len), acc), acc) : red;
    const out = this.alloc(n, 'temp', `reduce %${n.id}`);
    this.rowKernel(this.kname('reduce'), `reduce_${kind}`, `${kind} over axes [${axes.join(', ')}]`, n.shape, len, [{ op, value: v }],
      { perElement: false, at: this.flat(rowVars, n.shape), value: kcast(value, n.dtype) }, out);
  }

  /**
   * Cross-entropy fusion: log_softmax(x) = x - logsumexp(x). Only the per-row logsumexp is stored ([B, S] for
   * logits [B, S, V]); readers (the target gather of a cross-entropy) compute x - lse at the elements they read.
   */
  logSumExp(n: Node): void {
    const x = n.src[0]!;
    const axis = (n.arg as { axis: number }).axis;
    const rows = n.shape.filter((_, i) => i !== axis);
    const rowVars = rows.map((_, i) => kvar(`i${i}`));
    const full = [...rowVars];
    full.splice(axis, 0, kvar('r'));
    const xr = kcast(this.at(x, full), 'f32');
    const red = (i: number) => kvar(`red${i}`, 'f32');
    const buf = this.newBuffer('temp', `logsumexp %${n.id}`, 'f32', shapeProduct(rows));
    this.lseOf.set(n.id, buf);
    this.rowKernel(this.kname('logsumexp'), 'log_softmax', `logsumexp over axis ${axis} (log_softmax read as x - lse)`, rows, n.shape[axis]!,
      [{ op: 'max', value: xr }, { op: 'sum', value: kun('exp', kbin('sub', xr, red(0), 'f32')) }],
      { perElement: false, at: this.flat(rowVars, rows), value: kbin('add', red(0), kun('log', red(1)), 'f32') }, buf);
  }

  normKernel(n: Node): void {
    const x = n.src[0]!;
    const axis = n.op === 'softmax' || n.op === 'log_softmax' ? (n.arg as { axis: number }).axis : n.shape.length - 1;
    const rows = n.shape.filter((_, i) => i !== axis);
    const len = n.shape[axis]!;
    const rowVars = rows.map((_, i) => kvar(`i${i}`));
    const full = (r: KExpr) => { const f = [...rowVars]; f.splice(axis, 0, r); return f; };
    const xr = kcast(this.at(x, full(kvar('r'))), 'f32');
    const L = kcast(this.dim(len), 'f32');
    const red = (i: number) => kvar(`red${i}`, 'f32');
    const f = (op: 'add' | 'sub' | 'mul' | 'div', a: KExpr, b: KExpr) => kbin(op, a, b, 'f32');
    let reds: { op: 'sum' | 'max'; value: KExpr }[];
    let value: KExpr;
    switch (n.op) {
      case 'softmax':
        reds = [{ op: 'max', value: xr }, { op: 'sum', value: kun('exp', f('sub', xr, red(0))) }];
        value = f('div', kun('exp', f('sub', xr, red(0))), red(1));
        break;
      case 'log_softmax':
        reds = [{ op: 'max', value: xr }, { op: 'sum', value: kun('exp', f('sub', xr, red(0))) }];
        value = f('sub', f('sub', xr, red(0)), kun('log', red(1)));
        break;
      case 'rmsnorm': {
        const w = kcast(this.at(n.src[1]!, [kvar('r')]), 'f32');
        const eps = (n.arg as { eps: number }).eps;
        reds = [{ op: 'sum', value: f('mul', xr, xr) }];
        value = f('mul', f('mul', xr, kun('rsqrt', f('add', f('div', red(0), L), kconst(eps, 'f32')))), w);
        break;
      }
      default: {
        const w = kcast(this.at(n.src[1]!, [kvar('r')]), 'f32');
        const bias = kcast(this.at(n.src[2]!, [kvar('r')]), 'f32');
        const eps = (n.arg as { eps: number }).eps;
        const mean = f('div', red(0), L);
        const dx = f('sub', xr, mean);
        reds = [{ op: 'sum', value: xr }, { op: 'sum', value: f('mul', dx, dx) }];
        value = f('add', f('mul', f('mul', dx, kun('rsqrt', f('add', f('div', red(1), L), kconst(eps, 'f32')))), w), bias);
      }
    }
    const out = this.alloc(n, 'temp', `${n.op} %${n.id}`);
    this.rowKernel(this.kname(n.op), n.op, `${n.op} over axis ${axis}`, rows, len, reds,
      { perElement: true, at: this.flat(full(kvar('r')), n.shape), value: kcast(value, n.dtype) }, out);
  }

  /** A mask predicate over (batch var, query var, key var) with loads from the mask inputs. */
  maskExpr(n: Node, b: KExpr, q: KExpr, k: KExpr): KExpr | null {
    const mask = (n.arg as { mask: IExpr | null }).mask;
    return mask ? this.iexpr(mask, [b, q, k], n.src.slice(3)) : null;
  }

  /** Materialize q, k, v contiguously when they are not already buffers (the fused kernel reads tiles). */
  contiguous(n: Node): number {
    const b = this.bufOf.get(n.id);
    if (b !== undefined) return b;
    this.mapKernel(n);
    return this.bufOf.get(n.id)!;
  }

  flashAttention(n: Node): void {
    const [q, k, v] = n.src as [Node, Node, Node];
    const [B, Hq, Sq, Dd] = q.shape as [Dim, Dim, Dim, Dim];
    const [, Hkv, Sk] = k.shape as [Dim, Dim, Dim, Dim];
    const D = dimAsConst(Dd), Dv = dimAsConst(v.shape[3]!);
    if (D === undefined || Dv === undefined) { this.unfusedAttention(n); return; }
    const qb = this.contiguous(q), kb = this.contiguous(k), vb = this.contiguous(v);
    // The scheduling stage (scheduleForTarget) fits tiles to the target's workgroup memory afterwards.
    const sched = this.opts.attentionSchedule ?? defaultAttention(Sq);
    const mask = this.maskExpr(n, kvar('b0'), kvar('q'), kvar('kv'));
    const maskName = (n.arg as { maskName: string }).maskName;
    let tiles: number | null = null;
    const name = this.kname('attention');
    if (mask && sched.sparse) {
      tiles = this.newBuffer('temp', `tile classes of ${name}`, 'i32', B);
      this.buffers[tiles] = { ...this.buffers[tiles]!, tileGrid: { B, Sq, Sk, bq: sched.bq, bk: sched.bk } };
      this.tileMaps.push({ buf: tiles, kernel: name, node: n.id, bq: sched.bq, bk: sched.bk, B, Sq, Sk, maskName });
    }
    const out = this.alloc(n, 'temp', `attention %${n.id}`);
    this.kernels.push({
      kind: 'attention', name, label: `flash attention, mask ${maskName}${tiles !== null ? ', block-sparse' : ''}`, opKind: 'attention',
      B, Hq, Hkv, Sq, Sk, D, Dv, q: qb, kbuf: kb, v: vb, mask, scale: (n.arg as { scale: number }).scale, tiles, reads: [], out, schedule: sched,
    });
  }

  /**
   * scatter_add as the deterministic scatter kernel: value axis k passed unchanged to output axis d (idx_d is
   * exactly i_k, same size) reads the output index; the others (free) are looped in row-major order, and the
   * value counts where every other clamped idx_d equals the output index (decompose.ts denseScatter, same rule).
   */
  scatterKernel(n: Node): void {
    const values = n.src[0]!, out = n.shape, idx = (n.arg as { idx: readonly IExpr[] }).idx;
    const pairedTo = new Map<number, number>();
    idx.forEach((e, d) => { if (e.k === 'idx' && !pairedTo.has(e.i) && values.shape[e.i]!.key === out[d]!.key) pairedTo.set(e.i, d); });
    const free = values.shape.map((_, k) => k).filter((k) => !pairedTo.has(k));
    const vIdx = values.shape.map((_, k) => (pairedTo.has(k) ? kvar(`i${pairedTo.get(k)!}`) : kvar(`f${free.indexOf(k)}`)));
    let cond: KExpr | null = null;
    idx.forEach((e, d) => {
      if (e.k === 'idx' && pairedTo.get(e.i) === d) return;
      const eq = kbin('eq', kclamp(kcast(this.iexpr(e, vIdx, n.src.slice(1)), 'i32'), this.dim(out[d]!)), kvar(`i${d}`));
      cond = cond ? kbin('and', cond, eq) : eq;
    });
    const value = kcast(this.at(values, vIdx), 'f32');
    const buf = this.alloc(n, 'temp', `scatter_add %${n.id}`);
    this.kernels.push({
      kind: 'scatter', name: this.kname('scatter_add'), label: `scatter-add over ${free.length} free axes, fixed order`, opKind: 'scatter_add',
      shape: out, free: free.map((k) => values.shape[k]!), cond, value, reads: [], out: buf, schedule: MAP,
    });
  }

  /** Stats buffers of attention backward, shared by the dq, dk and dv of one forward (key: sources, scale, mask). */
  private readonly attnStats = new Map<string, number>();

  /**
   * attention_grad as flash-attention backward (kernel-build-attn-bwd.ts): a stats kernel (log-sum-exp and
   * dO . O per query row, once per forward) and the dq, dk or dv kernel. Requires fusedAttentionGradApplies.
   */
  flashAttentionGrad(n: Node): void {
    if (!fusedAttentionGradApplies(n)) throw new Error(`internal error: attention_grad %${n.id} has no fused kernel (decompose it)`);
    const [q, k, v, o, dO] = n.src as [Node, Node, Node, Node, Node];
    const [B, Hq, Sq] = q.shape as [Dim, Dim, Dim, Dim];
    const [, Hkv, Sk] = k.shape as [Dim, Dim, Dim, Dim];
    const D = dimAsConst(q.shape[3]!)!, Dv = dimAsConst(v.shape[3]!)!;
    const arg = n.arg as { mask: IExpr | null; maskName: string; scale: number; wrt: 'q' | 'k' | 'v' };
    const [qb, kb, vb, ob, gb] = [q, k, v, o, dO].map((x) => this.contiguous(x)) as [number, number, number, number, number];
    const mask = arg.mask ? this.iexpr(arg.mask, [kvar('b0'), kvar('q'), kvar('kv')], n.src.slice(5)) : null;
    const base = { B, Hq, Hkv, Sq, Sk, D, Dv, q: qb, kbuf: kb, v: vb, o: ob, dO: gb, mask, scale: arg.scale, reads: [] as number[], opKind: 'attention_grad' };
    const push = (part: 'stats' | 'dq' | 'dk' | 'dv', out: number, stats: number) => {
      const sched = this.opts.attentionSchedule && !this.opts.attentionSchedule.splitk ? this.opts.attentionSchedule : defaultAttentionBwd(Sq);
      const name = this.kname(`attention_${part}`);
      let tiles: number | null = null;
      if (mask && sched.sparse) {
        tiles = this.newBuffer('temp', `tile classes of ${name}`, 'i32', B);
        this.buffers[tiles] = { ...this.buffers[tiles]!, tileGrid: { B, Sq, Sk, bq: sched.bq, bk: sched.bk } };
        this.tileMaps.push({ buf: tiles, kernel: name, node: n.id, bq: sched.bq, bk: sched.bk, B, Sq, Sk, maskName: arg.maskName });
      }
      this.kernels.push({ ...base, kind: 'attention_bwd', part, name, label: `flash attention backward (${part}), mask ${arg.maskName}${tiles !== null ? ', block-sparse' : ''}`, stats, tiles, out, schedule: { bq: sched.bq, bk: sched.bk, sparse: tiles !== null, ...(sched.rows ?? 1) > 1 ? { rows: sched.rows } : {} } });
    };
    const key = `${[q, k, v, o, dO, ...n.src.slice(5)].map((x) => x.id).join(',')}|${arg.scale}|${arg.maskName}|${JSON.stringify(arg.mask)}`;
    let stats = this.attnStats.get(key);
    if (stats === undefined) {
      stats = this.newBuffer('temp', `attention backward stats %${n.id}`, 'f32', shapeProduct([B, Hq, Sq, dimConst(2)]));
      push('stats', stats, stats);
      this.attnStats.set(key, stats);
    }
    const out = this.alloc(n, 'temp', `attention_grad d${arg.wrt} %${n.id}`);
    push(arg.wrt === 'q' ? 'dq' : arg.wrt === 'k' ? 'dk' : 'dv', out, stats);
  }

  /** Attention as QK^T, masked softmax and PV: three kernels and two [B, H, Sq, Sk] intermediates. */
  unfusedAttention(n: Node): void {
    const [q, k, v] = n.src as [Node, Node, Node];
    const [B, Hq, Sq] = q.shape as [Dim, Dim, Dim, Dim];
    const [, Hkv, Sk] = k.shape as [Dim, Dim, Dim, Dim];
    const group = kbin('div', this.dim(Hq), this.dim(Hkv));
    const bv = [kvar('b0'), kvar('b1')];
    const kvHead = kbin('div', bv[1]!, group);
    const scale = (n.arg as { scale: number }).scale;
    const sShape: Shape = [B, Hq, Sq, Sk];
    const scores = this.newBuffer('temp', `attention scores %${n.id}`, 'f32', shapeProduct(sShape));
    const sIdx = [...bv, kvar('m'), kvar('n')];
    this.kernels.push({
      kind: 'matmul', name: this.kname('matmul'), label: 'attention scores q k^T', opKind: 'attention_qk', batch: [B, Hq], M: Sq, N: Sk, K: q.shape[3]!,
      a: kcast(this.at(q, [...bv, kvar('m'), kvar('k')]), 'f32'), b: kcast(this.at(k, [bv[0]!, kvHead, kvar('n'), kvar('k')]), 'f32'),
      epilogue: kbin('mul', kvar('acc', 'f32'), kconst(scale, 'f32'), 'f32'), at: this.flat(sIdx, sShape), reads: [], out: scores,
      schedule: this.opts.matmulSchedule ?? DEFAULT_MATMUL,
    });
    const probs = this.newBuffer('temp', `attention probabilities %${n.id}`, 'f32', shapeProduct(sShape));
    const rv = [kvar('i0'), kvar('i1'), kvar('i2')];
    const s = kload(scores, this.flat([...rv, kvar('r')], sShape), 'f32');
    const m = this.maskExpr(n, rv[0]!, rv[2]!, kvar('r')) ?? kconst(1, 'bool');
    const red = (i: number) => kvar(`red${i}`, 'f32');
    const ex = kun('exp', kbin('sub', s, red(0), 'f32'));
    this.rowKernel(this.kname('masked_softmax'), 'attention_softmax', 'masked softmax', [B, Hq, Sq], Sk,
      [{ op: 'max', value: kwhere(m, s, kconst(NEG_BIG, 'f32')) }, { op: 'sum', value: kwhere(m, ex, kconst(0, 'f32')) }],
      { perElement: true, at: this.flat([...rv, kvar('r')], sShape), value: kwhere(kbin('and', m, kbin('gt', red(1), kconst(0, 'f32'))), kbin('div', ex, red(1), 'f32'), kconst(0, 'f32')) },
      probs);
    const out = this.alloc(n, 'temp', `attention %${n.id}`);
    const oShape = n.shape;
    this.kernels.push({
      kind: 'matmul', name: this.kname('matmul'), label: 'attention probabilities x v', opKind: 'attention_pv', batch: [B, Hq], M: Sq, N: oShape[3]!, K: Sk,
      a: kload(probs, this.flat([...bv, kvar('m'), kvar('k')], sShape), 'f32'), b: kcast(this.at(v, [bv[0]!, kvHead, kvar('k'), kvar('n')]), 'f32'),
      epilogue: kcast(kvar('acc', 'f32'), n.dtype), at: this.flat([...bv, kvar('m'), kvar('n')], oShape), reads: [], out,
      schedule: this.opts.matmulSchedule ?? DEFAULT_MATMUL,
    });
  }
}

/** Whether attention_grad lowers to the fused flash backward: head dims known and at most 128. */
export function fusedAttentionGradApplies(n: Node): boolean {
  if (n.op !== 'attention_grad') return false;
  const D = dimAsConst(n.src[0]!.shape[3]!), Dv = dimAsConst(n.src[2]!.shape[3]!);
  return D !== undefined && Dv !== undefined && D <= 128 && Dv <= 128;
}

function sameShape(a: Shape, b: Shape): boolean { return a.length === b.length && a.every((d, i) => d.key === b[i]!.key); }

function describeChain(n: Node, stop?: Node): string {
  const ops: string[] = [];
  const seen = new Set<number>();
  const visit = (x: Node, depth: number) => {
    if (seen.has(x.id) || depth > 6 || x === stop || MATERIAL.has(x.op)) return;
    seen.add(x.id);
    ops.push(x.op === 'unary' || x.op === 'binary' ? (x.arg as { op: string }).op : x.op);
    x.src.forEach((s) => visit(s, depth + 1));
  };
  visit(n, 0);
  return [...new Set(ops)].slice(0, 6).join(' ') || n.op;
}

export { kmul, kadd };
