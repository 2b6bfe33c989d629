/**
 * The `shapes` preset of models/transfusion.tfx takes batches of the captioned-shapes data set: its `loss`
 * entry runs on them, with the losses a fresh model should have (text near ln(vocab), noise MSE near 1).
 */
import { describe, expect, it } from 'vitest';
import { batch, type ShapesConfig } from '../../src/data/shapes.js';
import { compileFile } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';
import { initParams } from '../../src/runtime/weights.js';

describe('preset shapes', () => {
  it('runs the loss entry on a data set batch with the expected losses at initialization', () => {
    const program = compileFile('models/transfusion.tfx', { preset: 'shapes', entries: ['loss'] }).program;
    const cfg = program.config as unknown as ShapesConfig;
    expect([cfg.latent_c, cfg.latent_hw, cfg.patch]).toEqual([3, 16, 4]);
    const { inputs } = batch(1, 'train', 0, 4, cfg);
    const g = program.entries[0]!;
    const S = inputs.get('tokens')!.shape[1]!;
    const outs = interpret(g.outputs.map((o) => o.node), { inputs, params: initParams(program.params, 2), dims: { B: 4, S, N: 1 } });
    const v = new Map(g.outputs.map((o, i) => [o.name, outs[i]!.data[0]!]));
    expect(Math.abs(v.get('l_lm')! - Math.log(cfg.vocab))).toBeLessThan(0.3);
    expect(v.get('l_ddpm')!).toBeGreaterThan(0.6);
    expect(v.get('l_ddpm')!).toBeLessThan(1.5);
  });
});
