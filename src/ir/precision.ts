/**
 * Reduced precision as a graph rewrite: every f32 tensor becomes f16 (storage), inputs stay f32 and are cast on
 * entry. Kernels still compute in f32 registers and accumulate in f32. The interpreter on the rewritten graph
 * rounds every node to f16, more than the kernels do; `f16Oracle` rounds only what they store (and casts).
 * Requires: a Graph. Guarantees: the same graph with f16 in place of f32 everywhere but at the inputs.
 */
import { Builder } from './builder.js';
import { topoSort, type Graph, type IExpr, type Node, type Program } from './graph.js';
import { originsOf } from './provenance.js';
import type { DType } from '../core/dtype.js';

export function toF16(g: Graph, b = new Builder()): Graph {
  const map = new Map<number, Node>();
  const inputs: Node<'input'>[] = [];
  for (const n of topoSort(g.outputs.map((o) => o.node))) {
    b.origins = originsOf(n);
    const src = n.src.map((s) => map.get(s.id)!);
    let out: Node;
    if (n.op === 'input') {
      const i = b.node('input', n.dtype, n.shape, [], n.arg);
      inputs.push(i as Node<'input'>);
      out = n.dtype === 'f32' ? b.cast(i, 'f16') : i;
    } else if (n.op === 'compute' || n.op === 'attention') {
      // Bodies keep computing in f32: a load from a source that became f16 is cast back up where it is read.
      const srcs = n.op === 'attention' ? src.slice(3) : src;
      const arg = n.arg as { body?: IExpr; mask?: IExpr | null };
      const fix = (e: IExpr): IExpr => retypeLoads(e, srcs);
      const newArg = n.op === 'compute' ? { ...arg, body: fix(arg.body!) } : { ...arg, mask: arg.mask ? fix(arg.mask) : null };
      out = b.node(n.op, n.dtype === 'f32' ? 'f16' : n.dtype, n.shape, src, newArg as never);
    } else {
      out = b.node(n.op, n.dtype === 'f32' ? 'f16' : n.dtype, n.shape, src, n.arg as never);
    }
    map.set(n.id, out);
  }
  // Inputs the outputs do not reach still belong to the entry's signature.
  for (const i of g.inputs) if (!inputs.some((x) => x.arg.name === i.arg.name)) inputs.push(b.node('input', i.dtype, i.shape, [], i.arg) as Node<'input'>);
  const order = new Map(g.inputs.map((i, k) => [i.arg.name, k]));
  inputs.sort((x, y) => (order.get(x.arg.name) ?? 0) - (order.get(y.arg.name) ?? 0));
  return { entry: g.entry, inputs, outputs: g.outputs.map((o) => ({ name: o.name, node: map.get(o.node.id)! })), ...(g.states ? { states: g.states } : {}) };
}

export function programToF16(p: Program): Program {
  const b = new Builder();
  return { ...p, params: p.params.map((x) => ({ ...x, dtype: x.dtype === 'f32' ? 'f16' : x.dtype })), entries: p.entries.map((g) => toF16(g, b)) };
}

function retypeLoads(e: IExpr, srcs: readonly Node[]): IExpr {
  switch (e.k) {
    case 'load': {
      const idx = e.idx.map((x) => retypeLoads(x, srcs));
      const st = srcs[e.src]!.dtype;
      return st === e.dtype ? { ...e, idx } : { k: 'cast', a: { k: 'load', src: e.src, idx, dtype: st }, dtype: e.dtype };
    }
    case 'un': case 'cast': return { ...e, a: retypeLoads(e.a, srcs) } as IExpr;
    case 'bin': return { ...e, a: retypeLoads(e.a, srcs), b: retypeLoads(e.b, srcs) };
    case 'where': return { ...e, c: retypeLoads(e.c, srcs), a: retypeLoads(e.a, srcs), b: retypeLoads(e.b, srcs) };
    default: return e;
  }
}

/**
 * The oracle of the f16 kernels: the f16 graph `g` (after the graph passes, the one lowered) computed in f32,
 * rounded to f16 only where the kernels round: values they store (`stored`, from the kernel plan) and casts to
 * f16. Values a fused kernel keeps in f32 registers are not rounded. Outputs stay f16.
 */
export function f16Oracle(g: Graph, stored: ReadonlySet<number>): Graph {
  const b = new Builder();
  const map = new Map<number, Node>();
  const round = (x: Node) => b.cast(b.cast(x, 'f16'), 'f32');
  const up = (t: DType): DType => (t === 'f16' ? 'f32' : t);
  const inputs: Node<'input'>[] = [];
  for (const n of topoSort(g.outputs.map((o) => o.node))) {
    const src = n.src.map((s) => map.get(s.id)!);
    let out: Node;
    if (n.op === 'input') { out = b.node('input', n.dtype, n.shape, [], n.arg); inputs.push(out as Node<'input'>); }
    else if (n.op === 'cast' && n.dtype === 'f16') out = round(src[0]!);
    else {
      const arg = n.arg as { body?: IExpr; mask?: IExpr | null };
      const a = n.op === 'compute' ? { ...arg, body: retype(arg.body!) } : n.op === 'attention' && arg.mask ? { ...arg, mask: retype(arg.mask) } : n.arg;
      out = b.node(n.op, up(n.dtype), n.shape, src, a as never);
      if (n.dtype === 'f16' && stored.has(n.id)) out = round(out);
    }
    map.set(n.id, out);
  }
  for (const i of g.inputs) if (!inputs.some((x) => x.arg.name === i.arg.name)) inputs.push(b.node('input', i.dtype, i.shape, [], i.arg) as Node<'input'>);
  const order = new Map(g.inputs.map((i, k) => [i.arg.name, k]));
  inputs.sort((x, y) => (order.get(x.arg.name) ?? 0) - (order.get(y.arg.name) ?? 0));
  const outputs = g.outputs.map((o) => { const x = map.get(o.node.id)!; return { name: o.name, node: o.node.dtype === 'f16' ? b.cast(x, 'f16') : x }; });
  return { entry: g.entry, inputs, outputs, ...(g.states ? { states: g.states } : {}) };
}

/** An IExpr with every f16 value typed f32 (a load of a source that became f32; casts to f16 become f32). */
function retype(e: IExpr): IExpr {
  const t = e.dtype === 'f16' ? 'f32' : e.dtype;
  switch (e.k) {
    case 'load': return { ...e, idx: e.idx.map(retype), dtype: t };
    case 'un': case 'cast': return { ...e, a: retype(e.a), dtype: t } as IExpr;
    case 'bin': return { ...e, a: retype(e.a), b: retype(e.b), dtype: t };
    case 'where': return { ...e, c: retype(e.c), a: retype(e.a), b: retype(e.b), dtype: t };
    default: return { ...e, dtype: t } as IExpr;
  }
}
