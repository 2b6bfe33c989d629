/**
 * Property tests of the WebGPU kernels against the interpreter on random shapes and random attention layouts.
 * Every run compiles shaders on lavapipe, so runs are few (15-20 per property) and shrinking is off
 * (`endOnFailure`): the first counterexample is reported as found. The attention property uses symbolic B and
 * S so its shaders do not depend on the layout and are compiled once per (head dim, schedule, mask) variant.
 *
 * Tolerances as in test/numeric (REL = 1e-4 of max(1, max |ref|)); 2e-4 where exp is involved.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { IExpr } from '../../src/ir/graph.js';
import type { MatmulSchedule } from '../../src/ir/kernel.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { checkSubgroups, createPipelineChecked } from '../../src/runtime/webgpu/check.js';
import { compileEntry } from '../../src/runtime/webgpu/program.js';
import {
  boolOp, checkProgram, expectClose, gpu, ix, loadI, programOf, randTensor, runBoth, transfusionMask,
} from '../numeric/helpers.js';

const TRANS = 2e-4;
const opts = (numRuns: number) => ({ numRuns, endOnFailure: true });
/**
 * Symbolic dims (bound from the input shapes at run time) keep the generated code independent of the sizes,
 * so shaders compile once per rank / axes / broadcast pattern instead of once per draw; the constant-size
 * path is covered by test/numeric/kernels-webgpu.test.ts. Broadcast dims stay the constant 1.
 */
const sym = (shape: readonly number[], prefix: string, ones: readonly boolean[] = []): Dim[] =>
  shape.map((_, i) => (ones[i] ? dimConst(1) : dimSym(`${prefix}${i}`)));

afterAll(async () => { await closeGpu(); });

/** Ranks 1..4, dims 1..70, total size capped (halving the largest dim) so runs stay fast. */
const shapeArb = (maxRank = 4, cap = 8000) => fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: maxRank }).map((s) => {
  const out = [...s];
  while (out.reduce((a, b) => a * b, 1) > cap) { const i = out.indexOf(Math.max(...out)); out[i] = Math.ceil(out[i]! / 2); }
  return out;
});

