import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import type { DType } from '../../src/core/dtype.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { interpret, roundBf16, roundF16 } from '../../src/ir/interpreter.js';
import { roundToBf16, roundToF16 } from '../../src/runtime/weights.js';

const sh = (...n: number[]) => n.map(dimConst);
function run(root: Node, inputs: Record<string, HostTensor>): number[] {
  const [out] = interpret([root], { inputs: new Map(Object.entries(inputs)), params: new Map(), dims: {} });
  return [...out!.data];
}
/** A one-op graph over two vector inputs of dtype t. */
function bin(op: Parameters<Builder['binary']>[0], t: DType, a: number[], b: number[]): number[] {
  const g = new Builder();
  const n = g.binary(op, g.input('a', t, sh(a.length)), g.input('b', t, sh(b.length)));
  return run(n, { a: hostTensor(t, [a.length], a), b: hostTensor(t, [b.length], b) });
}
function un(op: Parameters<Builder['unary']>[0], t: DType, x: number[]): number[] {
  const g = new Builder();
  return run(g.unary(op, g.input('x', t, sh(x.length))), { x: hostTensor(t, [x.length], x) });
}
const close = (got: number[], want: number[], tol = 1e-6) => {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!))));
};

describe('unary ops', () => {
  it('gelu is the tanh approximation', () => {
    // gelu(1) = 0.5 (1 + tanh(0.7978845608 * 1.044715)) = 0.5 (1 + tanh(0.8335565)) by hand.
    close(un('gelu', 'f32', [0, 1, -1, 3]), [0, 0.8411920, -0.1588080, 2.9963627]);
  });
  it('silu, sigmoid, rsqrt, recip, abs, floor, ceil', () => {
    close(un('silu', 'f32', [1, -2, 0]), [0.7310586, -0.2384058, 0]);
    close(un('sigmoid', 'f32', [0, 2]), [0.5, 0.8807971]);
    close(un('rsqrt', 'f32', [4, 0.25]), [0.5, 2]);
    close(un('recip', 'f32', [4, -0.5]), [0.25, -2]);
    close(un('abs', 'f32', [-1.5, 2]), [1.5, 2]);
    close(un('floor', 'f32', [-1.5, 2.5]), [-2, 2]);
    close(un('ceil', 'f32', [-1.5, 2.5]), [-1, 3]);
  });
  it('not on bool, neg and abs wrap on i32', () => {
    expect(un('not', 'bool', [0, 1])).toEqual([1, 0]);
    expect(un('neg', 'i32', [5, -2147483648])).toEqual([-5, -2147483648]);
    expect(un('abs', 'i32', [-7, -2147483648])).toEqual([7, -2147483648]);
  });
  it('float results are rounded to f32', () => {
    expect(un('recip', 'f32', [3])[0]).toBe(Math.fround(1 / 3));
    expect(un('recip', 'f32', [3])[0]).not.toBe(1 / 3);
  });
});

describe('int binary semantics', () => {
  it('div truncates toward zero, mod has the sign of the dividend', () => {
    expect(bin('div', 'i32', [7, -7, 7, -7], [2, 2, -2, -2])).toEqual([3, -3, -3, 3]);
    expect(bin('mod', 'i32', [7, -7, 7, -7], [2, 2, -2, -2])).toEqual([1, -1, 1, -1]);
  });
  it('division and remainder by zero give 0', () => {
    expect(bin('div', 'i32', [5, -5, 0], [0, 0, 0])).toEqual([0, 0, 0]);
    expect(bin('mod', 'i32', [5, -5, 0], [0, 0, 0])).toEqual([0, 0, 0]);
  });
  it('INT_MIN / -1 wraps to INT_MIN and INT_MIN % -1 is 0', () => {
    expect(bin('div', 'i32', [-2147483648], [-1])).toEqual([-2147483648]);
    expect(bin('mod', 'i32', [-2147483648], [-1])).toEqual([0]);
  });
  it('add, sub, mul wrap at 32 bits', () => {
    expect(bin('add', 'i32', [2147483647], [1])).toEqual([-2147483648]);
    expect(bin('sub', 'i32', [-2147483648], [1])).toEqual([2147483647]);
    // 65537 * 65537 = 2^32 + 2^17 + 1 -> 131073 mod 2^32; 123456789 * 987654321 mod 2^32 as signed = -67153019.
    expect(bin('mul', 'i32', [65537, 123456789], [65537, 987654321])).toEqual([131073, -67153019]);
  });
  it('u32 compares and divides unsigned', () => {
    // 0xFFFFFFFF is held as -1 in the Int32Array.
    expect(bin('gt', 'u32', [-1], [1])).toEqual([1]);
    expect(bin('div', 'u32', [-1], [2])).toEqual([2147483647]);
    expect(bin('max', 'u32', [-1], [5])).toEqual([-1]);
    expect(bin('gt', 'i32', [-1], [1])).toEqual([0]);
  });
  it('comparisons give bool, and/or on bool', () => {
    expect(bin('lt', 'f32', [1, 2, 3], [2, 2, 2])).toEqual([1, 0, 0]);
    expect(bin('le', 'f32', [1, 2, 3], [2, 2, 2])).toEqual([1, 1, 0]);
    expect(bin('eq', 'i32', [1, 2], [2, 2])).toEqual([0, 1]);
    expect(bin('ne', 'i32', [1, 2], [2, 2])).toEqual([1, 0]);
    expect(bin('and', 'bool', [0, 0, 1, 1], [0, 1, 0, 1])).toEqual([0, 0, 0, 1]);
    expect(bin('or', 'bool', [0, 0, 1, 1], [0, 1, 0, 1])).toEqual([0, 1, 1, 1]);
  });
  it('float pow, mod, max with NaN', () => {
    close(bin('pow', 'f32', [2, 9], [10, 0.5]), [1024, 3]);
    close(bin('mod', 'f32', [-7.5, 7.5], [2, 2]), [-1.5, 1.5]);
    const m = bin('max', 'f32', [NaN, 1], [0, 2]);
    expect(Number.isNaN(m[0])).toBe(true);
    expect(m[1]).toBe(2);
  });
});

