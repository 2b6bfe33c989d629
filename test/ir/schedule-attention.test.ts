/**
 * Attention schedules as values (src/ir/schedule.ts): the defaults, the tuner's candidate space holding both
 * kinds (rows per invocation, and the staged kind), and validation against a target's limits (invocations,
 * workgroup memory, rows dividing the tile, storage buffers per stage).
 */
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { CUDA_LIMITS } from '../../src/codegen-cuda/cuda.js';
import { WEBGPU_LIMITS } from '../../src/codegen-wgsl/wgsl.js';
import { Builder } from '../../src/ir/builder.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { AttentionBwdKernel, AttentionKernel, AttentionSchedule } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { DEFAULT_ATTENTION, DEFAULT_ATTENTION_BWD, DEFAULT_ATTENTION_BWD_LONG, DEFAULT_ATTENTION_LONG, DEFAULT_DECODE, LONG_ATTENTION, defaultAttention, defaultAttentionBwd, fitAttention, scheduleCandidates, scheduleForTarget, scheduleName, scheduleViolation } from '../../src/ir/schedule.js';
import { transfusionMask } from '../numeric/helpers.js';

const sh = (...n: number[]) => n.map(dimConst);

/** Forward and flash backward (dq, dk, dv) of one masked attention, D = Dv = 64, S 100. */
function plan() {
  const g = new Builder();
  const q = g.input('q', 'f32', sh(1, 2, 100, 64)), k = g.input('k', 'f32', sh(1, 2, 100, 64)), v = g.input('v', 'f32', sh(1, 2, 100, 64));
  const dO = g.input('dO', 'f32', sh(1, 2, 100, 64)), len = g.input('len', 'i32', sh(1)), img = g.input('img', 'i32', sh(1, 100));
  const o = g.attention(q, k, v, [len, img], transfusionMask, 'tm', 0.125);
  const outputs = [{ name: 'o', node: o }, ...(['q', 'k', 'v'] as const).map((w) => ({ name: `d${w}`, node: g.attentionGrad(w, q, k, v, o, dO, [len, img], transfusionMask, 'tm', 0.125) }))];
  const graph: Graph = { entry: 'e', inputs: [q, k, v, dO, len, img] as Node<'input'>[], outputs };
  return lowerGraph(graph, []);
}

