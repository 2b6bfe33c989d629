// launch S workgroups x [64, 1, 1]
// k0_softmax: softmax over axis 1
extern "C" __global__ void __launch_bounds__(64) k0_softmax(const int* __restrict__ dims, const float* __restrict__ g0, float* __restrict__ g1) {
  __shared__ float sh_f32[64];
  const int row = (int)(blockIdx.y * gridDim.x + blockIdx.x);
  if ((row >= dims[0])) {
    return;
  }
  const int i0 = row;
  const int len = 32;
  float a0 = (-3.4028234663852886e+38f);
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const float t0 = g0[((i0 * 32) + r)];
    a0 = tfx_fmax(a0, t0);
  }
  sh_f32[(int)threadIdx.x] = a0;
  __syncthreads();
  if (((int)threadIdx.x < 32)) {
    sh_f32[(int)threadIdx.x] = tfx_fmax(sh_f32[(int)threadIdx.x], sh_f32[((int)threadIdx.x + 32)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 16)) {
    sh_f32[(int)threadIdx.x] = tfx_fmax(sh_f32[(int)threadIdx.x], sh_f32[((int)threadIdx.x + 16)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 8)) {
    sh_f32[(int)threadIdx.x] = tfx_fmax(sh_f32[(int)threadIdx.x], sh_f32[((int)threadIdx.x + 8)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 4)) {
    sh_f32[(int)threadIdx.x] = tfx_fmax(sh_f32[(int)threadIdx.x], sh_f32[((int)threadIdx.x + 4)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 2)) {
    sh_f32[(int)threadIdx.x] = tfx_fmax(sh_f32[(int)threadIdx.x], sh_f32[((int)threadIdx.x + 2)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 1)) {
    sh_f32[(int)threadIdx.x] = tfx_fmax(sh_f32[(int)threadIdx.x], sh_f32[((int)threadIdx.x + 1)]);
  }
  __syncthreads();
  const float red0 = sh_f32[0];
  __syncthreads();
  float a1 = 0.0f;
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const float t1 = g0[((i0 * 32) + r)];
    a1 = (a1 + expf((t1 - red0)));
  }
  sh_f32[(int)threadIdx.x] = a1;
  __syncthreads();
  if (((int)threadIdx.x < 32)) {
    sh_f32[(int)threadIdx.x] = (sh_f32[(int)threadIdx.x] + sh_f32[((int)threadIdx.x + 32)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 16)) {
    sh_f32[(int)threadIdx.x] = (sh_f32[(int)threadIdx.x] + sh_f32[((int)threadIdx.x + 16)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 8)) {
    sh_f32[(int)threadIdx.x] = (sh_f32[(int)threadIdx.x] + sh_f32[((int)threadIdx.x + 8)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 4)) {
    sh_f32[(int)threadIdx.x] = (sh_f32[(int)threadIdx.x] + sh_f32[((int)threadIdx.x + 4)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 2)) {
    sh_f32[(int)threadIdx.x] = (sh_f32[(int)threadIdx.x] + sh_f32[((int)threadIdx.x + 2)]);
  }
  __syncthreads();
  if (((int)threadIdx.x < 1)) {
    sh_f32[(int)threadIdx.x] = (sh_f32[(int)threadIdx.x] + sh_f32[((int)threadIdx.x + 1)]);
  }
  __syncthreads();
  const float red1 = sh_f32[0];
  __syncthreads();
  for (int r = (int)threadIdx.x; r < len; r += 64) {
    const int t2 = ((i0 * 32) + r);
    const float t3 = g0[t2];
    g1[t2] = (expf((t3 - red0)) / red1);
  }
}
