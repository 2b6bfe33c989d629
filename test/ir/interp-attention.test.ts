import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { BinaryOp, IExpr } from '../../src/ir/graph.js';
import { evalMaskElement, interpret } from '../../src/ir/interpreter.js';

const sh = (...n: number[]) => n.map(dimConst);
function rand(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.fround(s / 2 ** 31 - 1); });
}

// IExpr constructors, written out here so the test does not depend on the front end.
const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const int = (v: number): IExpr => ({ k: 'const', v, dtype: 'i32' });
const load = (src: number, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });
const [B_, Q_, K_] = [idx(0), idx(1), idx(2)];

/** allowed(b, q, k) = k < len[b] && (k <= q || (img[b,q] >= 0 && img[b,q] == img[b,k])); src 0 = len, 1 = img. */
const transfusionMask: IExpr = bool('and',
  bool('lt', K_, load(0, B_)),
  bool('or', bool('le', K_, Q_),
    bool('and', bool('ge', load(1, B_, Q_), int(0)), bool('eq', load(1, B_, Q_), load(1, B_, K_)))));
const causalMask: IExpr = bool('le', K_, Q_);

interface Qkv { B: number; Hq: number; Hkv: number; Sq: number; Sk: number; D: number; Dv: number }
/** Explicit masked softmax(scale * Q K^T) V per (b, h, q), with KV head `kvHead(h)`; rows with no key are 0. */
function naiveAttention(
  p: Qkv, q: number[], k: number[], v: number[], scale: number,
  allowed: (b: number, i: number, j: number) => boolean, kvHead: (h: number) => number,
): number[] {
  const out: number[] = [];
  for (let b = 0; b < p.B; b++) for (let h = 0; h < p.Hq; h++) for (let i = 0; i < p.Sq; i++) {
    const kh = kvHead(h);
    const w: number[] = [];
    for (let j = 0; j < p.Sk; j++) {
      if (!allowed(b, i, j)) { w.push(0); continue; }
      let s = 0;
      for (let d = 0; d < p.D; d++) s += q[((b * p.Hq + h) * p.Sq + i) * p.D + d]! * k[((b * p.Hkv + kh) * p.Sk + j) * p.D + d]!;
      w.push(Math.exp(scale * s));
    }
    const z = w.reduce((x, y) => x + y, 0);
    for (let d = 0; d < p.Dv; d++) {
      let s = 0;
      for (let j = 0; j < p.Sk; j++) s += w[j]! * v[((b * p.Hkv + kh) * p.Sk + j) * p.Dv + d]!;
      out.push(z === 0 ? 0 : s / z);
    }
  }
  return out;
}

function runAttention(p: Qkv, seed: number, mask: IExpr | null, maskInputs: Record<string, HostTensor>, scale: number) {
  const g = new Builder();
  const mi = Object.entries(maskInputs).map(([name, t]) => g.input(name, t.dtype, sh(...t.shape)));
  const n = g.attention(
    g.input('q', 'f32', sh(p.B, p.Hq, p.Sq, p.D)), g.input('k', 'f32', sh(p.B, p.Hkv, p.Sk, p.D)),
    g.input('v', 'f32', sh(p.B, p.Hkv, p.Sk, p.Dv)), mi, mask, 'm', scale);
  const q = rand(p.B * p.Hq * p.Sq * p.D, seed), k = rand(p.B * p.Hkv * p.Sk * p.D, seed + 1), v = rand(p.B * p.Hkv * p.Sk * p.Dv, seed + 2);
  const inputs = new Map(Object.entries({
    q: hostTensor('f32', [p.B, p.Hq, p.Sq, p.D], q), k: hostTensor('f32', [p.B, p.Hkv, p.Sk, p.D], k),
    v: hostTensor('f32', [p.B, p.Hkv, p.Sk, p.Dv], v), ...maskInputs,
  }));
  const out = interpret([n], { inputs, params: new Map(), dims: {} })[0]!;
  expect(out.shape).toEqual([p.B, p.Hq, p.Sq, p.Dv]);
  return { out: [...out.data], q, k, v };
}
const close = (got: number[], want: number[], tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  got.forEach((x, i) => expect(Math.abs(x - want[i]!)).toBeLessThanOrEqual(tol));
};

