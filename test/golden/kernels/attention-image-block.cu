// launch [ceil(12 / 8), 2 * 4, 1] x 8 x [8, 1, 1]
// k0_attention: flash attention, mask m, block-sparse
extern "C" __global__ void __launch_bounds__(8) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, const int* __restrict__ g5, float* __restrict__ g6) {
  __shared__ float kt[256];
  __shared__ float vt[256];
  const int Hq = 4;
  const int Hkv = 2;
  const int Sq = 12;
  const int Sk = dims[0];
  const int bh = (int)blockIdx.y;
  const int b0 = tfx_idiv(bh, Hq);
  const int hk = tfx_idiv((bh - b0 * Hq), tfx_idiv(Hq, Hkv));
  const int qt = (int)blockIdx.x;
  const int qi = qt * 8 + (int)threadIdx.x;
  const int qc = max(min(qi, Sq - 1), 0);
  const int qbase = (bh * Sq + qc) * 16;
  float qr[16];
#pragma unroll
  for (int d = 0; d < 16; d++) qr[d] = g0[qbase + d] * 0.125f;
  float o[16];
#pragma unroll
  for (int d = 0; d < 16; d++) o[d] = 0.0f;
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = (Sk + 15) / 16;
  const int nqt = (Sq + 7) / 8;
  const int kvbase = (b0 * Hkv + hk) * Sk;
  for (int t = 0; t < nkt; t++) {
    const int cls = g5[(b0 * nqt + qt) * nkt + t];
    if (cls == 0) continue;
    for (int e = (int)threadIdx.x; e < 256; e += 8) {
      const int j = e / 16;
      const int d = e % 16;
      const int kv = max(min(t * 16 + j, Sk - 1), 0);
      kt[j * 16 + d] = g1[(kvbase + kv) * 16 + d];
      vt[j * 16 + d] = g2[(kvbase + kv) * 16 + d];
    }
    __syncthreads();
    float s[16];
    float tmax = (-3.4028234663852886e+38f);
#pragma unroll
    for (int j = 0; j < 16; j++) {
      bool ok = t * 16 + j < Sk && qi < Sq;
      if (ok && cls == 2) {
        const int q = qc;
        const int kv = t * 16 + j;
        const int t0 = max(min(b0, 1), 0);
        const int t1 = g3[t0];
        const int t2 = g4[((t0 * 12) + max(min(q, 11), 0))];
        ok = ((kv < t1) && (kv <= t2));
      }
      float dot = 0.0f;
#pragma unroll
      for (int d = 0; d < 16; d++) dot = fmaf(qr[d], kt[j * 16 + d], dot);
      s[j] = ok ? dot : (-3.4028234663852886e+38f);
      if (ok) tmax = fmaxf(tmax, dot);
    }
    if (tmax > (-3.4028234663852886e+38f)) {
      const float nm = fmaxf(mx, tmax);
      const float corr = expf(mx - nm);
      l = l * corr;
#pragma unroll
      for (int d = 0; d < 16; d++) o[d] = o[d] * corr;
#pragma unroll
      for (int j = 0; j < 16; j++) {
        if (s[j] > (-3.4028234663852886e+38f)) {
          const float p = expf(s[j] - nm);
          l = l + p;
#pragma unroll
          for (int d = 0; d < 16; d++) o[d] = fmaf(p, vt[j * 16 + d], o[d]);
        }
      }
      mx = nm;
    }
    __syncthreads();
  }
  if (qi < Sq) {
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int obase = (bh * Sq + qi) * 16;
#pragma unroll
    for (int d = 0; d < 16; d++) g6[obase + d] = o[d] * inv;
  }
}
