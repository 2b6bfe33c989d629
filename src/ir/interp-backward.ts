/**
 * Interpreter kernels of the ops that autodiff introduces: `scatter_add` and `attention_grad`. Same rules as
 * interp-ops.ts: f64 accumulation, one rounding on store (none in float64 mode).
 */
import type { DType } from '../core/dtype.js';
import type { IExpr } from './graph.js';
import { evalIExpr } from './interp-iexpr.js';
import type { Data, Tensor } from './interp-ops.js';
import { canon, numericValue } from './interp-scalar.js';
import type { Bindings } from '../core/dim.js';

/**
 * out = zeros(outShape); for each index i of `values` in row-major order, out[clamp(idx(i))] += values[i].
 * The fixed order makes the result deterministic; repeated indices add up exactly as a sequential sum would.
 */
export function scatterAdd(values: Tensor, idxSrcs: readonly Tensor[], idx: readonly IExpr[], outShape: readonly number[], dims: Bindings, t: DType, out: Data): void {
  const acc = new Float64Array(out.length);
  const r = values.shape.length, n = values.data.length;
  if (out.length > 0) {
    const ix = new Int32Array(r);
    for (let i = 0; i < n; i++) {
      let flat = 0;
      for (let d = 0; d < outShape.length; d++) {
        const e = idx[d]!;
        const raw = Math.trunc(numericValue(evalIExpr(e, ix, idxSrcs, dims), e.dtype));
        const m = outShape[d]!;
        flat = flat * m + (raw < 0 ? 0 : raw > m - 1 ? m - 1 : raw);
      }
      acc[flat] = acc[flat]! + values.data[i]!;
      for (let d = r - 1; d >= 0; d--) { if (++ix[d]! < values.shape[d]!) break; ix[d] = 0; }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = canon(acc[i]!, t);
}

/**
 * Gradient of attention (interp-ops.ts `attention`) with respect to q, k or v. Per query row i with allowed keys
 * A_i: P = softmax over A_i of scale * q.k (recomputed), D_i = dO_i . O_i, dP_ij = dO_i . v_j,
 * dS_ij = P_ij (dP_ij - D_i); dQ_i = scale sum_j dS_ij k_j, dK_j = scale sum_i dS_ij q_i, dV_j = sum_i P_ij dO_i,
 * dK and dV summed over the query heads sharing a KV head. Rows with no allowed key contribute nothing.
 */
export function attentionGrad(
  wrt: 'q' | 'k' | 'v', q: Tensor, k: Tensor, v: Tensor, o: Tensor, dO: Tensor, scale: number,
  allowed: (b: number) => Uint8Array, t: DType, out: Data,
): void {
  const [B, Hq, Sq, D] = q.shape as [number, number, number, number];
  const [, Hkv, Sk] = k.shape as [number, number, number, number];
  const Dv = v.shape[3]!;
  const group = Hq / Hkv, Q = q.data, Kd = k.data, V = v.data, O = o.data, G = dO.data;
  const acc = new Float64Array(out.length);
  const p = new Float64Array(Sk);
  for (let b = 0; b < B; b++) {
    const mask = allowed(b);
    for (let h = 0; h < Hq; h++) {
      const kBase = (b * Hkv + Math.floor(h / group)) * Sk;
      for (let i = 0; i < Sq; i++) {
        const qo = ((b * Hq + h) * Sq + i) * D, oo = ((b * Hq + h) * Sq + i) * Dv;
        let m = -Infinity, any = false;
        for (let j = 0; j < Sk; j++) {
          if (!mask[i * Sk + j]) continue;
          let s = 0;
          for (let d = 0; d < D; d++) s += Q[qo + d]! * Kd[(kBase + j) * D + d]!;
          p[j] = s * scale;
          if (!any || p[j]! > m) m = p[j]!;
          any = true;
        }
        if (!any) continue;
        let sum = 0;
        for (let j = 0; j < Sk; j++) if (mask[i * Sk + j]) { p[j] = Math.exp(p[j]! - m); sum += p[j]!; }
        let Di = 0;
        for (let d = 0; d < Dv; d++) Di += G[oo + d]! * O[oo + d]!;
        for (let j = 0; j < Sk; j++) {
          if (!mask[i * Sk + j]) continue;
          const P = p[j]! / sum, vo = (kBase + j) * Dv, ko = (kBase + j) * D;
          if (wrt === 'v') { for (let d = 0; d < Dv; d++) acc[vo + d] = acc[vo + d]! + P * G[oo + d]!; continue; }
          let dP = 0;
          for (let d = 0; d < Dv; d++) dP += G[oo + d]! * V[vo + d]!;
          const dS = P * (dP - Di) * scale;
          if (wrt === 'q') for (let d = 0; d < D; d++) acc[qo + d] = acc[qo + d]! + dS * Kd[ko + d]!;
          else for (let d = 0; d < D; d++) acc[ko + d] = acc[ko + d]! + dS * Q[qo + d]!;
        }
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = canon(acc[i]!, t);
}
