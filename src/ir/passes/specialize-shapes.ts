// requires: a valid graph and ctx.dims binding dimension symbols to non-negative integers (none bound: no-op).
// guarantees: no shape, slice start or IExpr `dim` mentions a bound symbol; a dim of bound symbols only is a constant (IExpr: an i32 const).
import { dimAdd, dimConst, dimMul, dimStr, dimSym, shapeStr, type Dim } from '../../core/dim.js';
import type { Graph, IExpr, Node } from '../graph.js';
import { checkNode } from '../verify.js';
import { copyNode, mapIExpr, PassError, rebuild, type PassContext } from './rebuild.js';

type Dims = Readonly<Record<string, number>>;

/** `d` with bound symbols replaced by their values; unbound symbols stay symbolic. */
export function substDim(d: Dim, dims: Dims): Dim {
  let out = dimConst(0);
  for (const t of d.terms) {
    let term = dimConst(t.c);
    for (const s of t.syms) term = dimMul(term, Object.hasOwn(dims, s) ? dimConst(dims[s]!) : dimSym(s));
    out = dimAdd(out, term);
  }
  return out;
}

function substIExpr(e: IExpr, dims: Dims): IExpr {
  return mapIExpr(e, (x) => {
    if (x.k !== 'dim') return x;
    const d = substDim(x.d, dims);
    return d.terms.every((t) => t.syms.length === 0) ? { k: 'const', v: Number(d.key), dtype: 'i32' } : { ...x, d };
  });
}

function substArg(n: Node, dims: Dims): unknown {
  switch (n.op) {
    case 'slice': { const a = (n as Node<'slice'>).arg; return { ...a, start: substDim(a.start, dims) }; }
    case 'compute': return { body: substIExpr((n as Node<'compute'>).arg.body, dims) };
    case 'attention': { const a = (n as Node<'attention'>).arg; return a.mask ? { ...a, mask: substIExpr(a.mask, dims) } : a; }
    case 'attention_grad': { const a = (n as Node<'attention_grad'>).arg; return a.mask ? { ...a, mask: substIExpr(a.mask, dims) } : a; }
    case 'scatter_add': return { idx: (n as Node<'scatter_add'>).arg.idx.map((e) => substIExpr(e, dims)) };
    default: return n.arg;
  }
}

export function specializeShapes(g: Graph, ctx: PassContext): Graph {
  const dims = ctx.dims;
  if (!dims || Object.keys(dims).length === 0) return g;
  for (const [k, v] of Object.entries(dims))
    if (!Number.isSafeInteger(v) || v < 0) throw new PassError(`dimension ${k} = ${v} is not a non-negative integer`);
  const bound = Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ');
  return rebuild(g, (n, src, b) => {
    const shape = n.shape.map((d) => substDim(d, dims));
    const bad = shape.find((d) => d.terms.length === 1 && d.terms[0]!.syms.length === 0 && d.terms[0]!.c < 0);
    if (bad) throw new PassError(`with ${bound}, a ${n.op} node of shape ${shapeStr(n.shape)} gets the negative size ${dimStr(bad)}`);
    const m = copyNode(b, n, src, shape, substArg(n, dims));
    // Sizes that were fine symbolically can be wrong for these values (a slice past the end, an odd rope width).
    const problems = checkNode(m);
    if (problems.length) throw new PassError(`with ${bound}, a ${n.op} node of shape ${shapeStr(n.shape)} is invalid: ${problems[0]}`);
    return m;
  });
}
