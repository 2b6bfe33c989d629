/** Host-side block-sparsity maps for fused attention (see src/ir/tile-classify.ts for the analysis). */
import type { HostTensor } from '../core/tensor.js';
import type { IExpr } from '../ir/graph.js';

export interface TileResult { readonly classes: Int32Array; readonly counts: { empty: number; full: number; partial: number } }
type Classify = (mask: IExpr, inputs: readonly HostTensor[], o: { B: number; Sq: number; Sk: number; bq: number; bk: number; dims: Record<string, number> }) => TileResult;

let impl: Classify | undefined;
export async function loadTileClassifier(): Promise<void> {
  impl ??= ((await import('../ir/tile-classify.js')) as { classifyTiles: Classify }).classifyTiles;
}
export function tileClasses(...a: Parameters<Classify>): TileResult {
  if (!impl) throw new Error('internal error: tile classifier not loaded');
  return impl(...a);
}
