// launch [5, 1, 1] x 64 x [64, 1, 1]
// k0_reduce: max over axes [0, 2]
extern "C" __global__ void __launch_bounds__(64) k0_reduce(const int* __restrict__ dims, const int* __restrict__ g0, int* __restrict__ g1) {
  __shared__ int sh_int[2];
  const int row = (int)blockIdx.x;
  if (row >= 5) return;
  const int i0 = row;
  const int len = (7 * dims[0]);
  int a0 = (-2147483647 - 1);
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const int t0 = g0[(((((r / 7) * 5) + i0) * 7) + (r % 7))];
    a0 = max(a0, t0);
  }
  a0 = max(a0, __shfl_xor_sync(0xffffffffu, a0, 16));
  a0 = max(a0, __shfl_xor_sync(0xffffffffu, a0, 8));
  a0 = max(a0, __shfl_xor_sync(0xffffffffu, a0, 4));
  a0 = max(a0, __shfl_xor_sync(0xffffffffu, a0, 2));
  a0 = max(a0, __shfl_xor_sync(0xffffffffu, a0, 1));
  if ((threadIdx.x & 31u) == 0u) sh_int[threadIdx.x >> 5] = a0;
  __syncthreads();
  const int red0 = max(sh_int[0], sh_int[1]);
  if (threadIdx.x == 0u) {
    g1[i0] = red0;
  }
}