describe('attention', () => {
  it('mask null equals softmax(scale Q K^T) V (cross attention, Dv != D)', () => {
    const p = { B: 2, Hq: 2, Hkv: 2, Sq: 3, Sk: 5, D: 4, Dv: 3 };
    const { out, q, k, v } = runAttention(p, 11, null, {}, 0.5);
    close(out, naiveAttention(p, q, k, v, 0.5, () => true, (h) => h));
  });

  it('causal mask k <= q equals a triangular loop; row 0 is v[0]', () => {
    const p = { B: 1, Hq: 2, Hkv: 2, Sq: 6, Sk: 6, D: 4, Dv: 4 };
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(evalMaskElement(causalMask, 0, i, j, [])).toBe(j <= i);
    const { out, q, k, v } = runAttention(p, 3, causalMask, {}, 0.5);
    close(out, naiveAttention(p, q, k, v, 0.5, (_b, i, j) => j <= i, (h) => h));
    close(out.slice(0, 4), v.slice(0, 4)); // head 0, query 0 sees only key 0
  });

  it('GQA: query head h reads KV head floor(h / (Hq / Hkv))', () => {
    const p = { B: 1, Hq: 4, Hkv: 2, Sq: 3, Sk: 3, D: 2, Dv: 2 };
    const { out, q, k, v } = runAttention(p, 5, null, {}, 1);
    close(out, naiveAttention(p, q, k, v, 1, () => true, (h) => Math.floor(h / 2)));
    // The interleaved mapping h % Hkv gives different numbers, so the check above can tell them apart.
    const wrong = naiveAttention(p, q, k, v, 1, () => true, (h) => h % 2);
    expect(out.some((x, i) => Math.abs(x - wrong[i]!) > 1e-3)).toBe(true);
  });

  it('fully masked rows give zeros, not NaN', () => {
    const p = { B: 2, Hq: 1, Hkv: 1, Sq: 4, Sk: 4, D: 2, Dv: 2 };
    const len = hostTensor('i32', [2], [3, 0]);
    const img = hostTensor('i32', [2, 4], [-1, -1, -1, -1, -1, -1, -1, -1]);
    const { out, q, k, v } = runAttention(p, 9, transfusionMask, { len, img }, 1);
    expect(out.every((x) => Number.isFinite(x))).toBe(true);
    expect(out.slice(8)).toEqual(new Array(8).fill(0)); // batch 1 (len 0): every row masked
    // Batch 0, query 3 (padding) still sees keys 0..2 (k < len and k <= q), so it is not zero.
    close(out, naiveAttention(p, q, k, v, 1, (b, i, j) => j < [3, 0][b]! && j <= i, () => 0));
    // A mask that is false everywhere: all zeros.
    const none = runAttention(p, 9, bool('lt', K_, int(0)), {}, 1).out;
    expect(none).toEqual(new Array(16).fill(0));
  });

  it('Transfusion mask equals the direct double loop on random layouts', () => {
    const layout = fc.record({
      B: fc.integer({ min: 1, max: 3 }),
      S: fc.integer({ min: 1, max: 10 }),
      seqs: fc.array(fc.record({
        // Runs of text (false) or one image (true) of some length; laid out left to right and cut at S.
        runs: fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 4 })), { maxLength: 6 }),
        len: fc.integer({ min: 0, max: 10 }),
      }), { minLength: 3, maxLength: 3 }),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
      Hkv: fc.constantFrom(1, 2),
    });
    fc.assert(fc.property(layout, ({ B, S, seqs, seed, Hkv }) => {
      const img: number[] = [], lens: number[] = [];
      for (let b = 0; b < B; b++) {
        const row: number[] = [];
        let image = 0;
        for (const [isImg, n] of seqs[b]!.runs) {
          for (let i = 0; i < n; i++) row.push(isImg ? image : -1);
          if (isImg) image++;
        }
        while (row.length < S) row.push(-1);
        img.push(...row.slice(0, S));
        lens.push(Math.min(seqs[b]!.len, S));
      }
      const allowed = (b: number, q: number, k: number) => {
        const iq = img[b * S + q]!, ik = img[b * S + k]!;
        return k < lens[b]! && (k <= q || (iq >= 0 && iq === ik));
      };
      const len = hostTensor('i32', [B], lens), imgT = hostTensor('i32', [B, S], img);
      for (let b = 0; b < B; b++) for (let q = 0; q < S; q++) for (let k = 0; k < S; k++)
        expect(evalMaskElement(transfusionMask, b, q, k, [len, imgT])).toBe(allowed(b, q, k));
      const p = { B, Hq: 2, Hkv, Sq: S, Sk: S, D: 4, Dv: 3 };
      const { out, q, k, v } = runAttention(p, seed, transfusionMask, { len, img: imgT }, 0.5);
      close(out, naiveAttention(p, q, k, v, 0.5, allowed, (h) => Math.floor(h / (2 / Hkv))));
    }), { numRuns: 150 });
  });

  it('bidirectional inside an image: an early patch sees a later patch of the same image', () => {
    const len = hostTensor('i32', [1], [6]);
    const img = hostTensor('i32', [1, 6], [-1, 0, 0, 0, -1, 1]);
    const m = (q: number, k: number) => evalMaskElement(transfusionMask, 0, q, k, [len, img]);
    expect(m(1, 3)).toBe(true); // same image, looking ahead
    expect(m(0, 1)).toBe(false); // text cannot look ahead
    expect(m(3, 5)).toBe(false); // different images
    expect(m(5, 4)).toBe(true); // causal
  });
});
