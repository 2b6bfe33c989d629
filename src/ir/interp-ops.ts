/**
 * Tensor kernels of the reference interpreter, one plain function per op over row-major typed arrays.
 * Shapes arrive already evaluated (numbers). Float results go through `canon`, so f16/bf16 nodes round on
 * store; sums, dot products and normalisation statistics accumulate in f64 (JS numbers).
 */
import type { DType } from '../core/dtype.js';
import { numel } from '../core/dim.js';
import { InterpError, canon, float64Mode, kindOf, numericValue } from './interp-scalar.js';

/** Float64Array only in float64 mode (interp-scalar.ts `withFloat64`). */
export type Data = Float32Array | Float64Array | Int32Array;
/** A Tensor, or its float64-mode twin. */
export interface Tensor { readonly dtype: DType; readonly shape: readonly number[]; readonly data: Data }
export const alloc = (t: DType, n: number): Data =>
  (kindOf(t) === 'float' ? (float64Mode() ? new Float64Array(n) : new Float32Array(n)) : new Int32Array(n));

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]!; }
  return s;
}

/** out[i0, i1, ...] = src[base + sum(i_d * srcStrides[d])]: the one loop behind expand, permute and slice. */
export function stridedCopy(src: Data, out: Data, outShape: readonly number[], srcStrides: readonly number[], base: number): void {
  const r = outShape.length, n = out.length;
  const ix = new Array<number>(r).fill(0);
  let off = base;
  for (let i = 0; i < n; i++) {
    out[i] = src[off]!;
    // Odometer increment of the output index, keeping the source offset in step.
    for (let d = r - 1; d >= 0; d--) {
      ix[d]!++;
      off += srcStrides[d]!;
      if (ix[d]! < outShape[d]!) break;
      off -= ix[d]! * srcStrides[d]!;
      ix[d] = 0;
    }
  }
}

/** Right-aligned numpy broadcast: size-1 (and missing leading) source axes get stride 0. */
export function expand(x: Tensor, outShape: readonly number[], out: Data): void {
  const st = stridesOf(x.shape);
  const lead = outShape.length - x.shape.length;
  const srcStrides = outShape.map((n, i) => {
    if (i < lead) return 0;
    const m = x.shape[i - lead]!;
    if (m !== n && m !== 1) throw new InterpError(`cannot broadcast [${x.shape.join(', ')}] to [${outShape.join(', ')}]`);
    return m === 1 ? 0 : st[i - lead]!;
  });
  stridedCopy(x.data, out, outShape, srcStrides, 0);
}

export function permute(x: Tensor, perm: readonly number[], outShape: readonly number[], out: Data): void {
  const st = stridesOf(x.shape);
  stridedCopy(x.data, out, outShape, perm.map((p) => st[p]!), 0);
}

export function slice(x: Tensor, axis: number, start: number, outShape: readonly number[], out: Data): void {
  const len = outShape[axis]!;
  if (start < 0 || start + len > x.shape[axis]!)
    throw new InterpError(`slice [${start}, ${start + len}) is out of range for axis ${axis} of size ${x.shape[axis]}`);
  const st = stridesOf(x.shape);
  stridedCopy(x.data, out, outShape, st, start * st[axis]!);
}

export function concat(xs: readonly Tensor[], axis: number, outShape: readonly number[], out: Data): void {
  const outer = numel(outShape.slice(0, axis)), inner = numel(outShape.slice(axis + 1));
  const rowOut = outShape[axis]! * inner;
  let col = 0;
  for (const x of xs) {
    const row = x.shape[axis]! * inner;
    for (let o = 0; o < outer; o++) for (let j = 0; j < row; j++) out[o * rowOut + col + j] = x.data[o * row + j]!;
    col += row;
  }
}

/**
 * Reduce over `axes` (removed). Float sum/mean accumulate in f64; int sums wrap; u32 max/min compare unsigned.
 * Empty reductions give the identity (sum 0, max -Inf or INT_MIN, min +Inf or INT_MAX, mean NaN).
 */
