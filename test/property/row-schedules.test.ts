/**
 * Every row schedule of the tuner's space (src/ir/schedule.ts scheduleCandidates: one row per workgroup, several
 * rows per workgroup with a few lanes each, one row per invocation) against the interpreter on random shapes,
 * on both targets: WebGPU (lavapipe) and the CUDA renderer on its CPU emulation, whose source must also pass
 * nvcc clean where nvcc exists. The kernels: rmsnorm (a per-element store after a sum), softmax (max, then a sum
 * that uses it, per-element store), an f32 sum and an i32 max (per-row stores). Row counts are ragged against
 * every rows-per-workgroup, so a row past the end (which must reduce and store nothing) is in every case.
 * The map (element-wise) schedules likewise: sizes ragged against wg x perThread.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import type { MapSchedule, RowSchedule } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { scheduleCandidates, scheduleName, workgroupBytes } from '../../src/ir/schedule.js';
import { nvccAvailable, nvccCompile } from '../../src/runtime/cuda/nvcc.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { checkGraph } from '../cuda/numeric-helpers.js';
import { checkProgram, programOf, randTensor } from '../numeric/helpers.js';

afterAll(async () => { await closeGpu(); });

/** rmsnorm, softmax, a sum and an i32 max over the last axis of x [R, L] (symbolic sizes: one shader per schedule). */
function rowGraph() {
  const g = new Builder();
  const x = g.input('x', 'f32', [dimSym('R'), dimSym('L')]), w = g.input('w', 'f32', [dimSym('L')]), n = g.input('n', 'i32', [dimSym('R'), dimSym('L')]);
  const out: Record<string, Node> = {
    norm: g.rmsnorm(x, w, 1e-5), soft: g.softmax(x, 1), sum: g.reduce('sum', x, [1]), max: g.reduce('max', n, [1]),
  };
  return { g, x, w, n, out };
}
const values = (R: number, L: number, seed: number) => new Map([
  ['x', randTensor('f32', [R, L], seed, -3, 3)], ['w', randTensor('f32', [L], seed + 1)],
  ['n', hostTensor('i32', [R, L], Int32Array.from({ length: R * L }, (_, j) => ((j * 7919 + seed) % 2001) - 1000))],
]);

// The space as the tuner sees it (its first entry is the default), taken from a lowered row kernel.
const { out: probe } = rowGraph();
const rowKernel = lowerGraph({ entry: 'probe', inputs: [], outputs: [{ name: 'norm', node: probe['norm']! }] }, ['L', 'R']).kernels.find((k) => k.kind === 'row')!;
const space = [...new Map(scheduleCandidates(rowKernel).map((s) => [JSON.stringify(s), s as RowSchedule])).values()];

