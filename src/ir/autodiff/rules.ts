/**
 * Differentiation rules, one per graph op (graph.ts documents each op's semantics; the interpreter is the
 * oracle). A rule gets the node, the gradient `g` of its output (same shape, float) and a source number i, and
 * returns the gradient contribution for source i (its shape), or null when source i gets none (ints, masks,
 * piecewise-constant ops). Rules only build nodes; the reverse walk (grad.ts) sums contributions.
 * Elementwise derivatives are the IExpr formulas of iexpr-grad.ts, so graph ops and compute bodies share them.
 */
import { dimAdd, dimAsConst, dimConst, dimEq, shapeProduct, type Dim, type Shape } from '../../core/dim.js';
import { isFloat } from '../../core/dtype.js';
import { TfxError } from '../../errors.js';
import type { Builder } from '../builder.js';
import { mapIExpr } from '../passes/rebuild.js';
import type { IExpr, Node, Op, OpArgs } from '../graph.js';
import { binaryDeriv, derivIExpr, floatLoads, mul, unaryDeriv } from './iexpr-grad.js';

/** An entry that cannot be differentiated (no scalar float output, a second derivative): error TFX5004. */
export class AutodiffError extends TfxError {
  override name = 'AutodiffError';
  constructor(message: string) { super('TFX5004', message); }
}

type Rule<O extends Op> = (n: Node<O>, g: Node, i: number, b: Builder) => Node | null;

const idxs = (r: number): IExpr[] => Array.from({ length: r }, (_, i) => ({ k: 'idx', i, dtype: 'i32' }) as const);
const at = (src: number, s: Node): IExpr => ({ k: 'load', src, idx: idxs(s.shape.length), dtype: s.dtype });
const cf = (v: number): IExpr => ({ k: 'const', v, dtype: 'f32' });

/** Elementwise over n.shape: body(loads of srcs at the same index); srcs must all have n's shape. */
function ew(b: Builder, n: Node, srcs: readonly Node[], body: (...x: IExpr[]) => IExpr | null): Node | null {
  const e = body(...srcs.map((s, k) => at(k, s)));
  return e && b.compute(n.dtype, n.shape, srcs, e);
}

/** Sum g over the axes that `expand` broadcast, back to `shape`. */
export function sumTo(b: Builder, g: Node, shape: Shape): Node {
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  g.shape.forEach((d, k) => { if (k < lead || (dimAsConst(shape[k - lead]!) === 1 && dimAsConst(d) !== 1)) axes.push(k); });
  return b.reshape(b.reduce('sum', g, axes), shape);
}

/** A reduced tensor (axes removed) broadcast back over `shape` (the reduce's input). */
function unreduce(b: Builder, r: Node, axes: readonly number[], shape: Shape): Node {
  return b.expand(b.reshape(r, shape.map((d, k) => (axes.includes(k) ? dimConst(1) : d))), shape);
}

/** The element count of reduced axes as an f32 scalar node (dims may be symbolic). */
function count(b: Builder, shape: Shape, axes: readonly number[]): Node {
  const d: Dim = shapeProduct(axes.map((a) => shape[a]!));
  const k = dimAsConst(d);
  return k !== undefined ? b.const(k) : b.compute('f32', [], [], { k: 'cast', a: { k: 'dim', d, dtype: 'i32' }, dtype: 'f32' });
}

const lastAxis = (x: Node) => x.shape.length - 1;
const leading = (x: Node) => x.shape.slice(0, -1).map((_, k) => k);
const rowMean = (b: Builder, x: Node) => unreduce(b, b.reduce('mean', x, [lastAxis(x)]), [lastAxis(x)], x.shape);

