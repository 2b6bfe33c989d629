// requires: a valid graph.
// guarantees: no two nodes are structurally equal (one interning builder), and compute / attention nodes list each source once, in order of first load, so IExpr-equal nodes are one node.
import type { Graph, Node } from '../graph.js';
import { copyNode, rebuild, regroupSources, type PassContext } from './rebuild.js';

export function cse(g: Graph, _ctx: PassContext): Graph {
  // Rebuilding through one builder merges every pair of nodes with equal op, type, sources and argument.
  return rebuild(g, (n, src, b) => {
    if (n.op === 'compute') {
      const r = regroupSources(src, (n as Node<'compute'>).arg.body, 'keep');
      return copyNode(b, n, r.srcs, n.shape, { body: r.body });
    }
    if (n.op === 'attention') {
      const a = (n as Node<'attention'>).arg;
      if (!a.mask) return copyNode(b, n, src);
      const r = regroupSources(src.slice(3), a.mask, 'keep');
      return copyNode(b, n, [...src.slice(0, 3), ...r.srcs], n.shape, { ...a, mask: r.body });
    }
    return copyNode(b, n, src);
  });
}
