/**
 * fast-check: gradients of random-shaped graphs equal float64 finite differences (relative error <= 1e-4):
 * a norm / matmul / softmax / reduce / permute chain, gathers with random (repeated, out-of-range) ids, and
 * masked grouped attention with random sizes, lengths (fully masked rows included) and offsets.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { IExpr } from '../../src/ir/graph.js';
import { bin, idx, k, load, sh } from '../ir/cases/graph-helpers.js';
import { checkGrad, type CheckResult } from './helpers.js';

/** Errors within tolerance; returns whether the gradient had any non-zero element (size-1 softmax axes do not). */
function ok(res: CheckResult): boolean {
  for (const s of res.samples) if (!(s.rel <= 1e-4)) throw new Error(`${s.param}[${s.index}] analytic ${s.analytic} numeric ${s.numeric}`);
  return res.samples.some((s) => Math.abs(s.numeric) > 1e-3);
}

const dim = fc.integer({ min: 1, max: 4 });

describe('random shapes', () => {
  it('rmsnorm -> matmul -> softmax / log_softmax -> permute -> reduce', () => {
    let live = 0;
    fc.assert(fc.property(dim, dim, fc.integer({ min: 2, max: 5 }), dim, fc.nat(2), fc.boolean(), fc.nat(5), fc.integer({ min: 1, max: 1000 }),
      (a, b, c, d, axis, log, perm, seed) => {
        const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
        const res = checkGrad({
          seed,
          params: { x: { shape: [a, b, c] }, w: { shape: [c] }, W: { shape: [c, d] } },
          build: (B, p) => {
            const h = B.matmul(B.rmsnorm(p.x!, p.w!, 1e-5), p.W!);
            const s = B.softmax(h, axis, log);
            return B.reduce(axis === 1 ? 'max' : 'mean', B.permute(B.unary('tanh', s), perms[perm]!), [axis === 2 ? 0 : 2]);
          },
        }, 24);
        if (ok(res)) live++;
      }), { numRuns: 12 });
    expect(live).toBeGreaterThan(6);
  });

  it('gather with random ids (repeats, out of range) followed by a data-dependent shifted load', () => {
    let live = 0;
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), dim, fc.array(fc.integer({ min: -2, max: 8 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: -2, max: 2 }), fc.integer({ min: 1, max: 1000 }),
      (V, c, ids, shift, seed) => {
        const n = ids.length;
        // y[i, j] = g[clamp(i + shift), j] * g[i, j], g = gather(table, ids)
        const body: IExpr = bin('mul', load(0, 'f32', bin('add', idx(0), k(shift)), idx(1)), load(0, 'f32', idx(0), idx(1)));
        if (ok(checkGrad({
          seed,
          params: { t: { shape: [V, c] } },
          inputs: { ids: { dtype: 'i32', shape: sh(n), data: ids } },
          build: (B, p, i) => B.compute('f32', sh(n, c), [B.gather(p.t!, i.ids!)], body),
        }))) live++;
      }), { numRuns: 12 });
    expect(live).toBeGreaterThan(6);
  });

  it('masked grouped attention: random sizes, lengths (some rows fully masked) and causal offsets', () => {
    let live = 0;
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: -2, max: 2 }),
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 2 }), fc.integer({ min: 1, max: 1000 }),
      (Bn, Hkv, group, Sq, Sk, Dh, off, lens, seed) => {
        // allowed(b, q, k) = k < len[b] && k <= q + off
        const mask: IExpr = bin('and', bin('lt', idx(2), load(0, 'i32', idx(0)), 'bool'), bin('le', idx(2), bin('add', idx(1), k(off)), 'bool'), 'bool');
        const res = checkGrad({
          seed,
          params: { q: { shape: [Bn, Hkv * group, Sq, 2 * Dh] }, k: { shape: [Bn, Hkv, Sk, 2 * Dh] }, v: { shape: [Bn, Hkv, Sk, Dh] } },
          inputs: { len: { dtype: 'i32', shape: sh(Bn), data: lens.slice(0, Bn) } },
          build: (B, p, i) => B.attention(p.q!, p.k!, p.v!, [i.len!], mask, 'm', 1 / Math.sqrt(2 * Dh)),
        }, 32);
        // Every row may be masked (len 0): then the gradient is zero and FD agrees.
        if (ok(res)) live++;
      }), { numRuns: 16 });
    expect(live).toBeGreaterThan(6);
  });
});
