/**
 * fast-check: the vec4 matmul family on WebGPU (lavapipe) equals the interpreter on random shapes. Dims are
 * symbolic, so the alignment test runs at run time: sizes are drawn half the time as multiples of 4 (the vector
 * path) and half the time anywhere in 1..40 (ragged tiles, K tails, the scalar fallback), with B stored as given
 * or transposed (read along K) and a fused bias + activation epilogue.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import type { HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { MatmulSchedule } from '../../src/ir/kernel.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { compileEntry } from '../../src/runtime/webgpu/program.js';
import { checkProgram, programOf, randTensor } from '../numeric/helpers.js';

afterAll(async () => { await closeGpu(); });

const schedules: MatmulSchedule[] = [
  { wgX: 8, wgY: 8, tm: 8, tn: 8, tk: 8, shared: false, vec: true },
  { wgX: 4, wgY: 4, tm: 2, tn: 4, tk: 8, shared: true, vec: true },
  { wgX: 16, wgY: 1, tm: 8, tn: 4, tk: 8, shared: false, vec: true },
];
/** A size in 1..40: a multiple of 4 half the time. */
const size = fc.oneof(fc.integer({ min: 1, max: 10 }).map((x) => 4 * x), fc.integer({ min: 1, max: 40 }));

function program(transB: boolean) {
  const g = new Builder();
  const [S, D, E] = ['S', 'D', 'E'].map(dimSym) as [Dim, Dim, Dim];
  const x = g.input('x', 'f32', [dimConst(2), S, D]), bias = g.input('bias', 'f32', [E]);
  const w = transB ? g.permute(g.input('w', 'f32', [E, D]), [1, 0]) : g.input('w', 'f32', [D, E]);
  return programOf({ y: g.unary('silu', g.binary('add', g.matmul(x, w), bias)) });
}

describe('vec4 matmul, random shapes', () => {
  for (const sched of schedules) {
    it(`wg${sched.wgX}x${sched.wgY}_t${sched.tm}x${sched.tn}${sched.shared ? '_shared' : ''}_v4 equals the interpreter`, async () => {
      const progs = [program(false), program(true)];
      // The schedule applies: the kernel holds vector accesses behind a run-time alignment test.
      for (const p of progs) expect(compileEntry(p, p.entries[0]!.entry, { matmulSchedule: sched }).kernels.some((k) => /vec4<f32>/.test(k.code) && /% 4i\) == 0i\)/.test(k.code))).toBe(true);
      await fc.assert(fc.asyncProperty(size, size, size, fc.boolean(), fc.integer({ min: 1, max: 1000 }), async (s, d, e, transB, seed) => {
        const inputs = new Map<string, HostTensor>([
          ['x', randTensor('f32', [2, s, d], seed)], ['w', randTensor('f32', transB ? [e, d] : [d, e], seed + 1, -0.5, 0.5)],
          ['bias', randTensor('f32', [e], seed + 2)],
        ]);
        await checkProgram(progs[transB ? 1 : 0]!, inputs, new Map(), { matmulSchedule: sched }, { y: 2e-4 });
      }), { numRuns: 6 });
    }, 300_000);
  }
});
