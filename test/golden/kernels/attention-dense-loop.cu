// launch [((S + 15) / 16), 8, 1] x [16, 1, 1]
// k0_attention: flash attention, mask m
extern "C" __global__ void __launch_bounds__(16) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, float* __restrict__ g5) {
  __shared__ float kt[2560];
  __shared__ float vt[2560];
  const int qt = (int)blockIdx.x;
  const int qi = ((qt * 16) + (int)threadIdx.x);
  const int qc = max(min(qi, (dims[0] - 1)), 0);
  const int bh = (int)blockIdx.y;
  const int b0 = (bh / 4);
  const int hk = ((bh % 4) / 2);
  float qr[160] = {};
  float o[160] = {};
  for (int d = 0; d < 160; d += 1) {
    const float t0 = g0[((((bh * dims[0]) + qc) * 160) + d)];
    qr[d] = (t0 * 0.125f);
  }
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = ((dims[0] + 15) / 16);
  const int kvbase = (((b0 * 2) + hk) * dims[0]);
  for (int t = 0; t < nkt; t += 1) {
    for (int e = (int)threadIdx.x; e < 2560; e += 16) {
      const int jj = (e / 160);
      const int dd = (e % 160);
      const int kvl = max(min(((t * 16) + jj), (dims[0] - 1)), 0);
      const float t1 = g1[(((kvbase + kvl) * 160) + dd)];
      kt[((jj * 160) + dd)] = t1;
      const float t2 = g2[(((kvbase + kvl) * 160) + dd)];
      vt[((jj * 160) + dd)] = t2;
    }
    __syncthreads();
    float s[16] = {};
    float tmax = (-3.4028234663852886e+38f);
    for (int j = 0; j < 16; j += 1) {
      const int kv = ((t * 16) + j);
      bool ok = ((kv < dims[0]) && (qi < dims[0]));
      if (ok) {
        const int t3 = max(min(b0, 1), 0);
        const int t4 = g3[t3];
        const int t5 = g4[((t3 * dims[0]) + max(min(qc, (dims[0] - 1)), 0))];
        ok = ((kv < t4) && (kv <= t5));
      }
      float dot = 0.0f;
      for (int d = 0; d < 160; d += 1) {
        dot = fmaf(qr[d], kt[((j * 160) + d)], dot);
      }
      s[j] = (ok ? dot : (-3.4028234663852886e+38f));
      if (ok) {
        tmax = tfx_fmax(tmax, dot);
      }
    }
    if ((tmax > (-3.4028234663852886e+38f))) {
      const float nm = tfx_fmax(mx, tmax);
      const float corr = expf((mx - nm));
      l = (l * corr);
      for (int d = 0; d < 160; d += 1) {
        o[d] = (o[d] * corr);
      }
      for (int j = 0; j < 16; j += 1) {
        if ((s[j] > (-3.4028234663852886e+38f))) {
          const float p = expf((s[j] - nm));
          l = (l + p);
          for (int d = 0; d < 160; d += 1) {
            o[d] = fmaf(p, vt[((j * 160) + d)], o[d]);
          }
        }
      }
      mx = nm;
    }
    __syncthreads();
  }
  if ((qi < dims[0])) {
    const float inv = ((l > 0.0f) ? (1.0f / l) : 0.0f);
    const int obase = (((bh * dims[0]) + qi) * 160);
    for (int d = 0; d < 160; d += 1) {
      g5[(obase + d)] = (o[d] * inv);
    }
  }
}
