// launch [ceil(40 / 16), ceil(S / 8), 3] x (8, 4) x [8, 4, 1]
// k0_matmul: matmul
extern "C" __global__ void __launch_bounds__(32) k0_matmul(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, float* __restrict__ g2) {
  __shared__ float ta[64];
  __shared__ float tb[128];
  const int bz = (int)blockIdx.z;
  const int b0 = bz;
  const int M = dims[0];
  const int N = 40;
  const int K = 24;
  const int bm0 = (int)blockIdx.y * 8;
  const int bn0 = (int)blockIdx.x * 16;
  const int tm0 = (int)threadIdx.y;
  const int tn0 = (int)threadIdx.x;
  const int lix = (int)(threadIdx.y * 8 + threadIdx.x);
  float c0_0 = 0.0f, c0_1 = 0.0f;
  float c1_0 = 0.0f, c1_1 = 0.0f;
  for (int k0 = 0; k0 < K; k0 += 8) {
    for (int e = lix; e < 64; e += 32) {
      const int m = bm0 + e / 8;
      const int k = k0 + e % 8;
      const float t0 = g0[((((b0 * dims[0]) + m) * 24) + k)];
      ta[e] = (m < M && k < K) ? t0 : 0.0f;
    }
    for (int e = lix; e < 128; e += 32) {
      const int k = k0 + e / 16;
      const int n = bn0 + e % 16;
      const float t1 = g1[((((b0 * 24) + k) * 40) + n)];
      tb[e] = (n < N && k < K) ? t1 : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < 8; kk++) {
      const float av0 = ta[(tm0 + 0) * 8 + kk];
      const float av1 = ta[(tm0 + 4) * 8 + kk];
      const float bv0 = tb[kk * 16 + tn0 + 0];
      const float bv1 = tb[kk * 16 + tn0 + 8];
      c0_0 = fmaf(av0, bv0, c0_0);
      c0_1 = fmaf(av0, bv1, c0_1);
      c1_0 = fmaf(av1, bv0, c1_0);
      c1_1 = fmaf(av1, bv1, c1_1);
    }
    __syncthreads();
  }
  {
    const int m = bm0 + tm0 + 0;
    const int n = bn0 + tn0 + 0;
    if (m < M && n < N) {
      const float acc = c0_0;
      g2[((((b0 * dims[0]) + m) * 40) + n)] = acc;
    }
  }
  {
    const int m = bm0 + tm0 + 0;
    const int n = bn0 + tn0 + 8;
    if (m < M && n < N) {
      const float acc = c0_1;
      g2[((((b0 * dims[0]) + m) * 40) + n)] = acc;
    }
  }
  {
    const int m = bm0 + tm0 + 4;
    const int n = bn0 + tn0 + 0;
    if (m < M && n < N) {
      const float acc = c1_0;
      g2[((((b0 * dims[0]) + m) * 40) + n)] = acc;
    }
  }
  {
    const int m = bm0 + tm0 + 4;
    const int n = bn0 + tn0 + 8;
    if (m < M && n < N) {
      const float acc = c1_1;
      g2[((((b0 * dims[0]) + m) * 40) + n)] = acc;
    }
  }
}
