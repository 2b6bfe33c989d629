// launch 5 workgroups x [64, 1, 1]
// k0_reduce: max over axes [0, 2]
extern "C" __global__ void __launch_bounds__(64) k0_reduce(const int* __restrict__ dims, const int* __restrict__ g0, int* __restrict__ g1) {
  __shared__ int sh_i32[64];
  const int row = (int)(blockIdx.y * gridDim.x + blockIdx.x);
  if ((row >= 5)) {
    return;
  }
  const int i0 = row;
  const int len = (7 * dims[0]);
  int a0 = (-2147483647 - 1);
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const int t0 = g0[(((((r / 7) * 5) + i0) * 7) + (r % 7))];
    a0 = max(a0, t0);
  }
  sh_i32[(int)threadIdx.x] = a0;
  __syncthreads();
  if (((int)threadIdx.x < 32)) {
    sh_i32[(int)threadIdx.x] = max(sh_i32[(int)threadIdx.x], sh_i32[((int)threadIdx.x + 32)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 16)) {
    sh_i32[(int)threadIdx.x] = max(sh_i32[(int)threadIdx.x], sh_i32[((int)threadIdx.x + 16)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 8)) {
    sh_i32[(int)threadIdx.x] = max(sh_i32[(int)threadIdx.x], sh_i32[((int)threadIdx.x + 8)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 4)) {
    sh_i32[(int)threadIdx.x] = max(sh_i32[(int)threadIdx.x], sh_i32[((int)threadIdx.x + 4)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 2)) {
    sh_i32[(int)threadIdx.x] = max(sh_i32[(int)threadIdx.x], sh_i32[((int)threadIdx.x + 2)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 1)) {
    sh_i32[(int)threadIdx.x] = max(sh_i32[(int)threadIdx.x], sh_i32[((int)threadIdx.x + 1)]);
  }
  __syncthreads();
  const int red0 = sh_i32[0];
  __syncthreads();
  if (((int)threadIdx.x == 0)) {
    g1[i0] = red0;
  }
}
