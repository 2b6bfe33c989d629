/**
 * Vector loads and stores in the kernel IR (kernel-ir.ts vload / vstore): what each renderer prints for them and
 * for scalar accesses to a buffer a kernel also touches as vectors, how register scalarization and dead-local
 * removal treat them, when an access can be a vector (kernel-vec.ts), and the vec4 matmul schedules' rules.
 */
import { describe, expect, it } from 'vitest';
import { renderCudaBody } from '../../src/codegen-cuda/cuda.js';
import { renderWgslBody, WEBGPU_LIMITS } from '../../src/codegen-wgsl/wgsl.js';
import { kbin, kconst, kload, kvar, type KBuffer, type KExpr, type MatmulKernel, type MatmulSchedule } from '../../src/ir/kernel.js';
import { aset, array, lowerBody, printBody, store, unrolled, vload, vstore, type KBody } from '../../src/ir/kernel-ir.js';
import { coefficientOf, multipleOfVec, vecRead } from '../../src/ir/kernel-vec.js';
import { dimConst } from '../../src/core/dim.js';
import { scheduleCandidates, scheduleName, scheduleViolation } from '../../src/ir/schedule.js';

const f32 = (name: string): KBuffer => ({ name, kind: 'input', dtype: 'f32', numel: dimConst(64) });
const buffers: KBuffer[] = [f32('a'), { ...f32('y'), kind: 'output' }, { ...f32('h'), dtype: 'f16' }];
const i = (v: number) => kconst(v);
const lix: KExpr = { k: 'special', name: 'lix', dtype: 'i32' };
const al = (arr: string, at: number): KExpr => ({ k: 'aload', arr, at: i(at), dtype: 'f32' });

/** y[4 lix .. 4 lix + 3] = (a[4 lix .. + 3] + a[5]) * 2 through registers: a scalar read of a buffer read as vectors. */
const body: KBody = {
  name: 'k0_vec', label: 'vec test', out: 1, workgroup: [4, 1, 1], shared: [], grid: { linear: i(1) },
  body: [
    array('r', 4, true),
    vload('r', i(0), 0, kbin('mul', lix, i(4))),
    unrolled('l', 4, [aset('r', kvar('l'), kbin('mul', kbin('add', { k: 'aload', arr: 'r', at: kvar('l'), dtype: 'f32' }, kload(0, i(5), 'f32'), 'f32'), kconst(2, 'f32'), 'f32'))]),
    vstore(1, kbin('mul', lix, i(4)), [0, 1, 2, 3].map((l) => al('r', l))),
  ],
};

describe('vload / vstore in the renderers', () => {
  it('WGSL: vec4 bindings, a vector local and its lanes, a vector store, lane-indexed scalar accesses', () => {
    const code = renderWgslBody(body, buffers, []).code;
    expect(code).toContain('var<storage, read> buf0: array<vec4<f32>>;');
    expect(code).toContain('var<storage, read_write> buf1: array<vec4<f32>>;');
    expect(code).toContain('let v0: vec4<f32> = buf0[((i32(lix) * 4i)) >> 2u];');
    expect(code).toContain('r_0 = v0.x;');
    expect(code).toContain('r_3 = v0.w;');
    expect(code).toContain('buf1[((i32(lix) * 4i)) >> 2u] = vec4<f32>(r_0, r_1, r_2, r_3);');
    expect(code).toContain('buf0[(5i) >> 2u][(5i) & 3i]');
  });

  it('CUDA: float4 through the buffer pointer, scalar accesses unchanged', () => {
    const code = renderCudaBody(body, buffers, []).code;
    expect(code).toContain('const float4 v0 = *reinterpret_cast<const float4*>(g0 + (((int)threadIdx.x * 4)));');
    expect(code).toContain('r_2 = v0.z;');
    expect(code).toContain('*reinterpret_cast<float4*>(g1 + (((int)threadIdx.x * 4))) = make_float4(r_0, r_1, r_2, r_3);');
    expect(code).toContain('const float t0 = g0[5];');
    expect(code).toContain('r_0 = ((r_0 + t0) * 2.0f);');
  });

  it('refuses a body that stores one buffer both as vectors and as single lanes (a WGSL component store may write the whole vector)', () => {
    const mixed: KBody = { ...body, body: [...body.body, store(1, i(63), kload(0, i(5), 'f32'))] };
    expect(() => renderWgslBody(mixed, buffers, [])).toThrow(/stores buffer 1 both as vectors and as scalars/);
    expect(() => renderCudaBody(mixed, buffers, [])).toThrow(/both as vectors and as scalars/);
  });

  it('scalarizes the registers a vector load writes and keeps them (they are written, so declared)', () => {
    const low = lowerBody(body);
    const vl = low.body.find((s) => s.s === 'vload');
    expect(vl && vl.s === 'vload' && vl.dst).toEqual([{ name: 'r_0' }, { name: 'r_1' }, { name: 'r_2' }, { name: 'r_3' }]);
    // A vector load into registers nothing reads still declares them (else the lane assignments would not compile).
    const dead = lowerBody({ ...body, body: [array('r', 4, true), vload('r', i(0), 0, i(0))] });
    expect(dead.body.filter((s) => s.s === 'var')).toHaveLength(4);
    expect(printBody(body)).toContain('(r[(0 + 0)], r[(0 + 1)], r[(0 + 2)], r[(0 + 3)]) = vload buf0[(lix * 4)]'.replace(/\(0 \+ (\d)\)/g, '$1'));
    expect(printBody(body)).toContain('vstore buf1[(lix * 4)] = (r[0], r[1], r[2], r[3])');
  });
});

