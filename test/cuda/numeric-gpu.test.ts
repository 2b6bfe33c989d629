/**
 * The Transfusion tiny entries on a real GPU (nvcc -> cubin -> driver) against the reference interpreter.
 * Runs only with TFX_CUDA_GPU=1 (bench/gpu-check.sh sets it). Everywhere else: running on the GPU without a
 * driver must fail with CudaUnavailableError and its one-line message, which `tfx run --backend cuda` prints.
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { CudaUnavailableError } from '../../src/runtime/cuda/driver.js';
import { compileCudaEntry, runCudaEntryOnGpu } from '../../src/runtime/cuda/program.js';
import { compareOutputs } from './numeric-helpers.js';

const ON_GPU = process.env.TFX_CUDA_GPU === '1';
if (!ON_GPU) console.warn('test/cuda/numeric-gpu: [SKIPPED: GPU runs need TFX_CUDA_GPU=1 on a machine with an NVIDIA GPU]');

const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny' });
const weights = initParams(program.params, 1);

describe.skipIf(ON_GPU)('CUDA entry runner without a GPU', () => {
  it('fails with CudaUnavailableError and a one-line message when libcuda cannot be loaded', async () => {
    const c = compileCudaEntry(program, 'forward');
    const inputs = exampleInputs(program, c.graph, 7, { batch: 1, seq: 48 });
    const err = await runCudaEntryOnGpu(c, program, weights, inputs, { libraryPath: '/nonexistent/libcuda.so.1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CudaUnavailableError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toMatch(/CUDA/);
  });
});

describe.skipIf(!ON_GPU)('Transfusion tiny on the GPU vs the reference interpreter', () => {
  for (const [entry, opts] of [['forward', {}], ['loss', {}], ['forward', { attention: 'unfused' }]] as const) {
    it(`${entry} ${opts.attention ?? 'fused'}`, async () => {
      const c = compileCudaEntry(program, entry, opts);
      const inputs = exampleInputs(program, c.graph, 7, { batch: 2, seq: 64 });
      const run = await runCudaEntryOnGpu(c, program, weights, inputs, { profile: true });
      const ref = interpret(c.graph.outputs.map((o) => o.node), { inputs, params: weights, dims: run.dims });
      const cmp = compareOutputs(c.graph, run, ref);
      for (const x of cmp) expect(x.scale, x.name).toBeGreaterThan(1e-3);
      expect(run.timings.length).toBe(c.kernels.length);
      console.log(`${run.device} ${run.arch} ${entry}: ${run.timings.reduce((a, t) => a + t.ms, 0).toFixed(3)} ms in ${run.timings.length} kernels`);
    }, 300_000);
  }
});
