/**
 * The CPU path end to end through the CLI: init, example-inputs, run (forward and loss), and the errors a
 * user gets for malformed or mismatched weights and inputs (one message, exit 1, never a stack trace).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSafetensors, saveSafetensors } from '../../src/runtime/safetensors.js';

const SPEC = 'models/transfusion.tfx';
const dir = mkdtempSync(join(tmpdir(), 'tfx-cli-run-'));
const p = (f: string) => join(dir, f);

function tfx(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tfx.mjs', ...args], { encoding: 'utf8', timeout: 240_000 });
  const all = `${r.stdout}${r.stderr}`;
  expect(all).not.toMatch(/^\s+at /m);   // no stack traces, ever
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tfx init / example-inputs / run --backend cpu', () => {
  beforeAll(() => {
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '7', '-o', p('w.safetensors')).code).toBe(0);
    expect(tfx('example-inputs', SPEC, '--preset', 'tiny', '--entry', 'loss', '--seed', '3', '-o', p('loss.safetensors')).code).toBe(0);
    expect(tfx('example-inputs', SPEC, '--preset', 'tiny', '--entry', 'forward', '--seed', '3', '-o', p('fwd.safetensors')).code).toBe(0);
  }, 300_000);

  it('init is deterministic in the seed', () => {
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '7', '-o', p('w2.safetensors')).code).toBe(0);
    expect(Buffer.compare(readFileSync(p('w.safetensors')), readFileSync(p('w2.safetensors')))).toBe(0);
  });

  it('the loss at initialization is near ln(vocab) for text and near 1 for the noise MSE', () => {
    const r = tfx('run', SPEC, '--preset', 'tiny', '--entry', 'loss', '--backend', 'cpu', '--weights', p('w.safetensors'), '--inputs', p('loss.safetensors'), '-o', p('out.safetensors'));
    expect(r.code, r.err).toBe(0);
    const o = loadSafetensors(p('out.safetensors'));
    const lm = o.get('l_lm')!.data[0]!, dd = o.get('l_ddpm')!.data[0]!, loss = o.get('loss')!.data[0]!;
    expect(Math.abs(lm - Math.log(259))).toBeLessThan(0.15);
    expect(Math.abs(dd - 1)).toBeLessThan(0.25);
    expect(loss).toBeCloseTo(lm + 5 * dd, 4);
    expect(r.err).toMatch(/l_lm = /);
  });

  it('forward writes logits and predicted noise with the layout shapes', () => {
    const r = tfx('run', SPEC, '--preset', 'tiny', '--backend', 'cpu', '--weights', p('w.safetensors'), '--inputs', p('fwd.safetensors'), '-o', p('fo.safetensors'));
    expect(r.code, r.err).toBe(0);
    const o = loadSafetensors(p('fo.safetensors'));
    const tokens = loadSafetensors(p('fwd.safetensors')).get('tokens')!;
    expect(o.get('logits')!.shape).toEqual([...tokens.shape, 259]);
    expect(o.get('noise')!.shape).toEqual([tokens.shape[0], 2, 4, 8, 8]);
  });

  it('a truncated weights file is a clear error', () => {
    const bytes = readFileSync(p('w.safetensors'));
    writeFileSync(p('trunc.safetensors'), bytes.subarray(0, bytes.length - 100));
    const r = tfx('run', SPEC, '--backend', 'cpu', '--weights', p('trunc.safetensors'), '--inputs', p('fwd.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/trunc\.safetensors/);
  });

  it('weights of another preset name the mismatched tensors', () => {
    const w = loadSafetensors(p('w.safetensors'));
    w.delete('lm_head');
    w.set('extra.tensor', w.get('final_norm')!);
    saveSafetensors(p('bad.safetensors'), w);
    const r = tfx('run', SPEC, '--backend', 'cpu', '--weights', p('bad.safetensors'), '--inputs', p('fwd.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/lm_head/);
    expect(r.err).toMatch(/extra\.tensor/);
  });

  it('inputs whose dims disagree are a clear error', () => {
    const i = loadSafetensors(p('fwd.safetensors'));
    const t = i.get('len')!;
    i.set('len', { dtype: t.dtype, shape: [t.shape[0]! + 1], data: new Int32Array(t.shape[0]! + 1) });
    saveSafetensors(p('badin.safetensors'), i);
    const r = tfx('run', SPEC, '--backend', 'cpu', '--weights', p('w.safetensors'), '--inputs', p('badin.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/dimension B is \d+ from .* but \d+ from len/);
  });

  it('run without --weights initializes them as tfx init --seed 0 does; --backend cuda fails cleanly without a driver', () => {
    expect(tfx('init', SPEC, '--seed', '0', '-o', p('w0.safetensors')).code).toBe(0);
    const given = tfx('run', SPEC, '--backend', 'cpu', '--weights', p('w0.safetensors'), '--inputs', p('fwd.safetensors'), '-o', p('o1.safetensors'));
    const dflt = tfx('run', SPEC, '--backend', 'cpu', '--inputs', p('fwd.safetensors'), '-o', p('o2.safetensors'));
    expect(given.code, given.err).toBe(0);
    expect(dflt.code, dflt.err).toBe(0);
    expect(dflt.err).toContain("weights: initialized from the spec's init rules, seed 0");
    const a = loadSafetensors(p('o1.safetensors')), b = loadSafetensors(p('o2.safetensors'));
    for (const k of ['logits', 'noise']) expect(Array.from(b.get(k)!.data), k).toEqual(Array.from(a.get(k)!.data));
    const r = tfx('run', SPEC, '--backend', 'cuda', '--weights', p('w.safetensors'), '--inputs', p('fwd.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').filter((l) => l.startsWith('tfx run:'))).toHaveLength(1);
    expect(r.err).toMatch(/CUDA driver/);
  });
});
