import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';

const sh = (...n: number[]) => n.map(dimConst);
function run(root: Node, inputs: Record<string, HostTensor>): HostTensor {
  return interpret([root], { inputs: new Map(Object.entries(inputs)), params: new Map(), dims: {} })[0]!;
}
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-6) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]!)));
};
/** Deterministic pseudo-random floats in [-1, 1) (a tiny LCG: tests must not depend on Math.random). */
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 31 - 1; });
}

describe('matmul', () => {
  it('2-D by hand', () => {
    const g = new Builder();
    const n = g.matmul(g.input('a', 'f32', sh(2, 3)), g.input('b', 'f32', sh(3, 2)));
    // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    const out = run(n, { a: hostTensor('f32', [2, 3], [1, 2, 3, 4, 5, 6]), b: hostTensor('f32', [3, 2], [7, 8, 9, 10, 11, 12]) });
    expect([...out.data]).toEqual([58, 64, 139, 154]);
  });
  it('batched with a broadcast weight equals a naive triple loop', () => {
    const g = new Builder();
    const [B, M, K, N] = [3, 4, 5, 2];
    const n = g.matmul(g.input('a', 'f32', sh(B, M, K)), g.input('w', 'f32', sh(K, N)));
    const a = rand(B * M * K, 1), w = rand(K * N, 2);
    const out = run(n, { a: hostTensor('f32', [B, M, K], a), w: hostTensor('f32', [K, N], w) });
    expect(out.shape).toEqual([B, M, N]);
    const want: number[] = [];
    for (let b = 0; b < B; b++) for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.fround(a[(b * M + i) * K + k]!) * Math.fround(w[k * N + j]!);
      want.push(s);
    }
    close(out.data, want);
  });
  it('i32 matmul wraps', () => {
    const g = new Builder();
    const n = g.matmul(g.input('a', 'i32', sh(1, 2)), g.input('b', 'i32', sh(2, 1)));
    const out = run(n, { a: hostTensor('i32', [1, 2], [65536, 1]), b: hostTensor('i32', [2, 1], [32768, -1]) });
    // 65536 * 32768 = 2^31 wraps to -2^31; adding 1 * -1 wraps again to 2^31 - 1.
    expect([...out.data]).toEqual([2147483647]);
  });
});

describe('softmax', () => {
  it('by hand: softmax([0, ln 2, ln 3]) = [1/6, 2/6, 3/6]', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(3));
    const xs = { x: hostTensor('f32', [3], [0, Math.log(2), Math.log(3)]) };
    close(run(g.softmax(x, 0), xs).data, [1 / 6, 2 / 6, 3 / 6]);
    close(run(g.softmax(x, 0, true), xs).data, [Math.log(1 / 6), Math.log(2 / 6), Math.log(3 / 6)]);
  });
  it('is stable for large logits', () => {
    const g = new Builder();
    const out = run(g.softmax(g.input('x', 'f32', sh(2)), 0), { x: hostTensor('f32', [2], [1000, 1000]) });
    expect([...out.data]).toEqual([0.5, 0.5]);
  });
  it('rows sum to 1 and log_softmax = log(softmax), along any axis', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 2 }), fc.integer(), (A, L, C, axis, seed) => {
        const shape = [A, L, C];
        const g = new Builder();
        const x = g.input('x', 'f32', sh(...shape));
        const xs = { x: hostTensor('f32', shape, rand(A * L * C, seed).map((v) => v * 20)) };
        const sm = run(g.softmax(x, axis), xs).data, lsm = run(g.softmax(x, axis, true), xs).data;
        const st = [L * C, C, 1];
        const others = [0, 1, 2].filter((d) => d !== axis);
        for (let i = 0; i < shape[others[0]!]!; i++) for (let j = 0; j < shape[others[1]!]!; j++) {
          let s = 0;
          for (let k = 0; k < shape[axis]!; k++) s += sm[i * st[others[0]!]! + j * st[others[1]!]! + k * st[axis]!]!;
          expect(Math.abs(s - 1)).toBeLessThan(1e-5);
        }
        for (let i = 0; i < sm.length; i++) expect(Math.abs(Math.log(sm[i]!) - lsm[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(lsm[i]!)));
      }));
  });
});

