/**
 * A folded constant equals what the kernels compute: models/transfusion.tfx's cosine schedule at t = 0 gives
 * 1 - alpha_bar(0) = 0 exactly on WebGPU (f(0) computed in the kernel, f(0) folded by the elaborator, both f32).
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { alphaBarProgram } from '../ir/cases/alpha-bar-spec.js';
import { runBoth } from './helpers.js';

describe('folded and kernel-computed values on WebGPU', () => {
  it('1 - alpha_bar(0) is exactly 0; a folded config expression matches the kernel within f32 function error', async () => {
    const p = alphaBarProgram();
    const inputs = new Map([['t', hostTensor('i32', [4], [0, 1, 500, 999])], ['s', hostTensor('f32', [4], [0.008, 0.008, 0.008, 0.008])]]);
    const r = await runBoth(p, inputs);
    const o = (n: string) => r.outputs.get(n)!;
    expect(o('one_minus').gpu.data[0]).toBe(0);
    expect(o('ab').gpu.data[0]).toBe(1);
    expect(o('one_minus').maxErr).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(o('folded').gpu.data[0]! - o('computed').gpu.data[0]!)).toBeLessThanOrEqual(2 ** -22);
  });
});
