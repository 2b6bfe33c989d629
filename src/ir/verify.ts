/**
 * Invariants of a graph, checked after every pass. Shape and dtype rules are not restated here: each node is
 * rebuilt by the Builder from stand-in inputs of its sources' dtypes and shapes, and must come back as the same
 * op, dtype, shape and argument, with no cast or expand inserted (the builder's rules are the IR's rules).
 * What the builder does not check (IExpr bodies, ids, cycles, graph inputs) is checked directly.
 */
import { dimAsConst, shapeEq, shapeStr } from '../core/dim.js';
import { isFloat, isInt } from '../core/dtype.js';
import { Builder, ShapeError } from './builder.js';
import { COMPARE_OPS, type Graph, type IExpr, type Node, type Op } from './graph.js';
import { printNode } from './print.js';

/** Call the builder method that makes a node like `n` from `src`. */
export function reapply(b: Builder, n: Node, src: readonly Node[]): Node {
  const s = (i: number) => src[i]!;
  const arg = n.arg as never;
  switch (n.op) {
    case 'input': return b.input((arg as Node<'input'>['arg']).name, n.dtype, n.shape);
    case 'param': { const a = arg as Node<'param'>['arg']; return b.param(a.name, n.dtype, n.shape, a.init); }
    case 'const': return b.const((arg as Node<'const'>['arg']).value, n.dtype);
    case 'unary': return b.unary((arg as Node<'unary'>['arg']).op, s(0));
    case 'binary': return b.binary((arg as Node<'binary'>['arg']).op, s(0), s(1));
    case 'where': return b.where(s(0), s(1), s(2));
    case 'cast': return b.cast(s(0), n.dtype);
    case 'expand': return b.expand(s(0), n.shape);
    case 'reduce': { const a = arg as Node<'reduce'>['arg']; return b.reduce(a.kind, s(0), a.axes); }
    case 'reshape': return b.reshape(s(0), n.shape);
    case 'permute': return b.permute(s(0), (arg as Node<'permute'>['arg']).perm);
    case 'slice': { const a = arg as Node<'slice'>['arg']; return b.slice(s(0), a.axis, a.start, n.shape[a.axis] ?? fail(`slice axis ${a.axis} is out of range`)); }
    case 'concat': return b.concat(src, (arg as Node<'concat'>['arg']).axis);
    case 'matmul': return b.matmul(s(0), s(1));
    case 'gather': return b.gather(s(0), s(1));
    case 'softmax': return b.softmax(s(0), (arg as Node<'softmax'>['arg']).axis);
    case 'log_softmax': return b.softmax(s(0), (arg as Node<'log_softmax'>['arg']).axis, true);
    case 'rmsnorm': return b.rmsnorm(s(0), s(1), (arg as Node<'rmsnorm'>['arg']).eps);
    case 'layernorm': return b.layernorm(s(0), s(1), s(2), (arg as Node<'layernorm'>['arg']).eps);
    case 'rope': return b.rope(s(0), s(1), (arg as Node<'rope'>['arg']).theta);
    case 'attention': { const a = arg as Node<'attention'>['arg']; return b.attention(s(0), s(1), s(2), src.slice(3), a.mask, a.maskName, a.scale); }
    case 'compute': return b.compute(n.dtype, n.shape, src, (arg as Node<'compute'>['arg']).body);
    case 'scatter_add': return b.scatterAdd(s(0), n.shape, src.slice(1), (arg as Node<'scatter_add'>['arg']).idx);
    case 'attention_grad': {
      const a = arg as Node<'attention_grad'>['arg'];
      return b.attentionGrad(a.wrt, s(0), s(1), s(2), s(3), s(4), src.slice(5), a.mask, a.maskName, a.scale);
    }
  }
}
const fail = (m: string): never => { throw new ShapeError(m); };

/** How many sources each op takes; undefined: variadic (checked elsewhere). */
const ARITY: Partial<Record<Op, number>> = {
  input: 0, param: 0, const: 0, unary: 1, binary: 2, where: 3, cast: 1, expand: 1, reduce: 1, reshape: 1, permute: 1,
  slice: 1, matmul: 2, gather: 2, softmax: 1, log_softmax: 1, rmsnorm: 2, layernorm: 3, rope: 2,
};

const argKey = (a: unknown) => JSON.stringify(a, (_k, v) => (v && typeof v === 'object' && 'key' in v && 'terms' in v ? `#${v.key}` : v));