describe('attention schedules', () => {
  const p = plan();
  const fwd = p.kernels.find((k) => k.kind === 'attention') as AttentionKernel;
  const bwd = (part: string) => p.kernels.find((k) => k.kind === 'attention_bwd' && k.part === part) as AttentionBwdKernel;

  it('prefill defaults to the rows kind; the candidate space holds both kinds, all valid on both targets', () => {
    expect(fwd.schedule).toEqual(DEFAULT_ATTENTION);
    expect(DEFAULT_ATTENTION.rows).toBeGreaterThan(1);
    const cands = scheduleCandidates(fwd) as AttentionSchedule[];
    expect(cands.some((s) => (s.rows ?? 1) > 1 && s.sparse)).toBe(true);
    expect(cands.some((s) => (s.rows ?? 1) === 1 && s.sparse)).toBe(true);
    expect(cands.some((s) => !s.sparse)).toBe(true);
    for (const s of cands) for (const lim of [WEBGPU_LIMITS, CUDA_LIMITS]) expect(scheduleViolation(fwd, s, lim), scheduleName('attention', s)).toBeNull();
    expect(new Set(cands.map((s) => scheduleName('attention', s))).size).toBe(new Set(cands.map((s) => JSON.stringify(s))).size);
  });

  it('the default depends on the query length: decode, short or symbolic, long (64-row tiles, 8 rows each)', () => {
    expect(defaultAttention(dimConst(1))).toEqual(DEFAULT_DECODE);
    expect(defaultAttention(dimConst(LONG_ATTENTION - 1))).toEqual(DEFAULT_ATTENTION);
    expect(defaultAttention(dimSym('S'))).toEqual(DEFAULT_ATTENTION);
    expect(defaultAttention(dimConst(LONG_ATTENTION))).toEqual(DEFAULT_ATTENTION_LONG);
    expect(DEFAULT_ATTENTION_LONG).toMatchObject({ bq: 64, rows: 8, sparse: true });
    for (const lim of [WEBGPU_LIMITS, CUDA_LIMITS]) expect(scheduleViolation(fwd, DEFAULT_ATTENTION_LONG, lim)).toBeNull();
    // The backward likewise (S 100 here: the short one).
    expect(bwd('dq').schedule).toMatchObject({ bq: DEFAULT_ATTENTION_BWD.bq, bk: DEFAULT_ATTENTION_BWD.bk, rows: DEFAULT_ATTENTION_BWD.rows });
    expect(defaultAttentionBwd(dimSym('S'))).toEqual(DEFAULT_ATTENTION_BWD);
    expect(defaultAttentionBwd(dimConst(LONG_ATTENTION))).toEqual(DEFAULT_ATTENTION_BWD_LONG);
    for (const part of ['dq', 'dk', 'dv']) expect(scheduleViolation(bwd(part), DEFAULT_ATTENTION_BWD_LONG, CUDA_LIMITS)).toBeNull();
  });

  it('rejects rows that do not divide the tile, too many invocations, too much workgroup memory', () => {
    expect(scheduleViolation(fwd, { bq: 32, bk: 16, sparse: true, rows: 3 }, WEBGPU_LIMITS)).toMatch(/rows 3 must divide/);
    // dk / dv own key rows: rows must divide bk there.
    expect(scheduleViolation(bwd('dv'), { bq: 32, bk: 8, sparse: true, rows: 16 }, CUDA_LIMITS)).toMatch(/rows 16 must divide the tile of 8/);
    expect(scheduleViolation(bwd('dq'), { bq: 32, bk: 8, sparse: true, rows: 16 }, CUDA_LIMITS)).toBeNull();
    expect(scheduleViolation(fwd, { bq: 512, bk: 16, sparse: true }, WEBGPU_LIMITS)).toMatch(/invocations/);
    expect(scheduleViolation(fwd, { bq: 512, bk: 16, sparse: true, rows: 4 }, WEBGPU_LIMITS)).toBeNull();
    expect(scheduleViolation(fwd, { bq: 16, bk: 64, sparse: true }, WEBGPU_LIMITS)).toMatch(/workgroup memory/);
    // The rows kind stages nothing: no key-tile shrinking for it, whatever the head dim.
    expect(fitAttention({ bq: 32, bk: 64, sparse: true, rows: 4 }, 256, 256, WEBGPU_LIMITS).bk).toBe(64);
    expect(fitAttention({ bq: 16, bk: 64, sparse: true }, 64, 64, WEBGPU_LIMITS).bk).toBe(32);  // 4 * 32 * 128 = 16384 B
  });

  it('GQA: candidates with the query heads of a group in one workgroup, valid; the group must divide the rows', () => {
    const g = new Builder();
    const q = g.input('q', 'f32', sh(1, 4, 50, 32)), k = g.input('k', 'f32', sh(1, 2, 50, 32)), v = g.input('v', 'f32', sh(1, 2, 50, 32));
    const graph: Graph = { entry: 'e', inputs: [q, k, v] as Node<'input'>[], outputs: [{ name: 'o', node: g.attention(q, k, v, [], null, 'none', 0.2) }] };
    const att = lowerGraph(graph, []).kernels.find((x) => x.kind === 'attention') as AttentionKernel;
    const gqa = (scheduleCandidates(att) as AttentionSchedule[]).filter((s) => s.gqa);
    expect(gqa.length).toBeGreaterThan(0);
    for (const s of gqa) {
      expect((s.rows ?? 1) % 2).toBe(0);
      expect(scheduleViolation(att, s, WEBGPU_LIMITS), scheduleName('attention', s)).toBeNull();
    }
    expect(scheduleViolation(att, { bq: 48, bk: 16, sparse: false, rows: 3, gqa: true }, CUDA_LIMITS)).toMatch(/gqa needs/);
    expect(scheduleViolation(fwd, { bq: 32, bk: 16, sparse: true, rows: 4, gqa: true }, CUDA_LIMITS)).toBeNull();  // a group of 1
  });

  it('head dim split across lanes: in the candidate space, valid; lanes must divide the head dims, forward only, shared memory counted', () => {
    const lanes = (scheduleCandidates(fwd) as AttentionSchedule[]).filter((s) => (s.lanes ?? 1) > 1);
    expect(lanes.some((s) => s.sparse) && lanes.some((s) => !s.sparse)).toBe(true);
    expect(lanes.some((s) => (s.rows ?? 1) === 1)).toBe(true);
    for (const s of lanes) expect(scheduleName('attention', s)).toMatch(new RegExp(`_lanes${s.lanes}$`));
    expect(scheduleViolation(fwd, { bq: 32, bk: 16, sparse: true, rows: 4, lanes: 3 }, CUDA_LIMITS)).toMatch(/3 dividing the head dims \(64, 64\)/);
    expect(scheduleViolation(bwd('dq'), { bq: 32, bk: 16, sparse: true, rows: 4, lanes: 4 }, CUDA_LIMITS)).toMatch(/forward's rows kind/);
    // 8 row groups x 4 lanes = 32 invocations; partial dots 4 B x 32 rows x 4 lanes x 16 keys = 8 KiB.
    expect(scheduleViolation(fwd, { bq: 32, bk: 16, sparse: true, rows: 4, lanes: 4 }, WEBGPU_LIMITS)).toBeNull();
    expect(scheduleViolation(fwd, { bq: 64, bk: 16, sparse: true, rows: 8, lanes: 8 }, WEBGPU_LIMITS)).toMatch(/needs 32768 B of workgroup memory/);
    expect(scheduleViolation(fwd, { bq: 256, bk: 8, sparse: true, rows: 1, lanes: 2 }, WEBGPU_LIMITS)).toMatch(/workgroup 512x1 > 256 invocations/);
    expect(fitAttention({ bq: 256, bk: 8, sparse: true, lanes: 2 }, 64, 64, WEBGPU_LIMITS).bq).toBe(128);
  });

  it('counts storage buffers per stage: dq / dk of a two-input mask bind 9, over WebGPU\'s default 8', () => {
    const over = /binds 9 storage buffers > 8/;
    expect(scheduleViolation(bwd('dq'), bwd('dq').schedule, WEBGPU_LIMITS)).toMatch(over);
    expect(scheduleViolation(bwd('dk'), bwd('dk').schedule, WEBGPU_LIMITS)).toMatch(over);
    expect(scheduleViolation(bwd('dv'), bwd('dv').schedule, WEBGPU_LIMITS)).toBeNull();
    expect(scheduleViolation(bwd('dq'), bwd('dq').schedule, CUDA_LIMITS)).toBeNull();
    // A binding count is the kernel's, not the schedule's: the scheduling stage still plans it (Dawn raises the
    // limit to the adapter's; the tuner checks the device's own limits).
    expect(() => scheduleForTarget(p, WEBGPU_LIMITS)).not.toThrow();
  });
});
