// launch [1, 2 * 4, 1] x 32 x [32, 1, 1]
// k0_attention: flash attention, mask m, block-sparse
extern "C" __global__ void __launch_bounds__(32) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, const int* __restrict__ g5, float* __restrict__ g6) {
  __shared__ float pm[32];
  __shared__ float pl[32];
  __shared__ float po[512];
  const int Hq = 4;
  const int Hkv = 2;
  const int Sq = 1;
  const int Sk = dims[0];
  const int bh = (int)blockIdx.y;
  const int b0 = tfx_idiv(bh, Hq);
  const int hk = tfx_idiv((bh - b0 * Hq), tfx_idiv(Hq, Hkv));
  const int qi = (int)blockIdx.x;
  const int qbase = (bh * Sq + qi) * 16;
  float qr[16];
#pragma unroll
  for (int d = 0; d < 16; d++) qr[d] = g0[qbase + d] * 0.125f;
  float o[16];
#pragma unroll
  for (int d = 0; d < 16; d++) o[d] = 0.0f;
  float mx = (-3.4028234663852886e+38f);
  float l = 0.0f;
  const int nkt = (Sk + 15) / 16;
  const int nqt = (Sq + 0) / 1;
  const int kvbase = (b0 * Hkv + hk) * Sk;
  for (int t = (int)threadIdx.x; t < nkt; t += 32) {
    const int cls = g5[(b0 * nqt + qi / 1) * nkt + t];
    if (cls == 0) continue;
    for (int j = 0; j < 16; j++) {
      const int kv = t * 16 + j;
      if (kv >= Sk) break;
      if (cls == 2) {
        const int q = qi;
        const int t0 = max(min(b0, 1), 0);
        const int t1 = g3[t0];
        const int t2 = g4[(t0 + max(min(q, 0), 0))];
        const bool ok = ((kv < t1) && (kv <= t2));
        if (!ok) continue;
      }
      float dot = 0.0f;
      for (int d = 0; d < 16; d++) dot = fmaf(qr[d], g1[(kvbase + kv) * 16 + d], dot);
      const float nm = fmaxf(mx, dot);
      const float corr = expf(mx - nm);
      const float p = expf(dot - nm);
      l = l * corr + p;
      for (int d = 0; d < 16; d++) o[d] = fmaf(p, g2[(kvbase + kv) * 16 + d], o[d] * corr);
      mx = nm;
    }
  }
  pm[threadIdx.x] = mx;
  pl[threadIdx.x] = l;
  for (int d = 0; d < 16; d++) po[threadIdx.x * 16 + d] = o[d];
  __syncthreads();
  if (threadIdx.x == 0) {
    float gm = (-3.4028234663852886e+38f);
    for (int t = 0; t < 32; t++) gm = fmaxf(gm, pm[t]);
    float gl = 0.0f;
    for (int t = 0; t < 32; t++) if (pl[t] > 0.0f) gl += pl[t] * expf(pm[t] - gm);
    const float inv = gl > 0.0f ? 1.0f / gl : 0.0f;
    const int obase = (bh * Sq + qi) * 16;
    for (int d = 0; d < 16; d++) {
      float acc = 0.0f;
      for (int t = 0; t < 32; t++) if (pl[t] > 0.0f) acc = fmaf(po[t * 16 + d], expf(pm[t] - gm), acc);
      g6[obase + d] = acc * inv;
    }
  }
}