describe('norms', () => {
  it('rmsnorm by hand', () => {
    const g = new Builder();
    const n = g.rmsnorm(g.input('x', 'f32', sh(1, 4)), g.input('w', 'f32', sh(4)), 0);
    // mean(x^2) = 30/4 = 7.5, rsqrt = 0.36514837
    const out = run(n, { x: hostTensor('f32', [1, 4], [1, 2, 3, 4]), w: hostTensor('f32', [4], [1, 1, 2, 0.5]) });
    close(out.data, [0.36514837, 0.73029674, 2.19089023, 0.73029674]);
  });
  it('rmsnorm adds eps inside the root', () => {
    const g = new Builder();
    const n = g.rmsnorm(g.input('x', 'f32', sh(2)), g.input('w', 'f32', sh(2)), 0.5);
    // mean(x^2) = 0 -> 0 * rsqrt(0.5) = 0; x = [1, 1]: rsqrt(1.5) = 0.81649658
    close(run(n, { x: hostTensor('f32', [2], [1, 1]), w: hostTensor('f32', [2], [1, 1]) }).data, [0.81649658, 0.81649658]);
  });
  it('layernorm by hand (biased variance)', () => {
    const g = new Builder();
    const n = g.layernorm(g.input('x', 'f32', sh(4)), g.input('w', 'f32', sh(4)), g.input('b', 'f32', sh(4)), 0);
    // mean 2.5, var (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25, rsqrt = 0.89442719
    const out = run(n, {
      x: hostTensor('f32', [4], [1, 2, 3, 4]), w: hostTensor('f32', [4], [1, 2, 1, 1]), b: hostTensor('f32', [4], [0, 0, 1, -1]),
    });
    close(out.data, [-1.34164079, -0.89442719, 1.44721360, 0.34164079]);
  });
});

describe('rope', () => {
  it('D = 4, theta = 10000 by hand: frequencies 1 and 0.01', () => {
    const g = new Builder();
    const n = g.rope(g.input('x', 'f32', sh(1, 1, 2, 4)), g.input('p', 'i32', sh(1, 2)), 10000);
    const x = [1, 2, 3, 4, 0.5, -1, 2, 0.25];
    const out = run(n, { x: hostTensor('f32', [1, 1, 2, 4], x), p: hostTensor('i32', [1, 2], [0, 3]) });
    // position 0 is the identity; position 3: angles 3 (i = 0) and 0.03 (i = 1); pairs (0, 2) and (1, 3).
    const [c0, s0, c1, s1] = [Math.cos(3), Math.sin(3), Math.cos(0.03), Math.sin(0.03)];
    close(out.data, [1, 2, 3, 4,
      0.5 * c0 - 2 * s0, -1 * c1 - 0.25 * s1, 2 * c0 + 0.5 * s0, 0.25 * c1 + -1 * s1]);
  });
  it('preserves the norm of each pair and uses per-batch positions', () => {
    const g = new Builder();
    const [B, H, S, D] = [2, 3, 4, 8];
    const n = g.rope(g.input('x', 'f32', sh(B, H, S, D)), g.input('p', 'i32', sh(B, S)), 500);
    const x = rand(B * H * S * D, 7);
    const pos = [5, 6, 7, 8, 100, 0, 3, 3];
    const out = run(n, { x: hostTensor('f32', [B, H, S, D], x), p: hostTensor('i32', [B, S], pos) }).data;
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let s = 0; s < S; s++) for (let i = 0; i < D / 2; i++) {
      const o = ((b * H + h) * S + s) * D;
      const ang = pos[b * S + s]! * 500 ** (-2 * i / D);
      const [x1, x2] = [Math.fround(x[o + i]!), Math.fround(x[o + i + D / 2]!)];
      expect(Math.abs(out[o + i]! - (x1 * Math.cos(ang) - x2 * Math.sin(ang)))).toBeLessThan(1e-6);
      expect(Math.abs(out[o + i + D / 2]! - (x2 * Math.cos(ang) + x1 * Math.sin(ang)))).toBeLessThan(1e-6);
    }
  });
});