describe('when an access can be a vector', () => {
  const m = kvar('m'), k = kvar('k'), K: KExpr = { k: 'sym', i: 0, dtype: 'i32' };
  it('the index must step by exactly 1 along the variable', () => {
    expect(coefficientOf(kbin('add', kbin('mul', m, i(20)), k), 'k')).toBe(1);
    expect(coefficientOf(kbin('add', kbin('mul', k, i(20)), m), 'k')).toBe(20);
    expect(coefficientOf(kbin('add', kbin('mul', m, K), k), 'm')).toBeNull();       // symbolic stride
    expect(coefficientOf(kbin('mod', k, i(7)), 'k')).toBeNull();
  });
  it('its start must be a multiple of 4: known, impossible, or a run-time test over dims', () => {
    expect(multipleOfVec(kbin('mul', m, i(20)))).toBe(true);
    expect(multipleOfVec(kbin('mul', m, i(22)))).toBe(false);
    expect(multipleOfVec(kbin('add', kbin('mul', m, i(20)), i(2)))).toBe(false);
    const g = multipleOfVec(kbin('mul', m, K));
    expect(typeof g).toBe('object');
    expect(JSON.stringify(g)).toContain('"op":"mod"');
  });
  it('only plain f32 loads are read as vectors (f16 stays scalar)', () => {
    expect(vecRead(kload(0, kbin('add', kbin('mul', m, i(8)), k), 'f32'), 'k', buffers)).not.toBeNull();
    expect(vecRead(kload(2, kbin('add', kbin('mul', m, i(8)), k), 'f32'), 'k', buffers)).toBeNull();
    expect(vecRead({ k: 'un', op: 'exp', a: kload(0, k, 'f32'), dtype: 'f32' }, 'k', buffers)).toBeNull();
  });
});

describe('vec4 matmul schedules', () => {
  const mm = (schedule: MatmulSchedule): MatmulKernel => ({
    kind: 'matmul', name: 'k0_matmul', label: 'matmul', opKind: 'matmul', batch: [], M: dimConst(64), N: dimConst(64), K: dimConst(64),
    a: kload(0, kvar('k'), 'f32'), b: kload(0, kvar('n'), 'f32'), epilogue: kvar('acc', 'f32'), at: kvar('n'), reads: [0], out: 1, schedule,
  });
  const base: MatmulSchedule = { wgX: 8, wgY: 8, tm: 8, tn: 8, tk: 8, shared: false, vec: true };
  it('are named _v4, need tn (and a staged tile depth) a multiple of 4, no K unroll or broadcast on register tiles', () => {
    expect(scheduleName('matmul', base)).toBe('wg8x8_t8x8_v4');
    expect(scheduleViolation(mm(base), base, WEBGPU_LIMITS)).toBeNull();
    expect(scheduleViolation(mm(base), { ...base, tn: 6 }, WEBGPU_LIMITS)).toMatch(/multiple of 4/);
    expect(scheduleViolation(mm(base), { ...base, ku: 4 }, WEBGPU_LIMITS)).toMatch(/K unroll/);
    expect(scheduleViolation(mm(base), { ...base, shared: true, tk: 8, ku: 4 }, WEBGPU_LIMITS)).toBeNull();
  });
  it('are in the tuner space, register and workgroup-memory kinds, each with tn a multiple of 4', () => {
    const v = (scheduleCandidates(mm(base)) as MatmulSchedule[]).filter((s) => s.vec);
    expect(v.some((s) => s.shared) && v.some((s) => !s.shared)).toBe(true);
    expect(v.every((s) => s.tn % 4 === 0)).toBe(true);
    // Among the ten likeliest candidates (what `tfx bench` tries without --tune).
    expect((scheduleCandidates(mm(base)) as MatmulSchedule[]).slice(0, 10).filter((s) => s.vec).length).toBeGreaterThanOrEqual(2);
  });
});
