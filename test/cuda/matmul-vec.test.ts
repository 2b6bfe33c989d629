/**
 * The vec4 matmul family (float4 loads and stores, src/ir/kernel-build.ts buildMatmulVec) on the CUDA CPU
 * emulation vs the interpreter: aligned layouts, B read along K, a K mod 4 tail, batches, fused epilogues,
 * ragged sizes, and symbolic dims whose alignment is tested at run time (vector path and scalar fallback).
 * nvcc compiles every variant for sm_90 without warnings where it exists.
 */
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { MatmulSchedule } from '../../src/ir/kernel.js';
import { nvccAvailable, nvccCompile } from '../../src/runtime/cuda/nvcc.js';
import { checkGraph, rand } from './numeric-helpers.js';

const sh = (...n: number[]) => n.map(dimConst);
const schedules: MatmulSchedule[] = [
  { wgX: 4, wgY: 4, tm: 2, tn: 4, tk: 8, shared: false, vec: true },
  { wgX: 8, wgY: 8, tm: 8, tn: 8, tk: 8, shared: false, vec: true },
  { wgX: 4, wgY: 8, tm: 4, tn: 8, tk: 16, shared: true, ku: 4, vec: true },
  { wgX: 16, wgY: 1, tm: 8, tn: 4, tk: 8, shared: false, vec: true },      // one row of invocations: lid.y is 0
];

describe('vec4 matmul on the CUDA emulation vs the interpreter', () => {
  it.each(schedules)('schedule %o: aligned, transposed B, K tail, batch, ragged, epilogues', async (schedule) => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(2, 36, 20)), w = g.input('w', 'f32', sh(20, 44)), bias = g.input('bias', 'f32', sh(44));
    const q = g.input('q', 'f32', sh(3, 13, 24)), kt = g.input('kt', 'f32', sh(3, 20, 24));
    const y = g.input('y', 'f32', sh(9, 22)), w3 = g.input('w3', 'f32', sh(22, 12));
    const r1 = g.input('r1', 'f32', sh(37, 19)), r2 = g.input('r2', 'f32', sh(19, 29));
    const outputs = [
      { name: 'aligned', node: g.unary('gelu', g.binary('add', g.matmul(x, w), bias)) },
      { name: 'trans_b', node: g.binary('mul', g.matmul(q, g.permute(kt, [0, 2, 1])), g.const(0.5)) },
      { name: 'tail', node: g.matmul(y, w3) },
      { name: 'ragged', node: g.matmul(r1, r2) },
    ];
    const t = (name: string, shape: number[], seed: number) => [name, hostTensor('f32', shape, rand(shape.reduce((a, b) => a * b, 1), seed))] as const;
    const values = new Map([t('x', [2, 36, 20], 1), t('w', [20, 44], 2), t('bias', [44], 3), t('q', [3, 13, 24], 4), t('kt', [3, 20, 24], 5),
      t('y', [9, 22], 6), t('w3', [22, 12], 7), t('r1', [37, 19], 8), t('r2', [19, 29], 9)]);
    const r = await checkGraph({ inputs: [x, w, bias, q, kt, y, w3, r1, r2] as never, outputs, values }, { matmulSchedule: schedule });
    expect(r.compiled.source).toContain('*reinterpret_cast<const float4*>(g');
    expect(r.compiled.source).toContain('= make_float4(');
    for (const c of r.cmp) expect(c.maxErr, c.name).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    await nvccClean(r.compiled.source);
  }, 300_000);

  it('symbolic dims: the vector path where aligned, the scalar fallback where not', async () => {
    const [S, D, E] = ['S', 'D', 'E'].map(dimSym) as [Dim, Dim, Dim];
    for (const [s, d, e] of [[11, 24, 16], [5, 23, 18], [3, 4, 4]] as const) {
      const g = new Builder();
      const x = g.input('x', 'f32', [dimConst(2), S, D]), w = g.input('w', 'f32', [D, E]), bias = g.input('bias', 'f32', [E]);
      const values = new Map([['x', hostTensor('f32', [2, s, d], rand(2 * s * d, s))], ['w', hostTensor('f32', [d, e], rand(d * e, d))], ['bias', hostTensor('f32', [e], rand(e, e))]]);
      const r = await checkGraph({ inputs: [x, w, bias] as never, outputs: [{ name: 'y', node: g.unary('silu', g.binary('add', g.matmul(x, w), bias)) }], values, symbols: ['S', 'D', 'E'] },
        { matmulSchedule: schedules[0]! });
      expect(r.compiled.source).toMatch(/% 4\) == 0\)/);
      for (const c of r.cmp) expect(c.maxErr, `${s}x${d}x${e}`).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    }
  }, 300_000);
});

async function nvccClean(source: string): Promise<void> {
  if (!nvccAvailable()) return;
  const r = await nvccCompile(source, { arch: 'sm_90' });
  expect(r.errors).toEqual([]);
  expect(r.warnings).toEqual([]);
}

describe('vec4 matmul under AddressSanitizer (the emulation allocates buffers at their exact size)', () => {
  // Every kind (register, B read along K, workgroup memory, one row) at sizes that take the vector path, the
  // scalar fallback, and empty operands: no read or write past a buffer, whatever the dims.
  const kinds: MatmulSchedule[] = [schedules[1]!, schedules[2]!, schedules[3]!];
  it.each(kinds)('schedule %o: aligned, ragged and size-1 dims run clean and match', async (schedule) => {
    const [S, D, E] = ['S', 'D', 'E'].map(dimSym) as [Dim, Dim, Dim];
    for (const [s, d, e] of [[9, 24, 16], [5, 23, 18], [1, 4, 4], [3, 4, 1]] as const) {
      const g = new Builder();
      const x = g.input('x', 'f32', [S, D]), w = g.input('w', 'f32', [D, E]), kt = g.input('kt', 'f32', [E, D]);
      const values = new Map([['x', hostTensor('f32', [s, d], rand(s * d, s + 1))], ['w', hostTensor('f32', [d, e], rand(d * e, d))], ['kt', hostTensor('f32', [e, d], rand(e * d, e + 2))]]);
      const outputs = [{ name: 'y', node: g.matmul(x, w) }, { name: 'qk', node: g.matmul(x, g.permute(kt, [1, 0])) }];
      const r = await checkGraph({ inputs: [x, w, kt] as never, outputs, values, symbols: ['S', 'D', 'E'] }, { matmulSchedule: schedule }, { sanitize: 'address' });
      for (const c of r.cmp) expect(c.maxErr, `${c.name} ${s}x${d}x${e}`).toBeLessThanOrEqual(1e-4 * Math.max(1, c.scale));
    }
  }, 600_000);
});
