/**
 * Reverse-mode autodiff as a graph pass. Requires: a verified entry graph with a scalar float output.
 * Guarantees: a new entry `<entry>_grad` over the same inputs whose outputs are that scalar (under its own name),
 * the entry's other outputs, and `grad.<param>` for every parameter of the program (zeros where the output does not depend on it), built
 * from graph ops only (the rules of rules.ts), so it goes through the same pipeline, interpreter and lowering.
 */
import { fusedAttentionGradApplies } from '../lower.js';
import { dimConst } from '../../core/dim.js';
import { isFloat } from '../../core/dtype.js';
import { TfxError } from '../../errors.js';
import { foldBatchSums } from './fold.js';
import { Builder } from '../builder.js';
import { topoSort, type Graph, type Node, type Program } from '../graph.js';
import { copyNode, rebuild } from '../passes/rebuild.js';
import { AutodiffError, RULES } from './rules.js';

export { AutodiffError } from './rules.js';

/** d out / d n for every float node n on a path from a param to `out` (a scalar), built in `b`. */
export function gradients(out: Node, b: Builder): Map<number, Node> {
  if (out.shape.length !== 0) throw new AutodiffError(`can only differentiate a scalar; the output has rank ${out.shape.length}`);
  if (!isFloat(out.dtype)) throw new AutodiffError(`can only differentiate a float output, not ${out.dtype}`);
  const order = topoSort([out]);
  // Only nodes that depend on some parameter need a gradient.
  const live = new Set<number>();
  for (const n of order) if (n.op === 'param' || n.src.some((s) => live.has(s.id))) live.add(n.id);
  const grads = new Map<number, Node>([[out.id, b.const(1, out.dtype)]]);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    const g = grads.get(n.id);
    if (!g || !isFloat(n.dtype)) continue;
    const rule = RULES[n.op] as (n: Node, g: Node, i: number, b: Builder) => Node | null;
    n.src.forEach((s, i) => {
      if (!live.has(s.id) || !isFloat(s.dtype)) return;
      const c = rule(n, g, i, b);
      if (!c) return;
      const prev = grads.get(s.id);
      grads.set(s.id, prev ? b.binary('add', prev, c) : c);
    });
  }
  return grads;
}

/** The name of the scalar output to differentiate: `loss` if the entry has one, else its only output. */
function scalarOutput(g: Graph, name?: string): { name: string; node: Node } {
  const pick = name !== undefined ? g.outputs.find((o) => o.name === name)
    : g.outputs.find((o) => o.name === 'loss') ?? (g.outputs.length === 1 ? g.outputs[0] : undefined);
  if (!pick) throw new AutodiffError(name !== undefined ? `entry '${g.entry}' has no output '${name}'` : `entry '${g.entry}' has several outputs and none is named 'loss'; say which to differentiate`);
  return pick;
}

/** The gradient entry of `entry` (see the file comment); `output` picks the scalar when there is no `loss`. */
export function gradEntry(program: Program, entry: string, output?: string): Graph {
  const src = program.entries.find((e) => e.entry === entry);
  if (!src) throw new AutodiffError(`no entry '${entry}'`);
  const b = new Builder();
  const g = rebuild(src, (n, s, bb) => copyNode(bb, n, s), b);
  const o = scalarOutput(g, output);
  const grads = gradients(o.node, b);
  const params = new Map<string, Node>();
  for (const n of topoSort([o.node])) if (n.op === 'param') params.set((n as Node<'param'>).arg.name, n);
  // The differentiated scalar first, the entry's other outputs (e.g. loss parts) next, then the gradients.
  const outputs = [{ name: o.name, node: o.node }, ...g.outputs.filter((x) => x.name !== o.name)];
  for (const p of program.params) {
    const n = params.get(p.name);
    const grad = n && grads.get(n.id);
    outputs.push({ name: `grad.${p.name}`, node: grad ?? b.expand(b.const(0, p.dtype), p.shape.map(dimConst)) });
  }
  // Weight gradients summed over the batch become one matmul each (fold.ts).
  return foldBatchSums({ entry: `${entry}_grad`, inputs: g.inputs, outputs });
}

/** Entry names that ask for a gradient entry: `E_grad` of a declared entry E. */
export const GRAD_SUFFIX = '_grad';

/**
 * Ops autodiff introduces that no device backend has a kernel for yet (they are to be built once in the kernel
 * IR): scatter_add (gradients of gathers and data-dependent loads) and attention_grad (attention backward).
 */
export const NO_KERNEL_YET: ReadonlyMap<string, string> = new Map([
  ['scatter_add', 'the gradient of a gather or of a data-dependent load'],
  ['attention_grad', 'attention backward'],
]);

/** The ops of `g` that the device backends cannot lower yet, with what they stand for. */
export function kernelGaps(g: Graph, opts: KernelOptions = {}): { op: string; what: string }[] {
  // With fusedAttention, an attention_grad the flash backward kernel covers is no gap (lower.ts); with
  // scatterKernel, no scatter_add is.
  const ops = new Set(topoSort(g.outputs.map((o) => o.node))
    .filter((n) => !(opts.fusedAttention && fusedAttentionGradApplies(n)) && !(opts.scatterKernel && n.op === 'scatter_add')).map((n) => n.op as string));
  return [...NO_KERNEL_YET].filter(([op]) => ops.has(op)).map(([op, what]) => ({ op, what }));
}

/** Throws TFX6007 when `g` needs an op that `backend` has no kernel for yet. */
/** Which backward ops the device lowering takes as kernels (the rest is decomposed: decompose.ts). */
export interface KernelOptions { readonly fusedAttention?: boolean; readonly scatterKernel?: boolean }
export const DEVICE_KERNELS: KernelOptions = { fusedAttention: true, scatterKernel: true };

export function requireKernels(g: Graph, backend: string, opts: KernelOptions = DEVICE_KERNELS): void {
  const gaps = kernelGaps(g, opts);
  if (gaps.length) throw new TfxError('TFX6007', `entry '${g.entry}' needs ${gaps.map((x) => `'${x.op}' (${x.what})`).join(' and ')}, which ${gaps.length > 1 ? 'have' : 'has'} no ${backend} kernel yet; use --backend cpu`);
}
