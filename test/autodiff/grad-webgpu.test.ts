/**
 * A backward graph made only of ops the WebGPU backend already lowers (test/autodiff/specs/mlp.tfx: rmsnorm,
 * matmul, silu, log_softmax, softmax, a one-hot `for`) runs on WebGPU through the existing lowering and equals the
 * interpreter within 1e-4 of each gradient tensor's own scale; so does the whole Transfusion backward graph, its
 * attention_grad on the fused flash-attention backward kernels and scatter_add on the scatter kernel kind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { compileFile } from '../../src/driver.js';
import { decomposeBackward } from '../../src/ir/autodiff/decompose.js';
import { DEVICE_KERNELS, kernelGaps } from '../../src/ir/autodiff/grad.js';
import { graphNodes } from '../../src/ir/graph.js';
import { compileEntry } from '../../src/runtime/webgpu/program.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
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

  it('Transfusion tiny loss_grad (fused flash attention backward, scatter-add kernel) equals the interpreter', async () => {
    const compiled = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['loss', 'loss_grad'] }).program;
    expect(kernelGaps(compiled.entries[1]!).map((g) => g.op).sort()).toEqual(['attention_grad', 'scatter_add']);
    // What `tfx grad --backend webgpu` runs: attention_grad and scatter_add kept for their kernel kinds.
    const program = { ...compiled, entries: [decomposeBackward(compiled.entries[1]!, {}, DEVICE_KERNELS)] };
    expect(kernelGaps(program.entries[0]!, DEVICE_KERNELS)).toEqual([]);
    expect(graphNodes(program.entries[0]!).some((n) => n.op === 'attention_grad')).toBe(true);
    const plan = compileEntry(program, program.entries[0]!.entry).plan;
    expect(plan.kernels.filter((k) => k.kind === 'attention_bwd').length).toBeGreaterThanOrEqual(4);
    expect(plan.kernels.filter((k) => k.kind === 'scatter').length).toBeGreaterThanOrEqual(1);
    const inputs = exampleInputs(compiled, compiled.entries[0]!, 6, { batch: 2, seq: 24, images: 2 });
    const params = initParams(compiled.params, 8);
    const r = await runBoth(program, inputs, params);
    expect(r.outputs.size).toBe(3 + compiled.params.length);
    for (const c of r.outputs.values()) {
      if (c.maxRef === 0) { expect(c.maxErr, c.name).toBe(0); continue; }
      expect(c.maxErr, `${c.name}: max error ${c.maxErr} vs scale ${c.maxRef}`).toBeLessThanOrEqual(1e-4 * c.maxRef);
    }
  }, 600_000);
});
