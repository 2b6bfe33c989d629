// launch [ceil(40 / 32), ceil(S / 32), 1] x (8, 8) x [8, 8, 1]
// k0_matmul: matmul + silu add expand
extern "C" __global__ void __launch_bounds__(64) k0_matmul(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, float* __restrict__ g3) {
  const int M = dims[0];
  const int N = 40;
  const int K = 24;
  const int m0 = (int)blockIdx.y * 32 + (int)threadIdx.y;
  const int n0 = (int)blockIdx.x * 32 + (int)threadIdx.x;
  float c0_0 = 0.0f, c0_1 = 0.0f, c0_2 = 0.0f, c0_3 = 0.0f;
  float c1_0 = 0.0f, c1_1 = 0.0f, c1_2 = 0.0f, c1_3 = 0.0f;
  float c2_0 = 0.0f, c2_1 = 0.0f, c2_2 = 0.0f, c2_3 = 0.0f;
  float c3_0 = 0.0f, c3_1 = 0.0f, c3_2 = 0.0f, c3_3 = 0.0f;
  for (int k = 0; k < K; k++) {
    float av0;
    {
      const int m = min(m0 + 0, M - 1);
      const float t0 = g0[((m * 24) + k)];
      av0 = t0;
    }
    float av1;
    {
      const int m = min(m0 + 8, M - 1);
      const float t1 = g0[((m * 24) + k)];
      av1 = t1;
    }
    float av2;
    {
      const int m = min(m0 + 16, M - 1);
      const float t2 = g0[((m * 24) + k)];
      av2 = t2;
    }
    float av3;
    {
      const int m = min(m0 + 24, M - 1);
      const float t3 = g0[((m * 24) + k)];
      av3 = t3;
    }
    float bv0;
    {
      const int n = min(n0 + 0, N - 1);
      const float t4 = g1[((k * 40) + n)];
      bv0 = t4;
    }
    float bv1;
    {
      const int n = min(n0 + 8, N - 1);
      const float t5 = g1[((k * 40) + n)];
      bv1 = t5;
    }
    float bv2;
    {
      const int n = min(n0 + 16, N - 1);
      const float t6 = g1[((k * 40) + n)];
      bv2 = t6;
    }
    float bv3;
    {
      const int n = min(n0 + 24, N - 1);
      const float t7 = g1[((k * 40) + n)];
      bv3 = t7;
    }
    c0_0 = fmaf(av0, bv0, c0_0);
    c0_1 = fmaf(av0, bv1, c0_1);
    c0_2 = fmaf(av0, bv2, c0_2);
    c0_3 = fmaf(av0, bv3, c0_3);
    c1_0 = fmaf(av1, bv0, c1_0);
    c1_1 = fmaf(av1, bv1, c1_1);
    c1_2 = fmaf(av1, bv2, c1_2);
    c1_3 = fmaf(av1, bv3, c1_3);
    c2_0 = fmaf(av2, bv0, c2_0);
    c2_1 = fmaf(av2, bv1, c2_1);
    c2_2 = fmaf(av2, bv2, c2_2);
    c2_3 = fmaf(av2, bv3, c2_3);
    c3_0 = fmaf(av3, bv0, c3_0);
    c3_1 = fmaf(av3, bv1, c3_1);
    c3_2 = fmaf(av3, bv2, c3_2);
    c3_3 = fmaf(av3, bv3, c3_3);
  }
  {
    const int m = m0 + 0;
    const int n = n0 + 0;
    if (m < M && n < N) {
      const float acc = c0_0;
      const float t8 = g2[n];
      g3[((m * 40) + n)] = ((acc + t8) / (1.0f + expf(-(acc + t8))));
    }
  }
  {
    const int m = m0 + 0;
    const int n = n0 + 8;
    if (m < M && n < N) {
      const float acc = c0_1;
      const float t9 = g2[n];
      g3[((m * 40) + n)] = ((acc + t9) / (1.0f + expf(-(acc + t9))));
    }
  }
  {
    const int m = m0 + 0;
    const int n = n0 + 16;
    if (m < M && n < N) {
      const float acc = c0_2;
      const float t10 = g2[n];
      g3[((m * 40) + n)] = ((acc + t10) / (1.0f + expf(-(acc + t10))));
    }
  }
  {
    const int m = m0 + 0;
    const int n = n0 + 24;
    if (m < M && n < N) {
      const float acc = c0_3;
      const float t11 = g2[n];
      g3[((m * 40) + n)] = ((acc + t11) / (1.0f + expf(-(acc + t11))));
    }
  }
  {
    const int m = m0 + 8;
    const int n = n0 + 0;
    if (m < M && n < N) {
      const float acc = c1_0;
      const float t12 = g2[n];
      g3[((m * 40) + n)] = ((acc + t12) / (1.0f + expf(-(acc + t12))));
    }
  }
  {
    const int m = m0 + 8;
    const int n = n0 + 8;
    if (m < M && n < N) {
      const float acc = c1_1;
      const float t13 = g2[n];
      g3[((m * 40) + n)] = ((acc + t13) / (1.0f + expf(-(acc + t13))));
    }
  }
  {
    const int m = m0 + 8;
    const int n = n0 + 16;
    if (m < M && n < N) {
      const float acc = c1_2;
      const float t14 = g2[n];
      g3[((m * 40) + n)] = ((acc + t14) / (1.0f + expf(-(acc + t14))));
    }
  }
  {
    const int m = m0 + 8;
    const int n = n0 + 24;
    if (m < M && n < N) {
      const float acc = c1_3;
      const float t15 = g2[n];
      g3[((m * 40) + n)] = ((acc + t15) / (1.0f + expf(-(acc + t15))));
    }
  }
  {
    const int m = m0 + 16;
    const int n = n0 + 0;
    if (m < M && n < N) {
      const float acc = c2_0;
      const float t16 = g2[n];
      g3[((m * 40) + n)] = ((acc + t16) / (1.0f + expf(-(acc + t16))));
    }
  }
  {
    const int m = m0 + 16;
    const int n = n0 + 8;
    if (m < M && n < N) {
      const float acc = c2_1;
      const float t17 = g2[n];
      g3[((m * 40) + n)] = ((acc + t17) / (1.0f + expf(-(acc + t17))));
    }
  }
  {
    const int m = m0 + 16;
    const int n = n0 + 16;
    if (m < M && n < N) {
      const float acc = c2_2;
      const float t18 = g2[n];
      g3[((m * 40) + n)] = ((acc + t18) / (1.0f + expf(-(acc + t18))));
    }
  }
  {
    const int m = m0 + 16;
    const int n = n0 + 24;
    if (m < M && n < N) {
      const float acc = c2_3;
      const float t19 = g2[n];
      g3[((m * 40) + n)] = ((acc + t19) / (1.0f + expf(-(acc + t19))));
    }
  }
  {
    const int m = m0 + 24;
    const int n = n0 + 0;
    if (m < M && n < N) {
      const float acc = c3_0;
      const float t20 = g2[n];
      g3[((m * 40) + n)] = ((acc + t20) / (1.0f + expf(-(acc + t20))));
    }
  }
  {
    const int m = m0 + 24;
    const int n = n0 + 8;
    if (m < M && n < N) {
      const float acc = c3_1;
      const float t21 = g2[n];
      g3[((m * 40) + n)] = ((acc + t21) / (1.0f + expf(-(acc + t21))));
    }
  }
  {
    const int m = m0 + 24;
    const int n = n0 + 16;
    if (m < M && n < N) {
      const float acc = c3_2;
      const float t22 = g2[n];
      g3[((m * 40) + n)] = ((acc + t22) / (1.0f + expf(-(acc + t22))));
    }
  }
  {
    const int m = m0 + 24;
    const int n = n0 + 24;
    if (m < M && n < N) {
      const float acc = c3_3;
      const float t23 = g2[n];
      g3[((m * 40) + n)] = ((acc + t23) / (1.0f + expf(-(acc + t23))));
    }
  }
}
