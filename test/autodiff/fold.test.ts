/**
 * foldBatchSums (src/ir/autodiff/fold.ts): weight gradients of batch-broadcast matmuls are one matmul with the
 * batch folded into the contraction (no reduction over a batched matmul is left), the gradients still equal
 * central finite differences, also when only some batch axes are summed; a matmul with another user is kept.
 * Lowered, dW = x^T dy reads x and dy at their own flat indices (a reshape of a stored tensor: no div/mod).
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { foldBatchSums } from '../../src/ir/autodiff/fold.js';
import { Builder } from '../../src/ir/builder.js';
import { graphNodes, type Graph } from '../../src/ir/graph.js';
import { exprText } from '../../src/ir/kernel-ir.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { runGraphPipeline } from '../../src/ir/pipeline.js';
import { checkGrad, expectGradOk } from './helpers.js';

const sumsOfMatmuls = (g: Graph) => graphNodes(g).filter((n) => n.op === 'reduce' && n.src[0]!.op === 'matmul').length;
const matmuls = (g: Graph) => graphNodes(g).filter((n) => n.op === 'matmul');

describe('folding batch sums of matmuls', () => {
  it('x [2, 3, 4] @ W [4, 5]: dW is one matmul contracting over 2 x 3, and equals finite differences', () => {
    const r = checkGrad({ params: { x: { shape: [2, 3, 4] }, w: { shape: [4, 5] } }, build: (b, p) => b.matmul(p.x!, p.w!) });
    expectGradOk(r);
    expect(sumsOfMatmuls(r.grad)).toBe(0);
    expect(matmuls(r.grad).some((n) => n.shape.length === 2 && n.shape.map((d) => d.key).join() === '4,5')).toBe(true);
    const dw = lowerGraph(runGraphPipeline(r.grad), []).kernels.find((k) => k.kind === 'matmul' && k.M.key === '4' && k.N.key === '5' && k.K.key === '6');
    expect(dw?.kind).toBe('matmul');
    if (dw?.kind === 'matmul') for (const e of [dw.a, dw.b]) expect(exprText(e)).not.toMatch(/[/%]/);
  });

  it('x [2, 3, 4, 5] @ W [3, 5, 6]: only axis 0 is summed, axis 1 stays a batch axis', () => {
    const r = checkGrad({ params: { x: { shape: [2, 3, 4, 5] }, w: { shape: [3, 5, 6] } }, build: (b, p) => b.matmul(p.x!, p.w!) });
    expectGradOk(r);
    expect(sumsOfMatmuls(r.grad)).toBe(0);
  });

  it('keeps a summed matmul that has another user', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', [2, 3, 4].map(dimConst)), y = b.input('y', 'f32', [2, 4, 5].map(dimConst));
    const mm = b.matmul(x, y);
    const g: Graph = { entry: 'e', inputs: [x, y] as never, outputs: [{ name: 's', node: b.reduce('sum', mm, [0]) }, { name: 'm', node: mm }] };
    expect(sumsOfMatmuls(foldBatchSums(g))).toBe(1);
    const alone: Graph = { ...g, outputs: [g.outputs[0]!] };
    expect(sumsOfMatmuls(foldBatchSums(alone))).toBe(0);
  });
});
