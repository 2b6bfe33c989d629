// launch [((S + 7) / 8), 8, 1] x [8, 1, 1]
// k0_attention: flash attention, mask m, block-sparse
extern "C" __global__ void __launch_bounds__(8) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, const int* __restrict__ g5, float* __restrict__ g6) {
  __shared__ float kt[1024];
  __shared__ float vt[1024];
  const int qt = (int)blockIdx.x;
  const int qi = ((qt * 8) + (int)threadIdx.x);
  const int qc = max(min(qi, (dims[0] - 1)), 0);
  const int bh = (int)blockIdx.y;
  const int b0 = (bh / 4);
  const int hk = ((bh % 4) / 2);
  float qr[16] = {};
  float o[16] = {};
  for (int d = 0; d < 16; d += 1) {
    const float t0 = g0[((((bh * dims[0]) + qc) * 16) + d)];
    qr[d] = (t0 * 0.125f);
  }
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = ((dims[0] + 63) / 64);
  const int nqt = ((dims[0] + 7) / 8);
  const int kvbase = (((b0 * 2) + hk) * dims[0]);
  for (int t = 0; t < nkt; t += 1) {
    const int t1 = g5[((((b0 * nqt) + qt) * nkt) + t)];
    const int cls = t1;
    if ((cls == 0)) {
      continue;
    }
    for (int e = (int)threadIdx.x; e < 1024; e += 8) {
      const int jj = (e / 16);
      const int dd = (e % 16);
      const int kvl = max(min(((t * 64) + jj), (dims[0] - 1)), 0);
      const float t2 = g1[(((kvbase + kvl) * 16) + dd)];
      kt[((jj * 16) + dd)] = t2;
      const float t3 = g2[(((kvbase + kvl) * 16) + dd)];
      vt[((jj * 16) + dd)] = t3;
    }
    __syncthreads();
    float s[64] = {};
    float tmax = (-3.4028234663852886e+38f);
    for (int j = 0; j < 64; j += 1) {
      const int kv = ((t * 64) + j);
      bool ok = ((kv < dims[0]) && (qi < dims[0]));
      if (((cls == 2) && ok)) {
        const int t4 = max(min(b0, 1), 0);
        const int t5 = g3[t4];
        const int t6 = g4[((t4 * dims[0]) + max(min(qc, (dims[0] - 1)), 0))];
        ok = ((kv < t5) && (kv <= t6));
      }
      float dot = 0.0f;
      for (int d = 0; d < 16; d += 1) {
        dot = fmaf(qr[d], kt[((j * 16) + d)], dot);
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
      for (int d = 0; d < 16; d += 1) {
        o[d] = (o[d] * corr);
      }
      for (int j = 0; j < 64; j += 1) {
        if ((s[j] > (-3.4028234663852886e+38f))) {
          const float p = expf((s[j] - nm));
          l = (l + p);
          for (int d = 0; d < 16; d += 1) {
            o[d] = fmaf(p, vt[((j * 16) + d)], o[d]);
          }
        }
      }
      mx = nm;
    }
    __syncthreads();
  }
  if ((qi < dims[0])) {
    const float inv = ((l > 0.0f) ? (1.0f / l) : 0.0f);
    const int obase = (((bh * dims[0]) + qi) * 16);
    for (int d = 0; d < 16; d += 1) {
      g6[(obase + d)] = (o[d] * inv);
    }
  }
}
