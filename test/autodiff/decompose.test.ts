/**
 * decomposeBackward replaces scatter_add and attention_grad by existing ops with the same values: the whole
 * Transfusion gradient entry (tiny preset, random layout, GQA, padding) evaluated in float64 before and after
 * agrees to 1e-9 of each tensor's scale, and no new op remains.
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { decomposeBackward } from '../../src/ir/autodiff/decompose.js';
import { kernelGaps } from '../../src/ir/autodiff/grad.js';
import { graphNodes } from '../../src/ir/graph.js';
import { interpretF64 } from '../../src/ir/interpreter.js';
import { runGraphPipeline } from '../../src/ir/pipeline.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { Rng } from '../../src/runtime/rng.js';
import { initParams } from '../../src/runtime/weights.js';
import { toF64 } from '../../src/ir/autodiff/gradcheck.js';

describe('decomposeBackward', () => {
  it('Transfusion loss_grad: same values without scatter_add or attention_grad', () => {
    const program = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['loss', 'loss_grad'] }).program;
    const grad = runGraphPipeline(program.entries[1]!);
    const dec = runGraphPipeline(decomposeBackward(grad));
    expect(kernelGaps(grad).length).toBe(2);
    expect(kernelGaps(dec)).toEqual([]);
    expect(graphNodes(dec).some((n) => n.op === 'scatter_add' || n.op === 'attention_grad')).toBe(false);
    const inputs = exampleInputs(program, program.entries[0]!, 4, { batch: 2, seq: 24, images: 2 });
    const rng = Rng.seeded(9);
    const params = toF64(initParams(program.params, 3));
    for (const t of params.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + rng.normal(0, 0.1);
    const env = { inputs, params, dims: { B: 2, S: 24, N: 2 } };
    const a = interpretF64(grad.outputs.map((o) => o.node), env), b = interpretF64(dec.outputs.map((o) => o.node), env);
    grad.outputs.forEach((o, i) => {
      const x = a[i]!.data, y = b[i]!.data;
      let scale = 0, err = 0;
      for (let j = 0; j < x.length; j++) { scale = Math.max(scale, Math.abs(x[j]!)); err = Math.max(err, Math.abs(x[j]! - y[j]!)); }
      expect(err, `${o.name}: error ${err}, scale ${scale}`).toBeLessThanOrEqual(1e-9 * Math.max(scale, 1e-12));
    });
  });
});

describe('decomposed attention_grad', () => {
  it('grouped heads, padding and fully masked rows: equal to the op', async () => {
    const { Builder } = await import('../../src/ir/builder.js');
    const { hostTensor } = await import('../../src/core/tensor.js');
    const { bin, idx, load, sh } = await import('../ir/cases/graph-helpers.js');
    const b = new Builder();
    const q = b.input('q', 'f32', sh(2, 4, 5, 4)), k = b.input('k', 'f32', sh(2, 2, 6, 4)), v = b.input('v', 'f32', sh(2, 2, 6, 3));
    const dO = b.input('dO', 'f32', sh(2, 4, 5, 3)), len = b.input('len', 'i32', sh(2));
    // k < len[b] && k < q: query 0 sees nothing; batch 1 has len 0 (every row masked)
    const mask = bin('and', bin('lt', idx(2), load(0, 'i32', idx(0)), 'bool'), bin('lt', idx(2), idx(1), 'bool'), 'bool');
    const o = b.attention(q, k, v, [len], mask, 'm', 0.5);
    const outs = (['q', 'k', 'v'] as const).map((w) => ({ name: w, node: b.attentionGrad(w, q, k, v, o, dO, [len], mask, 'm', 0.5) }));
    const g = { entry: 'g', inputs: [q, k, v, dO, len] as never, outputs: outs };
    const dec = decomposeBackward(g);
    const rng = Rng.seeded(2);
    const r = (shape: number[]) => hostTensor('f32', shape, Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal()));
    const env = { inputs: new Map([['q', r([2, 4, 5, 4])], ['k', r([2, 2, 6, 4])], ['v', r([2, 2, 6, 3])], ['dO', r([2, 4, 5, 3])], ['len', hostTensor('i32', [2], [5, 0])]]), params: new Map(), dims: {} };
    const a = interpretF64(g.outputs.map((x) => x.node), env), c = interpretF64(dec.outputs.map((x) => x.node), env);
    a.forEach((t, i) => {
      expect(t.data.some((x) => x !== 0)).toBe(true);
      t.data.forEach((x, j) => expect(Math.abs(x - c[i]!.data[j]!)).toBeLessThan(1e-12));
    });
  });
});
