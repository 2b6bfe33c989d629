// requires: a valid graph.
// guarantees: every edge is read: compute and attention nodes have no source their IExpr never loads, so nothing only such an edge reached survives.
import type { Graph, Node } from '../graph.js';
import { copyNode, rebuild, regroupSources, type PassContext } from './rebuild.js';

/**
 * A Graph holds only its inputs and outputs, so a node no output reaches is already gone; what can still be
 * dead is an edge that no evaluation reads: a `compute` source its body never loads, or an attention mask input
 * the mask never loads (all of them when there is no mask). Cutting those edges removes what only they reached.
 */
export function dce(g: Graph, _ctx: PassContext): Graph {
  return rebuild(g, (n, src, b) => {
    if (n.op === 'compute') {
      const r = regroupSources(src, (n as Node<'compute'>).arg.body, 'drop');
      return copyNode(b, n, r.srcs, n.shape, { body: r.body });
    }
    if (n.op === 'attention') {
      const a = (n as Node<'attention'>).arg;
      if (!a.mask) return copyNode(b, n, src.slice(0, 3));
      const r = regroupSources(src.slice(3), a.mask, 'drop');
      return copyNode(b, n, [...src.slice(0, 3), ...r.srcs], n.shape, { ...a, mask: r.body });
    }
    return copyNode(b, n, src);
  });
}
