/**
 * AdamW (decoupled weight decay), clipping by global norm and the warm-up + cosine schedule, against the
 * textbook formulas written out independently here, and on a problem with a known optimum.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import {
  adamwStateFrom, adamwStateTensors, adamwStep, clipByGlobalNorm, globalNorm, initAdamW, learningRate, PAPER_ADAMW,
} from '../../src/train/optim.js';
import { Rng } from '../../src/runtime/rng.js';

const t = (xs: number[], shape = [xs.length]) => hostTensor('f32', shape, Float32Array.from(xs));

describe('AdamW', () => {
  it('first step moves each element by lr * sign(g) (bias-corrected moments), after decoupled decay', () => {
    const p = new Map([['w', t([1, -2, 0.5, 3], [2, 2])], ['b', t([1, 1])]]);
    const g = new Map([['w', t([0.1, -4, 2, -1e-3], [2, 2])], ['b', t([5, -5])]]);
    const st = initAdamW(p);
    const lr = 0.01, cfg = { ...PAPER_ADAMW, eps: 0 };
    adamwStep(p, g, st, lr, cfg);
    // m_hat = g, v_hat = g^2: the step is lr * g / |g|. w decays (rank 2): p (1 - lr wd); b (rank 1) does not.
    const want = [1 * (1 - 0.001) - 0.01, -2 * (1 - 0.001) + 0.01, 0.5 * (1 - 0.001) - 0.01, 3 * (1 - 0.001) + 0.01];
    [...p.get('w')!.data].forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 6));
    expect([...p.get('b')!.data].map((x) => +x.toFixed(6))).toEqual([0.99, 1.01]);
    expect(st.step).toBe(1);
  });

  it('matches a scalar reference implementation over 50 steps with random gradients', () => {
    const rng = Rng.seeded(1);
    const p = new Map([['w', t([0.3, -0.7], [1, 2])]]);
    const st = initAdamW(p);
    const ref = [0.3, -0.7].map((x) => ({ p: Math.fround(x), m: 0, v: 0 }));
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = PAPER_ADAMW;
    for (let s = 1; s <= 50; s++) {
      const gs = [rng.normal(), rng.normal()].map(Math.fround);
      const lr = 1e-2 / s;
      adamwStep(p, new Map([['w', t(gs, [1, 2])]]), st, lr, PAPER_ADAMW);
      ref.forEach((r, i) => {
        const g = gs[i]!;
        r.p = r.p - lr * wd * r.p;
        r.m = b1 * r.m + (1 - b1) * g; r.v = b2 * r.v + (1 - b2) * g * g;
        r.p = r.p - lr * (r.m / (1 - b1 ** s)) / (Math.sqrt(r.v / (1 - b2 ** s)) + eps);
        r.p = Math.fround(r.p); r.m = Math.fround(r.m); r.v = Math.fround(r.v);
      });
    }
    [...p.get('w')!.data].forEach((x, i) => expect(x).toBeCloseTo(ref[i]!.p, 5));
  });

  it('decay is decoupled: with zero gradients a decaying parameter shrinks by (1 - lr wd) per step and the moments stay 0', () => {
    const p = new Map([['w', t([2, -4], [1, 2])]]);
    const st = initAdamW(p);
    for (let s = 0; s < 10; s++) adamwStep(p, new Map([['w', t([0, 0], [1, 2])]]), st, 0.1, PAPER_ADAMW);
    expect(p.get('w')!.data[0]).toBeCloseTo(2 * 0.99 ** 10, 5);
    expect([...st.m.get('w')!, ...st.v.get('w')!]).toEqual([0, 0, 0, 0]);
  });

  it('minimises a quadratic', () => {
    const target = [1.5, -0.5, 2];
    const p = new Map([['x', t([0, 0, 0])]]);
    const st = initAdamW(p);
    for (let s = 0; s < 500; s++) {
      const x = p.get('x')!.data;
      adamwStep(p, new Map([['x', t(target.map((c, i) => 2 * (x[i]! - c)))]]), st, 0.05 * (1 - s / 500), PAPER_ADAMW);
    }
    [...p.get('x')!.data].forEach((x, i) => expect(x).toBeCloseTo(target[i]!, 2));
  });

  it('state round-trips through named tensors', () => {
    const p = new Map([['w', t([1, 2], [1, 2])]]);
    const st = initAdamW(p);
    adamwStep(p, new Map([['w', t([0.5, -1], [1, 2])]]), st, 0.1, PAPER_ADAMW);
    const back = adamwStateFrom(adamwStateTensors(st, new Map([['w', [1, 2]]])));
    expect(back.step).toBe(1);
    expect(back.m.get('w')).toEqual(st.m.get('w'));
    expect(back.v.get('w')).toEqual(st.v.get('w'));
  });
});

describe('clipping by global norm', () => {
  const grads = (): Map<string, HostTensor> => new Map([['a', t([3, 0])], ['b', t([4])]]);
  it('computes sqrt of the sum of squares over all tensors', () => expect(globalNorm(grads())).toBe(5));
  it('scales to the max norm when above it, leaves gradients alone below it', () => {
    const c = clipByGlobalNorm(grads(), 1);
    expect(c.norm).toBe(5);
    expect(globalNorm(c.grads)).toBeCloseTo(1, 5);
    expect([...c.grads.get('a')!.data, ...c.grads.get('b')!.data].map((x) => +x.toFixed(5))).toEqual([0.6, 0, 0.8]);
    const d = clipByGlobalNorm(grads(), 10);
    expect(d.grads.get('b')!.data[0]).toBe(4);
  });
});

describe('learning-rate schedule', () => {
  const o = { peak: 3e-4, min: 1.5e-5, warmup: 10, total: 110 };
  it('warms up linearly, then decays by a half cosine from peak to min', () => {
    expect(learningRate(0, o)).toBeCloseTo(3e-5, 12);
    expect(learningRate(4, o)).toBeCloseTo(1.5e-4, 12);
    expect(learningRate(9, o)).toBeCloseTo(3e-4, 12);
    expect(learningRate(10, o)).toBeCloseTo(3e-4, 12);
    // halfway through the decay (99 steps from 10 to 109): the mean of peak and min
    expect(learningRate(10 + 49.5, o)).toBeCloseTo((3e-4 + 1.5e-5) / 2, 12);
    expect(learningRate(109, o)).toBeCloseTo(1.5e-5, 12);
    expect(learningRate(500, o)).toBeCloseTo(1.5e-5, 12);
    for (let s = 10; s < 109; s++) expect(learningRate(s + 1, o)).toBeLessThan(learningRate(s, o));
  });
});
