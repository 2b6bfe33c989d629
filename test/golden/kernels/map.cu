// launch (((S * 8) + 63) / 64) workgroups x [64, 1, 1]
// k0_map: add gelu cast expand reshape
extern "C" __global__ void __launch_bounds__(64) k0_map(const int* __restrict__ dims, const float* __restrict__ g0, const int* __restrict__ g1, float* __restrict__ g2) {
  const int base = (((int)(blockIdx.y * gridDim.x + blockIdx.x) * 64) + (int)threadIdx.x);
  if ((base < (dims[0] * 8))) {
    const int gid = base;
    const int i0 = (gid / 8);
    const int i1 = (gid % 8);
    const float t0 = g0[((i0 * 8) + i1)];
    const int t1 = g1[i0];
    g2[gid] = ((0.5f * t0 * (1.0f + tanhf(0.7978845608028654f * (t0 + 0.044715f * t0 * t0 * t0)))) + ((float)(t1)));
  }
}
