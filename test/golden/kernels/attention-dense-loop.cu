// launch [ceil(S / 16), 2 * 4, 1] x 16 x [16, 1, 1]
// k0_attention: flash attention, mask m
extern "C" __global__ void __launch_bounds__(16) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, float* __restrict__ g5) {
  __shared__ float kt[1280];
  __shared__ float vt[1280];
  const int Hq = 4;
  const int Hkv = 2;
  const int Sq = dims[0];
  const int Sk = dims[0];
  const int bh = (int)blockIdx.y;
  const int b0 = tfx_idiv(bh, Hq);
  const int hk = tfx_idiv((bh - b0 * Hq), tfx_idiv(Hq, Hkv));
  const int qt = (int)blockIdx.x;
  const int qi = qt * 16 + (int)threadIdx.x;
  const int qc = max(min(qi, Sq - 1), 0);
  const int qbase = (bh * Sq + qc) * 160;
  float qr[160];
#pragma unroll
  for (int d = 0; d < 160; d++) qr[d] = g0[qbase + d] * 0.125f;
  float o[160];
#pragma unroll
  for (int d = 0; d < 160; d++) o[d] = 0.0f;
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = (Sk + 7) / 8;
  const int kvbase = (b0 * Hkv + hk) * Sk;
  for (int t = 0; t < nkt; t++) {
    for (int e = (int)threadIdx.x; e < 1280; e += 16) {
      const int j = e / 160;
      const int d = e % 160;
      const int kv = max(min(t * 8 + j, Sk - 1), 0);
      kt[j * 160 + d] = g1[(kvbase + kv) * 160 + d];
      vt[j * 160 + d] = g2[(kvbase + kv) * 160 + d];
    }
    __syncthreads();
    float s[8];
    float tmax = (-3.4028234663852886e+38f);
#pragma unroll
    for (int j = 0; j < 8; j++) {
      bool ok = t * 8 + j < Sk && qi < Sq;
      if (ok) {
        const int q = qc;
        const int kv = t * 8 + j;
        const int t0 = max(min(b0, 1), 0);
        const int t1 = g3[t0];
        const int t2 = g4[((t0 * dims[0]) + max(min(q, (dims[0] - 1)), 0))];
        ok = ((kv < t1) && (kv <= t2));
      }
      float dot = 0.0f;
#pragma unroll
      for (int d = 0; d < 160; d++) dot = fmaf(qr[d], kt[j * 160 + d], dot);
      s[j] = ok ? dot : (-3.4028234663852886e+38f);
      if (ok) tmax = fmaxf(tmax, dot);
    }
    if (tmax > (-3.4028234663852886e+38f)) {
      const float nm = fmaxf(mx, tmax);
      const float corr = expf(mx - nm);
      l = l * corr;
#pragma unroll
      for (int d = 0; d < 160; d++) o[d] = o[d] * corr;
#pragma unroll
      for (int j = 0; j < 8; j++) {
        if (s[j] > (-3.4028234663852886e+38f)) {
          const float p = expf(s[j] - nm);
          l = l + p;
#pragma unroll
          for (int d = 0; d < 160; d++) o[d] = fmaf(p, vt[j * 160 + d], o[d]);
        }
      }
      mx = nm;
    }
    __syncthreads();
  }
  if (qi < Sq) {
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    const int obase = (bh * Sq + qi) * 160;
#pragma unroll
    for (int d = 0; d < 160; d++) g5[obase + d] = o[d] * inv;
  }
}
