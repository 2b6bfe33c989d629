/**
 * The memory report of a training step (src/train/memory.ts, `tfx train --dry-run`) against what the WebGPU
 * session really holds after a step of the tiny preset: parameters, moments and the scratch slots kept between
 * calls, byte for byte (plus the dims buffer, 4 bytes per symbol). And the liveness reuse pays.
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { exampleDims, exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { DeviceTrainer } from '../../src/train/device.js';
import { trainStepMemory } from '../../src/train/memory.js';
import { PAPER_ADAMW } from '../../src/train/optim.js';

describe('memory of a training step', () => {
  it('equals what the WebGPU session holds after a step (tiny preset)', async () => {
    const program = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['loss_grad'] }).program;
    const o = { batch: 2, seq: 32, images: 1 };
    const m = trainStepMemory(program, exampleDims(program, program.entries[0]!, 'transfusion', o), PAPER_ADAMW);
    const values = program.params.reduce((n, p) => n + p.shape.reduce((x, y) => x * y, 1), 0);
    expect(m.params).toBe(4 * values);
    expect(m.moments).toBe(8 * values);
    expect(m.gradScratch).toBeLessThan(m.gradScratchNaive);
    expect(m.peak).toBe(m.params + m.moments + m.grads + m.inputs + m.scratch);
    const t = await DeviceTrainer.open(program, initParams(program.params, 0), { adamw: PAPER_ADAMW, clip: 1, schedule: { peak: 1e-3, min: 1e-4, warmup: 1, total: 2 } });
    try {
      const inputs = exampleInputs(program, program.entries[0]!, 1, o);
      expect(t.session.deviceBytes()).toBe(m.params);
      await t.step(inputs);
      expect(t.session.deviceBytes()).toBe(m.params + m.moments + m.scratch + 4 * program.symbols.length);
    } finally { t.dispose(); }
  }, 120_000);
});