describe('where, cast, broadcast', () => {
  it('where selects per element after broadcasting a scalar', () => {
    const g = new Builder();
    const c = g.input('c', 'bool', sh(3));
    const n = g.where(c, g.input('a', 'f32', sh(3)), g.const(-1));
    expect(run(n, { c: hostTensor('bool', [3], [1, 0, 1]), a: hostTensor('f32', [3], [5, 6, 7]) })).toEqual([5, -1, 7]);
  });
  it('float -> int truncates toward zero and saturates; NaN -> 0; -> bool is != 0', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(6));
    const xs = hostTensor('f32', [6], [2.9, -2.9, 3e10, -3e10, NaN, 0]);
    const toInt = run(g.cast(x, 'i32'), { x: xs });
    expect(toInt).toEqual([2, -2, 2147483647, -2147483648, 0, 0]);
    expect(run(g.cast(x, 'bool'), { x: xs })).toEqual([1, 1, 1, 1, 1, 0]);
  });
  it('f16 and bf16 round on store (ties to even, overflow to Inf)', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(7));
    // By hand: 1/3 in f16 = 0x3555 = 0.333251953125; 65519 -> 65504; 65520 -> Inf (tie to even overflows);
    // 1 + 2^-11 ties to 1; 1 + 3*2^-11 ties to 1 + 2^-9; 2^-25 ties to 0; 3*2^-25 ties to 2^-23 (subnormals).
    const xs = hostTensor('f32', [7], [1 / 3, 65519, 65520, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -25, 3 * 2 ** -25]);
    expect(run(g.cast(x, 'f16'), { x: xs })).toEqual([0.333251953125, 65504, Infinity, 1, 1 + 2 ** -9, 0, 2 ** -23]);
    // bf16 of 1/3: f32 0x3EAAAAAB -> 0x3EAB = 171/512.
    expect(run(g.cast(x, 'bf16'), { x: xs })[0]).toBe(171 / 512);
    const h = g.input('h', 'f16', sh(1));
    const sum = run(g.binary('add', h, h), { h: hostTensor('f16', [1], [1 / 3]) });
    expect(sum).toEqual([0.66650390625]); // 2 * 0.333251953125, exact in f16
    const third = run(g.binary('div', g.cast(g.const(1), 'f16'), g.cast(g.const(3), 'f16')), {});
    expect(third).toEqual([0.333251953125]);
  });
});

describe('half rounding agrees with the independent runtime encoder', () => {
  it('on random f32 bit patterns (normals, subnormals, overflow, NaN)', () => {
    const box = new Float32Array(1), bits = new Uint32Array(box.buffer);
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (u) => {
      bits[0] = u;
      const x = box[0]!;
      expect(roundF16(x)).toBe(roundToF16(x));
      expect(roundBf16(x)).toBe(roundToBf16(x));
    }), { numRuns: 20000 });
  });
  it('on f32 values near f16 rounding boundaries', () => {
    for (let e = -26; e <= 16; e++) for (const m of [0.5, 1, 1.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1.999]) {
      for (const x of [m * 2 ** e, -m * 2 ** e].map(Math.fround)) expect(roundF16(x)).toBe(roundToF16(x));
    }
  });
});
