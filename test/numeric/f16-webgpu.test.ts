/**
 * f16 storage on WebGPU (`--f16`): the Transfusion tiny forward and loss rewritten to f16 tensors, run on the
 * GPU (shader-f16), against the interpreter on the same rewritten graph (which rounds every stored value to
 * f16). Kernels keep intermediates of a fused chain in f32 registers, so the tolerance is 1e-2 of the scale.
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { programToF16 } from '../../src/ir/precision.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { gpu, runBoth } from './helpers.js';

describe('f16 storage on WebGPU', () => {
  it('Transfusion tiny forward and loss in f16 equal the interpreter on the f16 graph', async () => {
    const ctx = await gpu();
    expect(ctx.hasF16, 'this adapter lacks shader-f16').toBe(true);
    const p32 = compileFile('models/transfusion.tfx', { preset: 'tiny' }).program;
    const program = programToF16(p32);
    expect(program.params.every((p) => p.dtype === 'f16')).toBe(true);
    const weights = initParams(p32.params, 5);
    for (const entry of ['forward', 'loss']) {
      const g = program.entries.find((e) => e.entry === entry)!;
      const r = await runBoth(program, exampleInputs(program, g, 9), weights, {}, entry);
      for (const [name, o] of r.outputs) {
        expect(o.gpu.dtype, name).toBe('f16');
        expect(o.maxErr, `${entry}.${name}`).toBeLessThanOrEqual(1e-2 * Math.max(1, o.maxRef));
      }
    }
  });
});