/** Problems with an IExpr evaluated over `rank` index variables and loading from `srcs`. */
export function checkIExpr(e: IExpr, srcs: readonly Node[], rank: number): string[] {
  const out: string[] = [];
  const walk = (x: IExpr): void => {
    switch (x.k) {
      case 'idx': if (!(x.i >= 0 && x.i < rank)) out.push(`index variable i${x.i} is out of range (${rank} are bound)`); break;
      case 'const': case 'dim': break;
      case 'load': {
        const s = srcs[x.src];
        if (!s) { out.push(`load reads source ${x.src}, but there are ${srcs.length}`); break; }
        if (x.idx.length !== s.shape.length) out.push(`load from source ${x.src} uses ${x.idx.length} indices for a rank-${s.shape.length} tensor`);
        if (x.dtype !== s.dtype) out.push(`load from source ${x.src} has dtype ${x.dtype}, the source is ${s.dtype}`);
        for (const i of x.idx) { if (isFloat(i.dtype)) out.push(`load index has float dtype ${i.dtype}`); walk(i); }
        break;
      }
      case 'un': if (x.op === 'not' && x.dtype !== 'bool') out.push(`'not' must give bool, gives ${x.dtype}`); walk(x.a); break;
      case 'bin':
        if ((COMPARE_OPS.includes(x.op) || x.op === 'and' || x.op === 'or') && x.dtype !== 'bool') out.push(`'${x.op}' must give bool, gives ${x.dtype}`);
        walk(x.a); walk(x.b); break;
      case 'where': walk(x.c); walk(x.a); walk(x.b); break;
      case 'cast': walk(x.a); break;
    }
  };
  walk(e);
  return out;
}

/** Op-specific problems the builder leaves unchecked. */
function extraChecks(n: Node): string[] {
  switch (n.op) {
    case 'param': return n.shape.every((d) => dimAsConst(d) !== undefined) ? [] : [`param shape ${shapeStr(n.shape)} is not constant`];
    case 'compute': return checkIExpr((n as Node<'compute'>).arg.body, n.src, n.shape.length);
    case 'attention': {
      const m = (n as Node<'attention'>).arg.mask;
      if (!m) return n.src.length === 3 ? [] : ['attention without a mask has mask inputs'];
      return [...(m.dtype === 'bool' ? [] : [`mask has dtype ${m.dtype}, expected bool`]), ...checkIExpr(m, n.src.slice(3), 3)];
    }
    case 'gather': return isInt(n.src[1]?.dtype ?? 'i32') ? [] : ['gather ids are not integers'];
    case 'scatter_add': {
      const vals = n.src[0];
      const rank = vals ? vals.shape.length : 0;
      return (n as Node<'scatter_add'>).arg.idx.flatMap((e) => checkIExpr(e, n.src.slice(1), rank));
    }
    case 'attention_grad': {
      const m = (n as Node<'attention_grad'>).arg.mask;
      if (!m) return n.src.length === 5 ? [] : ['attention_grad without a mask has mask inputs'];
      return [...(m.dtype === 'bool' ? [] : [`mask has dtype ${m.dtype}, expected bool`]), ...checkIExpr(m, n.src.slice(5), 3)];
    }
    default: return [];
  }
}

/** Problems with one node, judged from its sources as given (stand-ins for them are made in `b`). */
export function checkNode(n: Node, b = new Builder()): string[] {
  const arity = ARITY[n.op];
  if (arity !== undefined && n.src.length !== arity) return [`${n.op} takes ${arity} sources, has ${n.src.length}`];
  if (n.op === 'concat' && n.src.length === 0) return ['concat has no sources'];
  if (n.op === 'attention' && n.src.length < 3) return [`attention takes at least 3 sources, has ${n.src.length}`];
  if (n.op === 'attention_grad' && n.src.length < 5) return [`attention_grad takes at least 5 sources, has ${n.src.length}`];
  if (n.op === 'scatter_add' && n.src.length < 1) return ['scatter_add has no values source'];
  const stand: Node[] = n.src.map((s, i) => b.input(`src${i}`, s.dtype, s.shape));
  let r: Node;
  try { r = reapply(b, n, stand); } catch (e) {
    if (e instanceof ShapeError) return [e.message];
    throw e;
  }
  const out: string[] = [];
  if (stand.includes(r)) {
    // The builder folds identities (reshape to the same shape, ...) away; such a node is redundant, not wrong.
    if (r.dtype !== n.dtype || !shapeEq(r.shape, n.shape)) out.push(`is an identity on ${r.dtype}${shapeStr(r.shape)} but says ${n.dtype}${shapeStr(n.shape)}`);
    return [...out, ...extraChecks(n)];
  }
  if (r.op !== n.op) out.push(`the builder makes ${r.op} from these sources`);
  if (r.dtype !== n.dtype) out.push(`dtype should be ${r.dtype}`);
  if (!shapeEq(r.shape, n.shape)) out.push(`shape should be ${shapeStr(r.shape)}`);
  if (r.src.length !== stand.length || r.src.some((s, i) => s !== stand[i]))
    out.push(`sources need implicit conversions (${r.src.map((s) => (stand.includes(s) ? 'ok' : `${s.op} to ${s.dtype}${shapeStr(s.shape)}`)).join(', ')})`);
  if (r.op === n.op && argKey(r.arg) !== argKey(n.arg)) out.push(`argument is not canonical (the builder gives ${argKey(r.arg)})`);
  return [...out, ...extraChecks(n)];
}

