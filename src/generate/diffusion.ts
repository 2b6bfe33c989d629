/**
 * The sampling side of the spec's diffusion: its cosine schedule (alpha_bar(t) = f(t) / f(0),
 * f(t) = cos(((t / T) + s) / (1 + s) * pi / 2)^2, the `alpha_bar` block of models/transfusion.tfx, read from the
 * config values T and s_cos) and the DDIM (deterministic, eta = 0) and DDPM (ancestral) updates of the latent
 * given the predicted noise.
 *
 * alpha_bar(T) is 0 in closed form, which makes x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab) undefined at the first
 * step. As in Nichol & Dhariwal, the per-step betas 1 - ab(t) / ab(t - 1) are clipped at 0.999: the product then
 * equals the closed form wherever no clip happens (every t but the last few) and stays positive at T.
 */
import type { Rng } from '../runtime/rng.js';

export type Scheduler = 'ddim' | 'ddpm';

export function alphaBars(T: number, s: number): Float64Array {
  const f = (t: number) => Math.cos(((t / T + s) / (1 + s)) * Math.PI / 2) ** 2;
  const ab = new Float64Array(T + 1);
  ab[0] = 1;
  for (let t = 1; t <= T; t++) {
    const beta = Math.min(1 - f(t) / f(t - 1), 0.999);
    ab[t] = ab[t - 1]! * (1 - beta);
  }
  return ab;
}

/** `steps` timesteps from T down, evenly spaced, then 0: [T, ..., t_last, 0] (steps + 1 values). */
export function timesteps(T: number, steps: number): number[] {
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) ts.push(Math.round((T * (steps - i)) / steps));
  ts.push(0);
  return ts;
}

/** The clean latent the model's noise implies: x0 = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t), optionally clipped. */
function predictX0(x: number, eps: number, abT: number, clip: boolean): number {
  const x0 = (x - Math.sqrt(1 - abT) * eps) / Math.sqrt(abT);
  return clip ? Math.min(1, Math.max(-1, x0)) : x0;
}

/** DDIM (eta = 0): x_prev = sqrt(ab_prev) x0 + sqrt(1 - ab_prev) eps. */
export function ddimStep(x: Float32Array, eps: Float32Array, abT: number, abPrev: number, clip = false): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = predictX0(x[i]!, eps[i]!, abT, clip);
    out[i] = Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev) * eps[i]!;
  }
  return out;
}

/** DDPM ancestral step over the (possibly strided) interval: the posterior q(x_prev | x_t, x0) mean plus its noise. */
export function ddpmStep(x: Float32Array, eps: Float32Array, abT: number, abPrev: number, rng: Rng, clip = false): Float32Array {
  const out = new Float32Array(x.length);
  const beta = 1 - abT / abPrev;
  const c0 = (Math.sqrt(abPrev) * beta) / (1 - abT);
  const ct = (Math.sqrt(1 - beta) * (1 - abPrev)) / (1 - abT);
  const sd = Math.sqrt((beta * (1 - abPrev)) / (1 - abT));
  for (let i = 0; i < x.length; i++) {
    const x0 = predictX0(x[i]!, eps[i]!, abT, clip);
    out[i] = c0 * x0 + ct * x[i]! + (abPrev < 1 ? sd * rng.normal() : 0);
  }
  return out;
}

/** Classifier-free guidance: eps_u + w (eps_c - eps_u). */
export function guide(epsC: Float32Array, epsU: Float32Array, w: number): Float32Array {
  const out = new Float32Array(epsC.length);
  for (let i = 0; i < out.length; i++) out[i] = epsU[i]! + w * (epsC[i]! - epsU[i]!);
  return out;
}
