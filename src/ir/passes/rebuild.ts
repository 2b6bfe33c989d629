/**
 * What every pass shares: the context type and the bottom-up rebuild through a fresh Builder. Passes never
 * mutate nodes; they map each old node to a new one, sources first, through a memo map.
 */
import { Builder } from '../builder.js';
import type { Graph, IExpr, Node } from '../graph.js';
import { printOrder } from '../print.js';
import { addOrigins, originsOf } from '../provenance.js';

export interface PassContext {
  /** Concrete sizes for dimension symbols; only `specializeShapes` reads them. */
  readonly dims?: Readonly<Record<string, number>> | undefined;
}
export type Pass = (g: Graph, ctx: PassContext) => Graph;

/** The node `n` again, with new sources (and optionally a new shape or argument), interned in `b`. */
export function copyNode(b: Builder, n: Node, src: readonly Node[], shape = n.shape, arg: unknown = n.arg): Node {
  return b.node(n.op, n.dtype, shape, src, arg as never);
}

/**
 * Rebuild `g`: `f` receives each old node (sources before users) with its sources already rebuilt and returns
 * the node that replaces it. Inputs must stay inputs: they are the graph's interface.
 */
export function rebuild(g: Graph, f: (n: Node, src: Node[], b: Builder) => Node, b = new Builder()): Graph {
  const memo = new Map<Node, Node>();
  for (const n of printOrder(g)) {
    // Whatever the pass makes while rewriting n comes from where n came from.
    b.origins = originsOf(n);
    const m = f(n, n.src.map((s) => memo.get(s)!), b);
    addOrigins(m, b.origins);
    memo.set(n, m);
  }
  b.origins = [];
  const inputs = g.inputs.map((n) => {
    const m = memo.get(n)!;
    if (m.op !== 'input') throw new Error(`internal error: a pass replaced input '${n.arg.name}' by a ${m.op} node`);
    return m as Node<'input'>;
  });
  return { entry: g.entry, inputs, outputs: g.outputs.map((o) => ({ name: o.name, node: memo.get(o.node)! })), ...(g.states ? { states: g.states } : {}) };
}

/** The scalar behind `const c` or `expand(const c)`, or undefined. */
export function scalarConst(n: Node): Node<'const'> | undefined {
  const c = n.op === 'expand' ? n.src[0]! : n;
  return c.op === 'const' ? (c as Node<'const'>) : undefined;
}

/** A mistake the user can cause through pass inputs (e.g. dimension bindings); reported as one line. */
export class PassError extends Error {
  override readonly name = 'PassError';
}

/** Rebuild an IExpr bottom-up, `f` seeing each node with its children already mapped. */
export function mapIExpr(e: IExpr, f: (x: IExpr) => IExpr): IExpr {
  switch (e.k) {
    case 'idx': case 'const': case 'dim': return f(e);
    case 'load': return f({ ...e, idx: e.idx.map((i) => mapIExpr(i, f)) });
    case 'un': return f({ ...e, a: mapIExpr(e.a, f) });
    case 'bin': return f({ ...e, a: mapIExpr(e.a, f), b: mapIExpr(e.b, f) });
    case 'where': return f({ ...e, c: mapIExpr(e.c, f), a: mapIExpr(e.a, f), b: mapIExpr(e.b, f) });
    case 'cast': return f({ ...e, a: mapIExpr(e.a, f) });
  }
}

/** Source numbers an IExpr loads, in order of first use (pre-order: a load before its indices). */
export function loadOrder(e: IExpr): number[] {
  const out: number[] = [];
  const walk = (x: IExpr): void => {
    switch (x.k) {
      case 'load': if (!out.includes(x.src)) out.push(x.src); x.idx.forEach(walk); break;
      case 'un': case 'cast': walk(x.a); break;
      case 'bin': walk(x.a); walk(x.b); break;
      case 'where': walk(x.c); walk(x.a); walk(x.b); break;
      default: break;
    }
  };
  walk(e);
  return out;
}

/**
 * Renumber the sources an IExpr loads: sources in order of first load, a node listed twice kept once, and
 * sources never loaded kept at the end (`unused: 'keep'`) or dropped (`'drop'`).
 */
export function regroupSources(srcs: readonly Node[], body: IExpr, unused: 'keep' | 'drop'): { srcs: Node[]; body: IExpr } {
  const used = loadOrder(body);
  const order = unused === 'keep' ? [...used, ...srcs.map((_, i) => i).filter((i) => !used.includes(i))] : used;
  const out: Node[] = [];
  const to = new Map<number, number>();
  for (const i of order) {
    const n = srcs[i]!;
    let j = out.indexOf(n);
    if (j < 0) { out.push(n); j = out.length - 1; }
    to.set(i, j);
  }
  return { srcs: out, body: mapIExpr(body, (x) => (x.k === 'load' ? { ...x, src: to.get(x.src)! } : x)) };
}