describe('random shapes', () => {
  it('elementwise chains with broadcasting', async () => {
    const arb = shapeArb().chain((shape) => fc.record({
      shape: fc.constant(shape),
      keep: fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
      drop: fc.integer({ min: 0, max: shape.length - 1 }),
      seed: fc.integer({ min: 1, max: 1e6 }),
    }));
    await fc.assert(fc.asyncProperty(arb, async ({ shape, keep, drop, seed }) => {
      const yShape = shape.map((d, i) => (keep[i] ? d : 1)).slice(drop);
      const g = new Builder();
      const xs = sym(shape, 'd');
      const x = g.input('x', 'f32', xs), y = g.input('y', 'f32', sym(shape, 'd', keep.map((k) => !k)).slice(drop));
      const prod = g.binary('mul', x, y);
      const out = {
        ew: g.where(g.binary('gt', x, y), g.binary('add', prod, g.const(0.25)), g.unary('exp', g.unary('neg', g.unary('abs', y)))),
        bcast: g.binary('sub', g.expand(y, xs), g.unary('silu', x)),
        cmp: g.binary('le', y, x),
      };
      await checkProgram(programOf(out), new Map([['x', randTensor('f32', shape, seed)], ['y', randTensor('f32', yShape, seed + 1)]]), new Map(), {}, { ew: TRANS, bcast: TRANS });
    }), opts(15));
  });

  it('reductions over random axes', async () => {
    const arb = shapeArb().chain((shape) => fc.record({
      shape: fc.constant(shape),
      axes: fc.subarray(shape.map((_, i) => i), { minLength: 1 }),
      kind: fc.constantFrom('sum' as const, 'max' as const, 'min' as const, 'mean' as const),
      seed: fc.integer({ min: 1, max: 1e6 }),
    }));
    await fc.assert(fc.asyncProperty(arb, async ({ shape, axes, kind, seed }) => {
      const g = new Builder();
      const x = g.input('x', 'f32', sym(shape, 'd'));
      const out = { r: g.reduce(kind, g.binary('mul', x, g.const(3)), axes) };
      await checkProgram(programOf(out), new Map([['x', randTensor('f32', shape, seed)]]));
    }), opts(15));
  });

  it('softmax and log_softmax over a random axis', async () => {
    const arb = shapeArb(3).chain((shape) => fc.record({
      shape: fc.constant(shape), axis: fc.integer({ min: 0, max: shape.length - 1 }), log: fc.boolean(), seed: fc.integer({ min: 1, max: 1e6 }),
    }));
    await fc.assert(fc.asyncProperty(arb, async ({ shape, axis, log, seed }) => {
      const g = new Builder();
      const x = g.input('x', 'f32', sym(shape, 'd'));
      await checkProgram(programOf({ s: g.softmax(x, axis, log) }), new Map([['x', randTensor('f32', shape, seed, -4, 4)]]), new Map(), {}, { s: TRANS });
    }), opts(15));
  });

  const schedules: MatmulSchedule[] = [
    { wgX: 8, wgY: 8, tm: 4, tn: 4, tk: 8, shared: false },
    { wgX: 4, wgY: 16, tm: 2, tn: 1, tk: 4, shared: false },
    { wgX: 16, wgY: 4, tm: 1, tn: 8, tk: 8, shared: true },
  ];
  it('matmul: M, N, K in 1..70, broadcast batch dims, random schedule', async () => {
    const dim = fc.integer({ min: 1, max: 70 });
    const arb = fc.record({
      M: dim, N: dim, K: dim,
      batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      aKeep: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }), bKeep: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      sched: fc.integer({ min: 0, max: schedules.length - 1 }), seed: fc.integer({ min: 1, max: 1e6 }),
    });
    await fc.assert(fc.asyncProperty(arb, async ({ M, N, K, batch, aKeep, bKeep, sched, seed }) => {
      const aB = batch.map((d, i) => (aKeep[i] ? d : 1)), bB = batch.map((d, i) => (bKeep[i] ? d : 1));
      const bDrop = bKeep[0] ? 0 : 1;
      const g = new Builder();
      const [Md, Nd, Kd] = [dimSym('M'), dimSym('N'), dimSym('K')];
      const a = g.input('a', 'f32', [...sym(batch, 'b', aKeep.map((k) => !k)), Md, Kd]);
      const b = g.input('b', 'f32', [...sym(batch, 'b', bKeep.map((k) => !k)).slice(bDrop), Kd, Nd]);
      const out = { mm: g.matmul(a, b), epi: g.binary('add', g.matmul(a, b), g.const(1)) };
      await checkProgram(programOf(out), new Map([['a', randTensor('f32', [...aB, M, K], seed)], ['b', randTensor('f32', [...bB.slice(bDrop), K, N], seed + 1)]]),
        new Map(), { matmulSchedule: schedules[sched]! });
    }), opts(15));
  });

  // The tuner's larger families (src/ir/schedule.ts): 16x8 and 8x16 register tiles, the K loop unrolled (with a
  // remainder: ku 3 and 4 against random K), workgroup-memory tiles with the tk loop unrolled. Each one on random
  // ragged sizes with a fused epilogue: no out-of-bounds read or write shows up as a wrong or NaN element.
  const big: MatmulSchedule[] = [
    { wgX: 8, wgY: 8, tm: 16, tn: 8, tk: 8, shared: false, ku: 4 },
    { wgX: 16, wgY: 4, tm: 2, tn: 4, tk: 8, shared: false, ku: 3 },
    { wgX: 4, wgY: 8, tm: 8, tn: 16, tk: 16, shared: true, ku: 16 },
    { wgX: 8, wgY: 4, tm: 4, tn: 8, tk: 8, shared: true, ku: 4 },
  ];
  it.each(big.map((s) => [JSON.stringify(s), s] as const))('matmul %s: random M, N, K in 1..150 with an epilogue', async (_, schedule) => {
    const dim = fc.integer({ min: 1, max: 150 });
    await fc.assert(fc.asyncProperty(fc.record({ M: dim, N: dim, K: dim, seed: fc.integer({ min: 1, max: 1e6 }) }), async ({ M, N, K, seed }) => {
      const g = new Builder();
      const a = g.input('a', 'f32', [dimSym('M'), dimSym('K')]), b = g.input('b', 'f32', [dimSym('K'), dimSym('N')]);
      const out = { epi: g.unary('gelu', g.binary('add', g.matmul(a, b), g.const(0.5))) };
      await checkProgram(programOf(out), new Map([['a', randTensor('f32', [M, K], seed)], ['b', randTensor('f32', [K, N], seed + 1)]]),
        new Map(), { matmulSchedule: schedule }, { epi: TRANS });
    }), opts(4));
  });

  // Subgroup broadcast of A (src/ir/kernel-build.ts, subgroupSteps): chunks of 4 and 8 k-values against random
  // K (the K mod sg tail), ragged M and N, a fused epilogue. The device opens with 'subgroups' when the adapter
  // has it (lavapipe: 8 lanes); the chunk must fit the smallest subgroup, the workgroup fill the largest.
  const sgs: MatmulSchedule[] = [
    { wgX: 16, wgY: 1, tm: 4, tn: 4, tk: 8, shared: false, sg: 8 },
    { wgX: 32, wgY: 1, tm: 8, tn: 2, tk: 8, shared: false, sg: 4 },
  ];
  it.each(sgs.map((s) => [JSON.stringify(s), s] as const))('subgroup matmul %s: random M, N, K in 1..150 with an epilogue', async (_, schedule) => {
    const ctx = await gpu();
    expect(ctx.limits.subgroupMaxSize, 'lavapipe exposes subgroups; this test is about them').toBeGreaterThan(0);
    expect(schedule.sg!).toBeLessThanOrEqual(ctx.limits.subgroupMinSize);
    const dim = fc.integer({ min: 1, max: 150 });
    await fc.assert(fc.asyncProperty(fc.record({ M: dim, N: dim, K: dim, seed: fc.integer({ min: 1, max: 1e6 }) }), async ({ M, N, K, seed }) => {
      const g = new Builder();
      const a = g.input('a', 'f32', [dimSym('M'), dimSym('K')]), b = g.input('b', 'f32', [dimSym('K'), dimSym('N')]);
      const out = { epi: g.unary('gelu', g.binary('add', g.matmul(a, b), g.const(0.5))) };
      // The schedule reached the kernel: its WGSL broadcasts.
      expect(compileEntry(programOf(out), 'main', { matmulSchedule: schedule }).kernels.some((k) => k.code.includes('subgroupBroadcast('))).toBe(true);
      await checkProgram(programOf(out), new Map([['a', randTensor('f32', [M, K], seed)], ['b', randTensor('f32', [K, N], seed + 1)]]),
        new Map(), { matmulSchedule: schedule }, { epi: TRANS });
    }), opts(5));
  });

  it('a subgroup kernel on a device without subgroups (or with smaller ones) is TFX7005, before Dawn sees it', async () => {
    const ctx = await gpu();
    const g = new Builder();
    const out = { mm: g.matmul(g.input('a', 'f32', [dimSym('M'), dimSym('K')]), g.input('b', 'f32', [dimSym('K'), dimSym('N')])) };
    const code = compileEntry(programOf(out), 'main', { matmulSchedule: sgs[0]! }).kernels[0]!.code;
    expect(code).toMatch(/^enable subgroups;$/m);
    const none = { ...ctx, limits: { ...ctx.limits, subgroupMinSize: 0, subgroupMaxSize: 0 } };
    await expect(createPipelineChecked(none, code, 'main')).rejects.toMatchObject({ code: 'TFX7005', message: expect.stringMatching(/no subgroups/) });
    const small = { ...ctx, limits: { ...ctx.limits, subgroupMinSize: 4, subgroupMaxSize: 64 } };
    expect(() => checkSubgroups(small, code, 'k')).toThrow(/at least 8 lanes/);
    expect(() => checkSubgroups({ limits: { ...ctx.limits, subgroupMinSize: 8, subgroupMaxSize: 32 } }, code, 'k')).toThrow(/not a multiple/);
    expect(() => checkSubgroups({ limits: { ...ctx.limits, subgroupMinSize: 8, subgroupMaxSize: 16 } }, code, 'k')).not.toThrow();
  });
});

