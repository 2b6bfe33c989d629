// requires: a valid graph.
// guarantees: no node matches a rule of RULES (identities such as x*1, x+0, --x, reshape of reshape, permute of permute are gone); values are unchanged.
import { shapeEq } from '../../core/dim.js';
import { ShapeError, type Builder } from '../builder.js';
import type { Graph, Node, Op } from '../graph.js';
import { canon } from '../interp-scalar.js';
import { copyNode, rebuild, scalarConst, type PassContext } from './rebuild.js';

/** A pattern over nodes: bind any node to a name (the same name twice means the same node), a broadcast scalar constant, or an op with argument fields and sources. */
export type Pat =
  | { readonly any: string }
  | { readonly scalar: number }
  | { readonly op: Op; readonly arg?: Readonly<Record<string, unknown>>; readonly src?: readonly Pat[]; readonly as?: string };
export type Match = Readonly<Record<string, Node>>;
export interface Rule {
  readonly name: string;
  readonly pat: Pat;
  readonly when?: (m: Match, n: Node) => boolean;
  /** A bound name to return, or a builder call making the replacement (undefined: no rewrite). */
  readonly to: string | ((m: Match, b: Builder, n: Node) => Node | undefined);
}

const X: Pat = { any: 'x' };
const ONE: Pat = { scalar: 1 };
const ZERO: Pat = { scalar: 0 };
const bin = (op: string, a: Pat, b: Pat): Pat => ({ op: 'binary', arg: { op }, src: [a, b] });
const un = (op: string, a: Pat): Pat => ({ op: 'unary', arg: { op }, src: [a] });
const sameShape = (m: Match, n: Node) => shapeEq(m.x!.shape, n.shape);
const permOf = (n: Node) => (n as Node<'permute'>).arg.perm;

/**
 * The rewrite table, tried in order. Every rule is exact under the interpreter's semantics (NaN and Inf
 * included) except `x+0` / `0+x` on floats: for x = -0 the original gives +0 and the rewrite -0. The values
 * compare equal; only 1/x tells them apart, and a model never depends on that, so the rules stay.
 */
export const RULES: readonly Rule[] = [
  { name: 'x*1', pat: bin('mul', X, ONE), to: 'x' },
  { name: '1*x', pat: bin('mul', ONE, X), to: 'x' },
  { name: 'x+0', pat: bin('add', X, ZERO), to: 'x' },
  { name: '0+x', pat: bin('add', ZERO, X), to: 'x' },
  { name: 'x-0', pat: bin('sub', X, ZERO), to: 'x' },
  { name: 'x/1', pat: bin('div', X, ONE), to: 'x' },
  { name: 'x&&true', pat: bin('and', X, ONE), to: 'x' },
  { name: 'true&&x', pat: bin('and', ONE, X), to: 'x' },
  { name: 'x||false', pat: bin('or', X, ZERO), to: 'x' },
  { name: 'false||x', pat: bin('or', ZERO, X), to: 'x' },
  { name: '--x', pat: un('neg', un('neg', X)), to: 'x' },
  { name: '!!x', pat: un('not', un('not', X)), to: 'x' },
  { name: 'where(true)', pat: { op: 'where', src: [ONE, X, { any: 'y' }] }, to: 'x' },
  { name: 'where(false)', pat: { op: 'where', src: [ZERO, { any: 'y' }, X] }, to: 'x' },
  { name: 'where(c, x, x)', pat: { op: 'where', src: [{ any: 'c' }, X, X] }, to: 'x' },
  { name: 'cast to same dtype', pat: { op: 'cast', src: [X] }, when: (m, n) => m.x!.dtype === n.dtype, to: 'x' },
  { name: 'reshape to same shape', pat: { op: 'reshape', src: [X] }, when: sameShape, to: 'x' },
  { name: 'reshape of reshape', pat: { op: 'reshape', src: [{ op: 'reshape', src: [X] }] }, to: (m, b, n) => b.reshape(m.x!, n.shape) },
  { name: 'expand to same shape', pat: { op: 'expand', src: [X] }, when: sameShape, to: 'x' },
  { name: 'expand of expand', pat: { op: 'expand', src: [{ op: 'expand', src: [X] }] }, to: (m, b, n) => b.expand(m.x!, n.shape) },
  { name: 'identity permute', pat: { op: 'permute', src: [X] }, when: (_m, n) => permOf(n).every((a, i) => a === i), to: 'x' },
  // out[i] = mid[q[i]] = x[p[q[i]]]
  { name: 'permute of permute', pat: { op: 'permute', src: [{ op: 'permute', src: [X], as: 'p' }] }, to: (m, b, n) => b.permute(m.x!, permOf(n).map((i) => permOf(m.p!)[i]!)) },
  { name: 'reduce over no axes', pat: { op: 'reduce', arg: { axes: [] }, src: [X] }, to: 'x' },
];

/** Match `p` against `n`, extending `m`; false when it does not match. */
function match(p: Pat, n: Node, m: Record<string, Node>): boolean {
  if ('any' in p) {
    const prev = m[p.any];
    if (prev) return prev === n;
    m[p.any] = n;
    return true;
  }
  if ('scalar' in p) {
    const c = scalarConst(n);
    return c !== undefined && canon(c.arg.value, c.dtype) === p.scalar;
  }
  if (n.op !== p.op) return false;
  if (p.arg) for (const [k, v] of Object.entries(p.arg)) if (JSON.stringify((n.arg as Record<string, unknown>)[k]) !== JSON.stringify(v)) return false;
  if (p.src && (p.src.length !== n.src.length || !p.src.every((q, i) => match(q, n.src[i]!, m)))) return false;
  if (p.as) m[p.as] = n;
  return true;
}

/** One rewrite of `n` by the first rule that matches and keeps dtype and shape, or undefined. */
export function rewriteOnce(n: Node, b: Builder, rules: readonly Rule[] = RULES): Node | undefined {
  for (const r of rules) {
    const m: Record<string, Node> = {};
    if (!match(r.pat, n, m) || (r.when && !r.when(m, n))) continue;
    let out: Node | undefined;
    try { out = typeof r.to === 'string' ? m[r.to] : r.to(m, b, n); } catch (e) {
      if (e instanceof ShapeError) continue; // the replacement is not buildable here: the rule does not apply
      throw e;
    }
    // A rule may never change what a node is; a bad rule is skipped rather than trusted.
    if (out && out !== n && out.dtype === n.dtype && shapeEq(out.shape, n.shape)) return out;
  }
  return undefined;
}

export function simplify(g: Graph, _ctx: PassContext): Graph {
  return rebuild(g, (n, src, b) => {
    let cur = copyNode(b, n, src);
    // Sources are already simplified; a rewrite can expose another rule at this node (reshape^3), so iterate.
    for (let i = 0; i < 16; i++) {
      const next = rewriteOnce(cur, b);
      if (!next) break;
      cur = next;
    }
    return cur;
  });
}
