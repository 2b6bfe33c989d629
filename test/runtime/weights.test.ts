import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/core/dtype.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import type { InitRule, ParamInfo } from '../../src/ir/graph.js';
import { Rng, fnv1a64, rngFor, splitmix64 } from '../../src/runtime/rng.js';
import {
  WeightsError, bf16BitsToF32, checkParams, f16BitsToF32, f16ToF32Table, f32ArrayToBf16Bits, f32ArrayToF16Bits,
  f32ToBf16Bits, f32ToF16Bits, initParams, roundToBf16, roundToF16,
} from '../../src/runtime/weights.js';

const param = (name: string, shape: number[], init: InitRule, dtype: DType = 'f32'): ParamInfo => ({ name, dtype, shape, init });
const isNaN16 = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe('f16 and bf16 bit patterns', () => {
  it.each([
    [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [0.5, 0x3800], [1 / 3, 0x3555],
    [2 ** -24, 0x0001], [2 ** -14, 0x0400], [2 ** -14 - 2 ** -24, 0x03ff], [-(2 ** -24), 0x8001],
    [0, 0x0000], [-0, 0x8000], [Infinity, 0x7c00], [-Infinity, 0xfc00],
    // Rounding: ties go to the even neighbour, overflow goes to inf, deep underflow to zero.
    [65519, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00], [-1e6, 0xfc00],
    [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [1 + 2 ** -12, 0x3c00], [1 + 2 ** -11 + 2 ** -20, 0x3c01],
    [2 ** -25, 0x0000], [1.5 * 2 ** -25, 0x0001], [3 * 2 ** -25, 0x0002], [2 ** -26, 0x0000], [2 ** -110, 0x0000], [1e-45, 0x0000],
    // Not f32 values: rounding to f32 first would land on the tie and pick the wrong neighbour.
    [1 + 2 ** -11 + 2 ** -40, 0x3c01], [2 ** -25 + 2 ** -60, 0x0001], [65520 - 2 ** -30, 0x7bff],
  ])('f16(%d) = %i', (x, bits) => {
    expect(f32ToF16Bits(x)).toBe(bits);
  });

  it('NaN encodes as a NaN and decodes as NaN', () => {
    expect(isNaN16(f32ToF16Bits(NaN))).toBe(true);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0xfc01)).toBeNaN();
  });

  it.each([
    [0x3c00, 1], [0x7bff, 65504], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14],
    [0x7c00, Infinity], [0xfc00, -Infinity], [0x8000, -0], [0x3555, 0.333251953125], [0xc000, -2],
  ])('f16 bits %i decode to %d', (bits, x) => {
    expect(Object.is(f16BitsToF32(bits), x)).toBe(true);
  });

  it('every f16 pattern decodes and re-encodes to itself; the table agrees', () => {
    const table = f16ToF32Table();
    for (let h = 0; h < 65536; h++) {
      const v = f16BitsToF32(h);
      expect(Object.is(table[h], v)).toBe(true);
      if (isNaN16(h)) continue;
      if (f32ToF16Bits(v) !== h) expect.fail(`0x${h.toString(16)} -> ${v} -> 0x${f32ToF16Bits(v).toString(16)}`);
    }
  });

  it.each([
    [1, 0x3f80], [-2, 0xc000], [3.140625, 0x4049], [Infinity, 0x7f80], [-0, 0x8000],
    [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82], [1 + 2 ** -8 + 2 ** -40, 0x3f81],
    [3.3895313892515355e38, 0x7f7f], [3.4e38, 0x7f80], [2 ** -133, 0x0001], [2 ** -134, 0x0000], [-(2 ** -126), 0x8080],
  ])('bf16(%d) = %i', (x, bits) => {
    expect(f32ToBf16Bits(x)).toBe(bits);
  });

  it('bf16 decodes and NaN survives', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc000)).toBe(-2);
    expect(bf16BitsToF32(0xff80)).toBe(-Infinity);
    expect(bf16BitsToF32(0x0001)).toBe(2 ** -133);
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
  });

  /**
   * Independent oracle: non-negative finite patterns are ordered like their values, so the right answer is
   * found by bisection and one compare against the exact midpoint (a double holds it exactly). The pattern
   * after the largest finite one is inf, standing for the next power of two.
   */
  function oracle(x: number, value: (h: number) => number, inf: number, signBit: number): number {
    const a = Math.abs(x);
    const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
    let lo = 0, hi = inf; // value(lo) <= a < value(hi) once a < value(inf)
    if (a >= value(inf)) return sign | inf;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (value(mid) <= a) lo = mid; else hi = mid; }
    const m = (value(lo) + value(hi)) / 2;
    return sign | (a < m ? lo : a > m ? hi : lo % 2 === 0 ? lo : hi);
  }
  const f16Ref = (x: number): number => oracle(x, (h) => (h === 0x7c00 ? 65536 : f16BitsToF32(h)), 0x7c00, 0x8000);
  const bf16Val = (h: number): number => (h === 0x7f80 ? 2 ** 128 : new Float32Array(Uint32Array.of(h * 65536).buffer)[0]!);
  const bf16Ref = (x: number): number => oracle(x, bf16Val, 0x7f80, 0x8000);

  it('agrees with a bisection oracle on random doubles, f32s and near-ties', () => {
    const nearTie = fc.tuple(fc.integer({ min: 0, max: 0x7bfe }), fc.integer({ min: -3, max: 3 }), fc.boolean()).map(([h, k, neg]) => {
      const mid = (f16BitsToF32(h) + f16BitsToF32(h + 1)) / 2;
      return (neg ? -1 : 1) * (mid + k * Math.max(mid, 2 ** -30) * 2 ** -45);
    });
    const finite = fc.oneof(fc.double({ noNaN: true }), fc.float({ noNaN: true }), nearTie, fc.double({ min: -70000, max: 70000, noNaN: true }));
    fc.assert(fc.property(finite, (x) => {
      expect(f32ToF16Bits(x)).toBe(f16Ref(x));
      expect(f32ToBf16Bits(x)).toBe(bf16Ref(x));
      const f = Math.fround(x);
      expect(f32ArrayToF16Bits(Float32Array.of(f))[0]).toBe(f16Ref(f));
      expect(f32ArrayToBf16Bits(Float32Array.of(f))[0]).toBe(bf16Ref(f));
    }), { numRuns: 5000 });
  });

  it('roundToF16 / roundToBf16 give representable neighbours', () => {
    expect(roundToF16(0.1)).toBe(0.0999755859375);
    expect(roundToBf16(0.1)).toBe(0.10009765625);
    expect(roundToF16(70000)).toBe(Infinity);
  });
});

