/**
 * The profile's arithmetic on a real plan with made-up timings and peak: costs counted by hand, groupings that
 * sum to the total, the limiter rule, the text report pointing at spec lines, and the Chrome trace format.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { runPipeline } from '../../src/ir/pipeline.js';
import { analyzeProfile, boundOf, chromeTrace, formatProfile, kernelCost, type DevicePeak } from '../../src/runtime/profile.js';

const FILE = 'test/cli/fixtures/other-dims.tfx';
const SOURCE = readFileSync(join(import.meta.dirname, '../..', FILE), 'utf8');
const { program } = compileFile(join(import.meta.dirname, '../..', FILE));
const plan = lowerGraph(runPipeline(program).entries[0]!, program.symbols);
const dims = { batch: 2, words: 3 };
const peak: DevicePeak = { device: 'test', gflops: 10, gbps: 5, launchMs: 0.01 };

describe('profile', () => {
  it('counts a matmul as 2 M N K flops and its distinct buffers as bytes', () => {
    // The output head: [batch * words, width] x [width, tags] with width 16, tags 5 (the fixture's config).
    const head = plan.kernels.find((k) => k.kind === 'matmul' && k.label === 'matmul' && kernelCost(k, plan, dims).flops === 2 * 6 * 5 * 16);
    expect(head, plan.kernels.map((k) => k.label).join(', ')).toBeDefined();
    expect(kernelCost(head!, plan, dims).bytes).toBe(4 * (6 * 16 + 16 * 5 + 6 * 5));
  });

  it('names what limited a kernel', () => {
    expect(boundOf(0.015, 0.9, 0.1, peak)).toBe('launch');
    expect(boundOf(1, 0.5, 0.2, peak)).toBe('compute');
    expect(boundOf(1, 0.2, 0.6, peak)).toBe('memory');
    expect(boundOf(1, 0.05, 0.02, peak)).toBe('latency');
  });

  it('aggregates per spec line, block and op kind, each summing to the total, and points at the spec text', () => {
    const timings = plan.kernels.map((k, i) => ({ label: k.name, ms: i + 1 }));
    const p = analyzeProfile(plan, timings, dims, peak);
    const total = timings.reduce((s, t) => s + t.ms, 0);
    expect(p.totalMs).toBe(total);
    for (const groups of [p.byLine, p.byBlock, p.byKind]) expect(groups.reduce((s, g) => s + g.ms, 0)).toBeCloseTo(total, 9);
    expect(p.byBlock.map((g) => g.key)).toContain('mix (mix)');
    const mixLine = SOURCE.split('\n').findIndex((l) => l.includes('return silu(x @ w1) @ w2')) + 1;
    const text = formatProfile(p, FILE, SOURCE);
    expect(text).toContain(`${FILE}:${mixLine}`);
    expect(text).toMatch(new RegExp(`${FILE.replace(/[./]/g, '\\$&')}:${mixLine} +[\\d.]+ +[\\d.]+% +x\\d+ +return silu\\(x @ w1\\) @ w2`));
    const mm = p.rows.find((r) => r.kind === 'matmul')!;
    expect(mm.gflops).toBeCloseTo(kernelCost(plan.kernels.find((k) => k.name === mm.name)!, plan, dims).flops / (mm.ms / 1e3) / 1e9, 9);
  });

  it('writes Chrome trace events back to back, one per kernel', () => {
    const p = analyzeProfile(plan, plan.kernels.map((k) => ({ label: k.name, ms: 0.5 })), dims, peak);
    const t = JSON.parse(JSON.stringify(chromeTrace(p, FILE, { entry: 'main' }))) as { traceEvents: { ph: string; ts?: number; dur?: number; name: string; args: Record<string, unknown> }[] };
    const xs = t.traceEvents.filter((e) => e.ph === 'X');
    expect(xs).toHaveLength(plan.kernels.length);
    xs.forEach((e, i) => { expect(e.ts).toBeCloseTo(500 * i, 6); expect(e.dur).toBe(500); });
    expect(xs.some((e) => String(e.args.src).includes(`${FILE}:`))).toBe(true);
    expect(t.traceEvents.filter((e) => e.ph === 'M').length).toBe(2);
  });
});
