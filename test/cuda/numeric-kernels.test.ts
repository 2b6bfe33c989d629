/**
 * Each kernel template of the CUDA renderer, emulated on the CPU, against the reference interpreter: small
 * graphs built with the Builder, sizes chosen to be ragged against every tile and block size.
 * Each case is one entry (one g++ build of the emulation), so several ops share a case.
 */
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { BinaryOp, IExpr, Node } from '../../src/ir/graph.js';
import { checkGraph, rand } from './numeric-helpers.js';

const c = dimConst;
const sh = (...n: number[]) => n.map(dimConst);
const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const int = (v: number): IExpr => ({ k: 'const', v, dtype: 'i32' });
const iload = (src: number, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype: 'i32' });
const ibin = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });
const T = 120_000;

describe('CUDA map kernels on the CPU emulation vs the interpreter', () => {
  it('broadcast, permute, gather, concat, compute with integer division by zero, bool and int outputs', async () => {
    const g = new Builder();
    const Bd = dimSym('B'), Sd = dimSym('S');
    const x = g.input('x', 'f32', [Bd, Sd, c(6)]);
    const bias = g.input('bias', 'f32', sh(6));
    const ids = g.input('ids', 'i32', [Bd, Sd]);
    const table = g.input('table', 'f32', sh(11, 6));
    const den = g.input('den', 'i32', [Sd]);
    const bcast = g.unary('silu', g.binary('add', x, bias));                                   // [B, S, 6] + [6]
    const perm = g.binary('mul', g.permute(x, [2, 0, 1]), g.const(0.5));                       // [6, B, S]
    const gath = g.binary('sub', g.gather(table, ids), x);                                    // ids clamped into [0, 11)
    const cat = g.concat([g.unary('exp', x), g.slice(x, 2, c(1), c(3)), g.unary('neg', x)], 2); // [B, S, 15]
    // (i1 * 7 - 20) / den[i1] and % den[i1]: negative dividends, and den has zeros (x / 0 = 0 by definition).
    const num = ibin('sub', ibin('mul', idx(1), int(7)), int(20));
    const q = g.compute('i32', [Bd, Sd], [den], ibin('add', ibin('mul', ibin('div', num, iload(0, idx(1))), int(1000)), ibin('mod', num, iload(0, idx(1)))));
    const cmp = g.binary('gt', x, g.const(0.25));                                             // bool output
    const B = 2, S = 7;
    const values = new Map([
      ['x', hostTensor('f32', [B, S, 6], rand(B * S * 6, 1))],
      ['bias', hostTensor('f32', [6], rand(6, 2))],
      ['ids', hostTensor('i32', [B, S], [0, 3, 10, 12, -4, 5, 7, 1, 2, 9, 8, 6, 4, 11])],
      ['table', hostTensor('f32', [11, 6], rand(66, 3))],
      ['den', hostTensor('i32', [S], [3, 0, -2, 5, 0, 7, -1])],
    ]);
    const { compiled, cmp: res } = await checkGraph({
      inputs: [x, bias, ids, table, den], values, symbols: ['B', 'S'],
      outputs: [{ name: 'bcast', node: bcast }, { name: 'perm', node: perm }, { name: 'gath', node: gath }, { name: 'cat', node: cat },
        { name: 'q', node: q }, { name: 'cmp', node: cmp }],
    });
    expect(compiled.plan.kernels.every((k) => k.kind === 'map')).toBe(true);
    expect(compiled.source).toContain('tfx_idiv(');
    expect(res.map((r) => r.n)).toEqual([84, 84, 84, 210, 14, 84]);
  }, T);
});

