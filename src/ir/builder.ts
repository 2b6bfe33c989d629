/**
 * The only way to make IR nodes. Interns nodes by structure and infers dtype and shape; a user-visible
 * mistake (mismatched shapes, wrong dtype) throws `ShapeError`, which the front end turns into a diagnostic.
 */
import { isFloat, promote, type DType } from '../core/dtype.js';
import {
  dimAdd, dimAsConst, dimConst, dimEq, dimMul, shapeEq, shapeProduct, shapeStr, type Dim, type Shape,
} from '../core/dim.js';
import { addOrigins, type Origin } from './provenance.js';
import { COMPARE_OPS, type ArgOf, type BinaryOp, type IExpr, type InitRule, type Node, type Op, type UnaryOp } from './graph.js';

export class ShapeError extends Error {}
const fail = (msg: string): never => { throw new ShapeError(msg); };

const ONE = dimConst(1);
const isOne = (d: Dim) => dimAsConst(d) === 1;

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) fail(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

/** Numpy broadcasting of two shapes, right-aligned; dims must be equal or 1. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? ONE;
    const y = b[b.length - r + i] ?? ONE;
    if (dimEq(x, y) || isOne(y)) out.push(x);
    else if (isOne(x)) out.push(y);
    else fail(`shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast (dimension ${x.key} vs ${y.key})`);
  }
  return out;
}

function argKey(arg: unknown): string {
  // Dims by their canonical key; NaN, infinities and -0 kept distinct (JSON would turn them into null or 0).
  return JSON.stringify(arg, (_k, v) =>
    typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)) ? `#num:${Object.is(v, -0) ? '-0' : String(v)}`
      : v && typeof v === 'object' && 'key' in v && 'terms' in v ? `#${v.key}` : v);
}

export class Builder {
  private readonly table = new Map<string, Node>();
  private nextId = 0;
  /** Spec spans recorded on every node made (or found interned) while set: see ./provenance.ts. */
  origins: readonly Origin[] = [];
  /** Distinct nodes made so far (the graph-size limit of the front end counts these). */
  get size(): number { return this.nextId; }

  node<O extends Op>(op: O, dtype: DType, shape: Shape, src: readonly Node[], arg: ArgOf<O>): Node<O> {
    const key = `${op}|${dtype}|${shape.map((d) => d.key).join(',')}|${src.map((s) => s.id).join(',')}|${argKey(arg)}`;
    const hit = this.table.get(key);
    if (hit) { addOrigins(hit, this.origins); return hit as Node<O>; }
    const n: Node<O> = Object.freeze({ id: this.nextId++, op, dtype, shape: Object.freeze([...shape]), src: Object.freeze([...src]), arg });
    this.table.set(key, n);
    addOrigins(n, this.origins);
    return n;
  }

  input(name: string, dtype: DType, shape: Shape) { return this.node('input', dtype, shape, [], { name }); }
  param(name: string, dtype: DType, shape: Shape, init: InitRule) { return this.node('param', dtype, shape, [], { name, init }); }
  const(value: number, dtype: DType = 'f32') {
    const v = dtype === 'bool' ? (value ? 1 : 0) : isFloat(dtype) ? value : Math.trunc(value);
    return this.node('const', dtype, [], [], { value: v });
  }

  expand(x: Node, shape: Shape): Node {
    if (shapeEq(x.shape, shape)) return x;
    const b = broadcastShapes(x.shape, shape);
    if (!shapeEq(b, shape)) fail(`cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    return this.node('expand', x.dtype, shape, [x], null);
  }
  cast(x: Node, to: DType): Node { return x.dtype === to ? x : this.node('cast', to, x.shape, [x], null); }

  unary(op: UnaryOp, x: Node): Node {
    if (op === 'not') return this.node('unary', 'bool', x.shape, [this.cast(x, 'bool')], { op });
    const floaty = !['neg', 'abs', 'floor', 'ceil'].includes(op);
    const xx = floaty && !isFloat(x.dtype) ? this.cast(x, 'f32') : x;
    return this.node('unary', xx.dtype, xx.shape, [xx], { op });
  }

  binary(op: BinaryOp, a: Node, b: Node): Node {
    const shape = broadcastShapes(a.shape, b.shape);
    let t: DType;
    if (op === 'and' || op === 'or') {
      a = this.cast(a, 'bool'); b = this.cast(b, 'bool'); t = 'bool';
    } else {
      t = promote(a.dtype, b.dtype);
      if (t === 'bool') t = 'i32';
      if ((op === 'div' || op === 'pow') && !isFloat(t) && op === 'pow') t = 'f32';
      a = this.cast(a, t); b = this.cast(b, t);
    }
    const out: DType = COMPARE_OPS.includes(op) ? 'bool' : t;
    return this.node('binary', out, shape, [this.expand(a, shape), this.expand(b, shape)], { op });
  }

  where(c: Node, a: Node, b: Node): Node {
    const shape = broadcastShapes(broadcastShapes(c.shape, a.shape), b.shape);
    const t = promote(a.dtype, b.dtype);
    return this.node('where', t, shape, [this.expand(this.cast(c, 'bool'), shape), this.expand(this.cast(a, t), shape), this.expand(this.cast(b, t), shape)], null);
  }

  reduce(kind: ArgOf<'reduce'>['kind'], x: Node, axes: readonly number[]): Node {
    const ax = [...new Set(axes.map((a) => normAxis(a, x.shape.length)))].sort((p, q) => p - q);
    if (ax.length === 0) return x;
    const shape = x.shape.filter((_, i) => !ax.includes(i));
    const t = kind === 'mean' && !isFloat(x.dtype) ? 'f32' : x.dtype === 'bool' ? 'i32' : x.dtype;
    return this.node('reduce', t, shape, [this.cast(x, t)], { kind, axes: ax });
  }

  reshape(x: Node, shape: Shape): Node {
    if (!dimEq(shapeProduct(x.shape), shapeProduct(shape)))
      fail(`cannot reshape ${shapeStr(x.shape)} (${shapeProduct(x.shape).key} elements) to ${shapeStr(shape)} (${shapeProduct(shape).key} elements)`);
    return shapeEq(x.shape, shape) ? x : this.node('reshape', x.dtype, shape, [x], null);
  }

  permute(x: Node, perm: readonly number[]): Node {
    const r = x.shape.length;
    const p = perm.map((a) => normAxis(a, r));
    if (p.length !== r || new Set(p).size !== r) fail(`permutation [${perm.join(', ')}] is not a permutation of ${r} axes`);
    if (p.every((a, i) => a === i)) return x;
    return this.node('permute', x.dtype, p.map((a) => x.shape[a]!), [x], { perm: p });
  }

  slice(x: Node, axis: number, start: Dim, length: Dim): Node {
    const a = normAxis(axis, x.shape.length);
    const s0 = dimAsConst(start), l0 = dimAsConst(length), n0 = dimAsConst(x.shape[a]!);
    if (s0 !== undefined && s0 < 0) fail(`slice start ${s0} is negative`);
    if (l0 !== undefined && l0 < 0) fail(`slice length ${l0} is negative`);
    if (s0 !== undefined && l0 !== undefined && n0 !== undefined && s0 + l0 > n0)
      fail(`slice [${s0}, ${s0 + l0}) is out of range for axis ${a} of size ${n0}`);
    const shape = x.shape.map((d, i) => (i === a ? length : d));
    return this.node('slice', x.dtype, shape, [x], { axis: a, start });
  }

  concat(xs: readonly Node[], axis: number): Node {
    if (xs.length === 0) fail('concat needs at least one tensor');
    const first = xs[0]!;
    const a = normAxis(axis, first.shape.length);
    const t = xs.map((x) => x.dtype).reduce(promote);
    let len = dimConst(0);
    for (const x of xs) {
      if (x.shape.length !== first.shape.length || x.shape.some((d, i) => i !== a && !dimEq(d, first.shape[i]!)))
        fail(`concat along axis ${a}: ${shapeStr(x.shape)} does not match ${shapeStr(first.shape)}`);
      len = dimAdd(len, x.shape[a]!);
    }
    if (xs.length === 1) return first;
    return this.node('concat', t, first.shape.map((d, i) => (i === a ? len : d)), xs.map((x) => this.cast(x, t)), { axis: a });
  }

  matmul(a: Node, b: Node): Node {
    if (a.shape.length < 2 || b.shape.length < 2) fail(`matmul needs rank >= 2 operands, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
    const [m, k1] = a.shape.slice(-2) as [Dim, Dim];
    const [k2, n] = b.shape.slice(-2) as [Dim, Dim];
    if (!dimEq(k1, k2)) fail(`matmul inner dimensions differ: ${shapeStr(a.shape)} x ${shapeStr(b.shape)} (${k1.key} vs ${k2.key})`);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const t = promote(a.dtype, b.dtype);
    const aa = this.expand(this.cast(a, t), [...batch, m, k1]);
    const bb = this.expand(this.cast(b, t), [...batch, k2, n]);
    return this.node('matmul', t, [...batch, m, n], [aa, bb], null);
  }

  gather(table: Node, ids: Node): Node {
    if (table.shape.length < 1) fail('gather needs a table of rank >= 1');
    if (isFloat(ids.dtype)) fail(`gather indices must be integers, got ${ids.dtype}`);
    return this.node('gather', table.dtype, [...ids.shape, ...table.shape.slice(1)], [table, this.cast(ids, 'i32')], null);
  }

  softmax(x: Node, axis: number, log = false): Node {
    const a = normAxis(axis, x.shape.length);
    const xx = isFloat(x.dtype) ? x : this.cast(x, 'f32');
    return log ? this.node('log_softmax', xx.dtype, xx.shape, [xx], { axis: a }) : this.node('softmax', xx.dtype, xx.shape, [xx], { axis: a });
  }

  private lastDimVec(x: Node, w: Node, what: string) {
    const d = x.shape[x.shape.length - 1];
    if (!d) fail(`${what} needs a tensor of rank >= 1`);
    if (w.shape.length !== 1 || !dimEq(w.shape[0]!, d!)) fail(`${what} weight has shape ${shapeStr(w.shape)}, expected [${d!.key}] (the last dimension of ${shapeStr(x.shape)})`);
  }
  rmsnorm(x: Node, w: Node, eps: number): Node {
    this.lastDimVec(x, w, 'rmsnorm');
    return this.node('rmsnorm', x.dtype, x.shape, [x, this.cast(w, x.dtype)], { eps });
  }
  layernorm(x: Node, w: Node, b: Node, eps: number): Node {
    this.lastDimVec(x, w, 'layernorm'); this.lastDimVec(x, b, 'layernorm bias');
    return this.node('layernorm', x.dtype, x.shape, [x, this.cast(w, x.dtype), this.cast(b, x.dtype)], { eps });
  }

  rope(x: Node, pos: Node, theta: number): Node {
    if (x.shape.length !== 4) fail(`rope expects x of shape [B, H, S, D], got ${shapeStr(x.shape)}`);
    const [B, , S, D] = x.shape as [Dim, Dim, Dim, Dim];
    const d = dimAsConst(D);
    if (d !== undefined && d % 2 !== 0) fail(`rope needs an even head dimension, got ${d}`);
    if (pos.shape.length !== 2 || !dimEq(pos.shape[0]!, B) || !dimEq(pos.shape[1]!, S))
      fail(`rope positions have shape ${shapeStr(pos.shape)}, expected [${B.key}, ${S.key}] to match ${shapeStr(x.shape)}`);
    return this.node('rope', x.dtype, x.shape, [x, this.cast(pos, 'i32')], { theta });
  }

  attention(q: Node, k: Node, v: Node, maskInputs: readonly Node[], mask: IExpr | null, maskName: string, scale: number): Node {
    for (const [n, t] of [['q', q], ['k', k], ['v', v]] as const)
      if (t.shape.length !== 4) fail(`attention ${n} must have shape [B, heads, seq, head_dim], got ${shapeStr(t.shape)}`);
    const [B, Hq, Sq, D] = q.shape as [Dim, Dim, Dim, Dim];
    const [B2, Hk, Sk, D2] = k.shape as [Dim, Dim, Dim, Dim];
    const [B3, Hv, Sv, Dv] = v.shape as [Dim, Dim, Dim, Dim];
    if (!dimEq(B, B2) || !dimEq(B, B3)) fail(`attention batch sizes differ: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)}`);
    if (!dimEq(D, D2)) fail(`attention q and k head dims differ: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}`);
    if (!dimEq(Hk, Hv) || !dimEq(Sk, Sv)) fail(`attention k ${shapeStr(k.shape)} and v ${shapeStr(v.shape)} disagree on heads or length`);
    const hq = dimAsConst(Hq), hk = dimAsConst(Hk);
    if (hq !== undefined && hk !== undefined && hq % hk !== 0) fail(`attention query heads (${hq}) must be a multiple of KV heads (${hk})`);
    const t = promote(promote(q.dtype, k.dtype), v.dtype);
    return this.node('attention', t, [B, Hq, Sq, Dv], [q, k, v, ...maskInputs].map((x, i) => (i < 3 ? this.cast(x, t) : x)), { mask, maskName, scale });
  }

  compute(dtype: DType, shape: Shape, src: readonly Node[], body: IExpr): Node {
    return this.node('compute', dtype, shape, src, { body });
  }

  scatterAdd(values: Node, shape: Shape, idxSrcs: readonly Node[], idx: readonly IExpr[]): Node {
    if (!isFloat(values.dtype)) fail(`scatter_add values must be floats, got ${values.dtype}`);
    if (idx.length !== shape.length) fail(`scatter_add into ${shapeStr(shape)} needs ${shape.length} index expressions, got ${idx.length}`);
    if (idx.some((e) => isFloat(e.dtype))) fail('scatter_add index expressions must be integers');
    return this.node('scatter_add', values.dtype, shape, [values, ...idxSrcs], { idx });
  }

  attentionGrad(wrt: 'q' | 'k' | 'v', q: Node, k: Node, v: Node, out: Node, dOut: Node, maskInputs: readonly Node[], mask: IExpr | null, maskName: string, scale: number): Node {
    const fwd = this.attention(q, k, v, maskInputs, mask, maskName, scale);
    if (!shapeEq(out.shape, fwd.shape) || !shapeEq(dOut.shape, fwd.shape))
      fail(`attention_grad: out ${shapeStr(out.shape)} and dOut ${shapeStr(dOut.shape)} must have the forward's shape ${shapeStr(fwd.shape)}`);
    const t = fwd.dtype;
    const of = { q, k, v }[wrt];
    return this.node('attention_grad', t, of.shape, [q, k, v, out, dOut].map((x) => this.cast(x, t)).concat(maskInputs), { mask, maskName, scale, wrt });
  }
}

export { dimMul };
