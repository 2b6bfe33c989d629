/**
 * Storing outputs in place: a plan rewrite that lets a runtime bind an output and the input (or parameter) it
 * replaces to one buffer, so a state update (AdamW's moments, a parameter) needs no second copy of the tensor.
 *
 * An output O may take the buffer of a source S when, in the plan as lowered:
 * - exactly one kernel writes O, an elementwise `map` kernel over S's shape and element type;
 * - that kernel reads S only at the element it writes (the identity index), so each element is read before
 *   it is overwritten by the same invocation;
 * - no later kernel reads S (its old value is gone after the write) and no other output shares O.
 * The writing kernel's loads of S then read O instead (one binding, read_write: WebGPU forbids binding one
 * buffer both writable and read-only in a dispatch); kernels before it read S, which holds the same bytes.
 */
import { linearize, kvar, walkK, type KernelPlan, type KExpr, type MapKernel } from './kernel.js';
import { exprText, mapExpr } from './kernel-ir.js';

export interface InPlacePair {
  /** Output name. */
  readonly output: string;
  /** The plan buffer (an input or parameter) whose storage the output takes over. */
  readonly source: number;
}

/** The plan with every pair that qualifies rewritten, and the outputs that now share their source's buffer. */
export function storeInPlace(plan: KernelPlan, pairs: readonly InPlacePair[]): { plan: KernelPlan; inPlace: string[] } {
  const kernels = [...plan.kernels];
  const inPlace: string[] = [];
  const taken = new Set<number>();
  for (const { output, source: S } of pairs) {
    const o = plan.outputs.find((x) => x.name === output);
    if (!o || taken.has(S) || plan.outputs.some((x) => x !== o && x.buf === o.buf)) continue;
    const O = o.buf, bo = plan.buffers[O]!, bs = plan.buffers[S]!;
    if (bo.dtype !== bs.dtype || bo.numel.key !== bs.numel.key || bo.tileGrid || bs.tileGrid) continue;
    const writers = kernels.flatMap((k, i) => (k.out === O ? [i] : []));
    if (writers.length !== 1) continue;
    const w = writers[0]!, k = kernels[w]!;
    if (k.kind !== 'map') continue;
    const identity = exprText(linearize(k.shape.map((_, i) => kvar(`i${i}`)), k.shape, plan.symbols));
    let ok = true;
    walkK(k.value, (x) => { if (x.k === 'load' && x.buf === S && exprText(x.at) !== identity) ok = false; });
    if (!ok || kernels.slice(w + 1).some((x) => x.reads.includes(S) || x.out === S) || kernels.slice(0, w).some((x) => x.reads.includes(O))) continue;
    const value = mapExpr(k.value, (x: KExpr) => (x.k === 'load' && x.buf === S ? { ...x, buf: O } : x));
    kernels[w] = { ...k, value, reads: [...new Set(k.reads.map((r) => (r === S ? O : r)))] } satisfies MapKernel;
    taken.add(S);
    inPlace.push(output);
  }
  return { plan: inPlace.length ? { ...plan, kernels } : plan, inPlace };
}