describe('CUDA row kernels on the CPU emulation vs the interpreter', () => {
  it('sum/max/min/mean over non-last axes, softmax on a middle axis, log_softmax, rmsnorm, layernorm', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(3, 5, 70));          // 70: one row is longer than a 64-thread block
    const xi = g.input('xi', 'i32', sh(4, 9));
    const w = g.input('w', 'f32', sh(70)), b = g.input('b', 'f32', sh(70));
    const outs: [string, Node][] = [
      ['sum02', g.reduce('sum', x, [0, 2])],
      ['max0', g.reduce('max', x, [0])],
      ['mean1', g.reduce('mean', g.unary('exp', x), [1])],
      ['min_int', g.reduce('min', xi, [0])],
      ['sum_int', g.reduce('sum', xi, [1])],
      ['softmax1', g.softmax(x, 1)],
      ['logsoftmax', g.softmax(g.binary('mul', x, g.const(4)), -1, true)],
      ['rms', g.rmsnorm(x, w, 1e-5)],
      ['ln', g.layernorm(x, w, b, 1e-5)],
    ];
    const values = new Map([
      ['x', hostTensor('f32', [3, 5, 70], rand(1050, 5, 3))],
      ['xi', hostTensor('i32', [4, 9], Array.from({ length: 36 }, (_, i) => ((i * 37) % 23) - 11))],
      ['w', hostTensor('f32', [70], rand(70, 6))],
      ['b', hostTensor('f32', [70], rand(70, 7))],
    ]);
    const { compiled } = await checkGraph({ inputs: [x, xi, w, b], values, outputs: outs.map(([name, node]) => ({ name, node })) });
    expect(compiled.plan.kernels.filter((k) => k.kind === 'row').length).toBe(outs.length);
    // The same tree reduction in workgroup memory as on WebGPU (one kernel IR for both targets).
    expect(compiled.source).toContain('__shared__ float sh_f32[');
  }, T);
});

describe('CUDA matmul kernels on the CPU emulation vs the interpreter', () => {
  const build = () => {
    const g = new Builder();
    const Md = dimSym('M');
    const a = g.input('a', 'f32', [c(2), Md, c(19)]);
    const bm = g.input('b', 'f32', sh(19, 29));
    const bias = g.input('bias', 'f32', sh(29));
    const res = g.input('res', 'f32', [c(2), Md, c(29)]);
    // Epilogue: bias, gelu, residual. Plus a batched matmul with both operands batched and a plain one.
    const epi = g.binary('add', g.unary('gelu', g.binary('add', g.matmul(a, bm), bias)), res);
    const b2 = g.input('b2', 'f32', sh(19, 29));
    const bb = g.input('bb', 'f32', [c(2), c(29), c(5)]);
    const batched = g.matmul(g.matmul(a, b2), bb);
    const M = 37;
    const values = new Map([
      ['a', hostTensor('f32', [2, M, 19], rand(2 * M * 19, 11))],
      ['b', hostTensor('f32', [19, 29], rand(19 * 29, 12))],
      ['bias', hostTensor('f32', [29], rand(29, 13))],
      ['res', hostTensor('f32', [2, M, 29], rand(2 * M * 29, 14))],
      ['b2', hostTensor('f32', [19, 29], rand(19 * 29, 16))],
      ['bb', hostTensor('f32', [2, 29, 5], rand(2 * 29 * 5, 15))],
    ]);
    return { inputs: [a, bm, bias, res, b2, bb], values, symbols: ['M'], outputs: [{ name: 'epi', node: epi }, { name: 'batched', node: batched }] };
  };

  it('sizes not divisible by the tile (37 x 29 x 19), fused bias + gelu + residual epilogue, batched', async () => {
    const { compiled } = await checkGraph(build());
    const mm = compiled.plan.kernels.filter((k) => k.kind === 'matmul');
    expect(mm.length).toBe(3);
    expect(mm.some((k) => k.label.includes('gelu'))).toBe(true);
  }, T);

  it('the same with another schedule (4 x 2 threads, 3 x 2 per thread)', async () => {
    const { compiled } = await checkGraph(build(), { matmulSchedule: { wgX: 4, wgY: 2, tm: 3, tn: 2, tk: 8, shared: false } });
    expect(compiled.kernels.find((k) => k.name.includes('matmul'))!.block).toEqual([4, 2, 1]);
  }, T);
});