export function reduce(x: Tensor, kind: 'sum' | 'max' | 'min' | 'mean', axes: readonly number[], t: DType, out: Data): void {
  const k = kindOf(t);
  const n = out.length;
  const init = kind === 'max' ? -Infinity : kind === 'min' ? Infinity : 0;
  const acc = new Float64Array(n).fill(init);
  const keep = x.shape.map((_, i) => !axes.includes(i));
  // Output stride of each input axis (0 for reduced axes), so the output offset walks along with the input.
  const outSt: number[] = [];
  let s = 1;
  for (let i = x.shape.length - 1; i >= 0; i--) { outSt[i] = keep[i] ? s : 0; if (keep[i]) s *= x.shape[i]!; }
  const r = x.shape.length, ix = new Array<number>(r).fill(0);
  let o = 0;
  for (let i = 0; i < x.data.length; i++) {
    const v = numericValue(x.data[i]!, t);
    const a = acc[o]!;
    if (kind === 'max') acc[o] = Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.max(a, v);
    else if (kind === 'min') acc[o] = Number.isNaN(a) || Number.isNaN(v) ? NaN : Math.min(a, v);
    else acc[o] = k === 'float' ? a + v : (a + v) | 0;
    for (let d = r - 1; d >= 0; d--) {
      ix[d]!++; o += outSt[d]!;
      if (ix[d]! < x.shape[d]!) break;
      o -= ix[d]! * outSt[d]!; ix[d] = 0;
    }
  }
  const count = axes.reduce((c, a) => c * x.shape[a]!, 1);
  for (let i = 0; i < n; i++) {
    let v = acc[i]!;
    if (kind === 'mean') v /= count;
    if (k !== 'float' && !Number.isFinite(v)) v = v > 0 ? (k === 'uint' ? 0xffffffff : 0x7fffffff) : k === 'uint' ? 0 : -0x80000000;
    out[i] = canon(v, t);
  }
}

/** [..., M, K] x [..., K, N] with equal batch dims; f64 dot products for floats, wrapping for ints. */
export function matmul(a: Tensor, b: Tensor, t: DType, out: Data): void {
  const r = a.shape.length;
  const M = a.shape[r - 2]!, K = a.shape[r - 1]!, N = b.shape[r - 1]!;
  const batch = numel(a.shape.slice(0, -2));
  const A = a.data, Bd = b.data, isF = kindOf(t) === 'float';
  // Floats: a row of f64 accumulators walked along B's rows (contiguous reads); each element still sums its
  // products in the order q = 0, 1, ..., K - 1, so results are those of the plain triple loop, bit for bit.
  const acc = new Float64Array(N);
  for (let p = 0; p < batch; p++) {
    const ao = p * M * K, bo = p * K * N, oo = p * M * N;
    for (let i = 0; i < M; i++) {
      if (isF) {
        acc.fill(0);
        for (let q = 0; q < K; q++) {
          const x = A[ao + i * K + q]!, row = bo + q * N;
          for (let j = 0; j < N; j++) acc[j] = acc[j]! + x * Bd[row + j]!;
        }
        for (let j = 0; j < N; j++) out[oo + i * N + j] = canon(acc[j]!, t);
        continue;
      }
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let q = 0; q < K; q++) s = (s + Math.imul(A[ao + i * K + q]!, Bd[bo + q * N + j]!)) | 0;
        out[oo + i * N + j] = canon(s, t);
      }
    }
  }
}

/** table [V, ...rest] indexed by ids (each clamped into [0, V - 1]) -> [...ids, ...rest]. */
export function gather(table: Tensor, ids: Tensor, out: Data): void {
  const V = table.shape[0]!;
  const row = numel(table.shape.slice(1));
  if (V === 0 && ids.data.length > 0) throw new InterpError('gather from an empty table');
  for (let i = 0; i < ids.data.length; i++) {
    const id = ids.data[i]!;
    const r = id < 0 ? 0 : id > V - 1 ? V - 1 : id;
    for (let j = 0; j < row; j++) out[i * row + j] = table.data[r * row + j]!;
  }
}

/** Softmax or log-softmax along `axis`, max-subtracted; a row of all -Inf gives NaN, as the formula does. */
export function softmax(x: Tensor, axis: number, log: boolean, t: DType, out: Data): void {
  const L = x.shape[axis]!, inner = numel(x.shape.slice(axis + 1)), outer = numel(x.shape.slice(0, axis));
  const X = x.data;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * L * inner + j;
      let m = -Infinity;
      for (let i = 0; i < L; i++) m = Math.max(m, X[base + i * inner]!);
      let sum = 0;
      for (let i = 0; i < L; i++) sum += Math.exp(X[base + i * inner]! - m);
      const lse = Math.log(sum);
      for (let i = 0; i < L; i++) {
        const z = X[base + i * inner]! - m;
        out[base + i * inner] = canon(log ? z - lse : Math.exp(z) / sum, t);
      }
    }
  }
}

