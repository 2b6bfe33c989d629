// dispatch [ceil(40 / 32), ceil(S / 32), 1]
// k0_matmul: matmul + silu add expand
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read_write> buf3: array<f32>;
@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let bz = i32(wid.z);
  let M = dims[0];
  let N = 40i;
  let K = 24i;
  let m0 = i32(wid.y) * 32i + i32(lid.y);
  let n0 = i32(wid.x) * 32i + i32(lid.x);
  var c0_0 = 0.0f;
  var c0_1 = 0.0f;
  var c0_2 = 0.0f;
  var c0_3 = 0.0f;
  var c1_0 = 0.0f;
  var c1_1 = 0.0f;
  var c1_2 = 0.0f;
  var c1_3 = 0.0f;
  var c2_0 = 0.0f;
  var c2_1 = 0.0f;
  var c2_2 = 0.0f;
  var c2_3 = 0.0f;
  var c3_0 = 0.0f;
  var c3_1 = 0.0f;
  var c3_2 = 0.0f;
  var c3_3 = 0.0f;
  for (var k = 0i; k < K; k++) {
    var av0: f32;
    {
      let m = min(m0 + 0i, M - 1i);
      let t0: f32 = buf0[((m * 24i) + k)];
      av0 = t0;
    }
    var av1: f32;
    {
      let m = min(m0 + 8i, M - 1i);
      let t1: f32 = buf0[((m * 24i) + k)];
      av1 = t1;
    }
    var av2: f32;
    {
      let m = min(m0 + 16i, M - 1i);
      let t2: f32 = buf0[((m * 24i) + k)];
      av2 = t2;
    }
    var av3: f32;
    {
      let m = min(m0 + 24i, M - 1i);
      let t3: f32 = buf0[((m * 24i) + k)];
      av3 = t3;
    }
    var bv0: f32;
    {
      let n = min(n0 + 0i, N - 1i);
      let t4: f32 = buf1[((k * 40i) + n)];
      bv0 = t4;
    }
    var bv1: f32;
    {
      let n = min(n0 + 8i, N - 1i);
      let t5: f32 = buf1[((k * 40i) + n)];
      bv1 = t5;
    }
    var bv2: f32;
    {
      let n = min(n0 + 16i, N - 1i);
      let t6: f32 = buf1[((k * 40i) + n)];
      bv2 = t6;
    }
    var bv3: f32;
    {
      let n = min(n0 + 24i, N - 1i);
      let t7: f32 = buf1[((k * 40i) + n)];
      bv3 = t7;
    }
    c0_0 = fma(av0, bv0, c0_0);
    c0_1 = fma(av0, bv1, c0_1);
    c0_2 = fma(av0, bv2, c0_2);
    c0_3 = fma(av0, bv3, c0_3);
    c1_0 = fma(av1, bv0, c1_0);
    c1_1 = fma(av1, bv1, c1_1);
    c1_2 = fma(av1, bv2, c1_2);
    c1_3 = fma(av1, bv3, c1_3);
    c2_0 = fma(av2, bv0, c2_0);
    c2_1 = fma(av2, bv1, c2_1);
    c2_2 = fma(av2, bv2, c2_2);
    c2_3 = fma(av2, bv3, c2_3);
    c3_0 = fma(av3, bv0, c3_0);
    c3_1 = fma(av3, bv1, c3_1);
    c3_2 = fma(av3, bv2, c3_2);
    c3_3 = fma(av3, bv3, c3_3);
  }
  {
    let m = m0 + 0i;
    let n = n0 + 0i;
    if (m < M && n < N) {
      let acc = c0_0;
      let t8: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t8) / (1.0f + exp(-((acc + t8)))));
    }
  }
  {
    let m = m0 + 0i;
    let n = n0 + 8i;
    if (m < M && n < N) {
      let acc = c0_1;
      let t9: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t9) / (1.0f + exp(-((acc + t9)))));
    }
  }
  {
    let m = m0 + 0i;
    let n = n0 + 16i;
    if (m < M && n < N) {
      let acc = c0_2;
      let t10: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t10) / (1.0f + exp(-((acc + t10)))));
    }
  }
  {
    let m = m0 + 0i;
    let n = n0 + 24i;
    if (m < M && n < N) {
      let acc = c0_3;
      let t11: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t11) / (1.0f + exp(-((acc + t11)))));
    }
  }
  {
    let m = m0 + 8i;
    let n = n0 + 0i;
    if (m < M && n < N) {
      let acc = c1_0;
      let t12: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t12) / (1.0f + exp(-((acc + t12)))));
    }
  }
  {
    let m = m0 + 8i;
    let n = n0 + 8i;
    if (m < M && n < N) {
      let acc = c1_1;
      let t13: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t13) / (1.0f + exp(-((acc + t13)))));
    }
  }
  {
    let m = m0 + 8i;
    let n = n0 + 16i;
    if (m < M && n < N) {
      let acc = c1_2;
      let t14: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t14) / (1.0f + exp(-((acc + t14)))));
    }
  }
  {
    let m = m0 + 8i;
    let n = n0 + 24i;
    if (m < M && n < N) {
      let acc = c1_3;
      let t15: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t15) / (1.0f + exp(-((acc + t15)))));
    }
  }
  {
    let m = m0 + 16i;
    let n = n0 + 0i;
    if (m < M && n < N) {
      let acc = c2_0;
      let t16: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t16) / (1.0f + exp(-((acc + t16)))));
    }
  }
  {
    let m = m0 + 16i;
    let n = n0 + 8i;
    if (m < M && n < N) {
      let acc = c2_1;
      let t17: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t17) / (1.0f + exp(-((acc + t17)))));
    }
  }
  {
    let m = m0 + 16i;
    let n = n0 + 16i;
    if (m < M && n < N) {
      let acc = c2_2;
      let t18: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t18) / (1.0f + exp(-((acc + t18)))));
    }
  }
  {
    let m = m0 + 16i;
    let n = n0 + 24i;
    if (m < M && n < N) {
      let acc = c2_3;
      let t19: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t19) / (1.0f + exp(-((acc + t19)))));
    }
  }
  {
    let m = m0 + 24i;
    let n = n0 + 0i;
    if (m < M && n < N) {
      let acc = c3_0;
      let t20: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t20) / (1.0f + exp(-((acc + t20)))));
    }
  }
  {
    let m = m0 + 24i;
    let n = n0 + 8i;
    if (m < M && n < N) {
      let acc = c3_1;
      let t21: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t21) / (1.0f + exp(-((acc + t21)))));
    }
  }
  {
    let m = m0 + 24i;
    let n = n0 + 16i;
    if (m < M && n < N) {
      let acc = c3_2;
      let t22: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t22) / (1.0f + exp(-((acc + t22)))));
    }
  }
  {
    let m = m0 + 24i;
    let n = n0 + 24i;
    if (m < M && n < N) {
      let acc = c3_3;
      let t23: f32 = buf2[n];
      buf3[((m * 40i) + n)] = ((acc + t23) / (1.0f + exp(-((acc + t23)))));
    }
  }
}