/**
 * Every invariant violation in `g`, as `%N (op): problem` lines (numbering as in print.ts); empty when valid.
 * Never throws on malformed graphs (cycles, missing sources): those are reported too.
 */
export function verifyGraph(g: Graph): string[] {
  const errs: string[] = [];
  const roots = [...g.inputs, ...g.outputs.map((o) => o.node)];
  // Own DFS with colours: topoSort assumes acyclic input and would not terminate on a cycle.
  const state = new Map<Node, 1 | 2>();
  const order: Node[] = [];
  const stack: [Node, number][] = [];
  for (const r of roots) {
    if (!r || typeof r !== 'object') { errs.push('graph refers to a missing node'); continue; }
    if (state.has(r)) continue;
    state.set(r, 1); stack.push([r, 0]);
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      const [n, i] = top;
      if (i < n.src.length) {
        top[1]++;
        const s = n.src[i];
        if (!s || typeof s !== 'object') { errs.push(`a ${n.op} node has a missing source ${i}`); continue; }
        const st = state.get(s);
        if (st === 1) { errs.push(`cycle through a ${s.op} node (id ${s.id})`); continue; }
        if (st === undefined) { state.set(s, 1); stack.push([s, 0]); }
      } else { state.set(n, 2); order.push(n); stack.pop(); }
    }
  }
  if (errs.length) return errs;
  const nums = new Map(order.map((n, i) => [n, i]));
  const num = (n: Node) => `%${nums.get(n) ?? '?'}`;
  const byId = new Map<number, Node>();
  const b = new Builder(); // shared: stand-ins of equal type and shape are one node, which is fine
  for (const n of order) {
    const other = byId.get(n.id);
    if (other) errs.push(`${num(n)} (${n.op}): id ${n.id} is shared with ${num(other)}; ids must be unique`);
    byId.set(n.id, n);
    for (const p of checkNode(n, b)) errs.push(`${num(n)} (${n.op}): ${p}    [${printNode(n, num)}]`);
  }
  g.inputs.forEach((n, i) => { if (n.op !== 'input') errs.push(`graph input ${i} is a ${n.op} node`); });
  const names = new Set<string>();
  for (const o of g.outputs) { if (names.has(o.name)) errs.push(`output '${o.name}' is defined twice`); names.add(o.name); }
  // A state is an input and, when written, an output of the same name, dtype and shape (read back in place).
  for (const st of g.states ?? []) {
    const inp = g.inputs.find((i) => i.op === 'input' && i.arg.name === st.name);
    const out = g.outputs.find((o) => o.name === st.name);
    if (!inp) errs.push(`state '${st.name}' has no input`);
    else if (st.written !== (out !== undefined)) errs.push(`state '${st.name}' is ${st.written ? 'written but has no output' : 'not written but has an output'}`);
    else if (out && (out.node.dtype !== inp.dtype || shapeStr(out.node.shape) !== shapeStr(inp.shape)))
      errs.push(`state '${st.name}' is ${inp.dtype}${shapeStr(inp.shape)} but written as ${out.node.dtype}${shapeStr(out.node.shape)}`);
  }
  return errs;
}

/** After lowering: every node reachable in `g` uses one of `allowed` ops. */
export function verifyOps(g: Graph, allowed: ReadonlySet<Op> | readonly Op[]): string[] {
  const ok = allowed instanceof Set ? allowed : new Set(allowed as readonly Op[]);
  const errs: string[] = [];
  const order = [...g.inputs, ...g.outputs.map((o) => o.node)];
  const seen = new Set<Node>();
  while (order.length) {
    const n = order.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (!ok.has(n.op)) errs.push(`op '${n.op}' is not allowed at this stage (allowed: ${[...ok].join(', ')})`);
    order.push(...n.src);
  }
  return [...new Set(errs)];
}
