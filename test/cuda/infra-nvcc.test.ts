import { describe, expect, it } from 'vitest';
import { nvccAvailable, nvccCompile, parsePtxasStats } from '../../src/runtime/cuda/nvcc.js';

const REDUCE = `
extern "C" __global__ void block_sum(const float* __restrict__ x, float* out, int n) {
  __shared__ float part[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  part[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = part[0];
}
extern "C" __global__ void scale(float* x, float a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= a;
}
`;

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

describe('ptxas -v parsing', () => {
  it('assigns registers, spills and shared memory to each entry function', () => {
    // Shape of CUDA 12/13 output: non-entry functions' properties interleave with the kernels'.
    const text = [
      "ptxas info    : Compiling entry function 'k1' for 'sm_80'",
      'ptxas info    : Function properties for k1',
      '    8 bytes stack frame, 12 bytes spill stores, 16 bytes spill loads',
      'ptxas info    : Used 40 registers, used 1 barriers, 2048 bytes smem, 372 bytes cmem[0]',
      'ptxas info    : Function properties for _Z6helperf',
      '    0 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads',
      "ptxas info    : Compiling entry function 'k2' for 'sm_80'",
      'ptxas info    : Function properties for k2',
      '    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads',
      'ptxas info    : Used 9 registers, used 0 barriers',
    ].join('\n');
    expect(parsePtxasStats(text)).toEqual([
      { kernel: 'k1', registers: 40, spillStores: 12, spillLoads: 16, sharedBytes: 2048 },
      { kernel: 'k2', registers: 9, spillStores: 0, spillLoads: 0, sharedBytes: 0 },
    ]);
  });
});

const HAVE_NVCC = nvccAvailable();
const SKIP_NOTE = HAVE_NVCC ? '' : ' [SKIPPED: nvcc not found on PATH, CUDA_HOME or TFX_NVCC]';
if (!HAVE_NVCC) console.warn(`test/cuda/infra-nvcc:${SKIP_NOTE}`);

describe.skipIf(!HAVE_NVCC)(`nvcc${SKIP_NOTE}`, () => {
  for (const arch of ['sm_80', 'sm_90'] as const) {
    it(`compiles a cubin for ${arch} and reports per-kernel stats`, async () => {
      const r = await nvccCompile(REDUCE, { arch });
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.warnings).toEqual([]);
      expect([...r.binary!.subarray(0, 4)]).toEqual(ELF_MAGIC);
      const byName = new Map(r.stats.map((s) => [s.kernel, s]));
      expect([...byName.keys()].sort()).toEqual(['block_sum', 'scale']);
      expect(byName.get('block_sum')!.registers).toBeGreaterThan(0);
      expect(byName.get('block_sum')!.sharedBytes).toBe(256 * 4);
      expect(byName.get('scale')!.registers).toBeGreaterThan(0);
      expect(byName.get('scale')!.sharedBytes).toBe(0);
    });
  }

  it('emits PTX text and still reports stats (through a separate ptxas run)', async () => {
    const r = await nvccCompile(REDUCE, { arch: 'sm_90', output: 'ptx' });
    expect(r.ok).toBe(true);
    const text = new TextDecoder().decode(r.binary);
    expect(text).toMatch(/\.target sm_90/);
    expect(text).toMatch(/\.entry block_sum/);
    expect(r.stats.map((s) => s.kernel).sort()).toEqual(['block_sum', 'scale']);
  });

  it('reports a warning with its line, and still compiles', async () => {
    const src = 'extern "C" __global__ void k(float* a) {\n  int unused;\n  a[0] = 1.0f;\n}\n';
    const r = await nvccCompile(src, { arch: 'sm_80' });
    expect(r.ok).toBe(true);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/^kernel\.cu\(2\): warning/);
    expect(r.warnings[0]).toContain('"unused"');
  });

  it('reports an error and gives no binary', async () => {
    const r = await nvccCompile('extern "C" __global__ void k(float* a) { a[0] = nope; }\n', { arch: 'sm_80' });
    expect(r.ok).toBe(false);
    expect(r.binary).toBeUndefined();
    expect(r.errors[0]).toMatch(/^kernel\.cu\(1\): error: identifier "nope" is undefined/);
  });

  it('demangles C++ kernel names', async () => {
    const r = await nvccCompile('__global__ void twice(float* a) { a[threadIdx.x] *= 2.0f; }\n', { arch: 'sm_80' });
    expect(r.ok).toBe(true);
    expect(r.stats.map((s) => s.kernel)).toEqual(['twice(float*)']);
  });

  it('reports spills when registers are capped', async () => {
    // 48 live accumulators do not fit in 24 registers (the least ptxas accepts).
    const acc = Array.from({ length: 48 }, (_, i) => `float a${i} = x[${i} * n + threadIdx.x];`).join('\n');
    const mix = Array.from({ length: 48 }, (_, i) => `a${i} = a${i} * a${(i + 1) % 48} + a${(i + 7) % 48};`).join('\n');
    const sum = Array.from({ length: 48 }, (_, i) => `a${i}`).join(' + ');
    const src = `extern "C" __global__ void heavy(const float* x, float* y, int n) {\n${acc}\nfor (int r = 0; r < n; ++r) {\n${mix}\n}\ny[threadIdx.x] = ${sum};\n}\n`;
    const r = await nvccCompile(src, { arch: 'sm_80', extraFlags: ['-maxrregcount=24'] });
    expect(r.ok).toBe(true);
    expect(r.stats[0]!.registers).toBeLessThanOrEqual(24);
    expect(r.stats[0]!.spillStores).toBeGreaterThan(0);
    expect(r.stats[0]!.spillLoads).toBeGreaterThan(0);
  });
});
