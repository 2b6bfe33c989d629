/**
 * Attention shapes of generation, each with its own schedule, against the interpreter:
 * decode (one query row against a KV cache, split-K schedule) and image-block denoising (the n patches of one
 * image as queries against cache + block, row schedule with Sq != Sk). Query positions come in as a tensor, so
 * the masks are ordinary predicates: `k <= qpos[b, q]`, bidirectional inside the block.
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { IExpr } from '../../src/ir/graph.js';
import { lowerGraph, type LowerOptions } from '../../src/ir/lower.js';
import { DEFAULT_ATTENTION_STAGED, scheduleForTarget } from '../../src/ir/schedule.js';
import { WEBGPU_LIMITS } from '../../src/codegen-wgsl/wgsl.js';
import { CUDA_LIMITS } from '../../src/codegen-cuda/cuda.js';
import { boolOp, int, ix, loadI, programOf, randTensor, runBoth } from './helpers.js';

const sh = (...n: number[]) => n.map(dimConst);
// allowed(b, q, k) = k < len[b] && (k <= qpos[b, q] || (qimg[b, q] >= 0 && qimg[b, q] == kimg[b, k]))
const mask: IExpr = boolOp('and', boolOp('lt', ix(2), loadI(0, ix(0))),
  boolOp('or', boolOp('le', ix(2), loadI(1, ix(0), ix(1))),
    boolOp('and', boolOp('ge', loadI(2, ix(0), ix(1)), int(0)), boolOp('eq', loadI(2, ix(0), ix(1)), loadI(3, ix(0), ix(2))))));

function graph(B: number, H: number, Hkv: number, Sq: number, Sk: number, D: number) {
  const b = new Builder();
  const q = b.input('q', 'f32', sh(B, H, Sq, D)), k = b.input('k', 'f32', sh(B, Hkv, Sk, D)), v = b.input('v', 'f32', sh(B, Hkv, Sk, D));
  const len = b.input('len', 'i32', sh(B)), qpos = b.input('qpos', 'i32', sh(B, Sq));
  const qimg = b.input('qimg', 'i32', sh(B, Sq)), kimg = b.input('kimg', 'i32', sh(B, Sk));
  return programOf({ o: b.attention(q, k, v, [len, qpos, qimg, kimg], mask, 'gen', 1 / Math.sqrt(D)) });
}

function inputs(B: number, H: number, Hkv: number, Sq: number, Sk: number, D: number, lens: number[], qpos: number[][], qimg: number[][], kimg: number[][]) {
  return new Map([
    ['q', randTensor('f32', [B, H, Sq, D], 1)], ['k', randTensor('f32', [B, Hkv, Sk, D], 2)], ['v', randTensor('f32', [B, Hkv, Sk, D], 3)],
    ['len', hostTensor('i32', [B], lens)], ['qpos', hostTensor('i32', [B, Sq], qpos.flat())],
    ['qimg', hostTensor('i32', [B, Sq], qimg.flat())], ['kimg', hostTensor('i32', [B, Sk], kimg.flat())],
  ]);
}

describe('attention schedules for generation (WebGPU vs interpreter)', () => {
  it('decode: one query row against a KV cache uses the split-K schedule and matches', async () => {
    const B = 2, H = 4, Hkv = 2, Sk = 301, D = 64;
    const p = graph(B, H, Hkv, 1, Sk, D);
    const plan = lowerGraph(p.entries[0]!, p.symbols);
    const att = plan.kernels.find((k) => k.kind === 'attention');
    expect(att?.kind === 'attention' && att.schedule.splitk).toBeTruthy();
    // Sequence 0 decodes at position 300 (whole cache visible); sequence 1 at 200 with padding at 250.
    const inp = inputs(B, H, Hkv, 1, Sk, D, [301, 250], [[300], [200]], [[-1], [-1]], [new Array(Sk).fill(-1), new Array(Sk).fill(-1)]);
    for (const sparse of [true, false]) {
      const r = await runBoth(p, inp, new Map(), { attentionSchedule: { bq: 1, bk: 16, sparse, splitk: 32 } });
      const o = r.outputs.get('o')!;
      expect(o.maxErr, `sparse=${sparse}`).toBeLessThanOrEqual(1e-4 * Math.max(1, o.maxRef));
      if (sparse) expect(r.run.tileCounts[0]!.empty).toBeGreaterThan(0);
    }
  });

  it('image-block denoising: n patch queries against cache + block, bidirectional inside the block', async () => {
    const B = 1, H = 2, Hkv = 2, n = 36, prefix = 70, Sk = prefix + n, D = 64;
    const p = graph(B, H, Hkv, n, Sk, D);
    const kimg = [Array.from({ length: Sk }, (_, i) => (i >= prefix ? 0 : -1))];
    const inp = inputs(B, H, Hkv, n, Sk, D, [Sk], [Array.from({ length: n }, (_, i) => prefix + i)], [new Array(n).fill(0)], kimg);
    for (const sched of [{ bq: 16, bk: 16, sparse: true }, { bq: 8, bk: 32, sparse: false }, { bq: 1, bk: 16, sparse: true, splitk: 16 }]) {
      const r = await runBoth(p, inp, new Map(), { attentionSchedule: sched });
      const o = r.outputs.get('o')!;
      expect(o.maxErr, JSON.stringify(sched)).toBeLessThanOrEqual(1e-4 * Math.max(1, o.maxRef));
    }
  });
});

describe('matmul schedules (WebGPU vs interpreter)', () => {
  it('register-tiled and workgroup-memory-tiled variants, sizes not divisible by any tile, with a fused epilogue', async () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(2, 37, 45)), w = b.input('w', 'f32', sh(45, 29)), bias = b.input('bias', 'f32', sh(29));
    const p = programOf({ y: b.unary('silu', b.binary('add', b.matmul(x, w), bias)) });
    const inp = new Map([['x', randTensor('f32', [2, 37, 45], 1)], ['w', randTensor('f32', [45, 29], 2)], ['bias', randTensor('f32', [29], 3)]]);
    for (const s of [{ wgX: 8, wgY: 8, tm: 4, tn: 4, tk: 8, shared: true }, { wgX: 4, wgY: 16, tm: 2, tn: 1, tk: 16, shared: true }, { wgX: 16, wgY: 4, tm: 1, tn: 8, tk: 4, shared: false }]) {
      const r = await runBoth(p, inp, new Map(), { matmulSchedule: s });
      const o = r.outputs.get('y')!;
      expect(o.maxErr, JSON.stringify(s)).toBeLessThanOrEqual(1e-4 * Math.max(1, o.maxRef));
    }
  });
});

describe('attention head dims beyond the unrolled kernel (WebGPU vs interpreter)', () => {
  it('head dim 192 with a value dim of 96 takes the loop form, with a key tile shrunk to fit, and matches', async () => {
    const B = 1, H = 2, S = 37, D = 192, Dv = 96;
    const b = new Builder();
    const q = b.input('q', 'f32', sh(B, H, S, D)), k = b.input('k', 'f32', sh(B, H, S, D)), v = b.input('v', 'f32', sh(B, H, S, Dv));
    const causal: IExpr = boolOp('le', ix(2), ix(1));
    const p = programOf({ o: b.attention(q, k, v, [], causal, 'causal', 1 / Math.sqrt(D)) });
    // The scheduling stage fits the target: in the staged kind, 16 KiB of WebGPU workgroup memory holds 8 keys of
    // K and V at these widths, not 16 (CUDA's 48 KiB keeps 16); the default rows kind stages nothing and keeps 16.
    const staged = { attentionSchedule: DEFAULT_ATTENTION_STAGED };
    const fit = (o: LowerOptions, lim: typeof WEBGPU_LIMITS) => scheduleForTarget(lowerGraph(p.entries[0]!, p.symbols, o), lim).kernels.find((x) => x.kind === 'attention');
    const bk = (o: LowerOptions, lim: typeof WEBGPU_LIMITS) => { const a = fit(o, lim); return a?.kind === 'attention' && a.schedule.bk; };
    expect(bk(staged, CUDA_LIMITS)).toBe(16);
    expect(bk(staged, WEBGPU_LIMITS)).toBe(8);
    expect(bk({}, WEBGPU_LIMITS)).toBe(16);
    const inp = new Map([['q', randTensor('f32', [B, H, S, D], 4)], ['k', randTensor('f32', [B, H, S, D], 5)], ['v', randTensor('f32', [B, H, S, Dv], 6)]]);
    for (const opts of [staged, {}]) {
      const o = (await runBoth(p, inp, new Map(), opts)).outputs.get('o')!;
      expect(o.maxErr, JSON.stringify(opts)).toBeLessThanOrEqual(1e-4 * Math.max(1, o.maxRef));
    }
  });
});
