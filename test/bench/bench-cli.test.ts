import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { interpret } from '../../src/ir/interpreter.js';
import { attentionCase, matmulCase } from '../../bench/cases.js';

const tfx = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('node', ['bin/tfx.mjs', ...args], { encoding: 'utf8', timeout: 400_000, env: { ...process.env, ...env } });

describe('tfx bench (end to end on WebGPU)', () => {
  it('--quick writes JSON records with every field, all of our variants correct, an HTML report and a Markdown summary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-bench-'));
    const json = join(dir, 'r.json'), html = join(dir, 'r.html'), md = join(dir, 'r.md');
    const r = tfx(['bench', 'models/transfusion.tfx', '--quick', '--json', json, '--report', html, '--md', md], { TFX_TUNE_CACHE: join(dir, 'tune.json') });
    expect(r.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/median ms/);
    const res = JSON.parse(readFileSync(json, 'utf8'));
    expect(res.records.length).toBeGreaterThan(5);
    for (const rec of res.records) {
      for (const f of ['op', 'variant', 'shape', 'backend', 'device', 'median_ms', 'min_ms', 'max_ms', 'iters', 'gflops', 'correct', 'max_err']) expect(rec).toHaveProperty(f);
      expect(rec.iters).toBeGreaterThanOrEqual(1);
      expect(rec.min_ms).toBeLessThanOrEqual(rec.median_ms);
      expect(rec.median_ms).toBeLessThanOrEqual(rec.max_ms);
      if (rec.backend === 'webgpu') expect(rec.correct, `${rec.op} ${rec.variant} ${rec.shape}`).toBe(true);
    }
    const kinds = new Set(res.records.filter((x: { group: string }) => x.group === 'model').map((x: { op: string }) => x.op));
    for (const k of ['matmul', 'attention', 'rmsnorm']) expect(kinds).toContain(k);
    expect(res.records.some((x: { op: string; group: string }) => x.op === 'matmul' && x.group === 'op')).toBe(true);
    expect(res.attention_table).toHaveLength(1);
    const t = res.attention_table[0].tiles;
    expect(t.empty + t.full + t.partial).toBe(t.total);
    expect(res.forward.default.correct).toBe(true);
    // Host side through Benchmark.js: compile, tile classification, session call vs one-shot call.
    expect(res.host.map((h: { name: string }) => h.name.split(' ')[0])).toEqual(['compile', 'tile', 'session.run(forward),', 'one-shot']);
    for (const h of res.host) expect(h.mean_ms).toBeGreaterThan(0);
    // The banner: adapter, software or not (this machine has only lavapipe), load at both ends, the command.
    expect(res.banner.software_gpu).toBe(/llvmpipe|lavapipe|software/i.test(res.device));
    expect(res.banner.load_start).toBeGreaterThanOrEqual(0);
    expect(res.banner.load_end).toBeGreaterThanOrEqual(0);
    expect(res.banner.command).toContain('bench models/transfusion.tfx --quick');
    const summary = readFileSync(md, 'utf8');
    expect(summary).toContain(res.banner.adapter);
    expect(summary).toMatch(/lower is better/);
    // Every standalone variant figure as median [min-max] (samples).
    expect(summary).toMatch(/\| \d+\.\d+ \[\d+\.\d+-\d+\.\d+\] \(\d+\) \|/);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('load average');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|https?:\/\//);
  }, 420_000);

  it('--backend cuda says why in one line and exits 1', () => {
    const r = tfx(['bench', 'models/transfusion.tfx', '--backend', 'cuda']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tfx bench: --backend cuda unavailable: /);
  }, 60_000);

  it('bad flags are usage errors (exit 2)', () => {
    expect(tfx(['bench', 'models/transfusion.tfx', '--budget', 'soon']).status).toBe(2);
    expect(tfx(['bench', 'models/transfusion.tfx', '--shapes', 'abc']).status).toBe(2);
  }, 60_000);
});

describe('bench cases: reference checks', () => {
  it('sampled attention rows equal the full interpreter, and a wrong output is caught', () => {
    const c = attentionCase({ S: 96, H: 2, D: 8, patches: 16, seed: 3 });
    const full = interpret(c.graph.outputs.map((o) => o.node), { inputs: c.inputs, params: new Map(), dims: {} })[0]!;
    expect(c.meta['images']).toBe(2);
    expect(c.check(full)).toMatchObject({ correct: true, maxErr: 0 });
    const bad = Float32Array.from(full.data);
    bad[5 * 8 + 3] = bad[5 * 8 + 3]! + 0.01;
    expect(c.check(hostTensor('f32', full.shape, bad)).correct).toBe(false);
  });

  it('sampled matmul rows catch an error in a sampled row', () => {
    const c = matmulCase(512, 64, 1100, 2);   // big enough to be checked on sampled rows
    const full = interpret(c.graph.outputs.map((o) => o.node), { inputs: c.inputs, params: new Map(), dims: {} })[0]!;
    const r = c.check(full);
    expect(r).toMatchObject({ correct: true, sampled: true });
    const bad = Float32Array.from(full.data);
    bad[0] = Number.NaN;                        // row 0 is always sampled
    expect(c.check(hostTensor('f32', full.shape, bad)).correct).toBe(false);
  });
});
