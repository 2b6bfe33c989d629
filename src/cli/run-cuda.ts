/** `tfx run --backend cuda`: needs the CUDA driver; without one, a one-line error and exit 1. */
import type { HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';

export async function runCudaCli(program: Program, entry: string, weights: ReadonlyMap<string, HostTensor>, inputs: ReadonlyMap<string, HostTensor>): Promise<Map<string, HostTensor>> {
  const { loadCudaDriver } = await import('../runtime/cuda/driver.js');
  loadCudaDriver().close?.(); // throws CudaUnavailableError on a machine without the driver
  const mod = await import('../runtime/cuda/program.js');
  const c = mod.compileCudaEntry(program, entry);
  return (await mod.runCudaEntryOnGpu(c, program, weights, inputs)).outputs;
}
