/**
 * The schedule variants of the CUDA renderer on the CPU emulation vs the interpreter: the split-K decode
 * attention (one query row against a KV cache, position-based mask, padding), the register-tiled rows kind of
 * prefill attention (GQA, Transfusion-style mask, random layouts) and the shared-memory matmul.
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { BinaryOp, IExpr } from '../../src/ir/graph.js';
import { nvccAvailable, nvccCompile } from '../../src/runtime/cuda/nvcc.js';
import type { AttentionSchedule } from '../../src/ir/kernel.js';
import { Rng } from '../../src/runtime/rng.js';
import { checkGraph, rand } from './numeric-helpers.js';

/** Every variant must also pass nvcc for sm_90 without warnings (where nvcc exists). */
async function nvccClean(source: string): Promise<void> {
  if (!nvccAvailable()) return;
  const r = await nvccCompile(source, { arch: 'sm_90' });
  expect(r.errors).toEqual([]);
  expect(r.warnings).toEqual([]);
}

const sh = (...n: number[]) => n.map(dimConst);
const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const iload = (src: number, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });

describe('CUDA schedule variants on the CPU emulation vs the interpreter', () => {
  it('decode attention (split-K) with a position mask and padding, sparse and dense', async () => {
    const B = 2, H = 2, Hkv = 1, Sk = 83, D = 16;
    const g = new Builder();
    const q = g.input('q', 'f32', sh(B, H, 1, D)), k = g.input('k', 'f32', sh(B, Hkv, Sk, D)), v = g.input('v', 'f32', sh(B, Hkv, Sk, D));
    const len = g.input('len', 'i32', sh(B)), qpos = g.input('qpos', 'i32', sh(B, 1));
    // k < len[b] && k <= qpos[b, q]
    const mask = bool('and', bool('lt', idx(2), iload(0, idx(0))), bool('le', idx(2), iload(1, idx(0), idx(1))));
    const o = g.attention(q, k, v, [len, qpos], mask, 'decode', 0.25);
    const values = new Map([
      ['q', hostTensor('f32', [B, H, 1, D], rand(B * H * D, 1))], ['k', hostTensor('f32', [B, Hkv, Sk, D], rand(B * Sk * D, 2))],
      ['v', hostTensor('f32', [B, Hkv, Sk, D], rand(B * Sk * D, 3))], ['len', hostTensor('i32', [B], [83, 60])], ['qpos', hostTensor('i32', [B, 1], [82, 40])],
    ]);
    for (const sparse of [true, false]) {
      const r = await checkGraph({ inputs: [q, k, v, len, qpos] as never, outputs: [{ name: 'o', node: o }], values }, { attentionSchedule: { bq: 1, bk: 8, sparse, splitk: 8 } });
      expect(r.compiled.plan.kernels.some((x) => x.kind === 'attention' && x.schedule.splitk === 8)).toBe(true);
      await nvccClean(r.compiled.source);
      for (const c of r.cmp) expect(c.maxErr, `${c.name} sparse=${sparse}`).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    }
  }, 300_000);

  it('prefill attention, several query rows per invocation: GQA, random Transfusion-style layouts, ragged tiles, D != Dv', async () => {
    // k < len[b] && (k <= q || (img[b,q] >= 0 && img[b,q] == img[b,k])): causal text, bidirectional images; batch 1 empty.
    const mask = bool('and', bool('lt', idx(2), iload(0, idx(0))), bool('or', bool('le', idx(2), idx(1)),
      bool('and', bool('ge', iload(1, idx(0), idx(1)), { k: 'const', v: 0, dtype: 'i32' }), bool('eq', iload(1, idx(0), idx(1)), iload(1, idx(0), idx(2))))));
    const cases: [number, number, number, AttentionSchedule][] = [
      [37, 16, 12, { bq: 12, bk: 8, sparse: true, rows: 3 }], [29, 20, 6, { bq: 64, bk: 16, sparse: true, rows: 8 }], [21, 8, 8, { bq: 8, bk: 6, sparse: false, rows: 2 }],
      // the two query heads of each KV head in one workgroup: 3 positions x 2 heads per invocation
      [37, 16, 12, { bq: 12, bk: 8, sparse: true, rows: 6, gqa: true }],
      // the head dim split across lanes (partial dots summed through shared memory): with rows, alone, with gqa
      [37, 16, 12, { bq: 12, bk: 8, sparse: true, rows: 3, lanes: 4 }], [29, 16, 8, { bq: 8, bk: 6, sparse: false, lanes: 8 }],
      [37, 16, 12, { bq: 12, bk: 8, sparse: true, rows: 6, gqa: true, lanes: 2 }],
    ];
    for (const [S, D, Dv, sched] of cases) {
      const B = 3, H = 4, Hkv = 2, rng = Rng.seeded(S);
      const g = new Builder();
      const q = g.input('q', 'f32', sh(B, H, S, D)), k = g.input('k', 'f32', sh(B, Hkv, S, D)), v = g.input('v', 'f32', sh(B, Hkv, S, Dv));
      const len = g.input('len', 'i32', sh(B)), img = g.input('img', 'i32', sh(B, S));
      const o = g.attention(q, k, v, [len, img], mask, 'tm', 1 / Math.sqrt(D));
      const imgs = new Int32Array(B * S).fill(-1);
      for (let b = 0; b < B; b++) { const at = rng.int(1, S - 6), l = rng.int(2, 12); for (let p = at; p < Math.min(S, at + l); p++) imgs[b * S + p] = 0; }
      const values = new Map([
        ['q', hostTensor('f32', [B, H, S, D], rand(B * H * S * D, S + 1, 2))], ['k', hostTensor('f32', [B, Hkv, S, D], rand(B * Hkv * S * D, S + 2, 2))],
        ['v', hostTensor('f32', [B, Hkv, S, Dv], rand(B * Hkv * S * Dv, S + 3))], ['len', hostTensor('i32', [B], [S, 0, rng.int(S >> 1, S)])], ['img', hostTensor('i32', [B, S], imgs)],
      ]);
      const r = await checkGraph({ inputs: [q, k, v, len, img] as never, outputs: [{ name: 'o', node: o }], values }, { attentionSchedule: sched });
      expect(r.compiled.plan.kernels.some((x) => x.kind === 'attention' && x.schedule.rows === sched.rows && !!x.schedule.gqa === !!sched.gqa && x.schedule.lanes === sched.lanes)).toBe(true);
      // Batch 1 has length 0: every one of its rows is fully masked and exactly zero.
      const out = r.run.outputs.get('o')!.data;
      expect(out.subarray(H * S * Dv, 2 * H * S * Dv).every((x) => x === 0)).toBe(true);
      for (const c of r.cmp) expect(c.maxErr, `${c.name} ${JSON.stringify(sched)}`).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
      await nvccClean(r.compiled.source);
    }
  }, 300_000);

  it('shared-memory matmul with an epilogue, sizes ragged against the tiles', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(2, 19, 23)), w = g.input('w', 'f32', sh(23, 13)), bias = g.input('bias', 'f32', sh(13));
    const y = g.unary('gelu', g.binary('add', g.matmul(x, w), bias));
    const values = new Map([['x', hostTensor('f32', [2, 19, 23], rand(2 * 19 * 23, 4))], ['w', hostTensor('f32', [23, 13], rand(23 * 13, 5))], ['bias', hostTensor('f32', [13], rand(13, 6))]]);
    const r = await checkGraph({ inputs: [x, w, bias] as never, outputs: [{ name: 'y', node: y }] as never, values }, { matmulSchedule: { wgX: 4, wgY: 4, tm: 2, tn: 2, tk: 8, shared: true } });
    for (const c of r.cmp) expect(c.maxErr, c.name).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    await nvccClean(r.compiled.source);
  }, 300_000);

  // The tuner's larger matmul families (src/ir/schedule.ts): big register tiles, K unrolled with a remainder,
  // workgroup-memory tiles with the tk loop unrolled; sizes ragged against every tile.
  it.each([
    { wgX: 8, wgY: 8, tm: 16, tn: 8, tk: 8, shared: false, ku: 4 },
    { wgX: 16, wgY: 4, tm: 2, tn: 4, tk: 8, shared: false, ku: 3 },
    { wgX: 4, wgY: 8, tm: 8, tn: 16, tk: 16, shared: true, ku: 16 },
    { wgX: 8, wgY: 4, tm: 4, tn: 8, tk: 8, shared: true, ku: 4 },
  ])('matmul %o with an epilogue: emulation matches, nvcc compiles it clean', async (schedule) => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(2, 37, 29)), w = g.input('w', 'f32', sh(29, 45)), bias = g.input('bias', 'f32', sh(45));
    const y = g.unary('gelu', g.binary('add', g.matmul(x, w), bias));
    const values = new Map([['x', hostTensor('f32', [2, 37, 29], rand(2 * 37 * 29, 7))], ['w', hostTensor('f32', [29, 45], rand(29 * 45, 8))], ['bias', hostTensor('f32', [45], rand(45, 9))]]);
    const r = await checkGraph({ inputs: [x, w, bias] as never, outputs: [{ name: 'y', node: y }] as never, values }, { matmulSchedule: schedule });
    expect(r.compiled.plan.kernels.some((k) => k.kind === 'matmul' && k.schedule.ku === schedule.ku && k.schedule.tm === schedule.tm)).toBe(true);
    for (const c of r.cmp) expect(c.maxErr, c.name).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    await nvccClean(r.compiled.source);
  }, 300_000);

  // Subgroup broadcast of A (warp shuffles; the emulation runs __shfl_sync with 32-lane warps): K 29 is three
  // chunks of 8 and a tail of 5, or one chunk of 16 and a tail of 13; M and N ragged against the tiles.
  it.each([
    { wgX: 32, wgY: 1, tm: 4, tn: 2, tk: 8, shared: false, sg: 8 },
    { wgX: 64, wgY: 1, tm: 2, tn: 1, tk: 8, shared: false, sg: 16 },
  ])('subgroup matmul %o with an epilogue: emulation matches, nvcc compiles it clean', async (schedule) => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(2, 37, 29)), w = g.input('w', 'f32', sh(29, 45)), bias = g.input('bias', 'f32', sh(45));
    const y = g.unary('gelu', g.binary('add', g.matmul(x, w), bias));
    const values = new Map([['x', hostTensor('f32', [2, 37, 29], rand(2 * 37 * 29, 7))], ['w', hostTensor('f32', [29, 45], rand(29 * 45, 8))], ['bias', hostTensor('f32', [45], rand(45, 9))]]);
    const r = await checkGraph({ inputs: [x, w, bias] as never, outputs: [{ name: 'y', node: y }] as never, values }, { matmulSchedule: schedule });
    expect(r.compiled.source).toContain('__shfl_sync(0xffffffffu, ');
    for (const c of r.cmp) expect(c.maxErr, c.name).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    await nvccClean(r.compiled.source);
  }, 300_000);
});
