/**
 * Runs only on a machine with an NVIDIA GPU, with TFX_CUDA_GPU=1 (bench/gpu-check.sh sets it):
 * the same kernels through nvcc + the driver on the GPU and through the CPU emulation, both
 * against a JS reference.
 */
import { describe, expect, it } from 'vitest';
import { runCudaOnCpu } from '../../src/runtime/cuda/cpu-run.js';
import { loadCudaDriver, type CudaDriver } from '../../src/runtime/cuda/driver.js';
import { nvccCompile, type NvccOptions } from '../../src/runtime/cuda/nvcc.js';

const ON_GPU = process.env.TFX_CUDA_GPU === '1';
if (!ON_GPU) console.warn('test/cuda/infra-gpu: [SKIPPED: GPU tests need TFX_CUDA_GPU=1 on a machine with an NVIDIA GPU]');

const SOURCE = `
extern "C" __global__ void block_sum(const float* __restrict__ x, float* __restrict__ partial, int n) {
  __shared__ float warp_sums[32];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? x[i] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = v;
  __syncthreads();
  float w = (threadIdx.x & 31) < (blockDim.x >> 5) ? warp_sums[threadIdx.x & 31] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) w += __shfl_xor_sync(0xffffffffu, w, o);
  if (threadIdx.x == 0) partial[blockIdx.x] = w;
}
extern "C" __global__ void scale_dyn(float* y, const float* x, float a, int n) {
  extern __shared__ float stage[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  stage[threadIdx.x] = i < n ? x[i] * a : 0.0f;
  __syncthreads();
  if (i < n) y[i] = stage[blockDim.x - 1 - threadIdx.x] + stage[threadIdx.x];
}
`;

function ints(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) % 101) - 50);
}

/** cubin for the two architectures nvcc options name; PTX (JIT by the driver) for anything else. */
function compileFor(cu: CudaDriver): NvccOptions {
  const [major] = cu.computeCapability;
  if (major === 8) return { arch: 'sm_80' };
  if (major === 9) return { arch: 'sm_90' };
  return { arch: 'sm_90', output: 'ptx' };
}

describe.skipIf(!ON_GPU)(`on an NVIDIA GPU${ON_GPU ? '' : ' [SKIPPED: set TFX_CUDA_GPU=1 on a machine with a GPU]'}`, () => {
  it('block reduction and dynamic shared memory match JS and the CPU emulation', async () => {
    const cu = loadCudaDriver();
    console.log(`GPU: ${cu.deviceName}, compute capability ${cu.computeCapability.join('.')}`);
    const compiled = await nvccCompile(SOURCE, compileFor(cu));
    expect(compiled.errors).toEqual([]);
    const mod = cu.loadModule(compiled.binary!);
    const n = 100_003;
    const block = 256;
    const blocks = Math.ceil(n / block);
    const x = ints(n, 3);
    const dx = cu.alloc(4 * n), dp = cu.alloc(4 * blocks), dy = cu.alloc(4 * n);
    cu.upload(dx, x);
    const sum = cu.getFunction(mod, 'block_sum');
    const scale = cu.getFunction(mod, 'scale_dyn');
    const ms = cu.time(() => {
      cu.launch(sum, [blocks, 1, 1], [block, 1, 1], 0, [{ buf: dx }, { buf: dp }, { i32: n }]);
      cu.launch(scale, [blocks, 1, 1], [block, 1, 1], 4 * block, [{ buf: dy }, { buf: dx }, { f32: 0.5 }, { i32: n }]);
    });
    expect(ms).toBeGreaterThan(0);
    const partial = new Float32Array(cu.download(dp).buffer);
    const y = new Float32Array(cu.download(dy).buffer);
    for (let b = 0; b < blocks; b++) {
      let s = 0;
      for (let i = b * block; i < Math.min(n, (b + 1) * block); i++) s += x[i]!;
      expect(partial[b], `block ${b}`).toBe(s);
    }
    const yRef = (i: number) => {
      const b0 = i - (i % block), t = i % block, j = b0 + block - 1 - t;
      return (j < n ? x[j]! * 0.5 : 0) + x[i]! * 0.5;
    };
    for (let i = 0; i < n; i += 97) expect(y[i], `y[${i}]`).toBe(yRef(i));

    // The CPU emulation on a prefix of the same data must agree with the GPU bit for bit.
    const m = 1000, mBlocks = Math.ceil(m / block);
    const cpu = await runCudaOnCpu(SOURCE,
      [{ kernel: 'block_sum', grid: [mBlocks, 1, 1], block: [block, 1, 1], args: [{ buf: 'x' }, { buf: 'p' }, { i32: m }] }],
      { x: x.slice(0, m), p: new Float32Array(mBlocks) }, ['p']);
    expect([...new Float32Array(cpu.p!.buffer)].slice(0, mBlocks - 1)).toEqual([...partial].slice(0, mBlocks - 1));
    cu.close();
  });
});
