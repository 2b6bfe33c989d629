// dispatch [((S + 15) / 16), 8, 1]
// k0_attention: flash attention, mask m, block-sparse
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read> buf3: array<i32>;
@group(0) @binding(5) var<storage, read> buf4: array<i32>;
@group(0) @binding(6) var<storage, read> buf5: array<i32>;
@group(0) @binding(7) var<storage, read_write> buf6: array<f32>;
var<workgroup> kt: array<f32, 256>;
var<workgroup> vt: array<f32, 256>;
@compute @workgroup_size(16, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let qt: i32 = i32(wid.x);
  let qi: i32 = ((qt * 16i) + i32(lix));
  let qc: i32 = max(min(qi, (dims[0] - 1i)), 0i);
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
  let t0: f32 = buf0[(((bh * dims[0]) + qc) * 16i)];
  qr_0 = (t0 * 0.125f);
  let t1: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 1i)];
  qr_1 = (t1 * 0.125f);
  let t2: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 2i)];
  qr_2 = (t2 * 0.125f);
  let t3: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 3i)];
  qr_3 = (t3 * 0.125f);
  let t4: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 4i)];
  qr_4 = (t4 * 0.125f);
  let t5: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 5i)];
  qr_5 = (t5 * 0.125f);
  let t6: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 6i)];
  qr_6 = (t6 * 0.125f);
  let t7: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 7i)];
  qr_7 = (t7 * 0.125f);
  let t8: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 8i)];
  qr_8 = (t8 * 0.125f);
  let t9: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 9i)];
  qr_9 = (t9 * 0.125f);
  let t10: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 10i)];
  qr_10 = (t10 * 0.125f);
  let t11: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 11i)];
  qr_11 = (t11 * 0.125f);
  let t12: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 12i)];
  qr_12 = (t12 * 0.125f);
  let t13: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 13i)];
  qr_13 = (t13 * 0.125f);
  let t14: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 14i)];
  qr_14 = (t14 * 0.125f);
  let t15: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + 15i)];
  qr_15 = (t15 * 0.125f);
  var mx: f32 = (-3.4028234663852886e+38f);
  var l: f32 = 0.0f;
  let nkt: i32 = ((dims[0] + 15i) / 16i);
  let nqt: i32 = ((dims[0] + 15i) / 16i);
  let kvbase: i32 = (((b0 * 2i) + hk) * dims[0]);
  for (var t: i32 = 0i; t < nkt; t += 1i) {
    let t16: i32 = buf5[((((b0 * nqt) + qt) * nkt) + t)];
    let cls: i32 = t16;
    if ((cls == 0i)) {
      continue;
    }
    for (var e: i32 = i32(lix); e < 256i; e += 16i) {
      let jj: i32 = (e / 16i);
      let dd: i32 = (e % 16i);
      let kvl: i32 = max(min(((t * 16i) + jj), (dims[0] - 1i)), 0i);
      let t17: f32 = buf1[(((kvbase + kvl) * 16i) + dd)];
      kt[((jj * 16i) + dd)] = t17;
      let t18: f32 = buf2[(((kvbase + kvl) * 16i) + dd)];
      vt[((jj * 16i) + dd)] = t18;
    }
    workgroupBarrier();
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      let kv: i32 = ((t * 16i) + j);
      var ok: bool = ((kv < dims[0]) && (qi < dims[0]));
      if (((cls == 2i) && ok)) {
        let t19: i32 = max(min(b0, 1i), 0i);
        let t20: i32 = buf3[t19];
        let t21: i32 = buf4[((t19 * dims[0]) + max(min(qc, (dims[0] - 1i)), 0i))];
        ok = ((kv < t20) && (kv <= t21));
      }
      if (ok) {
        var dot: f32 = 0.0f;
        dot = fma(qr_0, kt[(j * 16i)], dot);
        dot = fma(qr_1, kt[((j * 16i) + 1i)], dot);
        dot = fma(qr_2, kt[((j * 16i) + 2i)], dot);
        dot = fma(qr_3, kt[((j * 16i) + 3i)], dot);
        dot = fma(qr_4, kt[((j * 16i) + 4i)], dot);
        dot = fma(qr_5, kt[((j * 16i) + 5i)], dot);
        dot = fma(qr_6, kt[((j * 16i) + 6i)], dot);
        dot = fma(qr_7, kt[((j * 16i) + 7i)], dot);
        dot = fma(qr_8, kt[((j * 16i) + 8i)], dot);
        dot = fma(qr_9, kt[((j * 16i) + 9i)], dot);
        dot = fma(qr_10, kt[((j * 16i) + 10i)], dot);
        dot = fma(qr_11, kt[((j * 16i) + 11i)], dot);
        dot = fma(qr_12, kt[((j * 16i) + 12i)], dot);
        dot = fma(qr_13, kt[((j * 16i) + 13i)], dot);
        dot = fma(qr_14, kt[((j * 16i) + 14i)], dot);
        dot = fma(qr_15, kt[((j * 16i) + 15i)], dot);
        if ((dot > mx)) {
          let corr: f32 = exp((mx - dot));
          l = (l * corr);
          o_0 = (o_0 * corr);
          o_1 = (o_1 * corr);
          o_2 = (o_2 * corr);
          o_3 = (o_3 * corr);
          o_4 = (o_4 * corr);
          o_5 = (o_5 * corr);
          o_6 = (o_6 * corr);
          o_7 = (o_7 * corr);
          o_8 = (o_8 * corr);
          o_9 = (o_9 * corr);
          o_10 = (o_10 * corr);
          o_11 = (o_11 * corr);
          o_12 = (o_12 * corr);
          o_13 = (o_13 * corr);
          o_14 = (o_14 * corr);
          o_15 = (o_15 * corr);
          mx = dot;
        }
        let p: f32 = exp((dot - mx));
        l = (l + p);
        o_0 = fma(p, vt[(j * 16i)], o_0);
        o_1 = fma(p, vt[((j * 16i) + 1i)], o_1);
        o_2 = fma(p, vt[((j * 16i) + 2i)], o_2);
        o_3 = fma(p, vt[((j * 16i) + 3i)], o_3);
        o_4 = fma(p, vt[((j * 16i) + 4i)], o_4);
        o_5 = fma(p, vt[((j * 16i) + 5i)], o_5);
        o_6 = fma(p, vt[((j * 16i) + 6i)], o_6);
        o_7 = fma(p, vt[((j * 16i) + 7i)], o_7);
        o_8 = fma(p, vt[((j * 16i) + 8i)], o_8);
        o_9 = fma(p, vt[((j * 16i) + 9i)], o_9);
        o_10 = fma(p, vt[((j * 16i) + 10i)], o_10);
        o_11 = fma(p, vt[((j * 16i) + 11i)], o_11);
        o_12 = fma(p, vt[((j * 16i) + 12i)], o_12);
        o_13 = fma(p, vt[((j * 16i) + 13i)], o_13);
        o_14 = fma(p, vt[((j * 16i) + 14i)], o_14);
        o_15 = fma(p, vt[((j * 16i) + 15i)], o_15);
      }
    }
    workgroupBarrier();
  }
  if ((qi < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l), (l > 0.0f));
    let obase: i32 = (((bh * dims[0]) + qi) * 16i);
    buf6[obase] = (o_0 * inv);
    buf6[(obase + 1i)] = (o_1 * inv);
    buf6[(obase + 2i)] = (o_2 * inv);
    buf6[(obase + 3i)] = (o_3 * inv);
    buf6[(obase + 4i)] = (o_4 * inv);
    buf6[(obase + 5i)] = (o_5 * inv);
    buf6[(obase + 6i)] = (o_6 * inv);
    buf6[(obase + 7i)] = (o_7 * inv);
    buf6[(obase + 8i)] = (o_8 * inv);
    buf6[(obase + 9i)] = (o_9 * inv);
    buf6[(obase + 10i)] = (o_10 * inv);
    buf6[(obase + 11i)] = (o_11 * inv);
    buf6[(obase + 12i)] = (o_12 * inv);
    buf6[(obase + 13i)] = (o_13 * inv);
    buf6[(obase + 14i)] = (o_14 * inv);
    buf6[(obase + 15i)] = (o_15 * inv);
  }
}