describe('rng', () => {
  it('xoshiro128** matches the reference outputs from state {1, 2, 3, 4}', () => {
    const r = new Rng([1, 2, 3, 4]);
    expect(Array.from({ length: 10 }, () => r.nextU32())).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('splitmix64 and FNV-1a 64 match their published values', () => {
    let s = 1234567n;
    const out: bigint[] = [];
    for (let i = 0; i < 5; i++) { const o = splitmix64(s); out.push(o.value); s = o.next; }
    expect(out).toEqual([6457827717110365317n, 3203168211198807973n, 9817491932198370423n, 4593380528125082431n, 16408922859458223821n]);
    expect(fnv1a64('')).toBe(0xcbf29ce484222325n);
    expect(fnv1a64('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64('foobar')).toBe(0x85944171f73967e8n);
  });

  it('rejects an all-zero state and non-integer seeds', () => {
    expect(() => new Rng([0, 0, 0, 0])).toThrow(RangeError);
    expect(() => Rng.seeded(1.5)).toThrow(/seed must be an integer/);
    expect(() => rngFor(NaN, 'x')).toThrow(/seed must be an integer/);
  });

  it('uniform and int stay in range and int hits every value about equally', () => {
    const r = Rng.seeded(7);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const k = r.int(-2, 4);
      counts[k + 2]!++;
    }
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500); // ~5 sigma
    expect(r.int(5, 6)).toBe(5);
    expect(() => r.int(3, 3)).toThrow(RangeError);
    expect(() => r.int(0, 2 ** 33)).toThrow(RangeError);
  });

  it('streams depend on (seed, name) only', () => {
    const take = (g: Rng): number[] => Array.from({ length: 4 }, () => g.nextU32());
    expect(take(rngFor(3, 'w'))).toEqual(take(rngFor(3, 'w')));
    expect(take(rngFor(3, 'w'))).not.toEqual(take(rngFor(4, 'w')));
    expect(take(rngFor(3, 'w'))).not.toEqual(take(rngFor(3, 'v')));
  });
});

describe('initParams', () => {
  const spec: ParamInfo[] = [
    param('embed', [50, 16], { kind: 'normal', mean: 0, std: 0.02 }),
    param('norm.w', [16], { kind: 'ones' }),
    param('norm.b', [16], { kind: 'zeros' }),
    param('head', [16, 8], { kind: 'uniform', lo: -0.1, hi: 0.1 }, 'f16'),
  ];

  it('is deterministic: same seed same values, different seed different values', () => {
    const a = initParams(spec, 1);
    const b = initParams(spec, 1);
    const c = initParams(spec, 2);
    for (const p of spec) expect(Array.from(a.get(p.name)!.data)).toEqual(Array.from(b.get(p.name)!.data));
    expect(Array.from(a.get('embed')!.data)).not.toEqual(Array.from(c.get('embed')!.data));
    expect(Array.from(a.get('head')!.data)).not.toEqual(Array.from(c.get('head')!.data));
  });

  it('a parameter does not change when others are added, removed or reordered', () => {
    const a = initParams(spec, 9);
    const b = initParams([param('extra', [100], { kind: 'normal', mean: 0, std: 1 }), ...spec].reverse(), 9);
    const c = initParams([spec[0]!], 9);
    expect(Array.from(b.get('embed')!.data)).toEqual(Array.from(a.get('embed')!.data));
    expect(Array.from(b.get('head')!.data)).toEqual(Array.from(a.get('head')!.data));
    expect(Array.from(c.get('embed')!.data)).toEqual(Array.from(a.get('embed')!.data));
  });

  it('same rule under two names gives different values', () => {
    const m = initParams([param('a', [64], { kind: 'normal', mean: 0, std: 1 }), param('b', [64], { kind: 'normal', mean: 0, std: 1 })], 0);
    expect(Array.from(m.get('a')!.data)).not.toEqual(Array.from(m.get('b')!.data));
  });

  it('normal init has the rule\'s mean, std and shape of distribution over 10^5 samples', () => {
    const [mean, std, n] = [0.5, 0.02, 100_000];
    const d = Array.from(initParams([param('w', [100, 1000], { kind: 'normal', mean, std })], 123).get('w')!.data);
    expect(d.length).toBe(n);
    const m = d.reduce((a, b) => a + b, 0) / n;
    const s = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    expect(Math.abs(m - mean)).toBeLessThan((5 * std) / Math.sqrt(n));
    expect(Math.abs(s / std - 1)).toBeLessThan(0.02);
    const within1 = d.filter((x) => Math.abs(x - mean) < std).length / n;
    const within2 = d.filter((x) => Math.abs(x - mean) < 2 * std).length / n;
    expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.01);
    expect(Math.abs(within2 - 0.9545)).toBeLessThan(0.01);
  });

  it('uniform init stays in [lo, hi) with the right mean and variance', () => {
    const [lo, hi, n] = [-3, 5, 100_000];
    const d = Array.from(initParams([param('u', [n], { kind: 'uniform', lo, hi })], 5).get('u')!.data);
    expect(d.every((x) => x >= lo && x <= hi)).toBe(true);
    const m = d.reduce((a, b) => a + b, 0) / n;
    const v = d.reduce((a, b) => a + (b - m) ** 2, 0) / n;
    expect(Math.abs(m - 1)).toBeLessThan(0.05);
    expect(Math.abs(v / (64 / 12) - 1)).toBeLessThan(0.02);
  });

  it('zeros and ones are exact, for floats, ints and bools', () => {
    const m = initParams([
      param('z', [3, 2], { kind: 'zeros' }), param('o', [4], { kind: 'ones' }, 'bf16'),
      param('i', [2], { kind: 'ones' }, 'i32'), param('b', [2], { kind: 'zeros' }, 'bool'), param('s', [], { kind: 'ones' }),
    ], 0);
    expect(Array.from(m.get('z')!.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(m.get('o')!.data)).toEqual([1, 1, 1, 1]);
    expect(m.get('o')!.dtype).toBe('bf16');
    expect(m.get('i')!.data).toBeInstanceOf(Int32Array);
    expect(Array.from(m.get('i')!.data)).toEqual([1, 1]);
    expect(Array.from(m.get('b')!.data)).toEqual([0, 0]);
    expect(m.get('s')!.shape).toEqual([]);
    expect(Array.from(m.get('s')!.data)).toEqual([1]);
  });

  it('f16 and bf16 values are representable in their dtype', () => {
    const m = initParams([param('h', [1000], { kind: 'normal', mean: 0, std: 3 }, 'f16'), param('b', [1000], { kind: 'normal', mean: 0, std: 3 }, 'bf16')], 4);
    const h = m.get('h')!, b = m.get('b')!;
    expect(h.dtype).toBe('f16');
    for (const x of h.data) expect(f16BitsToF32(f32ToF16Bits(x))).toBe(x);
    for (const x of b.data) expect(bf16BitsToF32(f32ToBf16Bits(x))).toBe(x);
    expect(new Set(h.data).size).toBeGreaterThan(500); // rounded, not collapsed
  });

  it.each<[string, ParamInfo[], number, RegExp]>([
    ['negative std', [param('w', [2], { kind: 'normal', mean: 0, std: -1 })], 0, /parameter w: init normal\(mean 0, std -1\) needs/],
    ['NaN mean', [param('w', [2], { kind: 'normal', mean: NaN, std: 1 })], 0, /needs a finite mean/],
    ['reversed bounds', [param('w', [2], { kind: 'uniform', lo: 1, hi: 0 })], 0, /parameter w: init uniform\(1, 0\) needs finite bounds with lo <= hi/],
    ['random ints', [param('ids', [2], { kind: 'normal', mean: 0, std: 1 }, 'i32')], 0, /parameter ids: init normal needs a float dtype, the parameter is i32/],
    ['bad shape', [param('w', [2, -1], { kind: 'zeros' })], 0, /parameter w: shape \[2, -1\] is not all non-negative integers/],
    ['huge', [param('w', [65536, 65536], { kind: 'zeros' })], 0, /parameter w: shape \[65536, 65536\] has too many elements/],
    ['declared twice', [param('w', [1], { kind: 'zeros' }), param('w', [1], { kind: 'ones' })], 0, /parameter w is declared twice/],
    ['fractional seed', [], 0.5, /seed must be an integer, got 0.5/],
  ])('rejects %s', (_, params, seed, want) => {
    expect(() => initParams(params, seed)).toThrow(WeightsError);
    expect(() => initParams(params, seed)).toThrow(want);
  });
});

describe('checkParams', () => {
  const spec: ParamInfo[] = [
    param('tok.embed', [10, 4], { kind: 'normal', mean: 0, std: 1 }),
    param('layers.0.attn.wq', [64, 64], { kind: 'normal', mean: 0, std: 1 }),
    param('layers.0.norm', [4], { kind: 'ones' }, 'f16'),
    param('pos', [3], { kind: 'zeros' }, 'i32'),
    param('head', [4, 10], { kind: 'zeros' }),
  ];

  it('accepts the output of initParams and any float dtype for a float param', () => {
    const w = initParams(spec, 0);
    expect(checkParams(spec, w)).toEqual([]);
    w.set('layers.0.norm', hostTensor('f32', [4]));
    w.set('pos', hostTensor('i64', [3]));
    expect(checkParams(spec, w)).toEqual([]);
  });

  it('lists every problem, by name, in a fixed order', () => {
    const w = new Map<string, HostTensor>([
      ['zz.unused', hostTensor('f32', [2])],
      ['layers.0.attn.wq', hostTensor('f32', [64, 32])],
      ['pos', hostTensor('f32', [3])],
      ['layers.0.norm', hostTensor('i32', [5])],
      ['aa.unused', hostTensor('bool', [])],
    ]);
    expect(checkParams(spec, w)).toEqual([
      'tok.embed: missing from the file (the spec wants f32 [10, 4])',
      'layers.0.attn.wq: shape [64, 32] in the file, the spec wants [64, 64]',
      'layers.0.norm: shape [5] in the file, the spec wants [4]',
      "layers.0.norm: dtype i32 in the file cannot be converted to the spec's f16 (int vs float)",
      "pos: dtype f32 in the file cannot be converted to the spec's i32 (float vs int)",
      'head: missing from the file (the spec wants f32 [4, 10])',
      'aa.unused: in the file (bool []) but not in the spec',
      'zz.unused: in the file (f32 [2]) but not in the spec',
    ]);
  });

  it('catches a rank change that keeps the element count, and duplicate spec entries', () => {
    const w = new Map([['a', hostTensor('f32', [2, 3])]]);
    expect(checkParams([param('a', [6], { kind: 'zeros' }), param('a', [6], { kind: 'zeros' })], w)).toEqual([
      'a: shape [2, 3] in the file, the spec wants [6]',
      'a: declared twice in the spec',
    ]);
  });
});
