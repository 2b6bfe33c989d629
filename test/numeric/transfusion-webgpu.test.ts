/**
 * The whole Transfusion tiny model on WebGPU against the reference interpreter: entries `forward` and `loss`,
 * three example batches (mixed text and images, padding) with the default fused block-sparse attention, and
 * once each with unfused attention and with dense (non-sparse) fused attention.
 *
 * Tolerance: 1e-4 * max(1, max |ref|) (REL) for every output. Both sides compute in f32 on the GPU / f64 then
 * rounded in the interpreter; two layers of width 64 accumulate well under that.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../src/core/tensor.js';
import type { Program } from '../../src/ir/graph.js';
import type { LowerOptions } from '../../src/ir/lower.js';
import { compileFile } from '../../src/driver.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { expectClose, runBoth } from './helpers.js';

let program: Program;
let weights: Map<string, HostTensor>;

beforeAll(() => {
  program = compileFile('models/transfusion.tfx', { preset: 'tiny' }).program;
  weights = initParams(program.params, 7);
});
afterAll(async () => { await closeGpu(); });

async function check(entry: 'forward' | 'loss', seed: number, opts: LowerOptions) {
  const graph = program.entries.find((g) => g.entry === entry)!;
  const inputs = exampleInputs(program, graph, seed);
  const r = await runBoth(program, inputs, weights, opts, entry);
  expect([...r.outputs.keys()].sort()).toEqual(graph.outputs.map((o) => o.name).sort());
  for (const c of r.outputs.values()) expectClose(c.gpu, c.ref, `${entry} seed ${seed} ${JSON.stringify(opts)}: ${c.name}`);
  return r;
}

describe('Transfusion tiny on WebGPU equals the interpreter', () => {
  for (const seed of [1, 2, 3]) {
    it(`forward, seed ${seed}, fused block-sparse attention`, async () => {
      const r = await check('forward', seed, {});
      // The default schedule must actually exercise the block-sparse path: some tiles skipped, some partial.
      expect(r.run.tileCounts.length).toBeGreaterThan(0);
      for (const t of r.run.tileCounts) { expect(t.empty).toBeGreaterThan(0); expect(t.partial).toBeGreaterThan(0); }
    });
    it(`loss, seed ${seed}, fused block-sparse attention`, async () => {
      const r = await check('loss', seed, {});
      const part = (n: string) => r.outputs.get(n)!.gpu.data[0]!;
      // For information: at init l_lm should be near ln(259) = 5.56 and l_ddpm near 1.
      console.log(`seed ${seed}: l_lm ${part('l_lm').toFixed(4)} (ln 259 = ${Math.log(259).toFixed(4)}), l_ddpm ${part('l_ddpm').toFixed(4)}, loss ${part('loss').toFixed(4)}`);
      expect(Math.abs(part('l_lm') - Math.log(259))).toBeLessThan(0.5);
      expect(part('l_ddpm')).toBeGreaterThan(0.5);
      expect(part('l_ddpm')).toBeLessThan(2);
    });
  }
  for (const [what, opts] of [
    ['unfused attention', { attention: 'unfused' }],
    ['dense fused attention', { attentionSchedule: { bq: 16, bk: 16, sparse: false } }],
  ] as const) {
    it(`forward, seed 1, ${what}`, async () => { await check('forward', 1, opts); });
    it(`loss, seed 1, ${what}`, async () => { await check('loss', 1, opts); });
  }
});
