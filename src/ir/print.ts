/**
 * The text form of the graph IR, for `tfx ir`, pass tests and verifier messages. One line per node in
 * topological order, numbered %0, %1, ... by position (node ids depend on build history; positions only on
 * structure, so two builds of the same graph print the same text). Graph inputs come first, in order.
 */
import { formatOrigin, originsOf, summarizeOrigins } from './provenance.js';
import { shapeStr } from '../core/dim.js';
import { isFloat, type DType } from '../core/dtype.js';
import { type Graph, type IExpr, type InitRule, type Node, type Program } from './graph.js';

/**
 * Nodes in print order: the graph's inputs (declaration order), then what each output reaches, depth first,
 * sources in order. Own walk rather than topoSort so the order is this documented one.
 */
export function printOrder(g: Graph): Node[] {
  const seen = new Set<Node>();
  const out: Node[] = [];
  for (const root of [...g.inputs, ...g.outputs.map((o) => o.node)]) {
    if (seen.has(root)) continue;
    const stack: [Node, number][] = [[root, 0]];
    seen.add(root);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      const s = n.src[i];
      if (s) { top[1] = i + 1; if (!seen.has(s)) { seen.add(s); stack.push([s, 0]); } }
      else { out.push(n); stack.pop(); }
    }
  }
  return out;
}

/** Node -> its printed number. */
export function numbering(order: readonly Node[]): Map<Node, number> {
  return new Map(order.map((n, i) => [n, i]));
}

const BIN_SYMBOL: Partial<Record<string, string>> = {
  add: '+', sub: '-', mul: '*', div: '/', mod: '%', lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=', and: '&&', or: '||',
};

/**
 * The shortest decimal that rounds to the same f32 as `v`: float constants are f32 (f16 and bf16 round from
 * f32), so 0.00800000037997961 and 0.008 are one value and print as the latter.
 */
function shortestF32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const want = Math.fround(v);
  for (let p = 1; p < 17; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === want) return String(d);
  }
  return String(v);
}

/** A scalar literal: floats always show a point or exponent so `1.0` (f32) and `1` (i32) differ. */
export function literal(v: number, t: DType, tagged = true): string {
  if (t === 'bool') return v ? 'true' : 'false';
  let s = Object.is(v, -0) ? '-0' : isFloat(t) ? shortestF32(v) : String(v);
  if (isFloat(t) && /^-?\d+$/.test(s)) s += '.0';
  return !tagged || t === 'f32' || t === 'i32' ? s : `${t}(${s})`;
}

/** An IExpr as an expression; `ref(i)` names load source i. Every binary operator is parenthesized. */
export function printIExpr(e: IExpr, ref: (src: number) => string): string {
  const p = (x: IExpr) => printIExpr(x, ref);
  switch (e.k) {
    case 'idx': return `i${e.i}`;
    case 'const': return literal(e.v, e.dtype);
    case 'dim': return `dim(${e.d.key})`;
    case 'load': return `load(${ref(e.src)})[${e.idx.map(p).join(', ')}]${e.dtype === 'i32' || e.dtype === 'f32' ? '' : `:${e.dtype}`}`;
    case 'un': return e.op === 'neg' ? `-${p(e.a)}` : e.op === 'not' ? `!${p(e.a)}` : `${e.op}(${p(e.a)})`;
    case 'bin': {
      const s = BIN_SYMBOL[e.op];
      return s ? `(${p(e.a)} ${s} ${p(e.b)})` : `${e.op}(${p(e.a)}, ${p(e.b)})`;
    }
    case 'where': return `where(${p(e.c)}, ${p(e.a)}, ${p(e.b)})`;
    case 'cast': return `${e.dtype}(${p(e.a)})`;
  }
}

function initStr(r: InitRule): string {
  switch (r.kind) {
    case 'normal': return `normal(${r.mean}, ${r.std})`;
    case 'uniform': return `uniform(${r.lo}, ${r.hi})`;
    default: return r.kind;
  }
}

