import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpuContext, getGpu, closeGpu } from '../../src/runtime/webgpu/device.js';
import { type Dispatch, GpuExecutor } from '../../src/runtime/webgpu/executor.js';
import { WgslCompileError } from '../../src/runtime/webgpu/check.js';

const N = 1000; // deliberately not a multiple of the workgroup size
const CAP = 1024; // buffers are larger than N so writes past N would be visible
const SENTINEL = -7.5;

// y[i] = a[i] * 2 + b[i] for i < p.n
const axpb = `
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= p.n) { return; }
  y[g.x] = a[g.x] * 2.0 + b[g.x];
}`;

// z[i] = y[i] * y[i] - a[i] for i < p.n
const square = `
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < p.n) { z[g.x] = y[g.x] * y[g.x] - a[g.x]; }
}`;

const groups = Math.ceil(N / 64);
const d1: Dispatch = { label: 'axpb', kind: 'elementwise', code: axpb, entryPoint: 'main', bindings: ['a', 'b', 'y', 'p'], workgroups: [groups, 1, 1] };
const d2: Dispatch = { label: 'square', kind: 'elementwise', code: square, entryPoint: 'main', bindings: ['y', 'a', 'z', 'p'], workgroups: [groups, 1, 1] };

// Small deterministic inputs (LCG), exactly representable in f32.
function inputs(seed: number): Float32Array {
  const out = new Float32Array(CAP);
  let s = seed;
  for (let i = 0; i < N; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s % 2001) / 1000 - 1; // [-1, 1]
  }
  return out;
}

function expectClose(got: Float32Array, want: (i: number) => number): void {
  for (let i = 0; i < N; i++) {
    const w = want(i);
    if (Math.abs(got[i]! - w) > 1e-6 * Math.max(1, Math.abs(w))) throw new Error(`element ${i}: got ${got[i]}, want ${w}`);
  }
  for (let i = N; i < CAP; i++) if (got[i] !== SENTINEL) throw new Error(`element ${i} past n was written: ${got[i]}`);
}

describe('GpuExecutor', () => {
  let ctx: GpuContext;
  let ex: GpuExecutor;
  const a = inputs(1);
  const b = inputs(2);

  beforeAll(async () => {
    ctx = await getGpu();
    ex = new GpuExecutor(ctx);
  });
  afterAll(async () => {
    ex.destroy();
    await closeGpu();
  });

  function setup(): void {
    for (const id of ['a', 'b', 'y', 'z']) ex.alloc(id, CAP * 4);
    ex.alloc('p', 4, 'uniform');
    ex.write('a', a);
    ex.write('b', b);
    ex.write('y', new Float32Array(CAP).fill(SENTINEL));
    ex.write('z', new Float32Array(CAP).fill(SENTINEL));
    ex.write('p', new Uint32Array([N]));
  }

  it('computes y = a*2 + b with a bounds check', async () => {
    setup();
    const res = await ex.run([d1]);
    expect(res.timings).toEqual([]);
    expect(res.warning).toBeUndefined();
    expectClose(new Float32Array(await ex.read('y')), (i) => a[i]! * 2 + b[i]!);
  });

  it('chains two kernels in one submission, the second reading the first', async () => {
    setup();
    const queue = ctx.device.queue;
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (cbs: Iterable<GPUCommandBuffer>) => {
      submits++;
      submit(cbs);
    };
    try {
      await ex.run([d1, d2]);
    } finally {
      queue.submit = submit;
    }
    expect(submits).toBe(1);
    expectClose(new Float32Array(await ex.read('z')), (i) => {
      const y = Math.fround(a[i]! * 2 + b[i]!);
      return y * y - a[i]!;
    });
  });

  it('profiles each dispatch with finite, non-negative timings', async () => {
    setup();
    const res = await ex.run([d1, d2], { profile: true });
    if (!ctx.hasTimestamps) {
      expect(res.warning).toMatch(/timestamp/);
      return;
    }
    expect(res.timings.map((t) => [t.label, t.kind])).toEqual([
      ['axpb', 'elementwise'],
      ['square', 'elementwise'],
    ]);
    for (const t of res.timings) {
      expect(Number.isFinite(t.ms)).toBe(true);
      expect(t.ms).toBeGreaterThanOrEqual(0);
    }
    expect(res.totalMs).toBeGreaterThan(0);
    // profiling must not change results
    expectClose(new Float32Array(await ex.read('z')), (i) => {
      const y = Math.fround(a[i]! * 2 + b[i]!);
      return y * y - a[i]!;
    });
  });

  it('span: every dispatch in one pass bracketed by one timestamp pair, same results', async () => {
    setup();
    const res = await ex.run([d1, d2], { span: true });
    if (!ctx.hasTimestamps) return;
    expect(res.timings.map((t) => t.label)).toEqual(['span']);
    expect(Number.isFinite(res.timings[0]!.ms) && res.timings[0]!.ms >= 0).toBe(true);
    expectClose(new Float32Array(await ex.read('z')), (i) => {
      const y = Math.fround(a[i]! * 2 + b[i]!);
      return y * y - a[i]!;
    });
  });

  it('writes from SharedArrayBuffer views and odd byte counts', async () => {
    ex.alloc('s', 12);
    const shared = new Uint8Array(new SharedArrayBuffer(8));
    shared.set([1, 2, 3, 4, 5, 6, 7, 8]);
    ex.write('s', shared);
    expect([...new Uint8Array(await ex.read('s', 8))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    ex.write('s', new Uint8Array([9, 9, 9]));
    expect([...new Uint8Array(await ex.read('s', 5))]).toEqual([9, 9, 9, 0, 5]);
  });

  it('pads every allocation to a multiple of 16 bytes (a vec4 binding reaches every element)', () => {
    for (const [n, want] of [[0, 16], [4, 16], [12, 16], [20, 32], [404, 416], [1024, 1024]] as const) {
      ex.alloc('pad', n);
      expect(ex.size('pad'), `${n} bytes`).toBe(want);
    }
  });

  it('rejects an allocation above maxBufferSize with a clear message', () => {
    const max = ctx.limits.maxBufferSize;
    expect(() => ex.alloc('huge', max + 1)).toThrow(/buffer 'huge' needs \d+ bytes, more than this GPU's maxBufferSize/);
  });

  it('reports unknown buffers and broken WGSL clearly, and keeps working after', async () => {
    setup();
    await expect(ex.run([{ ...d1, bindings: ['a', 'nope', 'y', 'p'] }])).rejects.toThrow(/dispatch 'axpb': unknown GPU buffer 'nope' at binding 1/);
    const broken = { ...d1, label: 'broken', code: axpb.replace('a[g.x] * 2.0', 'a[g.x] * undefinedThing') };
    const err = await ex.run([broken]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WgslCompileError);
    const lines = broken.code.split('\n');
    const line = lines.findIndex((l) => l.includes('undefinedThing'));
    const col = lines[line]!.indexOf('undefinedThing');
    expect((err as WgslCompileError).messages[0]).toMatch(new RegExp(`^${line + 1}:${col + 1}: .*undefinedThing`));
    expect((err as Error).message).toContain(`WGSL for 'broken' does not compile`);
    // a binding the layout does not have is a validation error of the run, not an uncaught device error
    await expect(ex.run([{ ...d1, bindings: [...d1.bindings, 'z'] }])).rejects.toThrow(/GPU rejected run \[axpb\]/);
    expect(ctx.pendingErrors).toEqual([]);
    await ex.run([d1]);
    expectClose(new Float32Array(await ex.read('y')), (i) => a[i]! * 2 + b[i]!);
  });
});
