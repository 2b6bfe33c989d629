// requires: a valid graph (const nodes are scalars, broadcast with `expand`).
// guarantees: no unary/binary/cast/where/expand/reshape node has only (broadcast) constant operands; each such node is `expand(const)` or `const`.
import type { Builder } from '../builder.js';
import type { Graph, Node } from '../graph.js';
import { binaryScalar, canon, castScalar, unaryScalar } from '../interp-scalar.js';
import { copyNode, rebuild, scalarConst, type PassContext } from './rebuild.js';

/** The value of `n` when all its sources are broadcast scalars; the interpreter's scalar rules, so folding is exact. */
function foldValue(n: Node, cs: readonly Node<'const'>[]): number | undefined {
  const v = cs.map((c) => canon(c.arg.value, c.dtype));
  const a = v[0]!, t = cs[0]?.dtype;
  switch (n.op) {
    case 'unary': return unaryScalar((n as Node<'unary'>).arg.op, a, t!);
    case 'binary': return binaryScalar((n as Node<'binary'>).arg.op, a, v[1]!, t!);
    case 'cast': return castScalar(a, t!, n.dtype);
    case 'where': return a !== 0 ? v[1]! : v[2]!;
    case 'expand': case 'reshape': return a;
    default: return undefined;
  }
}

export function foldConstants(g: Graph, _ctx: PassContext): Graph {
  return rebuild(g, (n: Node, src: Node[], b: Builder) => {
    if (src.length === 0) return copyNode(b, n, src);
    const cs = src.map(scalarConst);
    if (cs.every((c) => c !== undefined)) {
      const v = foldValue(n, cs as Node<'const'>[]);
      // The builder interns consts by JSON, where NaN, +-Infinity and -0 lose their identity: leave those unfolded.
      if (v !== undefined && Number.isFinite(v) && !Object.is(v, -0)) return b.expand(b.const(v, n.dtype), n.shape);
    }
    return copyNode(b, n, src);
  });
}
