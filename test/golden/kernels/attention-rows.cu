// launch [((S + 31) / 32), 8, 1] x [8, 1, 1]
// k0_attention: flash attention, mask m, block-sparse
extern "C" __global__ void __launch_bounds__(8) k0_attention(const int* __restrict__ dims, const float* __restrict__ g0, const float* __restrict__ g1, const float* __restrict__ g2, const int* __restrict__ g3, const int* __restrict__ g4, const int* __restrict__ g5, float* __restrict__ g6) {
  const int bh = (int)blockIdx.y;
  const int b0 = (bh / 4);
  const int hk = ((bh % 4) / 2);
  const int nkt = ((dims[0] + 15) / 16);
  const int nqt = ((dims[0] + 31) / 32);
  const int kvbase = (((b0 * 2) + hk) * dims[0]);
  const int t0 = ((int)blockIdx.x / 2);
  const int qt = ((((int)blockIdx.x % 2) == 0) ? t0 : ((nqt - 1) - t0));
  float qr[64] = {};
  float o[64] = {};
  float s[64] = {};
  float mx_0 = 0.0f;
  float mx_1 = 0.0f;
  float mx_2 = 0.0f;
  float mx_3 = 0.0f;
  float l_0 = 0.0f;
  float l_1 = 0.0f;
  float l_2 = 0.0f;
  float l_3 = 0.0f;
  float cr_0 = 0.0f;
  float cr_1 = 0.0f;
  float cr_2 = 0.0f;
  float cr_3 = 0.0f;
  float ba_0 = 0.0f;
  float ba_1 = 0.0f;
  float ba_2 = 0.0f;
  float ba_3 = 0.0f;
  float ba_4 = 0.0f;
  float ba_5 = 0.0f;
  float ba_6 = 0.0f;
  float ba_7 = 0.0f;
  float ba_8 = 0.0f;
  float ba_9 = 0.0f;
  float ba_10 = 0.0f;
  float ba_11 = 0.0f;
  float ba_12 = 0.0f;
  float ba_13 = 0.0f;
  float ba_14 = 0.0f;
  float ba_15 = 0.0f;
  float bx_0 = 0.0f;
  float bx_1 = 0.0f;
  float bx_2 = 0.0f;
  float bx_3 = 0.0f;
  float by_0 = 0.0f;
  float by_1 = 0.0f;
  float by_2 = 0.0f;
  float by_3 = 0.0f;
  const int qi0 = ((qt * 32) + (int)threadIdx.x);
  const int qc0 = max(min(qi0, (dims[0] - 1)), 0);
  const int bh0 = bh;
  for (int d = 0; d < 16; d += 1) {
    const float t1 = g0[((((bh0 * dims[0]) + qc0) * 16) + d)];
    qr[d] = (t1 * 0.125f);
  }
  const int qi1 = (((qt * 32) + 8) + (int)threadIdx.x);
  const int qc1 = max(min(qi1, (dims[0] - 1)), 0);
  const int bh1 = bh;
  for (int d = 0; d < 16; d += 1) {
    const float t2 = g0[((((bh1 * dims[0]) + qc1) * 16) + d)];
    qr[(16 + d)] = (t2 * 0.125f);
  }
  const int qi2 = (((qt * 32) + 16) + (int)threadIdx.x);
  const int qc2 = max(min(qi2, (dims[0] - 1)), 0);
  const int bh2 = bh;
  for (int d = 0; d < 16; d += 1) {
    const float t3 = g0[((((bh2 * dims[0]) + qc2) * 16) + d)];
    qr[(32 + d)] = (t3 * 0.125f);
  }
  const int qi3 = (((qt * 32) + 24) + (int)threadIdx.x);
  const int qc3 = max(min(qi3, (dims[0] - 1)), 0);
  const int bh3 = bh;
  for (int d = 0; d < 16; d += 1) {
    const float t4 = g0[((((bh3 * dims[0]) + qc3) * 16) + d)];
    qr[(48 + d)] = (t4 * 0.125f);
  }
  mx_0 = (-3.4028234663852886e+38f);
  mx_1 = (-3.4028234663852886e+38f);
  mx_2 = (-3.4028234663852886e+38f);
  mx_3 = (-3.4028234663852886e+38f);
  bool ok = false;
  float nm = (-3.4028234663852886e+38f);
  float ls = 0.0f;
  for (int t = 0; t < nkt; t += 1) {
    const int t5 = g5[((((b0 * nqt) + qt) * nkt) + t)];
    const int cls = t5;
    if ((cls == 0)) {
      continue;
    }
    for (int jc = 0; jc < 4; jc += 1) {
      ba_0 = 0.0f;
      ba_1 = 0.0f;
      ba_2 = 0.0f;
      ba_3 = 0.0f;
      ba_4 = 0.0f;
      ba_5 = 0.0f;
      ba_6 = 0.0f;
      ba_7 = 0.0f;
      ba_8 = 0.0f;
      ba_9 = 0.0f;
      ba_10 = 0.0f;
      ba_11 = 0.0f;
      ba_12 = 0.0f;
      ba_13 = 0.0f;
      ba_14 = 0.0f;
      ba_15 = 0.0f;
      for (int d = 0; d < 16; d += 1) {
        bx_0 = qr[d];
        bx_1 = qr[(16 + d)];
        bx_2 = qr[(32 + d)];
        bx_3 = qr[(48 + d)];
        const float t6 = g1[(((kvbase + max(min(((t * 16) + (jc * 4)), (dims[0] - 1)), 0)) * 16) + d)];
        by_0 = t6;
        const float t7 = g1[(((kvbase + max(min(((t * 16) + ((jc * 4) + 1)), (dims[0] - 1)), 0)) * 16) + d)];
        by_1 = t7;
        const float t8 = g1[(((kvbase + max(min(((t * 16) + ((jc * 4) + 2)), (dims[0] - 1)), 0)) * 16) + d)];
        by_2 = t8;
        const float t9 = g1[(((kvbase + max(min(((t * 16) + ((jc * 4) + 3)), (dims[0] - 1)), 0)) * 16) + d)];
        by_3 = t9;
        ba_0 = fmaf(bx_0, by_0, ba_0);
        ba_1 = fmaf(bx_0, by_1, ba_1);
        ba_2 = fmaf(bx_0, by_2, ba_2);
        ba_3 = fmaf(bx_0, by_3, ba_3);
        ba_4 = fmaf(bx_1, by_0, ba_4);
        ba_5 = fmaf(bx_1, by_1, ba_5);
        ba_6 = fmaf(bx_1, by_2, ba_6);
        ba_7 = fmaf(bx_1, by_3, ba_7);
        ba_8 = fmaf(bx_2, by_0, ba_8);
        ba_9 = fmaf(bx_2, by_1, ba_9);
        ba_10 = fmaf(bx_2, by_2, ba_10);
        ba_11 = fmaf(bx_2, by_3, ba_11);
        ba_12 = fmaf(bx_3, by_0, ba_12);
        ba_13 = fmaf(bx_3, by_1, ba_13);
        ba_14 = fmaf(bx_3, by_2, ba_14);
        ba_15 = fmaf(bx_3, by_3, ba_15);
      }
      s[(jc * 4)] = ba_0;
      s[((jc * 4) + 1)] = ba_1;
      s[((jc * 4) + 2)] = ba_2;
      s[((jc * 4) + 3)] = ba_3;
      s[(16 + (jc * 4))] = ba_4;
      s[(16 + ((jc * 4) + 1))] = ba_5;
      s[(16 + ((jc * 4) + 2))] = ba_6;
      s[(16 + ((jc * 4) + 3))] = ba_7;
      s[(32 + (jc * 4))] = ba_8;
      s[(32 + ((jc * 4) + 1))] = ba_9;
      s[(32 + ((jc * 4) + 2))] = ba_10;
      s[(32 + ((jc * 4) + 3))] = ba_11;
      s[(48 + (jc * 4))] = ba_12;
      s[(48 + ((jc * 4) + 1))] = ba_13;
      s[(48 + ((jc * 4) + 2))] = ba_14;
      s[(48 + ((jc * 4) + 3))] = ba_15;
    }
    if (((((t + 1) * 16) > dims[0]) || (((qt + 1) * 32) > dims[0]))) {
      for (int r = 0; r < 4; r += 1) {
        for (int j = 0; j < 16; j += 1) {
          ok = ((((t * 16) + j) < dims[0]) && ((((qt * 32) + (r * 8)) + (int)threadIdx.x) < dims[0]));
          if ((!ok)) {
            s[((r * 16) + j)] = (-3.4028234663852886e+38f);
          }
        }
      }
    }
    if ((cls == 2)) {
      for (int r = 0; r < 4; r += 1) {
        for (int j = 0; j < 16; j += 1) {
          ok = ((((t * 16) + j) < dims[0]) && ((((qt * 32) + (r * 8)) + (int)threadIdx.x) < dims[0]));
          if (ok) {
            const int t10 = ((t * 16) + j);
            const int t11 = max(min(b0, 1), 0);
            const int t12 = g3[t11];
            const int t13 = (dims[0] - 1);
            const int t14 = g4[((t11 * dims[0]) + max(min(max(min((((qt * 32) + (r * 8)) + (int)threadIdx.x), t13), 0), t13), 0))];
            ok = ((t10 < t12) && (t10 <= t14));
          }
          if ((!ok)) {
            s[((r * 16) + j)] = (-3.4028234663852886e+38f);
          }
        }
      }
    }
    nm = mx_0;
    for (int j = 0; j < 16; j += 1) {
      nm = tfx_fmax(nm, s[j]);
    }
    cr_0 = expf((mx_0 - nm));
    ls = 0.0f;
    for (int j = 0; j < 16; j += 1) {
      const float t15 = s[j];
      const float p = ((t15 > (-3.4028234663852886e+38f)) ? expf((t15 - nm)) : 0.0f);
      s[j] = p;
      ls = (ls + p);
    }
    l_0 = ((l_0 * cr_0) + ls);
    mx_0 = nm;
    nm = mx_1;
    for (int j = 0; j < 16; j += 1) {
      nm = tfx_fmax(nm, s[(16 + j)]);
    }
    cr_1 = expf((mx_1 - nm));
    ls = 0.0f;
    for (int j = 0; j < 16; j += 1) {
      const float t16 = s[(16 + j)];
      const float p = ((t16 > (-3.4028234663852886e+38f)) ? expf((t16 - nm)) : 0.0f);
      s[(16 + j)] = p;
      ls = (ls + p);
    }
    l_1 = ((l_1 * cr_1) + ls);
    mx_1 = nm;
    nm = mx_2;
    for (int j = 0; j < 16; j += 1) {
      nm = tfx_fmax(nm, s[(32 + j)]);
    }
    cr_2 = expf((mx_2 - nm));
    ls = 0.0f;
    for (int j = 0; j < 16; j += 1) {
      const float t17 = s[(32 + j)];
      const float p = ((t17 > (-3.4028234663852886e+38f)) ? expf((t17 - nm)) : 0.0f);
      s[(32 + j)] = p;
      ls = (ls + p);
    }
    l_2 = ((l_2 * cr_2) + ls);
    mx_2 = nm;
    nm = mx_3;
    for (int j = 0; j < 16; j += 1) {
      nm = tfx_fmax(nm, s[(48 + j)]);
    }
    cr_3 = expf((mx_3 - nm));
    ls = 0.0f;
    for (int j = 0; j < 16; j += 1) {
      const float t18 = s[(48 + j)];
      const float p = ((t18 > (-3.4028234663852886e+38f)) ? expf((t18 - nm)) : 0.0f);
      s[(48 + j)] = p;
      ls = (ls + p);
    }
    l_3 = ((l_3 * cr_3) + ls);
    mx_3 = nm;
    for (int cc = 0; cc < 4; cc += 1) {
      ba_0 = (o[(cc * 4)] * cr_0);
      ba_1 = (o[(1 + (cc * 4))] * cr_0);
      ba_2 = (o[(2 + (cc * 4))] * cr_0);
      ba_3 = (o[(3 + (cc * 4))] * cr_0);
      ba_4 = (o[(16 + (cc * 4))] * cr_1);
      ba_5 = (o[(17 + (cc * 4))] * cr_1);
      ba_6 = (o[(18 + (cc * 4))] * cr_1);
      ba_7 = (o[(19 + (cc * 4))] * cr_1);
      ba_8 = (o[(32 + (cc * 4))] * cr_2);
      ba_9 = (o[(33 + (cc * 4))] * cr_2);
      ba_10 = (o[(34 + (cc * 4))] * cr_2);
      ba_11 = (o[(35 + (cc * 4))] * cr_2);
      ba_12 = (o[(48 + (cc * 4))] * cr_3);
      ba_13 = (o[(49 + (cc * 4))] * cr_3);
      ba_14 = (o[(50 + (cc * 4))] * cr_3);
      ba_15 = (o[(51 + (cc * 4))] * cr_3);
      for (int j = 0; j < 16; j += 1) {
        bx_0 = s[j];
        bx_1 = s[(16 + j)];
        bx_2 = s[(32 + j)];
        bx_3 = s[(48 + j)];
        const float t19 = g2[(((kvbase + max(min(((t * 16) + j), (dims[0] - 1)), 0)) * 16) + (cc * 4))];
        by_0 = t19;
        const float t20 = g2[(((kvbase + max(min(((t * 16) + j), (dims[0] - 1)), 0)) * 16) + ((cc * 4) + 1))];
        by_1 = t20;
        const float t21 = g2[(((kvbase + max(min(((t * 16) + j), (dims[0] - 1)), 0)) * 16) + ((cc * 4) + 2))];
        by_2 = t21;
        const float t22 = g2[(((kvbase + max(min(((t * 16) + j), (dims[0] - 1)), 0)) * 16) + ((cc * 4) + 3))];
        by_3 = t22;
        ba_0 = fmaf(bx_0, by_0, ba_0);
        ba_1 = fmaf(bx_0, by_1, ba_1);
        ba_2 = fmaf(bx_0, by_2, ba_2);
        ba_3 = fmaf(bx_0, by_3, ba_3);
        ba_4 = fmaf(bx_1, by_0, ba_4);
        ba_5 = fmaf(bx_1, by_1, ba_5);
        ba_6 = fmaf(bx_1, by_2, ba_6);
        ba_7 = fmaf(bx_1, by_3, ba_7);
        ba_8 = fmaf(bx_2, by_0, ba_8);
        ba_9 = fmaf(bx_2, by_1, ba_9);
        ba_10 = fmaf(bx_2, by_2, ba_10);
        ba_11 = fmaf(bx_2, by_3, ba_11);
        ba_12 = fmaf(bx_3, by_0, ba_12);
        ba_13 = fmaf(bx_3, by_1, ba_13);
        ba_14 = fmaf(bx_3, by_2, ba_14);
        ba_15 = fmaf(bx_3, by_3, ba_15);
      }
      o[(cc * 4)] = ba_0;
      o[(1 + (cc * 4))] = ba_1;
      o[(2 + (cc * 4))] = ba_2;
      o[(3 + (cc * 4))] = ba_3;
      o[(16 + (cc * 4))] = ba_4;
      o[(17 + (cc * 4))] = ba_5;
      o[(18 + (cc * 4))] = ba_6;
      o[(19 + (cc * 4))] = ba_7;
      o[(32 + (cc * 4))] = ba_8;
      o[(33 + (cc * 4))] = ba_9;
      o[(34 + (cc * 4))] = ba_10;
      o[(35 + (cc * 4))] = ba_11;
      o[(48 + (cc * 4))] = ba_12;
      o[(49 + (cc * 4))] = ba_13;
      o[(50 + (cc * 4))] = ba_14;
      o[(51 + (cc * 4))] = ba_15;
    }
  }
  if ((qi0 < dims[0])) {
    const float inv = ((l_0 > 0.0f) ? (1.0f / l_0) : 0.0f);
    const int obase = (((bh0 * dims[0]) + qi0) * 16);
    for (int d = 0; d < 16; d += 1) {
      g6[(obase + d)] = (o[d] * inv);
    }
  }
  if ((qi1 < dims[0])) {
    const float inv = ((l_1 > 0.0f) ? (1.0f / l_1) : 0.0f);
    const int obase = (((bh1 * dims[0]) + qi1) * 16);
    for (int d = 0; d < 16; d += 1) {
      g6[(obase + d)] = (o[(16 + d)] * inv);
    }
  }
  if ((qi2 < dims[0])) {
    const float inv = ((l_2 > 0.0f) ? (1.0f / l_2) : 0.0f);
    const int obase = (((bh2 * dims[0]) + qi2) * 16);
    for (int d = 0; d < 16; d += 1) {
      g6[(obase + d)] = (o[(32 + d)] * inv);
    }
  }
  if ((qi3 < dims[0])) {
    const float inv = ((l_3 > 0.0f) ? (1.0f / l_3) : 0.0f);
    const int obase = (((bh3 * dims[0]) + qi3) * 16);
    for (int d = 0; d < 16; d += 1) {
      g6[(obase + d)] = (o[(48 + d)] * inv);
    }
  }
}
