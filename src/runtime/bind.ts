/** Binding symbolic dims (B, S, N) from the shapes of the tensors a user passes, with clear errors. */
import { dimAsConst, dimEval, dimSymbols, shapeStr, type Shape } from '../core/dim.js';
import type { HostTensor } from '../core/tensor.js';
import type { DimRequirement } from '../ir/graph.js';
import { TfxError, type UserCode } from '../errors.js';

export class BindError extends TfxError {
  override name = 'BindError';
  constructor(message: string, code: UserCode = 'TFX5001') { super(code, message); }
}

export interface InputSpec { readonly name: string; readonly dtype: string; readonly shape: Shape }

/** Symbols are bound by the first input dim that is exactly that symbol; every dim is then checked. */
export function bindDims(specs: readonly InputSpec[], given: ReadonlyMap<string, HostTensor>, symbols: readonly string[]): Record<string, number> {
  const dims: Record<string, number> = {};
  const from: Record<string, string> = {};
  const missing = specs.filter((s) => !given.has(s.name)).map((s) => s.name);
  if (missing.length) throw new BindError(`missing input tensor(s): ${missing.join(', ')} (the entry takes ${specs.map((s) => s.name).join(', ')})`);
  for (const s of specs) {
    const t = given.get(s.name)!;
    if (t.shape.length !== s.shape.length) throw new BindError(`input '${s.name}' has shape [${t.shape.join(', ')}], the spec wants ${shapeStr(s.shape)} (rank ${s.shape.length})`);
    s.shape.forEach((d, i) => {
      if (d.terms.length === 1 && d.terms[0]!.c === 1 && d.terms[0]!.syms.length === 1) {
        const sym = d.terms[0]!.syms[0]!;
        const v = t.shape[i]!;
        if (dims[sym] === undefined) { dims[sym] = v; from[sym] = `${s.name} axis ${i}`; }
        else if (dims[sym] !== v) throw new BindError(`dimension ${sym} is ${dims[sym]} from ${from[sym]} but ${v} from ${s.name} axis ${i}`);
      }
    });
  }
  // Dimensions are never empty: a 0 would reach the kernels as an empty dispatch (docs/errors.md, TFX5003).
  for (const [sym, v] of Object.entries(dims)) {
    if (v < 1) throw new BindError(`dimension ${sym} is 0 (from ${from[sym]}); every dimension must be at least 1`, 'TFX5003');
  }
  for (const sym of symbols) if (dims[sym] === undefined) dims[sym] = 0;
  for (const s of specs) {
    const t = given.get(s.name)!;
    s.shape.forEach((d, i) => {
      const want = dimAsConst(d) ?? dimEval(d, dims);
      if (want !== t.shape[i]) throw new BindError(`input '${s.name}' has shape [${t.shape.join(', ')}], the spec wants ${shapeStr(s.shape)} = [${s.shape.map((x) => dimEval(x, dims)).join(', ')}]`);
    });
  }
  return dims;
}

/**
 * The conditions `check` left for bind time (a slice end or a comprehension extent that depends on the sizes,
 * an element count past the 32-bit index type): each is tested with the bound dims before anything runs.
 */
export function checkRequirements(requires: readonly DimRequirement[] | undefined, dims: Readonly<Record<string, number>>, file = 'the spec'): void {
  const bound = Object.entries(dims).map(([k, v]) => `${k} = ${v}`).join(', ');
  for (const r of requires ?? []) {
    // A symbol no input binds (bindDims leaves it 0; bound ones are >= 1): nothing to check against yet.
    if (dimSymbols(r.dim).some((sym) => !(dims[sym]! >= 1))) continue;
    const v = dimEval(r.dim, dims);
    if (v < r.min) throw new BindError(`${r.what} is ${v} with ${bound} (${file}:${r.line}:${r.col}); it must be at least ${r.min}`, 'TFX5005');
    if (v > r.max) throw new BindError(`${r.what} is ${v} with ${bound} (${file}:${r.line}:${r.col}); kernels index with 32-bit integers (at most ${r.max})`, 'TFX7002');
  }
}
