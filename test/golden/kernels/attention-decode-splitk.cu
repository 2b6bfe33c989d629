// launch [1, 8, 1] x [32, 1, 1]
// k0_attention: flash attention, mask m, block-sparse
extern "C" __global__ void __launch_bounds__(32) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, const int* __restrict__ g5, float* __restrict__ g6) {
  __shared__ float pm[32];
  __shared__ float pl[32];
  __shared__ float po[512];
  const int qi = (int)blockIdx.x;
  const int qt = qi;
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
  const float t0 = g0[((bh + qi) * 16)];
  qr_0 = (t0 * 0.125f);
  const float t1 = g0[(((bh + qi) * 16) + 1)];
  qr_1 = (t1 * 0.125f);
  const float t2 = g0[(((bh + qi) * 16) + 2)];
  qr_2 = (t2 * 0.125f);
  const float t3 = g0[(((bh + qi) * 16) + 3)];
  qr_3 = (t3 * 0.125f);
  const float t4 = g0[(((bh + qi) * 16) + 4)];
  qr_4 = (t4 * 0.125f);
  const float t5 = g0[(((bh + qi) * 16) + 5)];
  qr_5 = (t5 * 0.125f);
  const float t6 = g0[(((bh + qi) * 16) + 6)];
  qr_6 = (t6 * 0.125f);
  const float t7 = g0[(((bh + qi) * 16) + 7)];
  qr_7 = (t7 * 0.125f);
  const float t8 = g0[(((bh + qi) * 16) + 8)];
  qr_8 = (t8 * 0.125f);
  const float t9 = g0[(((bh + qi) * 16) + 9)];
  qr_9 = (t9 * 0.125f);
  const float t10 = g0[(((bh + qi) * 16) + 10)];
  qr_10 = (t10 * 0.125f);
  const float t11 = g0[(((bh + qi) * 16) + 11)];
  qr_11 = (t11 * 0.125f);
  const float t12 = g0[(((bh + qi) * 16) + 12)];
  qr_12 = (t12 * 0.125f);
  const float t13 = g0[(((bh + qi) * 16) + 13)];
  qr_13 = (t13 * 0.125f);
  const float t14 = g0[(((bh + qi) * 16) + 14)];
  qr_14 = (t14 * 0.125f);
  const float t15 = g0[(((bh + qi) * 16) + 15)];
  qr_15 = (t15 * 0.125f);
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = ((dims[0] + 15) / 16);
  const int nqt = 1;
  const int kvbase = (((b0 * 2) + hk) * dims[0]);
  for (int t = (int)threadIdx.x; t < nkt; t += 32) {
    const int t16 = g5[((((b0 * nqt) + qt) * nkt) + t)];
    const int cls = t16;
    if ((cls == 0)) {
      continue;
    }
    for (int j = 0; j < 16; j += 1) {
      const int kv = ((t * 16) + j);
      if ((kv >= dims[0])) {
        break;
      }
      const int t17 = max(min(b0, 1), 0);
      const int t18 = g3[t17];
      const int t19 = g4[(t17 + max(min(qi, 0), 0))];
      if (((cls == 2) && (!((kv < t18) && (kv <= t19))))) {
        continue;
      }
      float dot = 0.0f;
      const float t20 = g1[((kvbase + kv) * 16)];
      dot = fmaf(qr_0, t20, dot);
      const float t21 = g1[(((kvbase + kv) * 16) + 1)];
      dot = fmaf(qr_1, t21, dot);
      const float t22 = g1[(((kvbase + kv) * 16) + 2)];
      dot = fmaf(qr_2, t22, dot);
      const float t23 = g1[(((kvbase + kv) * 16) + 3)];
      dot = fmaf(qr_3, t23, dot);
      const float t24 = g1[(((kvbase + kv) * 16) + 4)];
      dot = fmaf(qr_4, t24, dot);
      const float t25 = g1[(((kvbase + kv) * 16) + 5)];
      dot = fmaf(qr_5, t25, dot);
      const float t26 = g1[(((kvbase + kv) * 16) + 6)];
      dot = fmaf(qr_6, t26, dot);
      const float t27 = g1[(((kvbase + kv) * 16) + 7)];
      dot = fmaf(qr_7, t27, dot);
      const float t28 = g1[(((kvbase + kv) * 16) + 8)];
      dot = fmaf(qr_8, t28, dot);
      const float t29 = g1[(((kvbase + kv) * 16) + 9)];
      dot = fmaf(qr_9, t29, dot);
      const float t30 = g1[(((kvbase + kv) * 16) + 10)];
      dot = fmaf(qr_10, t30, dot);
      const float t31 = g1[(((kvbase + kv) * 16) + 11)];
      dot = fmaf(qr_11, t31, dot);
      const float t32 = g1[(((kvbase + kv) * 16) + 12)];
      dot = fmaf(qr_12, t32, dot);
      const float t33 = g1[(((kvbase + kv) * 16) + 13)];
      dot = fmaf(qr_13, t33, dot);
      const float t34 = g1[(((kvbase + kv) * 16) + 14)];
      dot = fmaf(qr_14, t34, dot);
      const float t35 = g1[(((kvbase + kv) * 16) + 15)];
      dot = fmaf(qr_15, t35, dot);
      const float nm = tfx_fmax(mx, dot);
      const float corr = expf((mx - nm));
      const float p = expf((dot - nm));
      l = ((l * corr) + p);
      const float t36 = g2[((kvbase + kv) * 16)];
      o_0 = fmaf(p, t36, (o_0 * corr));
      const float t37 = g2[(((kvbase + kv) * 16) + 1)];
      o_1 = fmaf(p, t37, (o_1 * corr));
      const float t38 = g2[(((kvbase + kv) * 16) + 2)];
      o_2 = fmaf(p, t38, (o_2 * corr));
      const float t39 = g2[(((kvbase + kv) * 16) + 3)];
      o_3 = fmaf(p, t39, (o_3 * corr));
      const float t40 = g2[(((kvbase + kv) * 16) + 4)];
      o_4 = fmaf(p, t40, (o_4 * corr));
      const float t41 = g2[(((kvbase + kv) * 16) + 5)];
      o_5 = fmaf(p, t41, (o_5 * corr));
      const float t42 = g2[(((kvbase + kv) * 16) + 6)];
      o_6 = fmaf(p, t42, (o_6 * corr));
      const float t43 = g2[(((kvbase + kv) * 16) + 7)];
      o_7 = fmaf(p, t43, (o_7 * corr));
      const float t44 = g2[(((kvbase + kv) * 16) + 8)];
      o_8 = fmaf(p, t44, (o_8 * corr));
      const float t45 = g2[(((kvbase + kv) * 16) + 9)];
      o_9 = fmaf(p, t45, (o_9 * corr));
      const float t46 = g2[(((kvbase + kv) * 16) + 10)];
      o_10 = fmaf(p, t46, (o_10 * corr));
      const float t47 = g2[(((kvbase + kv) * 16) + 11)];
      o_11 = fmaf(p, t47, (o_11 * corr));
      const float t48 = g2[(((kvbase + kv) * 16) + 12)];
      o_12 = fmaf(p, t48, (o_12 * corr));
      const float t49 = g2[(((kvbase + kv) * 16) + 13)];
      o_13 = fmaf(p, t49, (o_13 * corr));
      const float t50 = g2[(((kvbase + kv) * 16) + 14)];
      o_14 = fmaf(p, t50, (o_14 * corr));
      const float t51 = g2[(((kvbase + kv) * 16) + 15)];
      o_15 = fmaf(p, t51, (o_15 * corr));
      mx = nm;
    }
  }
  pm[(int)threadIdx.x] = mx;
  pl[(int)threadIdx.x] = l;
  po[((int)threadIdx.x * 16)] = o_0;
  po[(((int)threadIdx.x * 16) + 1)] = o_1;
  po[(((int)threadIdx.x * 16) + 2)] = o_2;
  po[(((int)threadIdx.x * 16) + 3)] = o_3;
  po[(((int)threadIdx.x * 16) + 4)] = o_4;
  po[(((int)threadIdx.x * 16) + 5)] = o_5;
  po[(((int)threadIdx.x * 16) + 6)] = o_6;
  po[(((int)threadIdx.x * 16) + 7)] = o_7;
  po[(((int)threadIdx.x * 16) + 8)] = o_8;
  po[(((int)threadIdx.x * 16) + 9)] = o_9;
  po[(((int)threadIdx.x * 16) + 10)] = o_10;
  po[(((int)threadIdx.x * 16) + 11)] = o_11;
  po[(((int)threadIdx.x * 16) + 12)] = o_12;
  po[(((int)threadIdx.x * 16) + 13)] = o_13;
  po[(((int)threadIdx.x * 16) + 14)] = o_14;
  po[(((int)threadIdx.x * 16) + 15)] = o_15;
  __syncthreads();
  if (((int)threadIdx.x == 0)) {
    float gm = (-3.4028234663852886e+38f);
    for (int u = 0; u < 32; u += 1) {
      gm = tfx_fmax(gm, pm[u]);
    }
    float gl = 0.0f;
    for (int u = 0; u < 32; u += 1) {
      if ((pl[u] > 0.0f)) {
        gl = (gl + (pl[u] * expf((pm[u] - gm))));
      }
    }
    const float inv = ((gl > 0.0f) ? (1.0f / gl) : 0.0f);
    const int obase = ((bh + qi) * 16);
    for (int d = 0; d < 16; d += 1) {
      float acc = 0.0f;
      for (int u = 0; u < 32; u += 1) {
        if ((pl[u] > 0.0f)) {
          acc = fmaf(po[((u * 16) + d)], expf((pm[u] - gm)), acc);
        }
      }
      g6[(obase + d)] = (acc * inv);
    }
  }
}
