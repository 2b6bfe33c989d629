/** Host-side block-sparsity maps for fused attention (the analysis itself: src/ir/tile-classify.ts). */
import { dimEval } from '../core/dim.js';
import type { HostTensor } from '../core/tensor.js';
import type { Graph, IExpr, Node } from '../ir/graph.js';
import { bufferNumel, type KernelPlan } from '../ir/kernel.js';

export interface TileMap { readonly buf: number; readonly kernel: string; readonly classes: Int32Array; readonly counts: { empty: number; full: number; partial: number } }

/** Every tile map a plan needs, from the batch's per-position inputs, in O(tiles + S) each. */
export async function computeTileMaps(plan: KernelPlan, graph: Graph, inputs: ReadonlyMap<string, HostTensor>, dims: Record<string, number>): Promise<TileMap[]> {
  if (!plan.tileMaps.length) return [];
  const { classifyTiles, PARTIAL } = await import('../ir/tile-classify.js');
  return plan.tileMaps.map((t) => {
    const node = attentionNode(graph, t.node);
    const m0 = node.op === 'attention_grad' ? 5 : 3;   // mask inputs follow q, k, v (and o, dO)
    const need = bufferNumel(plan.buffers[t.buf]!, dims);
    if (node.src.slice(m0).some((n) => n.op !== 'input')) {
      // A computed mask argument is known only on the device: no tile can be skipped or trusted whole, so every
      // tile is PARTIAL (the kernel evaluates the mask per element). Slower, never wrong.
      const classes = new Int32Array(need).fill(PARTIAL);
      return { buf: t.buf, kernel: t.kernel, classes, counts: { empty: 0, full: 0, partial: need } };
    }
    const maskInputs = node.src.slice(m0).map((n) => maskInput(n, inputs));
    const r = classifyTiles((node.arg as { mask: IExpr }).mask, maskInputs, {
      B: dimEval(t.B, dims), Sq: dimEval(t.Sq, dims), Sk: dimEval(t.Sk, dims), bq: t.bq, bk: t.bk, dims,
    });
    if (r.classes.length !== need) throw new Error(`internal error: tile map of ${t.kernel} has ${r.classes.length} entries, expected ${need}`);
    return { buf: t.buf, kernel: t.kernel, classes: r.classes, counts: r.counts };
  });
}

function attentionNode(g: Graph, id: number): Node {
  const seen = new Set<number>();
  const stack = g.outputs.map((o) => o.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (n.id === id) return n;
    if (seen.has(n.id)) continue;
    seen.add(n.id);
    stack.push(...n.src);
  }
  throw new Error(`internal error: attention node ${id} is not in the graph`);
}

/** Mask arguments must be entry inputs (per-position metadata) to be classified on the host. */
function maskInput(n: Node, inputs: ReadonlyMap<string, HostTensor>): HostTensor {
  if (n.op === 'input') return inputs.get((n.arg as { name: string }).name)!;
  throw new Error(`block-sparse attention needs mask arguments that are entry inputs; '${n.op}' is computed (use the dense schedule)`);
}

type Classify = typeof import('../ir/tile-classify.js').classifyTiles;
let impl: Classify | undefined;
/** For callers that classify one mask directly (benchmarks): load once, then call `tileClasses`. */
export async function loadTileClassifier(): Promise<void> { impl ??= (await import('../ir/tile-classify.js')).classifyTiles; }
export function tileClasses(...a: Parameters<Classify>): ReturnType<Classify> {
  if (!impl) throw new Error('internal error: tile classifier not loaded');
  return impl(...a);
}
