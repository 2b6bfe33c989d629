import { describe, expect, it } from 'vitest';
import { CudaCpuRunError, prepareCudaForCpu, runCudaOnCpu } from '../../src/runtime/cuda/cpu-run.js';

// Small integers keep every float sum exact whatever the summation order, so results compare exactly.
function randomInts(n: number, seed: number, lo = -50, hi = 50): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (s % (hi - lo + 1));
  }
  return out;
}
const f32 = (b: Uint8Array | undefined) => new Float32Array(b!.buffer, b!.byteOffset, b!.byteLength / 4);
const i32 = (b: Uint8Array | undefined) => new Int32Array(b!.buffer, b!.byteOffset, b!.byteLength / 4);
const u16 = (b: Uint8Array | undefined) => new Uint16Array(b!.buffer, b!.byteOffset, b!.byteLength / 2);

const BLOCK_REDUCE = `
// Sum per block: warp sums through shuffles, then the first warp sums the warp sums.
extern "C" __global__ void block_sum(const float* __restrict__ x, float* __restrict__ partial,
                                     float* __restrict__ total, int n) {
  __shared__ float warp_sums[32];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? __ldg(x + i) : 0.0f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  float w = lane < (int)(blockDim.x >> 5) ? warp_sums[lane] : 0.0f;
  for (int o = 16; o > 0; o >>= 1) w += __shfl_xor_sync(0xffffffffu, w, o);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = w;
    atomicAdd(total, w);
  }
}
`;

