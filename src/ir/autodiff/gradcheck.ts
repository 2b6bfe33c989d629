/**
 * Gradient checks: the analytic gradient (the gradient entry run by the interpreter in float64) against central
 * finite differences of the forward entry, also in float64, on sampled parameter elements.
 */
import type { Node } from '../graph.js';
import { interpretF64, type InterpEnv64, type Tensor } from '../interpreter.js';

export interface GradSample { readonly param: string; readonly index: number; readonly analytic: number; readonly numeric: number; readonly rel: number }

/**
 * |a - n| / max(|a|, |n|, floor): relative where the gradient is not tiny; `floor` keeps elements whose true
 * gradient is ~0 from dividing f64 noise by ~0.
 */
export const relErr = (a: number, n: number, floor = 1e-6): number => Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), floor);

/** Every parameter as a Float64Array copy (perturbing an f32 parameter by 1e-6 would round away). */
export function toF64(params: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  return new Map([...params].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: Float64Array.from(t.data) }]));
}

/**
 * Compare grads (name -> analytic gradient, f64) with (f(p + h) - f(p - h)) / 2h for `picks` (param, flat index).
 * `loss` is the scalar output node of the forward entry.
 */
export function finiteDifferences(loss: Node, env: InterpEnv64, grads: ReadonlyMap<string, Tensor>,
  picks: readonly { param: string; index: number }[], h = 1e-5): GradSample[] {
  const params = toF64(env.params);
  const f = () => interpretF64([loss], { ...env, params })[0]!.data[0]!;
  return picks.map(({ param, index }) => {
    const data = params.get(param)!.data;
    const x = data[index]!;
    data[index] = x + h; const up = f();
    data[index] = x - h; const down = f();
    data[index] = x;
    const numeric = (up - down) / (2 * h);
    const analytic = grads.get(param)!.data[index]!;
    return { param, index, analytic, numeric, rel: relErr(analytic, numeric) };
  });
}
