/**
 * The whole Transfusion loss (tiny preset) differentiated by the autodiff pass: the gradient entry, run by the
 * interpreter in float64, equals central finite differences of the loss entry on sampled parameter elements, on
 * random batch layouts from the example-input generator (images at random places, padding).
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { gradEntry } from '../../src/ir/autodiff/grad.js';
import { finiteDifferences, toF64 } from '../../src/ir/autodiff/gradcheck.js';
import { interpretF64 } from '../../src/ir/interpreter.js';
import { runGraphPipeline } from '../../src/ir/pipeline.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { Rng } from '../../src/runtime/rng.js';
import { initParams } from '../../src/runtime/weights.js';

describe('Transfusion loss gradient (tiny preset)', () => {
  const program = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['loss'] }).program;
  // Both entries through the same pipeline (constant folding rounds constants to f32 in both).
  const loss = runGraphPipeline(program.entries[0]!);
  const grad = runGraphPipeline(gradEntry(program, 'loss'));

  for (const seed of [1, 2]) {
    it(`equals finite differences on a random layout (seed ${seed})`, () => {
      const inputs = exampleInputs(program, loss, seed, { batch: 2, seq: 24, images: 2 });
      const dims = { B: 2, S: 24, N: 2 };
      // Random, not initial, weights: norms != 1 and biases != 0 so every rule is exercised.
      const rng = Rng.seeded(100 + seed);
      const params = toF64(initParams(program.params, seed));
      for (const t of params.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + rng.normal(0, 0.1);
      const env = { inputs, params, dims };
      const outs = interpretF64(grad.outputs.map((o) => o.node), env);
      const grads = new Map(grad.outputs.map((o, i) => [o.name.replace(/^grad\./, ''), outs[i]!]));
      const lossNode = loss.outputs.find((o) => o.name === 'loss')!.node;
      expect(outs[0]!.data[0]).toBeCloseTo(interpretF64([lossNode], env)[0]!.data[0]!, 12);
      // Two elements of every parameter: the one with the largest gradient and a random one.
      const picks = program.params.flatMap((p) => {
        const g = grads.get(p.name)!.data;
        let best = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[best]!)) best = i;
        return [{ param: p.name, index: best }, { param: p.name, index: rng.int(0, g.length) }];
      });
      const res = finiteDifferences(lossNode, env, grads, picks);
      const worst = res.reduce((a, r) => (r.rel > a.rel ? r : a));
      console.log(`seed ${seed}: ${res.length} samples, max relative error ${worst.rel.toExponential(2)} (${worst.param}[${worst.index}] analytic ${worst.analytic} numeric ${worst.numeric})`);
      for (const r of res) expect(r.rel, `${r.param}[${r.index}]: analytic ${r.analytic}, numeric ${r.numeric}`).toBeLessThanOrEqual(1e-4);
      // The largest-gradient samples are not all ~0 (the check would be vacuous).
      expect(res.filter((r) => Math.abs(r.numeric) > 1e-4).length).toBeGreaterThan(program.params.length / 2);
    });
  }
});
