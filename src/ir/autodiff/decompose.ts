// requires: a valid graph (typically a gradient entry).
// guarantees: no scatter_add or attention_grad node; each is replaced by existing ops (compute, reduce, matmul,
// softmax, where, expand, reshape, permute) computing the same values, so device backends lower it with the
// kernels they already have. Costs more than dedicated kernels would: a dense scatter is O(|out| * |free
// value axes|), attention backward materializes [B, H, Sq, Sk] scores (the unfused form).
import { dimAsConst, dimConst, dimEq, type Shape } from '../../core/dim.js';
import type { Builder } from '../builder.js';
import type { Graph, IExpr, Node } from '../graph.js';
import { copyNode, mapIExpr, rebuild, type PassContext } from '../passes/rebuild.js';
import { fusedAttentionGradApplies } from '../lower.js';

export interface DecomposeOptions {
  /** Keep attention_grad where the fused flash backward kernel applies (lower.ts fusedAttentionGradApplies). */
  readonly fusedAttention?: boolean;
  /** Keep scatter_add for the deterministic scatter kernel kind (kernel-build-scatter.ts). */
  readonly scatterKernel?: boolean;
}

export function decomposeBackward(g: Graph, _ctx: PassContext = {}, opts: DecomposeOptions = {}): Graph {
  return rebuild(g, (n, src, b) => {
    if (n.op === 'scatter_add' && !opts.scatterKernel) return denseScatter(b, n as Node<'scatter_add'>, src);
    if (n.op === 'attention_grad' && !(opts.fusedAttention && fusedAttentionGradApplies(n))) return unfusedAttentionGrad(b, n as Node<'attention_grad'>, src);
    return copyNode(b, n, src);
  });
}

const I = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });

/**
 * out[o] = sum over value indices i with clamp(idx(i)) == o of values[i], as a compute over [...out, ...free]
 * (free: value axes not passed straight through to an output axis of the same size) summed over the free axes.
 */
function denseScatter(b: Builder, n: Node<'scatter_add'>, src: readonly Node[]): Node {
  const values = src[0]!, out: Shape = n.shape, R = out.length;
  const idx = n.arg.idx;
  // Value axis k -> the output axis it is passed to unchanged, when idx_d is exactly `i_k` and sizes agree.
  const pairedTo = new Map<number, number>();
  idx.forEach((e, d) => { if (e.k === 'idx' && !pairedTo.has(e.i) && dimEq(values.shape[e.i]!, out[d]!)) pairedTo.set(e.i, d); });
  const free = values.shape.map((_, k) => k).filter((k) => !pairedTo.has(k));
  const varOf = (k: number): IExpr => (pairedTo.has(k) ? I(pairedTo.get(k)!) : I(R + free.indexOf(k)));
  // Index sources keep their numbers (src[1 + j]); scatter IExprs say j for src[1 + j].
  const remap = (e: IExpr): IExpr => mapIExpr(e, (x) => (x.k === 'idx' ? varOf(x.i) : x.k === 'load' ? { ...x, src: x.src + 1 } : x));
  let cond: IExpr | null = null;
  idx.forEach((e, d) => {
    if (e.k === 'idx' && pairedTo.get(e.i) === d) return;
    const hi: IExpr = { k: 'bin', op: 'sub', a: { k: 'dim', d: out[d]!, dtype: 'i32' }, b: { k: 'const', v: 1, dtype: 'i32' }, dtype: 'i32' };
    const v = remap(e);
    const clamped: IExpr = { k: 'bin', op: 'max', a: { k: 'bin', op: 'min', a: v, b: hi, dtype: 'i32' }, b: { k: 'const', v: 0, dtype: 'i32' }, dtype: 'i32' };
    const eq: IExpr = { k: 'bin', op: 'eq', a: clamped, b: I(d), dtype: 'bool' };
    cond = cond ? { k: 'bin', op: 'and', a: cond, b: eq, dtype: 'bool' } : eq;
  });
  const val: IExpr = { k: 'load', src: 0, idx: values.shape.map((_, k) => varOf(k)), dtype: values.dtype };
  const body: IExpr = cond ? { k: 'where', c: cond, a: val, b: { k: 'const', v: 0, dtype: values.dtype }, dtype: values.dtype } : val;
  const c = b.compute(n.dtype, [...out, ...free.map((k) => values.shape[k]!)], src, body);
  return free.length ? b.reduce('sum', c, free.map((_, j) => R + j)) : c;
}

/**
 * attention_grad from graph ops: P = masked softmax of scale q k^T (zero where masked, so fully masked rows
 * contribute nothing), dV = P^T dO, dS = P (dO v^T - rowsum(dO O)), dQ = scale dS k, dK = scale dS^T q; KV heads
 * repeated for the query heads of their group on the way in, and summed over the group on the way out.
 */
function unfusedAttentionGrad(b: Builder, n: Node<'attention_grad'>, src: readonly Node[]): Node {
  const [q, k, v, o, dO] = src as [Node, Node, Node, Node, Node];
  const maskInputs = src.slice(5);
  const { mask, scale, wrt } = n.arg;
  const [B, Hq, Sq] = q.shape as [Shape[number], Shape[number], Shape[number]];
  const [, Hkv, Sk] = k.shape as [Shape[number], Shape[number], Shape[number]];
  const hq = dimAsConst(Hq), hkv = dimAsConst(Hkv);
  if (hq === undefined || hkv === undefined) throw new Error('internal error: attention_grad with symbolic head counts cannot be decomposed');
  const group = hq / hkv;
  const one = dimConst(1), G = dimConst(group);
  const repeat = (x: Node): Node => {
    if (group === 1) return x;
    const [, , S, D] = x.shape as [Shape[number], Shape[number], Shape[number], Shape[number]];
    return b.reshape(b.expand(b.reshape(x, [B, Hkv, one, S, D]), [B, Hkv, G, S, D]), [B, Hq, S, D]);
  };
  const groupSum = (x: Node): Node => {
    if (group === 1) return x;
    const [, , S, D] = x.shape as [Shape[number], Shape[number], Shape[number], Shape[number]];
    return b.reduce('sum', b.reshape(x, [B, Hkv, G, S, D]), [2]);
  };
  const T = (x: Node): Node => b.permute(x, [0, 1, 3, 2]);
  const kk = repeat(k), vv = repeat(v);
  const s = b.binary('mul', b.matmul(q, T(kk)), b.const(scale, q.dtype));
  const allowed = mask ? b.expand(b.reshape(b.compute('bool', [B, Sq, Sk], maskInputs, mask), [B, one, Sq, Sk]), [B, Hq, Sq, Sk]) : null;
  const masked = allowed ? b.where(allowed, s, b.const(-1e30, q.dtype)) : s;
  const sm = b.softmax(masked, 3);
  const P = allowed ? b.where(allowed, sm, b.const(0, q.dtype)) : sm;
  if (wrt === 'v') return groupSum(b.matmul(T(P), dO));
  const D = b.reduce('sum', b.binary('mul', dO, o), [3]);
  const dP = b.matmul(dO, T(vv));
  const dS = b.binary('mul', P, b.binary('sub', dP, b.expand(b.reshape(D, [B, Hq, Sq, one]), [B, Hq, Sq, Sk])));
  const sc = b.const(scale, q.dtype);
  return wrt === 'q' ? b.binary('mul', b.matmul(dS, kk), sc) : groupSum(b.binary('mul', b.matmul(T(dS), q), sc));
}
