// launch [2, 8, 1] x [8, 1, 1]
// k0_attention: flash attention, mask m, block-sparse
extern "C" __global__ void __launch_bounds__(8) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, const int* __restrict__ g5, float* __restrict__ g6) {
  __shared__ float kt[256];
  __shared__ float vt[256];
  const int qt = (int)blockIdx.x;
  const int qi = ((qt * 8) + (int)threadIdx.x);
  const int qc = max(min(qi, 11), 0);
  const int bh = (int)blockIdx.y;
  const int b0 = (bh / 4);
  const int hk = ((bh % 4) / 2);
  float qr_0 = 0.0f;
  float qr_1 = 0.0f;
  float qr_2 = 0.0f;
  float qr_3 = 0.0f;
  float qr_4 = 0.0f;
  float qr_5 = 0.0f;
  float qr_6 = 0.0f;
  float qr_7 = 0.0f;
  float qr_8 = 0.0f;
  float qr_9 = 0.0f;
  float qr_10 = 0.0f;
  float qr_11 = 0.0f;
  float qr_12 = 0.0f;
  float qr_13 = 0.0f;
  float qr_14 = 0.0f;
  float qr_15 = 0.0f;
  float o_0 = 0.0f;
  float o_1 = 0.0f;
  float o_2 = 0.0f;
  float o_3 = 0.0f;
  float o_4 = 0.0f;
  float o_5 = 0.0f;
  float o_6 = 0.0f;
  float o_7 = 0.0f;
  float o_8 = 0.0f;
  float o_9 = 0.0f;
  float o_10 = 0.0f;
  float o_11 = 0.0f;
  float o_12 = 0.0f;
  float o_13 = 0.0f;
  float o_14 = 0.0f;
  float o_15 = 0.0f;
  const float t0 = g0[(((bh * 12) + qc) * 16)];
  qr_0 = (t0 * 0.125f);
  const float t1 = g0[((((bh * 12) + qc) * 16) + 1)];
  qr_1 = (t1 * 0.125f);
  const float t2 = g0[((((bh * 12) + qc) * 16) + 2)];
  qr_2 = (t2 * 0.125f);
  const float t3 = g0[((((bh * 12) + qc) * 16) + 3)];
  qr_3 = (t3 * 0.125f);
  const float t4 = g0[((((bh * 12) + qc) * 16) + 4)];
  qr_4 = (t4 * 0.125f);
  const float t5 = g0[((((bh * 12) + qc) * 16) + 5)];
  qr_5 = (t5 * 0.125f);
  const float t6 = g0[((((bh * 12) + qc) * 16) + 6)];
  qr_6 = (t6 * 0.125f);
  const float t7 = g0[((((bh * 12) + qc) * 16) + 7)];
  qr_7 = (t7 * 0.125f);
  const float t8 = g0[((((bh * 12) + qc) * 16) + 8)];
  qr_8 = (t8 * 0.125f);
  const float t9 = g0[((((bh * 12) + qc) * 16) + 9)];
  qr_9 = (t9 * 0.125f);
  const float t10 = g0[((((bh * 12) + qc) * 16) + 10)];
  qr_10 = (t10 * 0.125f);
  const float t11 = g0[((((bh * 12) + qc) * 16) + 11)];
  qr_11 = (t11 * 0.125f);
  const float t12 = g0[((((bh * 12) + qc) * 16) + 12)];
  qr_12 = (t12 * 0.125f);
  const float t13 = g0[((((bh * 12) + qc) * 16) + 13)];
  qr_13 = (t13 * 0.125f);
  const float t14 = g0[((((bh * 12) + qc) * 16) + 14)];
  qr_14 = (t14 * 0.125f);
  const float t15 = g0[((((bh * 12) + qc) * 16) + 15)];
  qr_15 = (t15 * 0.125f);
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = ((dims[0] + 15) / 16);
  const int nqt = 2;
  const int kvbase = (((b0 * 2) + hk) * dims[0]);
  for (int t = 0; t < nkt; t += 1) {
    const int t16 = g5[((((b0 * nqt) + qt) * nkt) + t)];
    const int cls = t16;
    if ((cls == 0)) {
      continue;
    }
    for (int e = (int)threadIdx.x; e < 256; e += 8) {
      const int jj = (e / 16);
      const int dd = (e % 16);
      const int kvl = max(min(((t * 16) + jj), (dims[0] - 1)), 0);
      const float t17 = g1[(((kvbase + kvl) * 16) + dd)];
      kt[((jj * 16) + dd)] = t17;
      const float t18 = g2[(((kvbase + kvl) * 16) + dd)];
      vt[((jj * 16) + dd)] = t18;
    }
    __syncthreads();
    for (int j = 0; j < 16; j += 1) {
      const int kv = ((t * 16) + j);
      bool ok = ((kv < dims[0]) && (qi < 12));
      if (((cls == 2) && ok)) {
        const int t19 = max(min(b0, 1), 0);
        const int t20 = g3[t19];
        const int t21 = g4[((t19 * 12) + max(min(qc, 11), 0))];
        ok = ((kv < t20) && (kv <= t21));
      }
      if (ok) {
        float dot = 0.0f;
        dot = fmaf(qr_0, kt[(j * 16)], dot);
        dot = fmaf(qr_1, kt[((j * 16) + 1)], dot);
        dot = fmaf(qr_2, kt[((j * 16) + 2)], dot);
        dot = fmaf(qr_3, kt[((j * 16) + 3)], dot);
        dot = fmaf(qr_4, kt[((j * 16) + 4)], dot);
        dot = fmaf(qr_5, kt[((j * 16) + 5)], dot);
        dot = fmaf(qr_6, kt[((j * 16) + 6)], dot);
        dot = fmaf(qr_7, kt[((j * 16) + 7)], dot);
        dot = fmaf(qr_8, kt[((j * 16) + 8)], dot);
        dot = fmaf(qr_9, kt[((j * 16) + 9)], dot);
        dot = fmaf(qr_10, kt[((j * 16) + 10)], dot);
        dot = fmaf(qr_11, kt[((j * 16) + 11)], dot);
        dot = fmaf(qr_12, kt[((j * 16) + 12)], dot);
        dot = fmaf(qr_13, kt[((j * 16) + 13)], dot);
        dot = fmaf(qr_14, kt[((j * 16) + 14)], dot);
        dot = fmaf(qr_15, kt[((j * 16) + 15)], dot);
        if ((dot > mx)) {
          const float corr = expf((mx - dot));
          l = (l * corr);
          o_0 = (o_0 * corr);
          o_1 = (o_1 * corr);
          o_2 = (o_2 * corr);
          o_3 = (o_3 * corr);
          o_4 = (o_4 * corr);
          o_5 = (o_5 * corr);
          o_6 = (o_6 * corr);
          o_7 = (o_7 * corr);
          o_8 = (o_8 * corr);
          o_9 = (o_9 * corr);
          o_10 = (o_10 * corr);
          o_11 = (o_11 * corr);
          o_12 = (o_12 * corr);
          o_13 = (o_13 * corr);
          o_14 = (o_14 * corr);
          o_15 = (o_15 * corr);
          mx = dot;
        }
        const float p = expf((dot - mx));
        l = (l + p);
        o_0 = fmaf(p, vt[(j * 16)], o_0);
        o_1 = fmaf(p, vt[((j * 16) + 1)], o_1);
        o_2 = fmaf(p, vt[((j * 16) + 2)], o_2);
        o_3 = fmaf(p, vt[((j * 16) + 3)], o_3);
        o_4 = fmaf(p, vt[((j * 16) + 4)], o_4);
        o_5 = fmaf(p, vt[((j * 16) + 5)], o_5);
        o_6 = fmaf(p, vt[((j * 16) + 6)], o_6);
        o_7 = fmaf(p, vt[((j * 16) + 7)], o_7);
        o_8 = fmaf(p, vt[((j * 16) + 8)], o_8);
        o_9 = fmaf(p, vt[((j * 16) + 9)], o_9);
        o_10 = fmaf(p, vt[((j * 16) + 10)], o_10);
        o_11 = fmaf(p, vt[((j * 16) + 11)], o_11);
        o_12 = fmaf(p, vt[((j * 16) + 12)], o_12);
        o_13 = fmaf(p, vt[((j * 16) + 13)], o_13);
        o_14 = fmaf(p, vt[((j * 16) + 14)], o_14);
        o_15 = fmaf(p, vt[((j * 16) + 15)], o_15);
      }
    }
    __syncthreads();
  }
  if ((qi < 12)) {
    const float inv = ((l > 0.0f) ? (1.0f / l) : 0.0f);
    const int obase = (((bh * 12) + qi) * 16);
    g6[obase] = (o_0 * inv);
    g6[(obase + 1)] = (o_1 * inv);
    g6[(obase + 2)] = (o_2 * inv);
    g6[(obase + 3)] = (o_3 * inv);
    g6[(obase + 4)] = (o_4 * inv);
    g6[(obase + 5)] = (o_5 * inv);
    g6[(obase + 6)] = (o_6 * inv);
    g6[(obase + 7)] = (o_7 * inv);
    g6[(obase + 8)] = (o_8 * inv);
    g6[(obase + 9)] = (o_9 * inv);
    g6[(obase + 10)] = (o_10 * inv);
    g6[(obase + 11)] = (o_11 * inv);
    g6[(obase + 12)] = (o_12 * inv);
    g6[(obase + 13)] = (o_13 * inv);
    g6[(obase + 14)] = (o_14 * inv);
    g6[(obase + 15)] = (o_15 * inv);
  }
}
