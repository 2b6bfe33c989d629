// launch [3, ((S + 7) / 8), 3] x [8, 4, 1]
// k0_matmul: matmul
extern "C" __global__ void __launch_bounds__(32) k0_matmul(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, float* __restrict__ g2) {
  __shared__ float ta[64];
  __shared__ float tb[128];
  const int b0 = (int)blockIdx.z;
  const int bm0 = ((int)blockIdx.y * 8);
  const int bn0 = ((int)blockIdx.x * 16);
  float c_0 = 0.0f;
  float c_1 = 0.0f;
  float c_2 = 0.0f;
  float c_3 = 0.0f;
  float av_0 = 0.0f;
  float av_1 = 0.0f;
  float bv_0 = 0.0f;
  float bv_1 = 0.0f;
  for (int k0 = 0; k0 < 24; k0 += 8) {
    for (int e = (((int)threadIdx.y * 8) + (int)threadIdx.x); e < 64; e += 32) {
      float x = 0.0f;
      if ((((bm0 + (e / 8)) < dims[0]) && ((k0 + (e % 8)) < 24))) {
        const float t0 = g0[((((b0 * dims[0]) + (bm0 + (e / 8))) * 24) + (k0 + (e % 8)))];
        x = t0;
      }
      ta[e] = x;
    }
    for (int e = (((int)threadIdx.y * 8) + (int)threadIdx.x); e < 128; e += 32) {
      float x = 0.0f;
      if ((((bn0 + (e % 16)) < 40) && ((k0 + (e / 16)) < 24))) {
        const float t1 = g1[((((b0 * 24) + (k0 + (e / 16))) * 40) + (bn0 + (e % 16)))];
        x = t1;
      }
      tb[e] = x;
    }
    __syncthreads();
    for (int kk = 0; kk < 8; kk += 1) {
      av_0 = ta[(((int)threadIdx.y * 8) + kk)];
      av_1 = ta[((((int)threadIdx.y + 4) * 8) + kk)];
      bv_0 = tb[((kk * 16) + (int)threadIdx.x)];
      bv_1 = tb[(((kk * 16) + (int)threadIdx.x) + 8)];
      c_0 = fmaf(av_0, bv_0, c_0);
      c_1 = fmaf(av_0, bv_1, c_1);
      c_2 = fmaf(av_1, bv_0, c_2);
      c_3 = fmaf(av_1, bv_1, c_3);
    }
    __syncthreads();
  }
  if ((((bm0 + (int)threadIdx.y) < dims[0]) && ((bn0 + (int)threadIdx.x) < 40))) {
    g2[((((b0 * dims[0]) + (bm0 + (int)threadIdx.y)) * 40) + (bn0 + (int)threadIdx.x))] = c_0;
  }
  if ((((bm0 + (int)threadIdx.y) < dims[0]) && (((bn0 + (int)threadIdx.x) + 8) < 40))) {
    g2[((((b0 * dims[0]) + (bm0 + (int)threadIdx.y)) * 40) + ((bn0 + (int)threadIdx.x) + 8))] = c_1;
  }
  if (((((bm0 + (int)threadIdx.y) + 4) < dims[0]) && ((bn0 + (int)threadIdx.x) < 40))) {
    g2[((((b0 * dims[0]) + ((bm0 + (int)threadIdx.y) + 4)) * 40) + (bn0 + (int)threadIdx.x))] = c_2;
  }
  if (((((bm0 + (int)threadIdx.y) + 4) < dims[0]) && (((bn0 + (int)threadIdx.x) + 8) < 40))) {
    g2[((((b0 * dims[0]) + ((bm0 + (int)threadIdx.y) + 4)) * 40) + ((bn0 + (int)threadIdx.x) + 8))] = c_3;
  }
}
