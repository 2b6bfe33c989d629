/**
 * The CUDA CPU emulation allocates buffers at their exact size, so an out-of-bounds access is no longer hidden
 * by padding: under AddressSanitizer (g++ -fsanitize=address) a read one past a buffer fails the run, and a
 * compiled tfx program (slice, matmul, softmax, attention) runs clean.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { compileSource } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';
import { runCudaOnCpu } from '../../src/runtime/cuda/cpu-run.js';
import { compileCudaEntry, runCudaEntryOnCpu } from '../../src/runtime/cuda/program.js';

const ONE_PAST = `
extern "C" __global__ void shift(const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i + 1];  // reads x[n] for the last thread
}
`;

describe('CUDA emulation under AddressSanitizer', { timeout: 300_000 }, () => {
  const launch = (n: number) => [{ kernel: 'shift', grid: [1, 1, 1] as [number, number, number], block: [n, 1, 1] as [number, number, number], args: [{ buf: 'x' }, { buf: 'y' }, { i32: n }] }];

  it('reports a read one element past an exactly-sized buffer', async () => {
    const n = 8;
    const run = runCudaOnCpu(ONE_PAST, launch(n), { x: new Float32Array(n), y: new Float32Array(n) }, ['y'], { sanitize: 'address' });
    await expect(run).rejects.toThrow(/AddressSanitizer: heap-buffer-overflow/);
  });

  it('runs the same kernel clean when every read is in bounds', async () => {
    const n = 8;
    const x = Float32Array.from({ length: n + 1 }, (_, i) => i);
    const out = await runCudaOnCpu(ONE_PAST, launch(n), { x, y: new Float32Array(n) }, ['y'], { sanitize: 'address' });
    expect([...new Float32Array(out.y!.buffer, out.y!.byteOffset, n)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('runs a compiled program clean and equal to the interpreter', async () => {
    const src = `model m
config { D = 8  H = 1 }
dim B, S
mask causal(b, q, k) = k <= q
entry main(x: f32[B, S, D], q: f32[B, H, S, D]) {
  param w: f32[D, D] = normal(0, 0.5)
  let h = slice(x, 1, 1, S) @ w
  out y = softmax(h, -1)
  out a = attention(q, q, q, causal)
}
`;
    const { program } = compileSource(src, 'asan.tfx');
    const B = 2, S = 9, D = 8;
    const val = (n: number, k: number) => Array.from({ length: n }, (_, i) => Math.sin(i * k));
    const inputs = new Map([['x', hostTensor('f32', [B, S, D], val(B * S * D, 0.7))], ['q', hostTensor('f32', [B, 1, S, D], val(B * S * D, 1.3))]]);
    const params = new Map([['w', hostTensor('f32', [D, D], val(D * D, 0.37))]]);
    const c = compileCudaEntry(program, 'main');
    const run = await runCudaEntryOnCpu(c, program, params, inputs, { sanitize: 'address' });
    const ref = interpret(c.graph.outputs.map((o) => o.node), { inputs, params, dims: run.dims });
    c.graph.outputs.forEach((o, i) => {
      const got = run.outputs.get(o.name)!.data, want = ref[i]!.data;
      expect(got.length).toBe(want.length);
      for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!), `${o.name}[${j}]`).toBeLessThan(1e-4);
    });
  });
});
