/**
 * Weight gradients as one matmul. The gradient of `x @ W` with W broadcast over batch dims is, by the matmul
 * and expand rules, `reduce_sum over the batch of (x^T @ dy)`: a batched matmul of [B, K, N] then a reduction
 * over B of every element. This rewrite folds summed batch axes into the contraction instead:
 *
 *   sum_R matmul(X [.., M, K], Y [.., K, N])  =  matmul(X' [.., M, |R| K], Y' [.., |R| K, N])
 *
 * with X' the summed axes R moved next to K and merged with it (permute + reshape: index arithmetic when
 * lowered, no copies), Y' likewise in front of K. Exact in real arithmetic (the same products, summed in
 * another order); applied when the matmul has no other user, so nothing is computed twice.
 */
import { dimMul, type Dim } from '../../core/dim.js';
import { graphNodes, type Graph, type Node } from '../graph.js';
import { copyNode, rebuild } from '../passes/rebuild.js';

export function foldBatchSums(g: Graph): Graph {
  const users = new Map<number, number>();
  for (const n of graphNodes(g)) for (const s of new Set(n.src)) users.set(s.id, (users.get(s.id) ?? 0) + 1);
  for (const o of g.outputs) users.set(o.node.id, (users.get(o.node.id) ?? 0) + 1);
  return rebuild(g, (n, src, b) => {
    const mm = n.src[0];
    if (n.op !== 'reduce' || (n as Node<'reduce'>).arg.kind !== 'sum' || mm?.op !== 'matmul' || users.get(mm.id) !== 1) return copyNode(b, n, src);
    const axes = (n as Node<'reduce'>).arg.axes, nb = mm.shape.length - 2;
    if (!axes.every((a) => a < nb)) return copyNode(b, n, src);
    const [X, Y] = src[0]!.src as [Node, Node];
    const keep = [...Array(nb).keys()].filter((a) => !axes.includes(a));
    const size = axes.reduce<Dim>((d, a) => dimMul(d, X.shape[a]!), X.shape[nb + 1]!);
    const at = (x: Node, i: number) => x.shape[i]!;
    // X [.., M, K] -> [keep.., M, R.., K] -> [keep.., M, |R| K];  Y [.., K, N] -> [keep.., R.., K, N] -> [keep.., |R| K, N]
    // A transposed operand summed over all its batch axes (dW = x^T dy) reads x [.., K, M] as [|R| K, M], transposed:
    // a reshape of stored x is its own flat index when lowered, where the general form below needs div/mod.
    const swap = X.op === 'permute' && (X as Node<'permute'>).arg.perm.every((p, i) => p === (i < nb ? i : 2 * nb + 1 - i));
    const x2 = swap && keep.length === 0 ? b.permute(b.reshape(X.src[0]!, [size, at(X, nb)]), [1, 0])
      : b.reshape(b.permute(X, [...keep, nb, ...axes, nb + 1]), [...keep.map((a) => at(X, a)), at(X, nb), size]);
    const y2 = b.reshape(b.permute(Y, [...keep, ...axes, nb, nb + 1]), [...keep.map((a) => at(Y, a)), size, at(Y, nb + 1)]);
    return b.matmul(x2, y2);
  });
}
