// launch [2, ((S + 31) / 32), 1] x [8, 8, 1]
// k0_matmul: matmul + silu add expand
extern "C" __global__ void __launch_bounds__(64) k0_matmul(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, float* __restrict__ g3) {
  const int m0 = (((int)blockIdx.y * 32) + (int)threadIdx.y);
  const int n0 = (((int)blockIdx.x * 32) + (int)threadIdx.x);
  float c_0 = 0.0f;
  float c_1 = 0.0f;
  float c_2 = 0.0f;
  float c_3 = 0.0f;
  float c_4 = 0.0f;
  float c_5 = 0.0f;
  float c_6 = 0.0f;
  float c_7 = 0.0f;
  float c_8 = 0.0f;
  float c_9 = 0.0f;
  float c_10 = 0.0f;
  float c_11 = 0.0f;
  float c_12 = 0.0f;
  float c_13 = 0.0f;
  float c_14 = 0.0f;
  float c_15 = 0.0f;
  float av_0 = 0.0f;
  float av_1 = 0.0f;
  float av_2 = 0.0f;
  float av_3 = 0.0f;
  float bv_0 = 0.0f;
  float bv_1 = 0.0f;
  float bv_2 = 0.0f;
  float bv_3 = 0.0f;
  for (int k = 0; k < 24; k += 1) {
    const float t0 = g0[((min(m0, (dims[0] - 1)) * 24) + k)];
    av_0 = t0;
    const float t1 = g0[((min((m0 + 8), (dims[0] - 1)) * 24) + k)];
    av_1 = t1;
    const float t2 = g0[((min((m0 + 16), (dims[0] - 1)) * 24) + k)];
    av_2 = t2;
    const float t3 = g0[((min((m0 + 24), (dims[0] - 1)) * 24) + k)];
    av_3 = t3;
    const float t4 = g1[((k * 40) + min(n0, 39))];
    bv_0 = t4;
    const float t5 = g1[((k * 40) + min((n0 + 8), 39))];
    bv_1 = t5;
    const float t6 = g1[((k * 40) + min((n0 + 16), 39))];
    bv_2 = t6;
    const float t7 = g1[((k * 40) + min((n0 + 24), 39))];
    bv_3 = t7;
    c_0 = fmaf(av_0, bv_0, c_0);
    c_1 = fmaf(av_0, bv_1, c_1);
    c_2 = fmaf(av_0, bv_2, c_2);
    c_3 = fmaf(av_0, bv_3, c_3);
    c_4 = fmaf(av_1, bv_0, c_4);
    c_5 = fmaf(av_1, bv_1, c_5);
    c_6 = fmaf(av_1, bv_2, c_6);
    c_7 = fmaf(av_1, bv_3, c_7);
    c_8 = fmaf(av_2, bv_0, c_8);
    c_9 = fmaf(av_2, bv_1, c_9);
    c_10 = fmaf(av_2, bv_2, c_10);
    c_11 = fmaf(av_2, bv_3, c_11);
    c_12 = fmaf(av_3, bv_0, c_12);
    c_13 = fmaf(av_3, bv_1, c_13);
    c_14 = fmaf(av_3, bv_2, c_14);
    c_15 = fmaf(av_3, bv_3, c_15);
  }
  if (((m0 < dims[0]) && (n0 < 40))) {
    const float t8 = g2[n0];
    g3[((m0 * 40) + n0)] = ((c_0 + t8) / (1.0f + expf(-(c_0 + t8))));
  }
  if (((m0 < dims[0]) && ((n0 + 8) < 40))) {
    const int t9 = (n0 + 8);
    const float t10 = g2[t9];
    g3[((m0 * 40) + t9)] = ((c_1 + t10) / (1.0f + expf(-(c_1 + t10))));
  }
  if (((m0 < dims[0]) && ((n0 + 16) < 40))) {
    const int t11 = (n0 + 16);
    const float t12 = g2[t11];
    g3[((m0 * 40) + t11)] = ((c_2 + t12) / (1.0f + expf(-(c_2 + t12))));
  }
  if (((m0 < dims[0]) && ((n0 + 24) < 40))) {
    const int t13 = (n0 + 24);
    const float t14 = g2[t13];
    g3[((m0 * 40) + t13)] = ((c_3 + t14) / (1.0f + expf(-(c_3 + t14))));
  }
  if ((((m0 + 8) < dims[0]) && (n0 < 40))) {
    const float t15 = g2[n0];
    g3[(((m0 + 8) * 40) + n0)] = ((c_4 + t15) / (1.0f + expf(-(c_4 + t15))));
  }
  if ((((m0 + 8) < dims[0]) && ((n0 + 8) < 40))) {
    const int t16 = (n0 + 8);
    const float t17 = g2[t16];
    g3[(((m0 + 8) * 40) + t16)] = ((c_5 + t17) / (1.0f + expf(-(c_5 + t17))));
  }
  if ((((m0 + 8) < dims[0]) && ((n0 + 16) < 40))) {
    const int t18 = (n0 + 16);
    const float t19 = g2[t18];
    g3[(((m0 + 8) * 40) + t18)] = ((c_6 + t19) / (1.0f + expf(-(c_6 + t19))));
  }
  if ((((m0 + 8) < dims[0]) && ((n0 + 24) < 40))) {
    const int t20 = (n0 + 24);
    const float t21 = g2[t20];
    g3[(((m0 + 8) * 40) + t20)] = ((c_7 + t21) / (1.0f + expf(-(c_7 + t21))));
  }
  if ((((m0 + 16) < dims[0]) && (n0 < 40))) {
    const float t22 = g2[n0];
    g3[(((m0 + 16) * 40) + n0)] = ((c_8 + t22) / (1.0f + expf(-(c_8 + t22))));
  }
  if ((((m0 + 16) < dims[0]) && ((n0 + 8) < 40))) {
    const int t23 = (n0 + 8);
    const float t24 = g2[t23];
    g3[(((m0 + 16) * 40) + t23)] = ((c_9 + t24) / (1.0f + expf(-(c_9 + t24))));
  }
  if ((((m0 + 16) < dims[0]) && ((n0 + 16) < 40))) {
    const int t25 = (n0 + 16);
    const float t26 = g2[t25];
    g3[(((m0 + 16) * 40) + t25)] = ((c_10 + t26) / (1.0f + expf(-(c_10 + t26))));
  }
  if ((((m0 + 16) < dims[0]) && ((n0 + 24) < 40))) {
    const int t27 = (n0 + 24);
    const float t28 = g2[t27];
    g3[(((m0 + 16) * 40) + t27)] = ((c_11 + t28) / (1.0f + expf(-(c_11 + t28))));
  }
  if ((((m0 + 24) < dims[0]) && (n0 < 40))) {
    const float t29 = g2[n0];
    g3[(((m0 + 24) * 40) + n0)] = ((c_12 + t29) / (1.0f + expf(-(c_12 + t29))));
  }
  if ((((m0 + 24) < dims[0]) && ((n0 + 8) < 40))) {
    const int t30 = (n0 + 8);
    const float t31 = g2[t30];
    g3[(((m0 + 24) * 40) + t30)] = ((c_13 + t31) / (1.0f + expf(-(c_13 + t31))));
  }
  if ((((m0 + 24) < dims[0]) && ((n0 + 16) < 40))) {
    const int t32 = (n0 + 16);
    const float t33 = g2[t32];
    g3[(((m0 + 24) * 40) + t32)] = ((c_14 + t33) / (1.0f + expf(-(c_14 + t33))));
  }
  if ((((m0 + 24) < dims[0]) && ((n0 + 24) < 40))) {
    const int t34 = (n0 + 24);
    const float t35 = g2[t34];
    g3[(((m0 + 24) * 40) + t34)] = ((c_15 + t35) / (1.0f + expf(-(c_15 + t35))));
  }
}
