/**
 * A short training run on a fixed seed: the shapes preset of models/transfusion.tfx on fresh batches of the
 * captioned-shapes data set, gradients from the autodiff pass on the interpreter, clipping, warm-up + cosine,
 * AdamW. Both loss parts must fall (text: captions are very predictable; images: the noise predictor learns).
 */
import { describe, expect, it } from 'vitest';
import { batch, type ShapesConfig } from '../../src/data/shapes.js';
import { compileFile } from '../../src/driver.js';
import { HostTrainer } from '../../src/train/host.js';
import { PAPER_ADAMW } from '../../src/train/optim.js';
import { initParams } from '../../src/runtime/weights.js';

describe('host training', () => {
  it('the loss parts fall over 16 steps on the shapes data set', () => {
    const program = compileFile('models/transfusion.tfx', { preset: 'shapes', entries: ['loss_grad'] }).program;
    const cfg = program.config as unknown as ShapesConfig;
    const steps = 16, B = 2;
    const trainer = new HostTrainer(program.entries[0]!, initParams(program.params, 0), {
      adamw: PAPER_ADAMW, clip: 1, schedule: { peak: 3e-3, min: 3e-4, warmup: 3, total: steps },
    });
    const log: { l_lm: number; l_ddpm: number }[] = [];
    const t0 = performance.now();
    for (let k = 0; k < steps; k++) {
      const { inputs } = batch(11, 'train', k, B, cfg);
      const r = trainer.step(inputs, { B, S: inputs.get('tokens')!.shape[1]!, N: 1 });
      log.push({ l_lm: r.outputs.l_lm!, l_ddpm: r.outputs.l_ddpm! });
    }
    const mean = (xs: typeof log, k: 'l_lm' | 'l_ddpm') => xs.reduce((a, x) => a + x[k], 0) / xs.length;
    const first = log.slice(0, 4), last = log.slice(-4);
    console.log(`${steps} steps of ${B} in ${((performance.now() - t0) / 1000).toFixed(1)} s: l_lm ${mean(first, 'l_lm').toFixed(3)} -> ${mean(last, 'l_lm').toFixed(3)}, l_ddpm ${mean(first, 'l_ddpm').toFixed(3)} -> ${mean(last, 'l_ddpm').toFixed(3)}`);
    expect(mean(last, 'l_lm')).toBeLessThan(mean(first, 'l_lm') - 1);
    expect(mean(last, 'l_ddpm')).toBeLessThan(mean(first, 'l_ddpm'));
  });
});