describe('CUDA attention on the CPU emulation vs the interpreter', () => {
  // GQA 4 query heads over 2 KV heads, D = 8 but Dv = 12, 37 positions (ragged against 16-wide tiles).
  // mask: strictly causal and within len[b]: row q = 0 sees no key at all, and batch 1 (len 0) is fully masked.
  const [B, Hq, Hkv, S, D, Dv] = [3, 4, 2, 37, 8, 12];
  const build = () => {
    const g = new Builder();
    const Sd = dimSym('S');
    const q = g.input('q', 'f32', [c(B), c(Hq), Sd, c(D)]);
    const k = g.input('k', 'f32', [c(B), c(Hkv), Sd, c(D)]);
    const v = g.input('v', 'f32', [c(B), c(Hkv), Sd, c(Dv)]);
    const len = g.input('len', 'i32', sh(B));
    const mask = bool('and', bool('lt', idx(2), idx(1)), bool('lt', idx(2), iload(0, idx(0))));
    const att = g.attention(q, k, v, [len], mask, 'causal_len', 1 / Math.sqrt(D));
    // Cross attention with no mask and fewer queries than keys.
    const q2 = g.input('q2', 'f32', [c(1), c(Hq), c(20), c(D)]);
    const k2 = g.slice(k, 0, c(0), c(1)), v2 = g.slice(v, 0, c(0), c(1));
    const cross = g.attention(q2, k2, v2, [], null, 'none', 0.3);
    const values = new Map([
      ['q', hostTensor('f32', [B, Hq, S, D], rand(B * Hq * S * D, 21, 2))],
      ['k', hostTensor('f32', [B, Hkv, S, D], rand(B * Hkv * S * D, 22, 2))],
      ['v', hostTensor('f32', [B, Hkv, S, Dv], rand(B * Hkv * S * Dv, 23))],
      ['len', hostTensor('i32', [B], [S, 0, 20])],
      ['q2', hostTensor('f32', [1, Hq, 20, D], rand(Hq * 20 * D, 24, 2))],
    ]);
    return { inputs: [q, k, v, len, q2], values, symbols: ['S'], outputs: [{ name: 'att', node: att }, { name: 'cross', node: cross }] };
  };

  for (const [what, opts] of [
    ['fused, block-sparse tile map', { attention: 'fused', attentionSchedule: { bq: 16, bk: 16, sparse: true } }],
    ['fused, dense, 8 x 8 tiles', { attention: 'fused', attentionSchedule: { bq: 8, bk: 8, sparse: false } }],
    ['unfused (QK^T, masked softmax, PV)', { attention: 'unfused' }],
  ] as const) {
    it(`GQA, causal + length mask, fully masked rows give zeros: ${what}`, async () => {
      const { compiled, run } = await checkGraph(build(), opts);
      const att = run.outputs.get('att')!.data;
      // Fully masked: every row of batch 1 and row q = 0 of every (batch, head).
      expect(att.subarray(Hq * S * Dv, 2 * Hq * S * Dv).every((x) => x === 0)).toBe(true);
      expect(att.subarray(0, Dv).every((x) => x === 0)).toBe(true);
      expect(att.subarray(Dv, 2 * Dv).some((x) => x !== 0)).toBe(true);
      const fused = compiled.plan.kernels.filter((k) => k.kind === 'attention');
      expect(fused.length).toBe(opts.attention === 'fused' ? 2 : 0);
      if (opts.attention === 'fused' && opts.attentionSchedule.sparse) {
        expect(run.tileCounts.length).toBe(1);
        expect(run.tileCounts[0]!.empty).toBeGreaterThan(0);
        expect(run.tileCounts[0]!.full).toBeGreaterThan(0);
      } else expect(run.tileCounts.length).toBe(0);
    }, T);
  }
});