/** One random mixed-modality batch: per sequence a length (0..S) and 0..4 images laid out left to right. */
const layoutArb = fc.record({
  S: fc.integer({ min: 9, max: 70 }),
  seqs: fc.array(fc.record({
    lenFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    images: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 12 }), size: fc.integer({ min: 1, max: 16 }) }), { maxLength: 4 }),
  }), { minLength: 1, maxLength: 3 }),
});
interface Layout { S: number; B: number; len: number[]; img: number[] }
type LayoutDraw = typeof layoutArb extends fc.Arbitrary<infer T> ? T : never;
function layout(l: LayoutDraw): Layout {
  const { S } = l;
  const len: number[] = [], img: number[] = [];
  for (const s of l.seqs) {
    len.push(Math.round(s.lenFrac * S));
    const row = new Array<number>(S).fill(-1);
    let pos = 0;
    s.images.forEach((im, j) => {
      pos += im.gap;
      for (let p = 0; p < im.size && pos < S; p++) row[pos++] = j;
    });
    img.push(...row);
  }
  return { S, B: l.seqs.length, len, img };
}
/** Queries in the padding see nothing either: their rows must come out as zeros. */
const paddedQueries: IExpr = boolOp('and', transfusionMask, boolOp('lt', ix(1), loadI(0, ix(0))));

