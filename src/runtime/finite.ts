/**
 * Weights that will not compute: NaN, infinities, and magnitudes past 1e20 (a product or a softmax exponent of
 * them overflows f32: WebGPU returned all NaN where the f64 interpreter stayed finite). `run` warns (TFX4004).
 */
import type { HostTensor } from '../core/tensor.js';

export const HUGE_WEIGHT = 1e20;

export interface NonFinite { readonly name: string; readonly nan: number; readonly inf: number; readonly huge: number }

/** Tensors with at least one NaN, infinite or huge value, with the counts. */
export function scanNonFinite(tensors: ReadonlyMap<string, HostTensor>): NonFinite[] {
  const out: NonFinite[] = [];
  for (const [name, t] of tensors) {
    let nan = 0, inf = 0, huge = 0;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const x = d[i]!;
      if (x !== x) nan++;
      else if (x === Infinity || x === -Infinity) inf++;
      else if (x > HUGE_WEIGHT || x < -HUGE_WEIGHT) huge++;
    }
    if (nan + inf + huge > 0) out.push({ name, nan, inf, huge });
  }
  return out;
}

/** One warning line for `run`, or undefined when every weight is finite and moderate. */
export function nonFiniteWarning(path: string, found: readonly NonFinite[]): string | undefined {
  if (found.length === 0) return undefined;
  const sum = (k: 'nan' | 'inf' | 'huge') => found.reduce((a, f) => a + f[k], 0);
  const names = found.slice(0, 3).map((f) => f.name).join(', ') + (found.length > 3 ? `, ... (${found.length} tensors)` : '');
  return `${path}: ${sum('nan')} NaN, ${sum('inf')} infinite and ${sum('huge')} values past 1e20 in ${names}; results will not be meaningful`;
}
