/**
 * The fused flash-attention backward kernel kind (src/ir/kernel-build-attn-bwd.ts) against the interpreter's
 * attention_grad: dq, dk, dv of a GQA attention (4 query heads over 2 KV heads) with a Transfusion-style mask at
 * random layouts (images at random places, padding, a batch of length 0, strictly causal text so query 0 sees
 * nothing: fully masked rows), sequence lengths not divisible by the tiles; through the CUDA CPU emulation
 * (block-sparse and dense schedules, D = Dv = 128; the staged kind and the rows kind with 2..4 rows per
 * invocation) and on WebGPU (both kinds).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { IExpr, Node } from '../../src/ir/graph.js';
import type { LowerOptions } from '../../src/ir/lower.js';
import { Rng } from '../../src/runtime/rng.js';
import { DEFAULT_ATTENTION_BWD_LONG } from '../../src/ir/schedule.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { nvccAvailable, nvccCompile } from '../../src/runtime/cuda/nvcc.js';
import { checkGraph } from '../cuda/numeric-helpers.js';
import { boolOp, int, ix, loadI, programOf, runBoth } from '../numeric/helpers.js';

afterAll(async () => { await closeGpu(); });
const T = 300_000;

/** k < len[b] && (k < q || (img[b,q] >= 0 && img[b,q] == img[b,k])): strict causal text, bidirectional images. */
const mask: IExpr = boolOp('and', boolOp('lt', ix(2), loadI(0, ix(0))),
  boolOp('or', boolOp('lt', ix(2), ix(1)),
    boolOp('and', boolOp('ge', loadI(1, ix(0), ix(1)), int(0)), boolOp('eq', loadI(1, ix(0), ix(1)), loadI(1, ix(0), ix(2))))));

interface Case { B: number; Hq: number; Hkv: number; S: number; D: number; Dv: number; seed: number }

function build(cs: Case) {
  const { B, Hq, Hkv, S, D, Dv } = cs;
  const rng = Rng.seeded(cs.seed);
  const g = new Builder();
  const Sd = dimSym('S'), c = dimConst;
  const q = g.input('q', 'f32', [c(B), c(Hq), Sd, c(D)]);
  const k = g.input('k', 'f32', [c(B), c(Hkv), Sd, c(D)]);
  const v = g.input('v', 'f32', [c(B), c(Hkv), Sd, c(Dv)]);
  const dO = g.input('dO', 'f32', [c(B), c(Hq), Sd, c(Dv)]);
  const len = g.input('len', 'i32', [c(B)]);
  const img = g.input('img', 'i32', [c(B), Sd]);
  const scale = 1 / Math.sqrt(D);
  const o = g.attention(q, k, v, [len, img], mask, 'tm', scale);
  const outputs: Record<string, Node> = {};
  for (const w of ['q', 'k', 'v'] as const) outputs[`d${w}`] = g.attentionGrad(w, q, k, v, o, dO, [len, img], mask, 'tm', scale);
  // Random layouts: a length per batch (batch 1 empty), images (runs of one id) at random places.
  const lens = Array.from({ length: B }, (_, b) => (b === 1 ? 0 : rng.int(Math.ceil(S / 2), S + 1)));
  const imgs = new Int32Array(B * S).fill(-1);
  for (let b = 0; b < B; b++) for (let n = 0; n < 2; n++) {
    const at = rng.int(1, S - 4), l = rng.int(2, 9);
    for (let p = at; p < Math.min(S, at + l); p++) imgs[b * S + p] = n;
  }
  const r = (shape: number[]) => hostTensor('f32', shape, Float32Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => rng.normal()));
  const values = new Map<string, HostTensor>([
    ['q', r([B, Hq, S, D])], ['k', r([B, Hkv, S, D])], ['v', r([B, Hkv, S, Dv])], ['dO', r([B, Hq, S, Dv])],
    ['len', hostTensor('i32', [B], Int32Array.from(lens))], ['img', hostTensor('i32', [B, S], imgs)],
  ]);
  return { inputs: [q, k, v, dO, len, img] as Node<'input'>[], outputs, values };
}

/** Fully masked: every row of batch 1, so dq there is zero, and so are dk, dv of batch 1. */
function checkZeros(cs: Case, out: ReadonlyMap<string, HostTensor>) {
  const { Hq, Hkv, S, D, Dv } = cs;
  const dq = out.get('dq')!.data, dk = out.get('dk')!.data, dv = out.get('dv')!.data;
  expect(dq.subarray(Hq * S * D, 2 * Hq * S * D).every((x) => x === 0)).toBe(true);
  expect(dk.subarray(Hkv * S * D, 2 * Hkv * S * D).every((x) => x === 0)).toBe(true);
  expect(dv.subarray(Hkv * S * Dv, 2 * Hkv * S * Dv).every((x) => x === 0)).toBe(true);
  expect(dq.subarray(0, Hq * S * D).some((x) => x !== 0)).toBe(true);
}

const SMALL: Case = { B: 3, Hq: 4, Hkv: 2, S: 37, D: 8, Dv: 12, seed: 5 };