/** x * rsqrt(mean(x^2) + eps) * w over the last axis. */
export function rmsnorm(x: Tensor, w: Tensor, eps: number, t: DType, out: Data): void {
  const D = x.shape[x.shape.length - 1]!, rows = D === 0 ? 0 : x.data.length / D;
  const X = x.data, W = w.data;
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < D; i++) ss += X[r * D + i]! * X[r * D + i]!;
    const inv = 1 / Math.sqrt(ss / D + eps);
    for (let i = 0; i < D; i++) out[r * D + i] = canon(X[r * D + i]! * inv * W[i]!, t);
  }
}

/** (x - mean) * rsqrt(var + eps) * w + b over the last axis, biased variance (two passes). */
export function layernorm(x: Tensor, w: Tensor, b: Tensor, eps: number, t: DType, out: Data): void {
  const D = x.shape[x.shape.length - 1]!, rows = D === 0 ? 0 : x.data.length / D;
  const X = x.data, W = w.data, Bv = b.data;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < D; i++) s += X[r * D + i]!;
    const mean = s / D;
    let v = 0;
    for (let i = 0; i < D; i++) v += (X[r * D + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let i = 0; i < D; i++) out[r * D + i] = canon((X[r * D + i]! - mean) * inv * W[i]! + Bv[i]!, t);
  }
}

/**
 * Rotate-half RoPE on x [B, H, S, D] with positions pos [B, S]: pair (i, i + D/2) rotated by
 * pos * theta^(-2i/D). Angles, cos and sin are computed in f64.
 */
export function rope(x: Tensor, pos: Tensor, theta: number, t: DType, out: Data): void {
  const [B, H, S, D] = x.shape as [number, number, number, number];
  if (D % 2 !== 0) throw new InterpError(`rope needs an even head dimension, got ${D}`);
  const half = D / 2, X = x.data;
  const freq = new Float64Array(half);
  for (let i = 0; i < half; i++) freq[i] = Math.pow(theta, (-2 * i) / D);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let s = 0; s < S; s++) {
    const p = pos.data[b * S + s]!;
    const o = ((b * H + h) * S + s) * D;
    for (let i = 0; i < half; i++) {
      const ang = p * freq[i]!, c = Math.cos(ang), sn = Math.sin(ang);
      const x1 = X[o + i]!, x2 = X[o + i + half]!;
      out[o + i] = canon(x1 * c - x2 * sn, t);
      out[o + i + half] = canon(x2 * c + x1 * sn, t);
    }
  }
}

/**
 * q [B, Hq, Sq, D], k [B, Hkv, Sk, D], v [B, Hkv, Sk, Dv] -> [B, Hq, Sq, Dv]. `allowed(b)` gives the
 * [Sq * Sk] mask of batch b (1 = attend). Query head h reads KV head floor(h / (Hq / Hkv)). Softmax runs over
 * the allowed keys only; a query row with none allowed is all zeros.
 */
export function attention(
  q: Tensor, k: Tensor, v: Tensor, scale: number, allowed: (b: number) => Uint8Array, t: DType, out: Data,
): void {
  const [B, Hq, Sq, D] = q.shape as [number, number, number, number];
  const [, Hkv, Sk] = k.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  if (Hkv === 0 || Hq % Hkv !== 0) throw new InterpError(`attention query heads (${Hq}) must be a multiple of KV heads (${Hkv})`);
  const group = Hq / Hkv, Q = q.data, Kd = k.data, V = v.data;
  const scores = new Float64Array(Sk), acc = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    const mask = allowed(b);
    for (let h = 0; h < Hq; h++) {
      const kh = Math.floor(h / group);
      const kBase = (b * Hkv + kh) * Sk;
      for (let i = 0; i < Sq; i++) {
        const qo = ((b * Hq + h) * Sq + i) * D;
        let m = -Infinity, any = false;
        for (let j = 0; j < Sk; j++) {
          if (!mask[i * Sk + j]) continue;
          let s = 0;
          const ko = (kBase + j) * D;
          for (let d = 0; d < D; d++) s += Q[qo + d]! * Kd[ko + d]!;
          scores[j] = s * scale;
          if (!any || scores[j]! > m) m = scores[j]!;
          any = true;
        }
        const oo = ((b * Hq + h) * Sq + i) * Dv;
        acc.fill(0);
        let sum = 0;
        if (any) {
          for (let j = 0; j < Sk; j++) {
            if (!mask[i * Sk + j]) continue;
            const p = Math.exp(scores[j]! - m);
            sum += p;
            const vo = (kBase + j) * Dv;
            for (let d = 0; d < Dv; d++) acc[d] = acc[d]! + p * V[vo + d]!;
          }
        }
        for (let d = 0; d < Dv; d++) out[oo + d] = any ? canon(acc[d]! / sum, t) : 0;
      }
    }
  }
}
