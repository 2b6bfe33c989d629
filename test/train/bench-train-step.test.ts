/**
 * `tfx bench --op train-step --quick`: JSON and Markdown with forward / forward + backward / backward /
 * optimizer / step per backend, each a median with min, max and sample count, the banner with the command, and
 * the CPU / WebGPU ratio from the same rounds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('tfx bench --op train-step', () => {
  it('--quick writes the split step times of both backends', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-bench-train-'));
    const json = join(dir, 'r.json'), md = join(dir, 'r.md');
    const r = spawnSync(process.execPath, ['bin/tfx.mjs', 'bench', 'models/transfusion.tfx', '--op', 'train-step', '--quick', '--json', json, '--md', md], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(json, 'utf8'));
    expect(res.op).toBe('train-step');
    expect(res.banner.command).toMatch(/--op train-step --quick/);
    expect(res.rows.map((x: { backend: string }) => x.backend).sort()).toEqual(['cpu', 'webgpu']);
    for (const row of res.rows) {
      expect(row).toMatchObject({ preset: 'tiny', B: 2, S: 64 });
      for (const part of ['forward', 'forward_backward', 'backward', 'optimizer', 'step']) {
        const s = row[part];
        expect(s.n, part).toBe(res.rounds);
        expect(s.min <= s.median && s.median <= s.max, part).toBe(true);
      }
      expect(row.forward_backward.min).toBeGreaterThan(0);
    }
    const step = (b: string) => res.rows.find((x: { backend: string }) => x.backend === b).step.median;
    expect(res.ratios[0].cpu_over_webgpu).toBeCloseTo(step('cpu') / step('webgpu'), 2);
    const text = readFileSync(md, 'utf8');
    expect(text).toMatch(/^\| tiny \| 2 x 64 \| webgpu \| [\d.]+ \[[\d.]+-[\d.]+\] \(2\) \|/m);
    expect(r.stdout).toBe(text);
  }, 300_000);
});
