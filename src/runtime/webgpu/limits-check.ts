/**
 * Device limits checked before anything is compiled or uploaded: every buffer the plan needs at the bound
 * dims must fit this GPU's storage-binding and buffer limits. B·S past the limit used to be found only after
 * shader compilation and weight upload, as an internal error (now TFX7003, naming the buffer and the limit).
 */
import { byteSize } from '../../core/dtype.js';
import { TfxError } from '../../errors.js';
import type { Graph } from '../../ir/graph.js';
import { bufferNumel } from '../../ir/kernel.js';
import { lowerGraph } from '../../ir/lower.js';
import { runGraphPipeline } from '../../ir/pipeline.js';
import type { GpuLimits } from './device.js';

export function checkBufferLimits(g: Graph, symbols: readonly string[], dims: Readonly<Record<string, number>>, limits: Pick<GpuLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>): void {
  const plan = lowerGraph(runGraphPipeline(g), symbols);
  const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const at = Object.entries(dims).map(([k, v]) => `${k} = ${v}`).join(', ');
  for (const b of plan.buffers) {
    const bytes = bufferNumel(b, dims) * byteSize(b.dtype);
    if (bytes > max) {
      throw new TfxError('TFX7003', `buffer '${b.name}' needs ${bytes} bytes at ${at}; this GPU binds at most ${max} bytes per buffer (maxStorageBufferBindingSize); use smaller dims`);
    }
  }
}
