/**
 * `tfx train` end to end (CPU): progress lines, a checkpoint holding weights + optimizer state + step, and a run
 * stopped at step 2 and resumed reaching bit for bit the weights and optimizer state of the uninterrupted run;
 * the same resume check on WebGPU (state read back from the device and uploaded again).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSafetensors } from '../../src/runtime/safetensors.js';
import { openCheckpoint } from '../../src/runtime/checkpoint.js';

const SPEC = 'models/transfusion.tfx';
const dir = mkdtempSync(join(tmpdir(), 'tfx-train-'));
const p = (f: string) => join(dir, f);
function tfx(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tfx.mjs', ...args], { encoding: 'utf8', timeout: 300_000 });
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
  return { code: r.status, err: r.stderr };
}
const common = ['train', SPEC, '--preset', 'shapes', '--data', 'shapes:3', '--batch', '1', '--steps', '4', '--warmup', '1', '--lr', '1e-2'];

describe('tfx train', () => {
  it('a run stopped at step 2 and resumed equals the uninterrupted run exactly', () => {
    const a = tfx(...common, '-o', p('a.safetensors'));
    expect(a.code, a.err).toBe(0);
    expect(a.err.match(/^step \d+\/4 loss [\d.]+ \(l_lm [\d.]+ l_ddpm [\d.]+\) \|g\| [\d.]+ lr \S+ \d+ tokens\/s ETA \d+m\d+s$/gm)?.length).toBe(4);
    const b = tfx(...common, '--until', '2', '-o', p('b.safetensors'));
    expect(b.code, b.err).toBe(0);
    expect(openCheckpoint(p('b.safetensors')).metadata.step).toBe('2');
    const c = tfx('train', SPEC, '--preset', 'shapes', '--resume', p('b.safetensors'), '-o', p('c.safetensors'));
    expect(c.code, c.err).toBe(0);
    expect(c.err).toMatch(/steps 2\.\.4 of 4/);
    const A = loadSafetensors(p('a.safetensors')), C = loadSafetensors(p('c.safetensors')), B = loadSafetensors(p('b.safetensors'));
    expect([...C.keys()].sort()).toEqual([...A.keys()].sort());
    expect(A.get('adam.step')!.data[0]).toBe(4);
    expect([...A.keys()].some((k) => k.startsWith('adam.m.')) && A.has('lm_head')).toBe(true);
    for (const [k, t] of A) expect(Buffer.from(C.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    // and training did change the weights between step 2 and 4
    expect(Buffer.from(B.get('lm_head')!.data.buffer).equals(Buffer.from(A.get('lm_head')!.data.buffer))).toBe(false);
  });
  it('on WebGPU, a run stopped at step 1 and resumed equals the uninterrupted run exactly', () => {
    const gpu = ['train', SPEC, '--preset', 'shapes', '--data', 'shapes:3', '--batch', '1', '--steps', '3', '--warmup', '1', '--lr', '1e-2', '--backend', 'webgpu'];
    const a = tfx(...gpu, '-o', p('ga.safetensors'));
    expect(a.code, a.err).toBe(0);
    expect(a.err).toMatch(/backend webgpu/);
    expect(a.err.match(/^step \d+\/3 loss [\d.]+ \(l_lm [\d.]+ l_ddpm [\d.]+\) /gm)?.length).toBe(3);
    expect(tfx(...gpu, '--until', '1', '-o', p('gb.safetensors')).code).toBe(0);
    const c = tfx('train', SPEC, '--preset', 'shapes', '--backend', 'webgpu', '--resume', p('gb.safetensors'), '-o', p('gc.safetensors'));
    expect(c.code, c.err).toBe(0);
    expect(c.err).toMatch(/steps 1\.\.3 of 3/);
    const A = loadSafetensors(p('ga.safetensors')), C = loadSafetensors(p('gc.safetensors')), B = loadSafetensors(p('gb.safetensors'));
    expect([...C.keys()].sort()).toEqual([...A.keys()].sort());
    expect(A.get('adam.step')!.data[0]).toBe(3);
    for (const [k, t] of A) expect(Buffer.from(C.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer)), k).toBe(true);
    expect(Buffer.from(B.get('adam.m.lm_head')!.data.buffer).equals(Buffer.from(A.get('adam.m.lm_head')!.data.buffer))).toBe(false);
  }, 360_000); // three processes, each compiling its pipelines: minutes on a cold shader cache on a loaded lavapipe
  it('--dry-run prints the memory of a step from the plans, without --steps', () => {
    const r = tfx('train', SPEC, '--preset', 'tiny', '--dry-run', '--batch', '2', '--seq', '32');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/preset tiny\) at B=2, S=32, N=1/);
    for (const row of ['parameters', 'AdamW moments', 'gradients', 'inputs', 'intermediates', 'peak']) expect(r.err).toMatch(new RegExp(`^  ${row} +[\\d.]+ MiB`, 'm'));
  });
  it('refuses to resume from plain weights', () => {
    expect(tfx('init', SPEC, '--preset', 'shapes', '--seed', '1', '-o', p('w.safetensors')).code).toBe(0);
    const r = tfx('train', SPEC, '--preset', 'shapes', '--steps', '2', '--resume', p('w.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/TFX4002.*not a training checkpoint/);
  });
});