describe('row schedules of the tuner space vs the interpreter', () => {
  it('the space has several rows per workgroup and one row per invocation (no workgroup memory)', () => {
    expect(space.some((s) => (s.rows ?? 1) > 1 && s.rows! < s.wg)).toBe(true);
    const serial = space.filter((s) => s.rows === s.wg);
    expect(serial.length).toBeGreaterThan(0);
    for (const s of serial) expect(workgroupBytes(rowKernel, s)).toBe(0);
  });

  it('short rows (constant length <= 256) try several rows per workgroup first, long or symbolic rows one per workgroup', () => {
    const kernelOf = (L: number | string) => {
      const g = new Builder();
      const Ld = typeof L === 'number' ? dimConst(L) : dimSym(L);
      const x = g.input('x', 'f32', [dimSym('R'), Ld]), w = g.input('w', 'f32', [Ld]);
      return lowerGraph({ entry: 'p', inputs: [], outputs: [{ name: 'n', node: g.rmsnorm(x, w, 1e-5) }] }, typeof L === 'number' ? ['R'] : ['L', 'R']).kernels.find((k) => k.kind === 'row')!;
    };
    const firstTried = (L: number | string) => scheduleCandidates(kernelOf(L))[1] as RowSchedule;
    expect(firstTried(64).rows).toBeGreaterThan(1);
    expect(firstTried(256).rows).toBeGreaterThan(1);
    expect(firstTried(4096).rows ?? 1).toBe(1);
    expect(firstTried('L').rows ?? 1).toBe(1);
  });

  it.each(space.map((s) => [scheduleName('row', s), s] as const))('%s on WebGPU: random rows 1..150, length 1..200', async (_, rowSchedule) => {
    const arb = fc.record({ R: fc.integer({ min: 1, max: 150 }), L: fc.integer({ min: 1, max: 200 }), seed: fc.integer({ min: 1, max: 1e6 }) });
    await fc.assert(fc.asyncProperty(arb, async ({ R, L, seed }) => {
      const { out } = rowGraph();
      await checkProgram(programOf(out), values(R, L, seed), new Map(), { rowSchedule }, { norm: 2e-4, soft: 2e-4 });
    }), { numRuns: 3, endOnFailure: true });
  }, 120_000);

  it.each(space.map((s) => [scheduleName('row', s), s] as const))('%s on the CUDA emulation (and nvcc): ragged rows', async (_, rowSchedule) => {
    for (const [R, L, seed] of [[37, 45, 3], [5, 130, 4]] as const) {
      const { x, w, n, out } = rowGraph();
      const r = await checkGraph({ inputs: [x, w, n] as never, outputs: Object.entries(out).map(([name, node]) => ({ name, node })), values: values(R, L, seed), symbols: ['L', 'R'] }, { rowSchedule });
      expect(r.compiled.plan.kernels.filter((k) => k.kind === 'row').every((k) => JSON.stringify(k.schedule) === JSON.stringify(rowSchedule))).toBe(true);
      for (const c of r.cmp) expect(c.maxErr, `${c.name} R ${R} L ${L}`).toBeLessThanOrEqual(2e-4 * Math.max(1, c.scale));
      if (nvccAvailable()) {
        const nv = await nvccCompile(r.compiled.source, { arch: 'sm_90' });
        expect(nv.errors).toEqual([]);
        expect(nv.warnings).toEqual([]);
      }
    }
  }, 120_000);
});

/** An element-wise chain over x [R, L] and a broadcast w [L] (one map kernel). */
function mapGraph() {
  const g = new Builder();
  const x = g.input('x', 'f32', [dimSym('R'), dimSym('L')]), w = g.input('w', 'f32', [dimSym('L')]);
  const out: Record<string, Node> = { y: g.binary('mul', g.unary('silu', x), g.binary('add', g.expand(w, x.shape), g.const(0.5))) };
  return { x, w, out };
}
const { out: mprobe } = mapGraph();
const mapKernel = lowerGraph({ entry: 'probe', inputs: [], outputs: [{ name: 'y', node: mprobe['y']! }] }, ['L', 'R']).kernels.find((k) => k.kind === 'map')!;
const mapSpace = [...new Map(scheduleCandidates(mapKernel).map((s) => [JSON.stringify(s), s as MapSchedule])).values()];

describe('map schedules of the tuner space vs the interpreter', () => {
  it.each(mapSpace.map((s) => [scheduleName('map', s), s] as const))('%s on WebGPU and the CUDA emulation (and nvcc): random sizes', async (_, mapSchedule) => {
    const arb = fc.record({ R: fc.integer({ min: 1, max: 90 }), L: fc.integer({ min: 1, max: 90 }), seed: fc.integer({ min: 1, max: 1e6 }) });
    await fc.assert(fc.asyncProperty(arb, async ({ R, L, seed }) => {
      const { out } = mapGraph();
      await checkProgram(programOf(out), values(R, L, seed), new Map(), { mapSchedule }, { y: 2e-4 });
    }), { numRuns: 2, endOnFailure: true });
    const { x, w, out } = mapGraph();
    const r = await checkGraph({ inputs: [x, w] as never, outputs: [{ name: 'y', node: out['y']! }], values: values(29, 37, 5), symbols: ['L', 'R'] }, { mapSchedule });
    expect(r.compiled.plan.kernels.some((k) => k.kind === 'map' && JSON.stringify(k.schedule) === JSON.stringify(mapSchedule))).toBe(true);
    for (const c of r.cmp) expect(c.maxErr, c.name).toBeLessThanOrEqual(2e-4 * Math.max(1, c.scale));
    if (nvccAvailable()) {
      const nv = await nvccCompile(r.compiled.source, { arch: 'sm_90' });
      expect(nv.errors).toEqual([]);
      expect(nv.warnings).toEqual([]);
    }
  }, 120_000);
});
