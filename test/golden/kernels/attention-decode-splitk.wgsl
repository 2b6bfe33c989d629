// dispatch [1, 8, 1]
// k0_attention: flash attention, mask m, block-sparse
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read> buf3: array<i32>;
@group(0) @binding(5) var<storage, read> buf4: array<i32>;
@group(0) @binding(6) var<storage, read> buf5: array<i32>;
@group(0) @binding(7) var<storage, read_write> buf6: array<f32>;
var<workgroup> pm: array<f32, 32>;
var<workgroup> pl: array<f32, 32>;
var<workgroup> po: array<f32, 512>;
@compute @workgroup_size(32, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let qi: i32 = i32(wid.x);
  let qt: i32 = qi;
  let bh: i32 = i32(wid.y);
  let b0: i32 = (bh / 4i);
  let hk: i32 = ((bh % 4i) / 2i);
  var qr_0: f32 = 0.0f;
  var qr_1: f32 = 0.0f;
  var qr_2: f32 = 0.0f;
  var qr_3: f32 = 0.0f;
  var qr_4: f32 = 0.0f;
  var qr_5: f32 = 0.0f;
  var qr_6: f32 = 0.0f;
  var qr_7: f32 = 0.0f;
  var qr_8: f32 = 0.0f;
  var qr_9: f32 = 0.0f;
  var qr_10: f32 = 0.0f;
  var qr_11: f32 = 0.0f;
  var qr_12: f32 = 0.0f;
  var qr_13: f32 = 0.0f;
  var qr_14: f32 = 0.0f;
  var qr_15: f32 = 0.0f;
  var o_0: f32 = 0.0f;
  var o_1: f32 = 0.0f;
  var o_2: f32 = 0.0f;
  var o_3: f32 = 0.0f;
  var o_4: f32 = 0.0f;
  var o_5: f32 = 0.0f;
  var o_6: f32 = 0.0f;
  var o_7: f32 = 0.0f;
  var o_8: f32 = 0.0f;
  var o_9: f32 = 0.0f;
  var o_10: f32 = 0.0f;
  var o_11: f32 = 0.0f;
  var o_12: f32 = 0.0f;
  var o_13: f32 = 0.0f;
  var o_14: f32 = 0.0f;
  var o_15: f32 = 0.0f;
  let t0: f32 = buf0[((bh + qi) * 16i)];
  qr_0 = (t0 * 0.125f);
  let t1: f32 = buf0[(((bh + qi) * 16i) + 1i)];
  qr_1 = (t1 * 0.125f);
  let t2: f32 = buf0[(((bh + qi) * 16i) + 2i)];
  qr_2 = (t2 * 0.125f);
  let t3: f32 = buf0[(((bh + qi) * 16i) + 3i)];
  qr_3 = (t3 * 0.125f);
  let t4: f32 = buf0[(((bh + qi) * 16i) + 4i)];
  qr_4 = (t4 * 0.125f);
  let t5: f32 = buf0[(((bh + qi) * 16i) + 5i)];
  qr_5 = (t5 * 0.125f);
  let t6: f32 = buf0[(((bh + qi) * 16i) + 6i)];
  qr_6 = (t6 * 0.125f);
  let t7: f32 = buf0[(((bh + qi) * 16i) + 7i)];
  qr_7 = (t7 * 0.125f);
  let t8: f32 = buf0[(((bh + qi) * 16i) + 8i)];
  qr_8 = (t8 * 0.125f);
  let t9: f32 = buf0[(((bh + qi) * 16i) + 9i)];
  qr_9 = (t9 * 0.125f);
  let t10: f32 = buf0[(((bh + qi) * 16i) + 10i)];
  qr_10 = (t10 * 0.125f);
  let t11: f32 = buf0[(((bh + qi) * 16i) + 11i)];
  qr_11 = (t11 * 0.125f);
  let t12: f32 = buf0[(((bh + qi) * 16i) + 12i)];
  qr_12 = (t12 * 0.125f);
  let t13: f32 = buf0[(((bh + qi) * 16i) + 13i)];
  qr_13 = (t13 * 0.125f);
  let t14: f32 = buf0[(((bh + qi) * 16i) + 14i)];
  qr_14 = (t14 * 0.125f);
  let t15: f32 = buf0[(((bh + qi) * 16i) + 15i)];
  qr_15 = (t15 * 0.125f);
  var mx: f32 = (-3.4028234663852886e+38f);
  var l: f32 = 0.0f;
  let nkt: i32 = ((dims[0] + 15i) / 16i);
  let nqt: i32 = 1i;
  let kvbase: i32 = (((b0 * 2i) + hk) * dims[0]);
  for (var t: i32 = i32(lix); t < nkt; t += 32i) {
    let t16: i32 = buf5[((((b0 * nqt) + qt) * nkt) + t)];
    let cls: i32 = t16;
    if ((cls == 0i)) {
      continue;
    }
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      let kv: i32 = ((t * 16i) + j);
      if ((kv >= dims[0])) {
        break;
      }
      let t17: i32 = max(min(b0, 1i), 0i);
      let t18: i32 = buf3[t17];
      let t19: i32 = buf4[(t17 + max(min(qi, 0i), 0i))];
      if (((cls == 2i) && (!((kv < t18) && (kv <= t19))))) {
        continue;
      }
      var dot: f32 = 0.0f;
      let t20: f32 = buf1[((kvbase + kv) * 16i)];
      dot = fma(qr_0, t20, dot);
      let t21: f32 = buf1[(((kvbase + kv) * 16i) + 1i)];
      dot = fma(qr_1, t21, dot);
      let t22: f32 = buf1[(((kvbase + kv) * 16i) + 2i)];
      dot = fma(qr_2, t22, dot);
      let t23: f32 = buf1[(((kvbase + kv) * 16i) + 3i)];
      dot = fma(qr_3, t23, dot);
      let t24: f32 = buf1[(((kvbase + kv) * 16i) + 4i)];
      dot = fma(qr_4, t24, dot);
      let t25: f32 = buf1[(((kvbase + kv) * 16i) + 5i)];
      dot = fma(qr_5, t25, dot);
      let t26: f32 = buf1[(((kvbase + kv) * 16i) + 6i)];
      dot = fma(qr_6, t26, dot);
      let t27: f32 = buf1[(((kvbase + kv) * 16i) + 7i)];
      dot = fma(qr_7, t27, dot);
      let t28: f32 = buf1[(((kvbase + kv) * 16i) + 8i)];
      dot = fma(qr_8, t28, dot);
      let t29: f32 = buf1[(((kvbase + kv) * 16i) + 9i)];
      dot = fma(qr_9, t29, dot);
      let t30: f32 = buf1[(((kvbase + kv) * 16i) + 10i)];
      dot = fma(qr_10, t30, dot);
      let t31: f32 = buf1[(((kvbase + kv) * 16i) + 11i)];
      dot = fma(qr_11, t31, dot);
      let t32: f32 = buf1[(((kvbase + kv) * 16i) + 12i)];
      dot = fma(qr_12, t32, dot);
      let t33: f32 = buf1[(((kvbase + kv) * 16i) + 13i)];
      dot = fma(qr_13, t33, dot);
      let t34: f32 = buf1[(((kvbase + kv) * 16i) + 14i)];
      dot = fma(qr_14, t34, dot);
      let t35: f32 = buf1[(((kvbase + kv) * 16i) + 15i)];
      dot = fma(qr_15, t35, dot);
      let nm: f32 = max(mx, dot);
      let corr: f32 = exp((mx - nm));
      let p: f32 = exp((dot - nm));
      l = ((l * corr) + p);
      let t36: f32 = buf2[((kvbase + kv) * 16i)];
      o_0 = fma(p, t36, (o_0 * corr));
      let t37: f32 = buf2[(((kvbase + kv) * 16i) + 1i)];
      o_1 = fma(p, t37, (o_1 * corr));
      let t38: f32 = buf2[(((kvbase + kv) * 16i) + 2i)];
      o_2 = fma(p, t38, (o_2 * corr));
      let t39: f32 = buf2[(((kvbase + kv) * 16i) + 3i)];
      o_3 = fma(p, t39, (o_3 * corr));
      let t40: f32 = buf2[(((kvbase + kv) * 16i) + 4i)];
      o_4 = fma(p, t40, (o_4 * corr));
      let t41: f32 = buf2[(((kvbase + kv) * 16i) + 5i)];
      o_5 = fma(p, t41, (o_5 * corr));
      let t42: f32 = buf2[(((kvbase + kv) * 16i) + 6i)];
      o_6 = fma(p, t42, (o_6 * corr));
      let t43: f32 = buf2[(((kvbase + kv) * 16i) + 7i)];
      o_7 = fma(p, t43, (o_7 * corr));
      let t44: f32 = buf2[(((kvbase + kv) * 16i) + 8i)];
      o_8 = fma(p, t44, (o_8 * corr));
      let t45: f32 = buf2[(((kvbase + kv) * 16i) + 9i)];
      o_9 = fma(p, t45, (o_9 * corr));
      let t46: f32 = buf2[(((kvbase + kv) * 16i) + 10i)];
      o_10 = fma(p, t46, (o_10 * corr));
      let t47: f32 = buf2[(((kvbase + kv) * 16i) + 11i)];
      o_11 = fma(p, t47, (o_11 * corr));
      let t48: f32 = buf2[(((kvbase + kv) * 16i) + 12i)];
      o_12 = fma(p, t48, (o_12 * corr));
      let t49: f32 = buf2[(((kvbase + kv) * 16i) + 13i)];
      o_13 = fma(p, t49, (o_13 * corr));
      let t50: f32 = buf2[(((kvbase + kv) * 16i) + 14i)];
      o_14 = fma(p, t50, (o_14 * corr));
      let t51: f32 = buf2[(((kvbase + kv) * 16i) + 15i)];
      o_15 = fma(p, t51, (o_15 * corr));
      mx = nm;
    }
  }
  pm[i32(lix)] = mx;
  pl[i32(lix)] = l;
  po[(i32(lix) * 16i)] = o_0;
  po[((i32(lix) * 16i) + 1i)] = o_1;
  po[((i32(lix) * 16i) + 2i)] = o_2;
  po[((i32(lix) * 16i) + 3i)] = o_3;
  po[((i32(lix) * 16i) + 4i)] = o_4;
  po[((i32(lix) * 16i) + 5i)] = o_5;
  po[((i32(lix) * 16i) + 6i)] = o_6;
  po[((i32(lix) * 16i) + 7i)] = o_7;
  po[((i32(lix) * 16i) + 8i)] = o_8;
  po[((i32(lix) * 16i) + 9i)] = o_9;
  po[((i32(lix) * 16i) + 10i)] = o_10;
  po[((i32(lix) * 16i) + 11i)] = o_11;
  po[((i32(lix) * 16i) + 12i)] = o_12;
  po[((i32(lix) * 16i) + 13i)] = o_13;
  po[((i32(lix) * 16i) + 14i)] = o_14;
  po[((i32(lix) * 16i) + 15i)] = o_15;
  workgroupBarrier();
  if ((i32(lix) == 0i)) {
    var gm: f32 = (-3.4028234663852886e+38f);
    for (var u: i32 = 0i; u < 32i; u += 1i) {
      gm = max(gm, pm[u]);
    }
    var gl: f32 = 0.0f;
    for (var u: i32 = 0i; u < 32i; u += 1i) {
      if ((pl[u] > 0.0f)) {
        gl = (gl + (pl[u] * exp((pm[u] - gm))));
      }
    }
    let inv: f32 = select(0.0f, (1.0f / gl), (gl > 0.0f));
    let obase: i32 = ((bh + qi) * 16i);
    for (var d: i32 = 0i; d < 16i; d += 1i) {
      var acc: f32 = 0.0f;
      for (var u: i32 = 0i; u < 32i; u += 1i) {
        if ((pl[u] > 0.0f)) {
          acc = fma(po[((u * 16i) + d)], exp((pm[u] - gm)), acc);
        }
      }
      buf6[(obase + d)] = (acc * inv);
    }
  }
}
