/**
 * A folded constant equals what the kernels compute, on the CUDA CPU emulation: models/transfusion.tfx's cosine
 * schedule at t = 0 gives 1 - alpha_bar(0) = 0 exactly (f(0) computed by the kernel, f(0) folded, both f32).
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { alphaBarProgram } from '../ir/cases/alpha-bar-spec.js';
import { checkGraph } from './numeric-helpers.js';

describe('folded and kernel-computed values on the CUDA emulation', () => {
  it('1 - alpha_bar(0) is exactly 0; a folded config expression matches the kernel within f32 function error', async () => {
    const g = alphaBarProgram().entries[0]!;
    const values = new Map([['t', hostTensor('i32', [4], [0, 1, 500, 999])], ['s', hostTensor('f32', [4], [0.008, 0.008, 0.008, 0.008])]]);
    const { run } = await checkGraph({ inputs: g.inputs, outputs: g.outputs, values, symbols: ['N'] });
    const o = (n: string) => run.outputs.get(n)!.data;
    expect(o('one_minus')[0]).toBe(0);
    expect(o('ab')[0]).toBe(1);
    expect(Math.abs(o('folded')[0]! - o('computed')[0]!)).toBeLessThanOrEqual(2 ** -22);
  });
});