describe('flash attention backward on the CUDA CPU emulation', () => {
  for (const [what, cs, opts] of [
    ['block-sparse 16 x 16', SMALL, { attentionSchedule: { bq: 16, bk: 16, sparse: true } }],
    ['dense 8 x 16, S 29', { ...SMALL, S: 29, seed: 6 }, { attentionSchedule: { bq: 8, bk: 16, sparse: false } }],
    ['block-sparse, D = Dv = 128, S 21, rows 2 of 8 x 8', { B: 2, Hq: 2, Hkv: 1, S: 21, D: 128, Dv: 128, seed: 7 }, { attentionSchedule: { bq: 8, bk: 8, sparse: true, rows: 2 } }],
    ['rows 4 of 16 x 16, block-sparse', { ...SMALL, seed: 8 }, { attentionSchedule: { bq: 16, bk: 16, sparse: true, rows: 4 } }],
    ['rows 3 of 12 x 12, dense, S 29', { ...SMALL, S: 29, seed: 9 }, { attentionSchedule: { bq: 12, bk: 12, sparse: false, rows: 3 } }],
    ['rows 8 of 64 x 64 (the default for long sequences), block-sparse, S 150', { ...SMALL, S: 150, seed: 10 }, { attentionSchedule: DEFAULT_ATTENTION_BWD_LONG }],
  ] as [string, Case, LowerOptions][]) {
    it(`GQA, random layouts, fully masked rows: ${what}`, async () => {
      const c = build(cs);
      const { compiled, run, cmp } = await checkGraph({ inputs: c.inputs, outputs: Object.entries(c.outputs).map(([name, node]) => ({ name, node })), values: c.values, symbols: ['S'] }, opts);
      const parts = compiled.plan.kernels.filter((k) => k.kind === 'attention_bwd').map((k) => (k as { part: string }).part);
      expect(parts.sort()).toEqual(['dk', 'dq', 'dv', 'stats']);
      checkZeros(cs, run.outputs);
      if (opts.attentionSchedule?.sparse !== false) {
        // One tile map per backward kernel (stats, dq, dk, dv) and the forward's: EMPTY and FULL tiles occur.
        expect(run.tileCounts.length).toBe(5);
        for (const t of run.tileCounts) { expect(t.empty).toBeGreaterThan(0); expect(t.full).toBeGreaterThan(0); }
      } else expect(run.tileCounts.length).toBe(0);
      if (nvccAvailable()) {
        const r = await nvccCompile(compiled.source, { arch: 'sm_90' });
        expect(r.errors).toEqual([]);
        expect(r.ok).toBe(true);
        expect(r.warnings).toEqual([]);
        console.log(`nvcc sm_90 ${what}: ${r.stats.filter((x) => x.kernel.includes('attention_')).map((x) => `${x.kernel} ${x.registers} regs, ${x.spillStores} spill`).join('; ')}`);
      } else console.warn('nvcc not found: the rendered CUDA was not compiled');
      console.log(`cuda emu ${what}: ${cmp.map((x) => `${x.name} err ${x.maxErr.toExponential(2)} / ${x.scale.toFixed(2)}`).join(', ')}`);
    }, T);
  }
});

describe('flash attention backward on WebGPU', () => {
  it.each([
    ['the default schedule (rows kind)', {}],
    ['the staged kind, block-sparse 16 x 16', { attentionSchedule: { bq: 16, bk: 16, sparse: true } }],
    ['the default for long sequences (rows 8 of 64 x 64)', { attentionSchedule: DEFAULT_ATTENTION_BWD_LONG }],
  ] as [string, LowerOptions][])('GQA, random layouts, fully masked rows, S 37: %s', async (_, opts) => {
    const c = build(SMALL);
    const r = await runBoth(programOf(c.outputs), c.values, new Map(), opts);
    expect(r.run.outputs.size).toBe(3);
    for (const x of r.outputs.values()) expect(x.maxErr, `${x.name}: ${x.maxErr} vs ${x.maxRef}`).toBeLessThanOrEqual(1e-4 * Math.max(1, x.maxRef));
    checkZeros(SMALL, r.run.outputs);
    console.log(`webgpu: ${[...r.outputs.values()].map((x) => `${x.name} err ${x.maxErr.toExponential(2)} / ${x.maxRef.toFixed(2)}`).join(', ')}`);
  }, T);
});

describe('fallback where the fused backward does not apply', () => {
  it('head dim 192: decomposeBackward({ fusedAttention }) still decomposes it; 64 is kept', async () => {
    const { decomposeBackward } = await import('../../src/ir/autodiff/decompose.js');
    const { kernelGaps } = await import('../../src/ir/autodiff/grad.js');
    const { graphNodes } = await import('../../src/ir/graph.js');
    for (const [D, kept] of [[192, false], [64, true]] as const) {
      const g = new Builder();
      const sh = (...n: number[]) => n.map(dimConst);
      const q = g.input('q', 'f32', sh(1, 2, 5, D)), k = g.input('k', 'f32', sh(1, 1, 6, D)), v = g.input('v', 'f32', sh(1, 1, 6, 8));
      const dO = g.input('dO', 'f32', sh(1, 2, 5, 8));
      const o = g.attention(q, k, v, [], null, 'none', 0.1);
      const graph = { entry: 'g', inputs: [q, k, v, dO] as Node<'input'>[], outputs: [{ name: 'dk', node: g.attentionGrad('k', q, k, v, o, dO, [], null, 'none', 0.1) }] };
      expect(kernelGaps(graph, { fusedAttention: true }).length).toBe(kept ? 0 : 1);
      const dec = decomposeBackward(graph, {}, { fusedAttention: true });
      expect(graphNodes(dec).some((n) => n.op === 'attention_grad')).toBe(kept);
    }
  });
});