/** The op with its argument, e.g. `reduce{sum, axes=[2]}`, `add`, `param "w" normal(0, 0.02)`. */
function head(n: Node, ref: (src: number) => string): string {
  const a = n.arg as never;
  switch (n.op) {
    case 'input': return `input ${JSON.stringify((a as Node<'input'>['arg']).name)}`;
    case 'param': { const x = a as Node<'param'>['arg']; return `param ${JSON.stringify(x.name)} ${initStr(x.init)}`; }
    case 'const': return `const ${literal((a as Node<'const'>['arg']).value, n.dtype, false)}`; // dtype follows ':'
    case 'unary': return (a as Node<'unary'>['arg']).op;
    case 'binary': return (a as Node<'binary'>['arg']).op;
    case 'reduce': { const x = a as Node<'reduce'>['arg']; return `reduce{${x.kind}, axes=[${x.axes.join(', ')}]}`; }
    case 'permute': return `permute{perm=[${(a as Node<'permute'>['arg']).perm.join(', ')}]}`;
    case 'slice': { const x = a as Node<'slice'>['arg']; return `slice{axis=${x.axis}, start=${x.start.key}}`; }
    case 'concat': return `concat{axis=${(a as Node<'concat'>['arg']).axis}}`;
    case 'softmax': case 'log_softmax': return `${n.op}{axis=${(a as Node<'softmax'>['arg']).axis}}`;
    case 'rmsnorm': case 'layernorm': return `${n.op}{eps=${(a as Node<'rmsnorm'>['arg']).eps}}`;
    case 'rope': return `rope{theta=${(a as Node<'rope'>['arg']).theta}}`;
    case 'attention': {
      const x = a as Node<'attention'>['arg'];
      const mask = x.mask ? `, mask ${x.maskName} = ${printIExpr(x.mask, (i) => ref(i + 3))}` : '';
      return `attention{scale=${x.scale}${mask}}`;
    }
    case 'compute': return `compute{${printIExpr((a as Node<'compute'>['arg']).body, ref)}}`;
    case 'scatter_add': return `scatter_add{[${(a as Node<'scatter_add'>['arg']).idx.map((e) => printIExpr(e, (i) => ref(i + 1))).join(', ')}]}`;
    case 'attention_grad': {
      const x = a as Node<'attention_grad'>['arg'];
      const mask = x.mask ? `, mask ${x.maskName} = ${printIExpr(x.mask, (i) => ref(i + 5))}` : '';
      return `attention_grad{d${x.wrt}, scale=${x.scale}${mask}}`;
    }
    default: return n.op; // where, cast, expand, reshape, matmul, gather: no argument
  }
}

/** One node's line without the `%N = ` prefix, given the numbering of its sources. */
export function printNode(n: Node, num: (m: Node) => string): string {
  const ref = (i: number) => { const s = n.src[i]; return s ? num(s) : `%?src${i}`; };
  const srcs = n.src.length ? ' ' + n.src.map(num).join(', ') : '';
  return `${head(n, ref)}${srcs} : ${n.dtype}${shapeStr(n.shape)}`;
}

/** `origins`: append each node's spec spans as a comment, with this file name (provenance.ts). */
export function printGraph(g: Graph, opts: { readonly origins?: string } = {}): string {
  const order = printOrder(g);
  const nums = numbering(order);
  const num = (m: Node) => { const i = nums.get(m); return i === undefined ? '%?' : `%${i}`; };
  const lines = [`entry ${g.entry} {`];
  const from = (n: Node): string => {
    if (opts.origins === undefined) return '';
    const os = originsOf(n);
    return os.length === 0 ? '' : `    # ${os.length === 1 ? formatOrigin(os[0]!, opts.origins) : summarizeOrigins(os, opts.origins)}`;
  };
  for (const n of order) lines.push(`  ${num(n)} = ${printNode(n, num)}${from(n)}`);
  for (const o of g.outputs) lines.push(`  out ${o.name} = ${num(o.node)}`);
  lines.push('}');
  return lines.join('\n');
}

export function printProgram(p: Program): string {
  return p.entries.map((g) => printGraph(g)).join('\n\n');
}
