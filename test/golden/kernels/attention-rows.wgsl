// dispatch [((S + 31) / 32), 8, 1]
// k0_attention: flash attention, mask m, block-sparse
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read> buf3: array<i32>;
@group(0) @binding(5) var<storage, read> buf4: array<i32>;
@group(0) @binding(6) var<storage, read> buf5: array<i32>;
@group(0) @binding(7) var<storage, read_write> buf6: array<f32>;
@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let bh: i32 = i32(wid.y);
  let b0: i32 = (bh / 4i);
  let hk: i32 = ((bh % 4i) / 2i);
  let nkt: i32 = ((dims[0] + 15i) / 16i);
  let nqt: i32 = ((dims[0] + 31i) / 32i);
  let kvbase: i32 = (((b0 * 2i) + hk) * dims[0]);
  let t0: i32 = (i32(wid.x) / 2i);
  let qt: i32 = select(((nqt - 1i) - t0), t0, ((i32(wid.x) % 2i) == 0i));
  var qr: array<f32, 64>;
  var o: array<f32, 64>;
  var s: array<f32, 64>;
  var mx_0: f32 = 0.0f;
  var mx_1: f32 = 0.0f;
  var mx_2: f32 = 0.0f;
  var mx_3: f32 = 0.0f;
  var l_0: f32 = 0.0f;
  var l_1: f32 = 0.0f;
  var l_2: f32 = 0.0f;
  var l_3: f32 = 0.0f;
  var cr_0: f32 = 0.0f;
  var cr_1: f32 = 0.0f;
  var cr_2: f32 = 0.0f;
  var cr_3: f32 = 0.0f;
  var ba_0: f32 = 0.0f;
  var ba_1: f32 = 0.0f;
  var ba_2: f32 = 0.0f;
  var ba_3: f32 = 0.0f;
  var ba_4: f32 = 0.0f;
  var ba_5: f32 = 0.0f;
  var ba_6: f32 = 0.0f;
  var ba_7: f32 = 0.0f;
  var ba_8: f32 = 0.0f;
  var ba_9: f32 = 0.0f;
  var ba_10: f32 = 0.0f;
  var ba_11: f32 = 0.0f;
  var ba_12: f32 = 0.0f;
  var ba_13: f32 = 0.0f;
  var ba_14: f32 = 0.0f;
  var ba_15: f32 = 0.0f;
  var bx_0: f32 = 0.0f;
  var bx_1: f32 = 0.0f;
  var bx_2: f32 = 0.0f;
  var bx_3: f32 = 0.0f;
  var by_0: f32 = 0.0f;
  var by_1: f32 = 0.0f;
  var by_2: f32 = 0.0f;
  var by_3: f32 = 0.0f;
  let qi0: i32 = ((qt * 32i) + i32(lix));
  let qc0: i32 = max(min(qi0, (dims[0] - 1i)), 0i);
  let bh0: i32 = bh;
  for (var d: i32 = 0i; d < 16i; d += 1i) {
    let t1: f32 = buf0[((((bh0 * dims[0]) + qc0) * 16i) + d)];
    qr[d] = (t1 * 0.125f);
  }
  let qi1: i32 = (((qt * 32i) + 8i) + i32(lix));
  let qc1: i32 = max(min(qi1, (dims[0] - 1i)), 0i);
  let bh1: i32 = bh;
  for (var d: i32 = 0i; d < 16i; d += 1i) {
    let t2: f32 = buf0[((((bh1 * dims[0]) + qc1) * 16i) + d)];
    qr[(16i + d)] = (t2 * 0.125f);
  }
  let qi2: i32 = (((qt * 32i) + 16i) + i32(lix));
  let qc2: i32 = max(min(qi2, (dims[0] - 1i)), 0i);
  let bh2: i32 = bh;
  for (var d: i32 = 0i; d < 16i; d += 1i) {
    let t3: f32 = buf0[((((bh2 * dims[0]) + qc2) * 16i) + d)];
    qr[(32i + d)] = (t3 * 0.125f);
  }
  let qi3: i32 = (((qt * 32i) + 24i) + i32(lix));
  let qc3: i32 = max(min(qi3, (dims[0] - 1i)), 0i);
  let bh3: i32 = bh;
  for (var d: i32 = 0i; d < 16i; d += 1i) {
    let t4: f32 = buf0[((((bh3 * dims[0]) + qc3) * 16i) + d)];
    qr[(48i + d)] = (t4 * 0.125f);
  }
  mx_0 = (-3.4028234663852886e+38f);
  mx_1 = (-3.4028234663852886e+38f);
  mx_2 = (-3.4028234663852886e+38f);
  mx_3 = (-3.4028234663852886e+38f);
  var ok: bool = false;
  var nm: f32 = (-3.4028234663852886e+38f);
  var ls: f32 = 0.0f;
  for (var t: i32 = 0i; t < nkt; t += 1i) {
    let t5: i32 = buf5[((((b0 * nqt) + qt) * nkt) + t)];
    let cls: i32 = t5;
    if ((cls == 0i)) {
      continue;
    }
    for (var jc: i32 = 0i; jc < 4i; jc += 1i) {
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
      for (var d: i32 = 0i; d < 16i; d += 1i) {
        bx_0 = qr[d];
        bx_1 = qr[(16i + d)];
        bx_2 = qr[(32i + d)];
        bx_3 = qr[(48i + d)];
        let t6: f32 = buf1[(((kvbase + max(min(((t * 16i) + (jc * 4i)), (dims[0] - 1i)), 0i)) * 16i) + d)];
        by_0 = t6;
        let t7: f32 = buf1[(((kvbase + max(min(((t * 16i) + ((jc * 4i) + 1i)), (dims[0] - 1i)), 0i)) * 16i) + d)];
        by_1 = t7;
        let t8: f32 = buf1[(((kvbase + max(min(((t * 16i) + ((jc * 4i) + 2i)), (dims[0] - 1i)), 0i)) * 16i) + d)];
        by_2 = t8;
        let t9: f32 = buf1[(((kvbase + max(min(((t * 16i) + ((jc * 4i) + 3i)), (dims[0] - 1i)), 0i)) * 16i) + d)];
        by_3 = t9;
        ba_0 = fma(bx_0, by_0, ba_0);
        ba_1 = fma(bx_0, by_1, ba_1);
        ba_2 = fma(bx_0, by_2, ba_2);
        ba_3 = fma(bx_0, by_3, ba_3);
        ba_4 = fma(bx_1, by_0, ba_4);
        ba_5 = fma(bx_1, by_1, ba_5);
        ba_6 = fma(bx_1, by_2, ba_6);
        ba_7 = fma(bx_1, by_3, ba_7);
        ba_8 = fma(bx_2, by_0, ba_8);
        ba_9 = fma(bx_2, by_1, ba_9);
        ba_10 = fma(bx_2, by_2, ba_10);
        ba_11 = fma(bx_2, by_3, ba_11);
        ba_12 = fma(bx_3, by_0, ba_12);
        ba_13 = fma(bx_3, by_1, ba_13);
        ba_14 = fma(bx_3, by_2, ba_14);
        ba_15 = fma(bx_3, by_3, ba_15);
      }
      s[(jc * 4i)] = ba_0;
      s[((jc * 4i) + 1i)] = ba_1;
      s[((jc * 4i) + 2i)] = ba_2;
      s[((jc * 4i) + 3i)] = ba_3;
      s[(16i + (jc * 4i))] = ba_4;
      s[(16i + ((jc * 4i) + 1i))] = ba_5;
      s[(16i + ((jc * 4i) + 2i))] = ba_6;
      s[(16i + ((jc * 4i) + 3i))] = ba_7;
      s[(32i + (jc * 4i))] = ba_8;
      s[(32i + ((jc * 4i) + 1i))] = ba_9;
      s[(32i + ((jc * 4i) + 2i))] = ba_10;
      s[(32i + ((jc * 4i) + 3i))] = ba_11;
      s[(48i + (jc * 4i))] = ba_12;
      s[(48i + ((jc * 4i) + 1i))] = ba_13;
      s[(48i + ((jc * 4i) + 2i))] = ba_14;
      s[(48i + ((jc * 4i) + 3i))] = ba_15;
    }
    if (((((t + 1i) * 16i) > dims[0]) || (((qt + 1i) * 32i) > dims[0]))) {
      for (var r: i32 = 0i; r < 4i; r += 1i) {
        for (var j: i32 = 0i; j < 16i; j += 1i) {
          ok = ((((t * 16i) + j) < dims[0]) && ((((qt * 32i) + (r * 8i)) + i32(lix)) < dims[0]));
          if ((!ok)) {
            s[((r * 16i) + j)] = (-3.4028234663852886e+38f);
          }
        }
      }
    }
    if ((cls == 2i)) {
      for (var r: i32 = 0i; r < 4i; r += 1i) {
        for (var j: i32 = 0i; j < 16i; j += 1i) {
          ok = ((((t * 16i) + j) < dims[0]) && ((((qt * 32i) + (r * 8i)) + i32(lix)) < dims[0]));
          if (ok) {
            let t10: i32 = ((t * 16i) + j);
            let t11: i32 = max(min(b0, 1i), 0i);
            let t12: i32 = buf3[t11];
            let t13: i32 = (dims[0] - 1i);
            let t14: i32 = buf4[((t11 * dims[0]) + max(min(max(min((((qt * 32i) + (r * 8i)) + i32(lix)), t13), 0i), t13), 0i))];
            ok = ((t10 < t12) && (t10 <= t14));
          }
          if ((!ok)) {
            s[((r * 16i) + j)] = (-3.4028234663852886e+38f);
          }
        }
      }
    }
    nm = mx_0;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      nm = max(nm, s[j]);
    }
    cr_0 = exp((mx_0 - nm));
    ls = 0.0f;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      let t15: f32 = s[j];
      let p: f32 = select(0.0f, exp((t15 - nm)), (t15 > (-3.4028234663852886e+38f)));
      s[j] = p;
      ls = (ls + p);
    }
    l_0 = ((l_0 * cr_0) + ls);
    mx_0 = nm;
    nm = mx_1;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      nm = max(nm, s[(16i + j)]);
    }
    cr_1 = exp((mx_1 - nm));
    ls = 0.0f;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      let t16: f32 = s[(16i + j)];
      let p: f32 = select(0.0f, exp((t16 - nm)), (t16 > (-3.4028234663852886e+38f)));
      s[(16i + j)] = p;
      ls = (ls + p);
    }
    l_1 = ((l_1 * cr_1) + ls);
    mx_1 = nm;
    nm = mx_2;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      nm = max(nm, s[(32i + j)]);
    }
    cr_2 = exp((mx_2 - nm));
    ls = 0.0f;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      let t17: f32 = s[(32i + j)];
      let p: f32 = select(0.0f, exp((t17 - nm)), (t17 > (-3.4028234663852886e+38f)));
      s[(32i + j)] = p;
      ls = (ls + p);
    }
    l_2 = ((l_2 * cr_2) + ls);
    mx_2 = nm;
    nm = mx_3;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      nm = max(nm, s[(48i + j)]);
    }
    cr_3 = exp((mx_3 - nm));
    ls = 0.0f;
    for (var j: i32 = 0i; j < 16i; j += 1i) {
      let t18: f32 = s[(48i + j)];
      let p: f32 = select(0.0f, exp((t18 - nm)), (t18 > (-3.4028234663852886e+38f)));
      s[(48i + j)] = p;
      ls = (ls + p);
    }
    l_3 = ((l_3 * cr_3) + ls);
    mx_3 = nm;
    for (var cc: i32 = 0i; cc < 4i; cc += 1i) {
      ba_0 = (o[(cc * 4i)] * cr_0);
      ba_1 = (o[(1i + (cc * 4i))] * cr_0);
      ba_2 = (o[(2i + (cc * 4i))] * cr_0);
      ba_3 = (o[(3i + (cc * 4i))] * cr_0);
      ba_4 = (o[(16i + (cc * 4i))] * cr_1);
      ba_5 = (o[(17i + (cc * 4i))] * cr_1);
      ba_6 = (o[(18i + (cc * 4i))] * cr_1);
      ba_7 = (o[(19i + (cc * 4i))] * cr_1);
      ba_8 = (o[(32i + (cc * 4i))] * cr_2);
      ba_9 = (o[(33i + (cc * 4i))] * cr_2);
      ba_10 = (o[(34i + (cc * 4i))] * cr_2);
      ba_11 = (o[(35i + (cc * 4i))] * cr_2);
      ba_12 = (o[(48i + (cc * 4i))] * cr_3);
      ba_13 = (o[(49i + (cc * 4i))] * cr_3);
      ba_14 = (o[(50i + (cc * 4i))] * cr_3);
      ba_15 = (o[(51i + (cc * 4i))] * cr_3);
      for (var j: i32 = 0i; j < 16i; j += 1i) {
        bx_0 = s[j];
        bx_1 = s[(16i + j)];
        bx_2 = s[(32i + j)];
        bx_3 = s[(48i + j)];
        let t19: f32 = buf2[(((kvbase + max(min(((t * 16i) + j), (dims[0] - 1i)), 0i)) * 16i) + (cc * 4i))];
        by_0 = t19;
        let t20: f32 = buf2[(((kvbase + max(min(((t * 16i) + j), (dims[0] - 1i)), 0i)) * 16i) + ((cc * 4i) + 1i))];
        by_1 = t20;
        let t21: f32 = buf2[(((kvbase + max(min(((t * 16i) + j), (dims[0] - 1i)), 0i)) * 16i) + ((cc * 4i) + 2i))];
        by_2 = t21;
        let t22: f32 = buf2[(((kvbase + max(min(((t * 16i) + j), (dims[0] - 1i)), 0i)) * 16i) + ((cc * 4i) + 3i))];
        by_3 = t22;
        ba_0 = fma(bx_0, by_0, ba_0);
        ba_1 = fma(bx_0, by_1, ba_1);
        ba_2 = fma(bx_0, by_2, ba_2);
        ba_3 = fma(bx_0, by_3, ba_3);
        ba_4 = fma(bx_1, by_0, ba_4);
        ba_5 = fma(bx_1, by_1, ba_5);
        ba_6 = fma(bx_1, by_2, ba_6);
        ba_7 = fma(bx_1, by_3, ba_7);
        ba_8 = fma(bx_2, by_0, ba_8);
        ba_9 = fma(bx_2, by_1, ba_9);
        ba_10 = fma(bx_2, by_2, ba_10);
        ba_11 = fma(bx_2, by_3, ba_11);
        ba_12 = fma(bx_3, by_0, ba_12);
        ba_13 = fma(bx_3, by_1, ba_13);
        ba_14 = fma(bx_3, by_2, ba_14);
        ba_15 = fma(bx_3, by_3, ba_15);
      }
      o[(cc * 4i)] = ba_0;
      o[(1i + (cc * 4i))] = ba_1;
      o[(2i + (cc * 4i))] = ba_2;
      o[(3i + (cc * 4i))] = ba_3;
      o[(16i + (cc * 4i))] = ba_4;
      o[(17i + (cc * 4i))] = ba_5;
      o[(18i + (cc * 4i))] = ba_6;
      o[(19i + (cc * 4i))] = ba_7;
      o[(32i + (cc * 4i))] = ba_8;
      o[(33i + (cc * 4i))] = ba_9;
      o[(34i + (cc * 4i))] = ba_10;
      o[(35i + (cc * 4i))] = ba_11;
      o[(48i + (cc * 4i))] = ba_12;
      o[(49i + (cc * 4i))] = ba_13;
      o[(50i + (cc * 4i))] = ba_14;
      o[(51i + (cc * 4i))] = ba_15;
    }
  }
  if ((qi0 < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l_0), (l_0 > 0.0f));
    let obase: i32 = (((bh0 * dims[0]) + qi0) * 16i);
    for (var d: i32 = 0i; d < 16i; d += 1i) {
      buf6[(obase + d)] = (o[d] * inv);
    }
  }
  if ((qi1 < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l_1), (l_1 > 0.0f));
    let obase: i32 = (((bh1 * dims[0]) + qi1) * 16i);
    for (var d: i32 = 0i; d < 16i; d += 1i) {
      buf6[(obase + d)] = (o[(16i + d)] * inv);
    }
  }
  if ((qi2 < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l_2), (l_2 > 0.0f));
    let obase: i32 = (((bh2 * dims[0]) + qi2) * 16i);
    for (var d: i32 = 0i; d < 16i; d += 1i) {
      buf6[(obase + d)] = (o[(32i + d)] * inv);
    }
  }
  if ((qi3 < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l_3), (l_3 > 0.0f));
    let obase: i32 = (((bh3 * dims[0]) + qi3) * 16i);
    for (var d: i32 = 0i; d < 16i; d += 1i) {
      buf6[(obase + d)] = (o[(48i + d)] * inv);
    }
  }
}
