/**
 * A backward graph made only of ops the WebGPU backend already lowers (test/autodiff/specs/mlp.tfx: rmsnorm,
 * matmul, silu, log_softmax, softmax, a one-hot `for`) runs on WebGPU through the existing lowering and equals the
 * interpreter within 1e-4 of each gradient tensor's own scale; the Transfusion backward graph is refused with a
 * coded error naming the ops that have no kernel yet.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { compileFile } from '../../src/driver.js';
import { kernelGaps } from '../../src/ir/autodiff/grad.js';
import { Rng } from '../../src/runtime/rng.js';
import { initParams } from '../../src/runtime/weights.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { runBoth } from '../numeric/helpers.js';

afterAll(async () => { await closeGpu(); });

describe('gradients on WebGPU', () => {
  it('mlp loss_grad equals the interpreter (1e-4 of each tensor\'s scale)', async () => {
    const program = compileFile('test/autodiff/specs/mlp.tfx', { entries: ['loss_grad'] }).program;
    expect(kernelGaps(program.entries[0]!)).toEqual([]);
    const rng = Rng.seeded(3);
    const B = 13;
    const inputs = new Map([
      ['x', hostTensor('f32', [B, 8], Float32Array.from({ length: B * 8 }, () => rng.normal()))],
      ['y', hostTensor('i32', [B], Int32Array.from({ length: B }, () => rng.int(0, 5)))],
    ]);
    const params = initParams(program.params, 5);
    // Non-trivial norm weights and biases.
    for (const t of params.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i]! + rng.normal(0, 0.2);
    const r = await runBoth(program, inputs, params);
    expect([...r.outputs.keys()].sort()).toEqual(['grad.net.b1', 'grad.net.norm', 'grad.net.w1', 'grad.net.w2', 'loss']);
    for (const c of r.outputs.values()) {
      expect(c.maxRef, `${c.name} is not all zero`).toBeGreaterThan(1e-3);
      expect(c.maxErr, `${c.name}: max error ${c.maxErr} vs scale ${c.maxRef}`).toBeLessThanOrEqual(1e-4 * c.maxRef);
    }
  });

  it('Transfusion loss_grad names the ops without kernels', () => {
    const program = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['loss_grad'] }).program;
    expect(kernelGaps(program.entries[0]!).map((g) => g.op).sort()).toEqual(['attention_grad', 'scatter_add']);
  });
});
