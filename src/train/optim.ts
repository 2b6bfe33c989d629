/**
 * The optimizer, on the host: AdamW with decoupled weight decay (Loshchilov & Hutter; PyTorch's AdamW order),
 * clipping by global gradient norm, and a linear warm-up followed by cosine decay of the learning rate. The
 * state (moments and step) is plain tensors so a checkpoint can hold it. This is the oracle of the device
 * version, optim-graph.ts (the same step as a graph entry, applied in place on resident parameters).
 */
import { hostTensor, type HostTensor } from '../core/tensor.js';

export interface AdamWConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Which parameters decay; default: rank >= 2 (matrices and embeddings), not norm weights or biases. */
  readonly decays?: (name: string, shape: readonly number[]) => boolean;
}
/** The paper's recipe (shared/transfusion.md): AdamW (0.9, 0.95), weight decay 0.1. */
export const PAPER_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

export interface AdamWState {
  /** Steps taken so far (the bias corrections use step + 1 for the next one). */
  step: number;
  readonly m: Map<string, Float32Array>;
  readonly v: Map<string, Float32Array>;
}

export function initAdamW(params: ReadonlyMap<string, HostTensor>): AdamWState {
  const zeros = () => new Map([...params].map(([k, t]) => [k, new Float32Array(t.data.length)]));
  return { step: 0, m: zeros(), v: zeros() };
}

/** Which parameters decay unless the config says: rank >= 2 (matrices and embeddings). */
export const decaysByDefault = (_name: string, shape: readonly number[]): boolean => shape.length >= 2;

/**
 * One AdamW step in place on `params` (Float32Array data): for each element, with t = step + 1,
 * p <- p (1 - lr wd) when the parameter decays, m <- b1 m + (1 - b1) g, v <- b2 v + (1 - b2) g^2,
 * p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). Math in f64, stored as f32.
 */
export function adamwStep(params: ReadonlyMap<string, HostTensor>, grads: ReadonlyMap<string, HostTensor>, state: AdamWState, lr: number, cfg: AdamWConfig): void {
  const t = state.step + 1;
  const c1 = 1 - cfg.beta1 ** t, c2 = 1 - cfg.beta2 ** t;
  const decays = cfg.decays ?? decaysByDefault;
  for (const [name, p] of params) {
    const g = grads.get(name);
    if (!g) throw new Error(`adamwStep: no gradient for parameter '${name}'`);
    if (g.data.length !== p.data.length) throw new Error(`adamwStep: gradient of '${name}' has ${g.data.length} elements, the parameter ${p.data.length}`);
    const m = state.m.get(name)!, v = state.v.get(name)!, P = p.data, G = g.data;
    const shrink = decays(name, p.shape) ? 1 - lr * cfg.weightDecay : 1;
    for (let i = 0; i < P.length; i++) {
      const gi = G[i]!;
      const mi = cfg.beta1 * m[i]! + (1 - cfg.beta1) * gi;
      const vi = cfg.beta2 * v[i]! + (1 - cfg.beta2) * gi * gi;
      m[i] = mi; v[i] = vi;
      P[i] = P[i]! * shrink - lr * (mi / c1) / (Math.sqrt(vi / c2) + cfg.eps);
    }
  }
  state.step = t;
}

/** sqrt of the sum of squares of every gradient element (f64). */
export function globalNorm(grads: ReadonlyMap<string, HostTensor>): number {
  let s = 0;
  for (const g of grads.values()) for (let i = 0; i < g.data.length; i++) s += g.data[i]! * g.data[i]!;
  return Math.sqrt(s);
}

/**
 * Clip by global norm (PyTorch's clip_grad_norm_): when the norm exceeds maxNorm, every gradient is scaled by
 * maxNorm / (norm + 1e-6). Returns the norm before clipping and new gradient tensors (inputs untouched).
 */
export function clipByGlobalNorm(grads: ReadonlyMap<string, HostTensor>, maxNorm: number): { norm: number; grads: Map<string, HostTensor> } {
  const norm = globalNorm(grads);
  const scale = norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  const out = new Map<string, HostTensor>();
  for (const [k, g] of grads) out.set(k, scale === 1 ? g : hostTensor(g.dtype, g.shape, Float32Array.from(g.data, (x) => x * scale)));
  return { norm, grads: out };
}

export interface LrSchedule { readonly peak: number; readonly min: number; readonly warmup: number; readonly total: number }
/** The paper's schedule (lr 3e-4 cosine to 1.5e-5, warm-up 4000) over `total` steps. */
export const paperSchedule = (total: number): LrSchedule => ({ peak: 3e-4, min: 1.5e-5, warmup: 4000, total });

/**
 * Learning rate of step s (0-based): linear warm-up peak (s + 1) / warmup for s < warmup, then cosine from peak
 * down to min at s = total - 1, and min after that.
 */
export function learningRate(s: number, o: LrSchedule): number {
  if (s < o.warmup) return (o.peak * (s + 1)) / o.warmup;
  const span = Math.max(1, o.total - 1 - o.warmup);
  const x = Math.min(1, (s - o.warmup) / span);
  return o.min + 0.5 * (o.peak - o.min) * (1 + Math.cos(Math.PI * x));
}

/** The optimizer state as named tensors (for checkpoints): `adam.m.<p>`, `adam.v.<p>` and `adam.step`. */
export function adamwStateTensors(state: AdamWState, shapes: ReadonlyMap<string, readonly number[]>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [k, m] of state.m) out.set(`adam.m.${k}`, hostTensor('f32', shapes.get(k)!, m));
  for (const [k, v] of state.v) out.set(`adam.v.${k}`, hostTensor('f32', shapes.get(k)!, v));
  out.set('adam.step', hostTensor('i32', [], Int32Array.of(state.step)));
  return out;
}

/** Inverse of adamwStateTensors. */
export function adamwStateFrom(tensors: ReadonlyMap<string, HostTensor>): AdamWState {
  const step = tensors.get('adam.step');
  if (!step) throw new Error('optimizer state has no adam.step');
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const [k, t] of tensors) {
    if (k.startsWith('adam.m.')) m.set(k.slice(7), Float32Array.from(t.data));
    else if (k.startsWith('adam.v.')) v.set(k.slice(7), Float32Array.from(t.data));
  }
  return { step: step.data[0]!, m, v };
}