describe('CUDA on the CPU (tfx_cuda_emu.h + g++ -fopenmp)', () => {
  it('block reduction: __shared__, __syncthreads, __shfl_xor_sync, 256 threads, ragged last block', async () => {
    const n = 1000; // 4 blocks of 256, the last one 232 long
    const x = randomInts(n, 7);
    const blocks = Math.ceil(n / 256);
    const out = await runCudaOnCpu(
      BLOCK_REDUCE,
      [{ kernel: 'block_sum', grid: [blocks, 1, 1], block: [256, 1, 1], args: [{ buf: 'x' }, { buf: 'partial' }, { buf: 'total' }, { i32: n }] }],
      { x, partial: new Float32Array(blocks), total: new Float32Array([0.5]) },
      ['partial', 'total'],
    );
    const expected = Array.from({ length: blocks }, (_, b) => x.slice(b * 256, Math.min(n, (b + 1) * 256)).reduce((a, v) => a + v, 0));
    expect([...f32(out.partial)]).toEqual(expected);
    expect(f32(out.total)[0]).toBe(0.5 + expected.reduce((a, v) => a + v, 0));
  });

  it('tiled matmul with dynamic extern __shared__, 2-D blocks, sizes not multiples of the tile', async () => {
    const src = `
extern "C" __global__ void matmul(const float* a, const float* b, float* c, int m, int n, int k, int tile) {
  extern __shared__ __align__(16) float smem[];
  float* as = smem;
  float* bs = smem + tile * tile;
  const int row = blockIdx.y * tile + threadIdx.y, col = blockIdx.x * tile + threadIdx.x;
  float acc = 0.0f;
  for (int t0 = 0; t0 < k; t0 += tile) {
    as[threadIdx.y * tile + threadIdx.x] = (row < m && t0 + (int)threadIdx.x < k) ? a[row * k + t0 + threadIdx.x] : 0.0f;
    bs[threadIdx.y * tile + threadIdx.x] = (col < n && t0 + (int)threadIdx.y < k) ? b[(t0 + threadIdx.y) * n + col] : 0.0f;
    __syncthreads();
    for (int j = 0; j < tile; ++j) acc = fmaf(as[threadIdx.y * tile + j], bs[j * tile + threadIdx.x], acc);
    __syncthreads();
  }
  if (row < m && col < n) c[row * n + col] = acc;
}`;
    const [m, n, k, tile] = [37, 29, 45, 16];
    const a = randomInts(m * k, 1, -8, 8);
    const b = randomInts(k * n, 2, -8, 8);
    const out = await runCudaOnCpu(
      src,
      [{
        kernel: 'matmul', grid: [Math.ceil(n / tile), Math.ceil(m / tile), 1], block: [tile, tile, 1], sharedBytes: 2 * tile * tile * 4,
        args: [{ buf: 'a' }, { buf: 'b' }, { buf: 'c' }, { i32: m }, { i32: n }, { i32: k }, { i32: tile }],
      }],
      { a, b, c: new Float32Array(m * n).fill(-1) },
      ['c'],
    );
    const c = f32(out.c);
    for (let r = 0; r < m; r++) {
      for (let q = 0; q < n; q++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += a[r * k + j]! * b[j * n + q]!;
        expect(c[r * n + q], `c[${r},${q}]`).toBe(s);
      }
    }
  });

  it('shuffle variants follow CUDA semantics (down, up, indexed, xor, with widths), launches run in order', async () => {
    const src = `
extern "C" __global__ void shuffles(int* out) {
  const int t = threadIdx.x, n = blockDim.x;
  out[0 * n + t] = __shfl_down_sync(0xffffffffu, t, 3);
  out[1 * n + t] = __shfl_up_sync(0xffffffffu, t, 2, 8);
  out[2 * n + t] = __shfl_sync(0xffffffffu, t, 5, 16);
  out[3 * n + t] = __shfl_xor_sync(0xffffffffu, t, 6, 4);
  out[4 * n + t] = (int)__ballot_sync(0xffffffffu, t % 3 == 0);
}
extern "C" __global__ void add_one(int* out, unsigned count) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < count) out[i] += 1;
}`;
    const n = 64;
    const out = await runCudaOnCpu(
      src,
      [
        { kernel: 'shuffles', grid: [1, 1, 1], block: [n, 1, 1], args: [{ buf: 'o' }] },
        { kernel: 'add_one', grid: [3, 1, 1], block: [32, 1, 1], args: [{ buf: 'o' }, { u32: n }] },
      ],
      { o: new Int32Array(5 * n) },
      ['o'],
    );
    const o = i32(out.o);
    // Expected values from the CUDA programming guide's definitions, written independently.
    const ballotOf = (warpBase: number) => {
      let bits = 0;
      for (let l = 0; l < 32; l++) if ((warpBase + l) % 3 === 0) bits |= 1 << l;
      return bits;
    };
    for (let t = 0; t < n; t++) {
      const lane = t % 32;
      const plusOne = t < n ? 1 : 0; // the second launch adds 1 to the first n entries only
      expect(o[t], `down ${t}`).toBe((lane + 3 < 32 ? t + 3 : t) + plusOne);
      expect(o[n + t], `up ${t}`).toBe(lane % 8 >= 2 ? t - 2 : t);
      expect(o[2 * n + t], `idx ${t}`).toBe(t - (lane % 16) + 5);
      // xor with width 4: lanes may read earlier groups; a source in a later group gives the caller's own value.
      const src = lane ^ 6;
      expect(o[3 * n + t], `xor ${t}`).toBe(src < (Math.floor(lane / 4) + 1) * 4 ? t - lane + src : t);
      expect(o[4 * n + t], `ballot ${t}`).toBe(ballotOf(t - lane));
    }
  });

  it('half and bfloat16 conversions round to nearest even', async () => {
    const src = `
#include <cuda_fp16.h>
#include <cuda_bf16.h>
extern "C" __global__ void conv(const float* x, unsigned short* h, unsigned short* b, float* back, int n) {
  const int i = threadIdx.x;
  if (i < n) {
    half hv = __float2half(x[i]);
    __nv_bfloat16 bv = __float2bfloat16(x[i]);
    h[i] = __half_as_ushort(hv);
    b[i] = __bfloat16_as_ushort(bv);
    back[i] = __half2float(hv) + __bfloat162float(bv);
  }
}`;
    // Bit patterns from the IEEE 754 binary16 / bfloat16 definitions.
    const cases: [number, number, number][] = [
      [1.0, 0x3c00, 0x3f80],
      [-2.5, 0xc100, 0xc020],
      [65504, 0x7bff, 0x4780], // bf16: 0x477fe000 rounds up
      [65520, 0x7c00, 0x4780], // halfway to 65536: ties to even -> inf in f16
      [2 ** -24, 0x0001, 0x3380], // smallest f16 subnormal
      [2 ** -25, 0x0000, 0x3300], // exactly half of it: ties to even -> 0
      [1.5 * 2 ** -24, 0x0002, 0x33c0], // tie between 1 and 2 subnormal units -> 2 (even)
      [0.1, 0x2e66, 0x3dcd],
      [1 + 2 ** -11, 0x3c00, 0x3f80], // tie in f16 -> even mantissa (1.0)
      [1 + 3 * 2 ** -11, 0x3c02, 0x3f80],
      [Infinity, 0x7c00, 0x7f80],
    ];
    const x = new Float32Array(cases.map((c) => c[0]));
    const nCases = cases.length;
    const out = await runCudaOnCpu(
      src,
      [{ kernel: 'conv', grid: [1, 1, 1], block: [32, 1, 1], args: [{ buf: 'x' }, { buf: 'h' }, { buf: 'b' }, { buf: 'back' }, { i32: nCases }] }],
      { x, h: new Uint16Array(nCases), b: new Uint16Array(nCases), back: new Float32Array(nCases) },
      ['h', 'b', 'back'],
    );
    const hex = (v: number) => `0x${v.toString(16).padStart(4, '0')}`;
    expect([...u16(out.h)].map(hex)).toEqual(cases.map((c) => hex(c[1])));
    expect([...u16(out.b)].map(hex)).toEqual(cases.map((c) => hex(c[2])));
    expect(f32(out.back)[0]).toBe(2);
    expect(f32(out.back)[1]).toBe(-5);
  });

  it('passes f32 and negative i32 scalars exactly', async () => {
    const src = `extern "C" __global__ void put(float* o, float a, int b) { o[0] = a; o[1] = (float)b; }`;
    const a = Math.fround(0.1);
    const out = await runCudaOnCpu(src, [{ kernel: 'put', grid: [1, 1, 1], block: [1, 1, 1], args: [{ buf: 'o' }, { f32: a }, { i32: -7 }] }],
      { o: new Float32Array(2) }, ['o']);
    expect([...f32(out.o)]).toEqual([a, -7]);
  });

  it('rewrites extern __shared__ declarations without moving lines', () => {
    const src = 'a\n  extern __shared__ float s[];\nextern __shared__ __align__(16) unsigned char raw[];\n';
    expect(prepareCudaForCpu(src)).toBe('a\n  TFX_DYNAMIC_SHARED(float, s);\nTFX_DYNAMIC_SHARED(unsigned char, raw);\n');
  });

  it('reports a compile error with the compiler message', async () => {
    const run = runCudaOnCpu('extern "C" __global__ void k(float* o) {\n  o[0] = not_declared;\n}\n',
      [{ kernel: 'k', grid: [1, 1, 1], block: [1, 1, 1], args: [{ buf: 'o' }] }], { o: new Float32Array(1) }, ['o']);
    await expect(run).rejects.toThrow(CudaCpuRunError);
    await expect(run).rejects.toThrow(/g\+\+ could not compile[\s\S]*kernel\.cu:2:[\s\S]*not_declared/);
  });

  it('reports a crash', async () => {
    const src = 'extern "C" __global__ void k(float* o) { if (threadIdx.x == 0) *(volatile float*)0 = o[0]; }';
    await expect(runCudaOnCpu(src, [{ kernel: 'k', grid: [1, 1, 1], block: [4, 1, 1], args: [{ buf: 'o' }] }], { o: new Float32Array(1) }, ['o']))
      .rejects.toThrow(/crashed with SIGSEGV/);
  });

  it('reports a barrier deadlock as a timeout', async () => {
    const src = 'extern "C" __global__ void k(float* o) { if (threadIdx.x == 0) return; __syncthreads(); o[0] = 1; }';
    await expect(runCudaOnCpu(src, [{ kernel: 'k', grid: [1, 1, 1], block: [8, 1, 1], args: [{ buf: 'o' }] }], { o: new Float32Array(1) }, ['o'], { timeoutMs: 3000 }))
      .rejects.toThrow(/timed out after 3 s/);
  });

  it('rejects unknown buffers and oversized blocks before compiling', async () => {
    const src = 'extern "C" __global__ void k(float* o) {}';
    await expect(runCudaOnCpu(src, [{ kernel: 'k', grid: [1, 1, 1], block: [1, 1, 1], args: [{ buf: 'nope' }] }], { o: new Float32Array(1) }, ['o']))
      .rejects.toThrow("no buffer named 'nope'");
    await expect(runCudaOnCpu(src, [{ kernel: 'k', grid: [1, 1, 1], block: [64, 32, 1], args: [{ buf: 'o' }] }], { o: new Float32Array(1) }, ['o']))
      .rejects.toThrow('2048 threads per block');
  });
});
