/**
 * The device trainer (src/train/device.ts) on WebGPU against the host trainer, its oracle: three steps from the
 * same init on the same batches give the same loss parts and gradient norms (1e-5 relative), first moments
 * within 2e-4 of each tensor's scale and parameters within 5e-4 (observed up to 1.1e-4 on most, 3.6e-4 on the
 * zero-initialised patch_pos, whose scale after three steps is only a few Adam steps of size lr: f32 kernels sum
 * in another order than the interpreter, and Adam's m / sqrt(v) magnifies differences of small gradient
 * elements; a wrong gradient or update moves a parameter by its whole scale), and a short
 * run on one fixed batch of the tiny preset drives both loss parts down.
 */
import { describe, expect, it } from 'vitest';
import { batch, type ShapesConfig } from '../../src/data/shapes.js';
import { compileFile } from '../../src/driver.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { DeviceTrainer } from '../../src/train/device.js';
import { HostTrainer, type TrainConfig } from '../../src/train/host.js';
import { PAPER_ADAMW } from '../../src/train/optim.js';

const grad = (preset: string) => compileFile('models/transfusion.tfx', { preset, entries: ['loss_grad'] }).program;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('device training (WebGPU)', () => {
  it('three steps equal the host trainer\'s on the shapes preset', async () => {
    const program = grad('shapes');
    const cfg = program.config as unknown as ShapesConfig;
    const tc: TrainConfig = { adamw: PAPER_ADAMW, clip: 1, schedule: { peak: 3e-3, min: 3e-4, warmup: 2, total: 3 } };
    const host = new HostTrainer(program.entries[0]!, initParams(program.params, 0), tc);
    const dev = await DeviceTrainer.open(program, initParams(program.params, 0), tc);
    try {
      const B = 2;
      for (let k = 0; k < 3; k++) {
        const { inputs } = batch(11, 'train', k, B, cfg);
        const h = host.step(inputs, { B, S: inputs.get('tokens')!.shape[1]!, N: 1 });
        const d = await dev.step(inputs);
        expect(Object.keys(d.outputs).sort()).toEqual(Object.keys(h.outputs).sort());
        for (const [name, v] of Object.entries(h.outputs)) expect(rel(d.outputs[name]!, v), `${name} at step ${k}`).toBeLessThan(1e-5);
        expect(rel(d.gradNorm, h.gradNorm)).toBeLessThan(1e-5);
        expect(d.lr).toBe(h.lr);
      }
      const params = await dev.params();
      const state = await dev.state();
      expect(state.step).toBe(3);
      for (const [name, t] of host.params) {
        const a = params.get(name)!.data, b = t.data;
        let diff = 0, scale = 0;
        for (let i = 0; i < b.length; i++) { diff = Math.max(diff, Math.abs(a[i]! - b[i]!)); scale = Math.max(scale, Math.abs(b[i]!)); }
        expect(diff / scale, name).toBeLessThan(5e-4);
      }
      // the first moments too (the second are squares of these gradients: the same check)
      for (const [name, m] of host.state.m) {
        const a = state.m.get(name)!;
        let diff = 0, scale = 1e-30;
        for (let i = 0; i < m.length; i++) { diff = Math.max(diff, Math.abs(a[i]! - m[i]!)); scale = Math.max(scale, Math.abs(m[i]!)); }
        expect(diff / scale, `m of ${name}`).toBeLessThan(2e-4);
      }
    } finally { dev.dispose(); }
  }, 240_000);

  it('the loss parts fall over 8 steps on one batch of the tiny preset', async () => {
    const program = grad('tiny');
    const inputs = exampleInputs(program, program.entries[0]!, 1, { batch: 2, seq: 32, images: 1 });
    const dev = await DeviceTrainer.open(program, initParams(program.params, 0), { adamw: PAPER_ADAMW, clip: 1, schedule: { peak: 1e-2, min: 1e-3, warmup: 2, total: 8 } });
    try {
      const log: Record<string, number>[] = [];
      for (let k = 0; k < 8; k++) log.push((await dev.step(inputs)).outputs);
      console.log(`tiny, 8 steps: l_lm ${log[0]!.l_lm!.toFixed(3)} -> ${log[7]!.l_lm!.toFixed(3)}, l_ddpm ${log[0]!.l_ddpm!.toFixed(3)} -> ${log[7]!.l_ddpm!.toFixed(3)}`);
      expect(log[7]!.l_lm!).toBeLessThan(log[0]!.l_lm! - 1);
      expect(log[7]!.l_ddpm!).toBeLessThan(log[0]!.l_ddpm! / 2);
    } finally { dev.dispose(); }
  }, 240_000);
});
