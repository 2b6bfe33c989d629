/**
 * The vec4 matmul family (schedule `vec`, src/ir/kernel-build.ts buildMatmulVec) on WebGPU (lavapipe) against
 * the interpreter: aligned layouts (A along K, B along N, C along N as vectors), B read along K (a transposed
 * operand), a K mod 4 tail, batches, fused epilogues, sizes ragged against the tiles, layouts that stay scalar,
 * and symbolic dims whose alignment is only known at run time (both the vector path and its scalar fallback).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import type { HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import type { MatmulSchedule } from '../../src/ir/kernel.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { compileEntry } from '../../src/runtime/webgpu/program.js';
import { checkProgram, programOf, randTensor } from './helpers.js';

const TRANS = 2e-4;
const c = (...n: number[]): Dim[] => n.map(dimConst);
afterAll(async () => { await closeGpu(); });

/** Several matmuls, each its own kernel: which of its accesses can be vectors is in the comment. */
function program() {
  const g = new Builder();
  const x = g.input('x', 'f32', c(2, 36, 20)), w = g.param('w', 'f32', c(20, 44), { kind: 'zeros' }), bias = g.param('bias', 'f32', c(44), { kind: 'zeros' });
  const a = g.input('a', 'f32', c(3, 12, 16)), b = g.input('b', 'f32', c(3, 16, 8));
  const q = g.input('q', 'f32', c(13, 24)), kt = g.input('kt', 'f32', c(20, 24));
  const y = g.input('y', 'f32', c(9, 22)), w3 = g.input('w3', 'f32', c(22, 12));
  const r1 = g.input('r1', 'f32', c(37, 19)), r2 = g.input('r2', 'f32', c(19, 29));
  const out: Record<string, Node> = {
    aligned: g.unary('gelu', g.binary('add', g.matmul(x, w), bias)),     // A, B, C vectors; epilogue reads bias
    batch: g.matmul(a, b),                                                   // batched, N 8: one group per invocation or fewer
    trans_b: g.binary('mul', g.matmul(q, g.permute(kt, [1, 0])), g.const(0.5)), // B contiguous along K (q k^T)
    tail: g.matmul(y, w3),                                                   // K 22: A scalar, B and C vectors, K mod 4 tail
    ragged: g.matmul(r1, r2),                                                // nothing aligned: the scalar kernel
  };
  const inputs = new Map<string, HostTensor>([
    ['x', randTensor('f32', [2, 36, 20], 1)], ['a', randTensor('f32', [3, 12, 16], 2)], ['b', randTensor('f32', [3, 16, 8], 3)],
    ['q', randTensor('f32', [13, 24], 4)], ['kt', randTensor('f32', [20, 24], 5)], ['y', randTensor('f32', [9, 22], 6)],
    ['w3', randTensor('f32', [22, 12], 7)], ['r1', randTensor('f32', [37, 19], 8)], ['r2', randTensor('f32', [19, 29], 9)],
  ]);
  const params = new Map<string, HostTensor>([['w', randTensor('f32', [20, 44], 10, -0.3, 0.3)], ['bias', randTensor('f32', [44], 11)]]);
  return { program: programOf(out), inputs, params };
}

const schedules: MatmulSchedule[] = [
  { wgX: 4, wgY: 4, tm: 2, tn: 4, tk: 8, shared: false, vec: true },
  { wgX: 8, wgY: 4, tm: 4, tn: 8, tk: 8, shared: false, vec: true },
  { wgX: 4, wgY: 4, tm: 2, tn: 4, tk: 8, shared: true, vec: true },
  { wgX: 8, wgY: 8, tm: 4, tn: 8, tk: 16, shared: true, ku: 4, vec: true },
  { wgX: 16, wgY: 1, tm: 8, tn: 4, tk: 8, shared: false, vec: true },      // one row of invocations: lid.y is 0
];

describe('vec4 matmul on WebGPU vs the interpreter', () => {
  it.each(schedules)('schedule %o: aligned, batched, transposed B, K tail, ragged, fused epilogues', async (sched) => {
    const { program: p, inputs, params } = program();
    const compiled = compileEntry(p, p.entries[0]!.entry, { matmulSchedule: sched });
    const code = (name: string) => {
      const buf = compiled.plan.outputs.find((o) => o.name === name)!.buf;
      const i = compiled.plan.kernels.findIndex((k) => k.out === buf);
      return compiled.kernels[i]!.code;
    };
    // The layouts decide: vector accesses where aligned (no run-time test: all dims are constants), none where not.
    expect(code('aligned')).toMatch(/array<vec4<f32>>/);
    expect(code('aligned')).toMatch(/= vec4<f32>\(/);          // C written as vectors
    expect(code('tail')).toMatch(/let v\d+: vec4<f32> = buf/);
    if (!sched.shared) expect(code('trans_b')).toMatch(/let v\d+: vec4<f32> = buf/);
    expect(code('ragged')).not.toMatch(/vec4/);
    for (const n of ['aligned', 'tail', 'ragged']) expect(code(n)).not.toMatch(/dims/);
    await checkProgram(p, inputs, params, { matmulSchedule: sched }, { aligned: TRANS });
  });

  it('symbolic dims: a uniform test picks the vector path when aligned, the scalar fallback when not', async () => {
    const g = new Builder();
    const [S, D, E] = ['S', 'D', 'E'].map(dimSym) as [Dim, Dim, Dim];
    const x = g.input('x', 'f32', [dimConst(2), S, D]), w = g.input('w', 'f32', [D, E]), bias = g.input('bias', 'f32', [E]);
    const p = programOf({ y: g.unary('silu', g.binary('add', g.matmul(x, w), bias)) });
    for (const sched of [schedules[1]!, schedules[2]!]) {
      const code = compileEntry(p, p.entries[0]!.entry, { matmulSchedule: sched }).kernels.find((k) => k.code.includes('vec4'))!.code;
      expect(code).toMatch(/% 4i\) == 0i\)/);                  // the alignment test over dims
      expect(code).not.toMatch(/= vec4<f32>\(/);                // C stored as scalars: the fallback shares its binding
      for (const [s, d, e] of [[11, 24, 16], [5, 23, 18], [7, 8, 6], [3, 4, 4]] as const) {
        const inputs = new Map<string, HostTensor>([
          ['x', randTensor('f32', [2, s, d], s + d)], ['w', randTensor('f32', [d, e], d + e, -0.5, 0.5)], ['bias', randTensor('f32', [e], e)],
        ]);
        await checkProgram(p, inputs, new Map(), { matmulSchedule: sched }, { y: TRANS });
      }
    }
  });
});