describe('attention with random Transfusion layouts', () => {
  // Shader variants [D, sparse, padQ, bq, bk, rows, gqa, lanes]: the staged kind (rows 1) and the register-tiled rows
  // kind (bq 12 / rows 3: not a power of two; gqa: both query heads of the KV head in one workgroup; lanes: the head
  // dim split over 4 or 8 invocations, with rows or alone, with gqa), head dims 16..128. A fixed short list, so the
  // 20 random layouts compile 9 shaders, not 20 (compiling dominates this test on lavapipe).
  const variants: [number, boolean, boolean, number, number, number, boolean, number][] = [
    [64, true, true, 16, 16, 1, false, 1], [128, false, false, 8, 16, 1, false, 1], [16, true, true, 64, 16, 8, false, 1],
    [40, true, false, 32, 8, 4, false, 1], [128, false, true, 12, 8, 3, false, 1], [64, true, false, 32, 16, 8, true, 1],
    [64, true, true, 32, 16, 4, false, 4], [40, false, false, 8, 12, 1, false, 8], [64, true, false, 12, 8, 6, true, 2],
  ];
  it('fused (sparse and dense, both kinds, head dims 16..128) equals the interpreter; fully masked rows are zeros', { timeout: 600_000 }, async () => {
    const arb = fc.record({ layout: layoutArb, variant: fc.constantFrom(...variants), seed: fc.integer({ min: 1, max: 1e6 }) });
    await fc.assert(fc.asyncProperty(arb, async ({ layout: la, variant, seed }) => {
      const [D, sparse, padQ, bq, bk, rows, gqa, lanes] = variant;
      const tile = [bq, bk, rows, gqa, lanes];
      const L = layout(la);
      const [Hq, Hkv] = [2, 1];
      const Bd = dimSym('B'), Sd = dimSym('S');
      const g = new Builder();
      const len = g.input('len', 'i32', [Bd]), img = g.input('img', 'i32', [Bd, Sd]);
      const q = g.input('q', 'f32', [Bd, dimConst(Hq), Sd, dimConst(D)]);
      const k = g.input('k', 'f32', [Bd, dimConst(Hkv), Sd, dimConst(D)]);
      const v = g.input('v', 'f32', [Bd, dimConst(Hkv), Sd, dimConst(D)]);
      const att = g.attention(q, k, v, [len, img], padQ ? paddedQueries : transfusionMask, 'transfusion', 1 / Math.sqrt(D));
      const inputs = new Map([
        ['len', hostTensor('i32', [L.B], L.len)], ['img', hostTensor('i32', [L.B, L.S], L.img)],
        ['q', randTensor('f32', [L.B, Hq, L.S, D], seed, -2, 2)], ['k', randTensor('f32', [L.B, Hkv, L.S, D], seed + 1, -2, 2)],
        ['v', randTensor('f32', [L.B, Hkv, L.S, D], seed + 2)],
      ]);
      const r = await runBoth(programOf({ att }), inputs, new Map(), { attentionSchedule: { bq, bk, sparse, ...rows > 1 ? { rows } : {}, ...gqa ? { gqa } : {}, ...lanes > 1 ? { lanes } : {} } });
      const o = r.outputs.get('att')!;
      expect(o.gpu.data.some(Number.isNaN), 'NaN in the fused output').toBe(false);
      expectClose(o.gpu, o.ref, `attention ${JSON.stringify({ ...L, D, sparse, padQ, tile })}`);
      // Rows with no allowed key (len 0, or padded queries under padQ) are exactly zero.
      for (let b = 0; b < L.B; b++) for (let h = 0; h < Hq; h++) for (let i = 0; i < L.S; i++) {
        if (L.len[b] === 0 || (padQ && i >= L.len[b]!)) {
          const base = ((b * Hq + h) * L.S + i) * D;
          for (let d = 0; d < D; d++) expect(o.gpu.data[base + d]).toBe(0);
        }
      }
    }), opts(20));
  });
});
