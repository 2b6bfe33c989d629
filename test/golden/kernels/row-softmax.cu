// launch [S, 1, 1] x 64 x [64, 1, 1]
// k0_softmax: softmax over axis 1
extern "C" __global__ void __launch_bounds__(64) k0_softmax(const int* __restrict__ dims, const float* __restrict__ g0, float* __restrict__ g1) {
  __shared__ float sh_float[2];
  const int row = (int)blockIdx.x;
  if (row >= dims[0]) return;
  const int i0 = row;
  const int len = 32;
  float a0 = (-__int_as_float(0x7f800000));
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const float t0 = g0[((i0 * 32) + r)];
    a0 = tfx_fmax(a0, t0);
  }
  a0 = tfx_fmax(a0, __shfl_xor_sync(0xffffffffu, a0, 16));
  a0 = tfx_fmax(a0, __shfl_xor_sync(0xffffffffu, a0, 8));
  a0 = tfx_fmax(a0, __shfl_xor_sync(0xffffffffu, a0, 4));
  a0 = tfx_fmax(a0, __shfl_xor_sync(0xffffffffu, a0, 2));
  a0 = tfx_fmax(a0, __shfl_xor_sync(0xffffffffu, a0, 1));
  if ((threadIdx.x & 31u) == 0u) sh_float[threadIdx.x >> 5] = a0;
  __syncthreads();
  const float red0 = tfx_fmax(sh_float[0], sh_float[1]);
  __syncthreads();
  float a1 = 0.0f;
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const float t1 = g0[((i0 * 32) + r)];
    a1 = (a1 + expf((t1 - red0)));
  }
  a1 = (a1 + __shfl_xor_sync(0xffffffffu, a1, 16));
  a1 = (a1 + __shfl_xor_sync(0xffffffffu, a1, 8));
  a1 = (a1 + __shfl_xor_sync(0xffffffffu, a1, 4));
  a1 = (a1 + __shfl_xor_sync(0xffffffffu, a1, 2));
  a1 = (a1 + __shfl_xor_sync(0xffffffffu, a1, 1));
  if ((threadIdx.x & 31u) == 0u) sh_float[threadIdx.x >> 5] = a1;
  __syncthreads();
  const float red1 = (sh_float[0] + sh_float[1]);
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const int t2 = ((i0 * 32) + r);
    const float t3 = g0[t2];
    g1[t2] = (expf((t3 - red0)) / red1);
  }
}