export const RULES: { readonly [O in Op]: Rule<O> } = {
  input: () => null,
  param: () => null,
  const: () => null,
  unary: (n, g, _i, b) => ew(b, n, [g, n.src[0]!, n], (G, X, Y) => mul(G!, unaryDeriv(n.arg.op, X!, Y!))),
  binary: (n, g, i, b) => ew(b, n, [g, n.src[0]!, n.src[1]!, n], (G, A, B, Y) => mul(G!, binaryDeriv(n.arg.op, A!, B!, Y!)[i] ?? null)),
  where: (n, g, i, b) => (i === 0 ? null : ew(b, n, [n.src[0]!, g], (C, G) => ({ k: 'where', c: C!, a: i === 1 ? G! : cf(0), b: i === 1 ? cf(0) : G!, dtype: g.dtype }))),
  cast: (n, g, _i, b) => (isFloat(n.src[0]!.dtype) ? b.cast(g, n.src[0]!.dtype) : null),
  expand: (n, g, _i, b) => sumTo(b, g, n.src[0]!.shape),
  reduce: (n, g, _i, b) => {
    const x = n.src[0]!, { kind, axes } = n.arg;
    const back = unreduce(b, g, axes, x.shape);
    if (kind === 'sum') return back;
    if (kind === 'mean') return b.binary('div', back, count(b, x.shape, axes));
    // max / min: the gradient goes to every element equal to the result.
    return b.where(b.binary('eq', x, unreduce(b, n, axes, x.shape)), back, b.const(0, g.dtype));
  },
  reshape: (n, g, _i, b) => b.reshape(g, n.src[0]!.shape),
  permute: (n, g, _i, b) => { const inv: number[] = []; n.arg.perm.forEach((p, k) => { inv[p] = k; }); return b.permute(g, inv); },
  slice: (n, g, _i, b) => {
    // Zeros outside [start, start + len) of the sliced axis, g shifted into place inside.
    const x = n.src[0]!, { axis, start } = n.arg;
    const j: IExpr = { k: 'idx', i: axis, dtype: 'i32' };
    const lo: IExpr = { k: 'dim', d: start, dtype: 'i32' };
    const hi: IExpr = { k: 'dim', d: n.shape[axis]!, dtype: 'i32' };
    const inside: IExpr = { k: 'bin', op: 'and', dtype: 'bool',
      a: { k: 'bin', op: 'ge', a: j, b: lo, dtype: 'bool' },
      b: { k: 'bin', op: 'lt', a: { k: 'bin', op: 'sub', a: j, b: lo, dtype: 'i32' }, b: hi, dtype: 'bool' } };
    const idx = idxs(x.shape.length).map((e, k) => (k === axis ? ({ k: 'bin', op: 'sub', a: j, b: lo, dtype: 'i32' }) as IExpr : e));
    return b.compute(g.dtype, x.shape, [g], { k: 'where', c: inside, a: { k: 'load', src: 0, idx, dtype: g.dtype }, b: cf(0), dtype: g.dtype });
  },
  concat: (n, g, i, b) => {
    let off: Dim = dimConst(0);
    for (let k = 0; k < i; k++) off = dimAdd(off, n.src[k]!.shape[n.arg.axis]!);
    return b.slice(g, n.arg.axis, off, n.src[i]!.shape[n.arg.axis]!);
  },
  matmul: (n, g, i, b) => {
    const [x, y] = n.src as [Node, Node];
    const t = (m: Node) => { const r = m.shape.length; return b.permute(m, [...m.shape.keys()].map((k) => (k < r - 2 ? k : k === r - 2 ? r - 1 : r - 2))); };
    return i === 0 ? b.matmul(g, t(y)) : b.matmul(t(x), g);
  },
  gather: (n, g, i, b) => {
    if (i !== 0) return null;
    const [table, ids] = n.src as [Node, Node];
    const r = ids.shape.length;
    const id: IExpr = { k: 'load', src: 0, idx: idxs(r), dtype: ids.dtype };
    return b.scatterAdd(g, table.shape, [ids], [id, ...idxs(g.shape.length).slice(r)]);
  },
  softmax: (n, g, _i, b) => {
    const ax = n.arg.axis;
    const s = unreduce(b, b.reduce('sum', b.binary('mul', g, n), [ax]), [ax], n.shape);
    return b.binary('mul', n, b.binary('sub', g, s));
  },
  log_softmax: (n, g, _i, b) => {
    const ax = n.arg.axis;
    return b.binary('sub', g, b.binary('mul', b.unary('exp', n), unreduce(b, b.reduce('sum', g, [ax]), [ax], n.shape)));
  },
  rmsnorm: (n, g, i, b) => {
    const [x, w] = n.src as [Node, Node];
    const r = b.unary('rsqrt', b.binary('add', rowMean(b, b.binary('mul', x, x)), b.const(n.arg.eps, x.dtype)));
    if (i === 1) return b.reduce('sum', b.binary('mul', g, b.binary('mul', x, r)), leading(x));
    const gw = b.binary('mul', g, w);
    const r3 = b.binary('mul', r, b.binary('mul', r, r));
    return b.binary('sub', b.binary('mul', gw, r), b.binary('mul', b.binary('mul', x, r3), rowMean(b, b.binary('mul', gw, x))));
  },
  layernorm: (n, g, i, b) => {
    const [x, w] = n.src as [Node, Node];
    const xc = b.binary('sub', x, rowMean(b, x));
    const r = b.unary('rsqrt', b.binary('add', rowMean(b, b.binary('mul', xc, xc)), b.const(n.arg.eps, x.dtype)));
    const xh = b.binary('mul', xc, r);
    if (i === 1) return b.reduce('sum', b.binary('mul', g, xh), leading(x));
    if (i === 2) return b.reduce('sum', g, leading(x));
    const gw = b.binary('mul', g, w);
    return b.binary('mul', r, b.binary('sub', b.binary('sub', gw, rowMean(b, gw)), b.binary('mul', xh, rowMean(b, b.binary('mul', gw, xh)))));
  },
  // The transpose of a rotation is the rotation by the opposite angle.
  rope: (n, g, i, b) => (i === 0 ? b.rope(g, b.unary('neg', n.src[1]!), n.arg.theta) : null),
  attention: (n, g, i, b) => {
    if (i > 2) return null;
    const [q, k, v] = n.src as [Node, Node, Node];
    return b.attentionGrad((['q', 'k', 'v'] as const)[i]!, q, k, v, n, g, n.src.slice(3), n.arg.mask, n.arg.maskName, n.arg.scale);
  },
  compute: (n, g, i, b) => computeGrad(n, g, i, b),
  scatter_add: (n, g, i, b) => {
    if (i !== 0) return null;
    // values[i] reached out[clamp(idx(i))]: read g there (loads of the index sources shift by one, past g).
    const shift = (e: IExpr): IExpr => mapIExpr(e, (x) => (x.k === 'load' ? { ...x, src: x.src + 1 } : x));
    return b.compute(g.dtype, n.src[0]!.shape, [g, ...n.src.slice(1)], { k: 'load', src: 0, idx: n.arg.idx.map(shift), dtype: g.dtype });
  },
  attention_grad: () => { throw new AutodiffError('attention_grad has no derivative rule (second derivatives are not supported)'); },
};

/**
 * Gradient of a compute node for source i: for each distinct float load of source i in the body, the values
 * g * d(body)/d(load) over the output index, sent to the loaded element. A load at exactly the output index of a
 * same-shaped source is elementwise; any other (data-dependent, shifted, broadcast) load becomes a scatter_add.
 */
function computeGrad(n: Node<'compute'>, g: Node, i: number, b: Builder): Node | null {
  const x = n.src[i]!;
  const body = n.arg.body;
  let total: Node | null = null;
  for (const load of floatLoads(body).filter((l) => l.src === i)) {
    const d = derivIExpr(body, load);
    if (!d) continue;
    const gl: IExpr = { k: 'load', src: n.src.length, idx: idxs(n.shape.length), dtype: g.dtype };
    const vals = b.compute(g.dtype, n.shape, [...n.src, g], mul(gl, d)!);
    const direct = x.shape.length === n.shape.length && x.shape.every((s, k) => dimEq(s, n.shape[k]!))
      && load.idx.every((e, k) => e.k === 'idx' && e.i === k);
    const c = direct ? vals : b.scatterAdd(vals, x.shape, n.src, load.idx);
    total = total ? b.binary('add', total, c) : c;
  }
  return total;
}

export type { OpArgs };
