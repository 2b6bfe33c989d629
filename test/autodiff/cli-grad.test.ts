/**
 * `tfx grad` end to end on the CPU: one gradient per parameter under the parameter's name, with the parameter's
 * shape, agreeing with float64 finite differences of the loss (the f32 interpreter's rounding allows 1e-3);
 * training on WebGPU is refused with a coded error (WebGPU gradients themselves: grad-webgpu.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { finiteDifferences } from '../../src/ir/autodiff/gradcheck.js';
import { loadSafetensors } from '../../src/runtime/safetensors.js';

const SPEC = 'models/transfusion.tfx';
const dir = mkdtempSync(join(tmpdir(), 'tfx-grad-'));
const p = (f: string) => join(dir, f);

function tfx(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tfx.mjs', ...args], { encoding: 'utf8', timeout: 240_000 });
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
  return { code: r.status, err: r.stderr };
}

describe('tfx grad', () => {
  beforeAll(() => {
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '4', '-o', p('w.safetensors')).code).toBe(0);
    expect(tfx('example-inputs', SPEC, '--preset', 'tiny', '--entry', 'loss', '--seed', '5', '--dim', 'S=24', '-o', p('i.safetensors')).code).toBe(0);
  }, 300_000);

  it('writes every parameter\'s gradient under its name, matching finite differences', () => {
    const r = tfx('grad', SPEC, '--preset', 'tiny', '--entry', 'loss', '--weights', p('w.safetensors'), '--inputs', p('i.safetensors'), '-o', p('g.safetensors'));
    expect(r.code, r.err).toBe(0);
    const program = compileFile(SPEC, { preset: 'tiny', entries: ['loss'] }).program;
    const grads = loadSafetensors(p('g.safetensors'));
    expect([...grads.keys()].sort()).toEqual(program.params.map((q) => q.name).sort());
    for (const q of program.params) expect(grads.get(q.name)!.shape).toEqual(q.shape);
    const weights = loadSafetensors(p('w.safetensors')), inputs = loadSafetensors(p('i.safetensors'));
    const loss = program.entries[0]!.outputs.find((o) => o.name === 'loss')!.node;
    const picks = ['lm_head', 'tok_embed', 'layers.1.attn.wk', 'patch_in'].map((param) => {
      const g = grads.get(param)!.data;
      let best = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[best]!)) best = i;
      return { param, index: best };
    });
    const res = finiteDifferences(loss, { inputs, params: weights, dims: { B: 2, S: 24, N: 2 } }, grads, picks);
    for (const s of res) expect(s.rel, `${s.param}[${s.index}] analytic ${s.analytic} numeric ${s.numeric}`).toBeLessThan(1e-3);
  });

  it('tfx train on data that does not fit the preset is a coded error on either backend (the shapes data set on tiny)', () => {
    for (const backend of ['webgpu', 'cpu']) {
      const r = tfx('train', SPEC, '--preset', 'tiny', '--steps', '1', '--backend', backend);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/TFX5001.*does not fit preset 'tiny'/);
    }
  });

  it('rejects an unknown backend as misuse', () => {
    const r = tfx('grad', SPEC, '--weights', p('w.safetensors'), '--inputs', p('i.safetensors'), '-o', p('g3.safetensors'), '--backend', 'tpu');
    expect(r.code).toBe(2);
  });
});
