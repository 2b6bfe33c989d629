// dispatch [2, ((S + 31) / 32), 1]
// k0_matmul: matmul + silu add expand
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read_write> buf3: array<f32>;
@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let m0: i32 = ((i32(wid.y) * 32i) + i32(lid.y));
  let n0: i32 = ((i32(wid.x) * 32i) + i32(lid.x));
  var c_0: f32 = 0.0f;
  var c_1: f32 = 0.0f;
  var c_2: f32 = 0.0f;
  var c_3: f32 = 0.0f;
  var c_4: f32 = 0.0f;
  var c_5: f32 = 0.0f;
  var c_6: f32 = 0.0f;
  var c_7: f32 = 0.0f;
  var c_8: f32 = 0.0f;
  var c_9: f32 = 0.0f;
  var c_10: f32 = 0.0f;
  var c_11: f32 = 0.0f;
  var c_12: f32 = 0.0f;
  var c_13: f32 = 0.0f;
  var c_14: f32 = 0.0f;
  var c_15: f32 = 0.0f;
  var av_0: f32 = 0.0f;
  var av_1: f32 = 0.0f;
  var av_2: f32 = 0.0f;
  var av_3: f32 = 0.0f;
  var bv_0: f32 = 0.0f;
  var bv_1: f32 = 0.0f;
  var bv_2: f32 = 0.0f;
  var bv_3: f32 = 0.0f;
  for (var k: i32 = 0i; k < 24i; k += 1i) {
    let t0: f32 = buf0[((min(m0, (dims[0] - 1i)) * 24i) + k)];
    av_0 = t0;
    let t1: f32 = buf0[((min((m0 + 8i), (dims[0] - 1i)) * 24i) + k)];
    av_1 = t1;
    let t2: f32 = buf0[((min((m0 + 16i), (dims[0] - 1i)) * 24i) + k)];
    av_2 = t2;
    let t3: f32 = buf0[((min((m0 + 24i), (dims[0] - 1i)) * 24i) + k)];
    av_3 = t3;
    let t4: f32 = buf1[((k * 40i) + min(n0, 39i))];
    bv_0 = t4;
    let t5: f32 = buf1[((k * 40i) + min((n0 + 8i), 39i))];
    bv_1 = t5;
    let t6: f32 = buf1[((k * 40i) + min((n0 + 16i), 39i))];
    bv_2 = t6;
    let t7: f32 = buf1[((k * 40i) + min((n0 + 24i), 39i))];
    bv_3 = t7;
    c_0 = fma(av_0, bv_0, c_0);
    c_1 = fma(av_0, bv_1, c_1);
    c_2 = fma(av_0, bv_2, c_2);
    c_3 = fma(av_0, bv_3, c_3);
    c_4 = fma(av_1, bv_0, c_4);
    c_5 = fma(av_1, bv_1, c_5);
    c_6 = fma(av_1, bv_2, c_6);
    c_7 = fma(av_1, bv_3, c_7);
    c_8 = fma(av_2, bv_0, c_8);
    c_9 = fma(av_2, bv_1, c_9);
    c_10 = fma(av_2, bv_2, c_10);
    c_11 = fma(av_2, bv_3, c_11);
    c_12 = fma(av_3, bv_0, c_12);
    c_13 = fma(av_3, bv_1, c_13);
    c_14 = fma(av_3, bv_2, c_14);
    c_15 = fma(av_3, bv_3, c_15);
  }
  if (((m0 < dims[0]) && (n0 < 40i))) {
    let t8: f32 = buf2[n0];
    buf3[((m0 * 40i) + n0)] = ((c_0 + t8) / (1.0f + exp(-((c_0 + t8)))));
  }
  if (((m0 < dims[0]) && ((n0 + 8i) < 40i))) {
    let t9: i32 = (n0 + 8i);
    let t10: f32 = buf2[t9];
    buf3[((m0 * 40i) + t9)] = ((c_1 + t10) / (1.0f + exp(-((c_1 + t10)))));
  }
  if (((m0 < dims[0]) && ((n0 + 16i) < 40i))) {
    let t11: i32 = (n0 + 16i);
    let t12: f32 = buf2[t11];
    buf3[((m0 * 40i) + t11)] = ((c_2 + t12) / (1.0f + exp(-((c_2 + t12)))));
  }
  if (((m0 < dims[0]) && ((n0 + 24i) < 40i))) {
    let t13: i32 = (n0 + 24i);
    let t14: f32 = buf2[t13];
    buf3[((m0 * 40i) + t13)] = ((c_3 + t14) / (1.0f + exp(-((c_3 + t14)))));
  }
  if ((((m0 + 8i) < dims[0]) && (n0 < 40i))) {
    let t15: f32 = buf2[n0];
    buf3[(((m0 + 8i) * 40i) + n0)] = ((c_4 + t15) / (1.0f + exp(-((c_4 + t15)))));
  }
  if ((((m0 + 8i) < dims[0]) && ((n0 + 8i) < 40i))) {
    let t16: i32 = (n0 + 8i);
    let t17: f32 = buf2[t16];
    buf3[(((m0 + 8i) * 40i) + t16)] = ((c_5 + t17) / (1.0f + exp(-((c_5 + t17)))));
  }
  if ((((m0 + 8i) < dims[0]) && ((n0 + 16i) < 40i))) {
    let t18: i32 = (n0 + 16i);
    let t19: f32 = buf2[t18];
    buf3[(((m0 + 8i) * 40i) + t18)] = ((c_6 + t19) / (1.0f + exp(-((c_6 + t19)))));
  }
  if ((((m0 + 8i) < dims[0]) && ((n0 + 24i) < 40i))) {
    let t20: i32 = (n0 + 24i);
    let t21: f32 = buf2[t20];
    buf3[(((m0 + 8i) * 40i) + t20)] = ((c_7 + t21) / (1.0f + exp(-((c_7 + t21)))));
  }
  if ((((m0 + 16i) < dims[0]) && (n0 < 40i))) {
    let t22: f32 = buf2[n0];
    buf3[(((m0 + 16i) * 40i) + n0)] = ((c_8 + t22) / (1.0f + exp(-((c_8 + t22)))));
  }
  if ((((m0 + 16i) < dims[0]) && ((n0 + 8i) < 40i))) {
    let t23: i32 = (n0 + 8i);
    let t24: f32 = buf2[t23];
    buf3[(((m0 + 16i) * 40i) + t23)] = ((c_9 + t24) / (1.0f + exp(-((c_9 + t24)))));
  }
  if ((((m0 + 16i) < dims[0]) && ((n0 + 16i) < 40i))) {
    let t25: i32 = (n0 + 16i);
    let t26: f32 = buf2[t25];
    buf3[(((m0 + 16i) * 40i) + t25)] = ((c_10 + t26) / (1.0f + exp(-((c_10 + t26)))));
  }
  if ((((m0 + 16i) < dims[0]) && ((n0 + 24i) < 40i))) {
    let t27: i32 = (n0 + 24i);
    let t28: f32 = buf2[t27];
    buf3[(((m0 + 16i) * 40i) + t27)] = ((c_11 + t28) / (1.0f + exp(-((c_11 + t28)))));
  }
  if ((((m0 + 24i) < dims[0]) && (n0 < 40i))) {
    let t29: f32 = buf2[n0];
    buf3[(((m0 + 24i) * 40i) + n0)] = ((c_12 + t29) / (1.0f + exp(-((c_12 + t29)))));
  }
  if ((((m0 + 24i) < dims[0]) && ((n0 + 8i) < 40i))) {
    let t30: i32 = (n0 + 8i);
    let t31: f32 = buf2[t30];
    buf3[(((m0 + 24i) * 40i) + t30)] = ((c_13 + t31) / (1.0f + exp(-((c_13 + t31)))));
  }
  if ((((m0 + 24i) < dims[0]) && ((n0 + 16i) < 40i))) {
    let t32: i32 = (n0 + 16i);
    let t33: f32 = buf2[t32];
    buf3[(((m0 + 24i) * 40i) + t32)] = ((c_14 + t33) / (1.0f + exp(-((c_14 + t33)))));
  }
  if ((((m0 + 24i) < dims[0]) && ((n0 + 24i) < 40i))) {
    let t34: i32 = (n0 + 24i);
    let t35: f32 = buf2[t34];
    buf3[(((m0 + 24i) * 40i) + t34)] = ((c_15 + t35) / (1.0f + exp(-((c_15 + t35)))));
  }
}
