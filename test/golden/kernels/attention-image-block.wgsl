// dispatch [ceil(12 / 8), 2 * 4, 1]
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
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let Hq = 4i;
  let Hkv = 2i;
  let Sq = 12i;
  let Sk = dims[0];
  let bh = i32(wid.y);
  let b0 = bh / Hq;
  let h = bh % Hq;
  let hk = h / (Hq / Hkv);
  let qt = i32(wid.x);
  let q = qt * 8i + i32(lix);
  let qc = min(q, Sq - 1i);
  let qbase = (bh * Sq + qc) * 16i;
  let q0 = buf0[qbase + 0i] * 0.125f;
  let q1 = buf0[qbase + 1i] * 0.125f;
  let q2 = buf0[qbase + 2i] * 0.125f;
  let q3 = buf0[qbase + 3i] * 0.125f;
  let q4 = buf0[qbase + 4i] * 0.125f;
  let q5 = buf0[qbase + 5i] * 0.125f;
  let q6 = buf0[qbase + 6i] * 0.125f;
  let q7 = buf0[qbase + 7i] * 0.125f;
  let q8 = buf0[qbase + 8i] * 0.125f;
  let q9 = buf0[qbase + 9i] * 0.125f;
  let q10 = buf0[qbase + 10i] * 0.125f;
  let q11 = buf0[qbase + 11i] * 0.125f;
  let q12 = buf0[qbase + 12i] * 0.125f;
  let q13 = buf0[qbase + 13i] * 0.125f;
  let q14 = buf0[qbase + 14i] * 0.125f;
  let q15 = buf0[qbase + 15i] * 0.125f;
  var o0 = 0.0f;
  var o1 = 0.0f;
  var o2 = 0.0f;
  var o3 = 0.0f;
  var o4 = 0.0f;
  var o5 = 0.0f;
  var o6 = 0.0f;
  var o7 = 0.0f;
  var o8 = 0.0f;
  var o9 = 0.0f;
  var o10 = 0.0f;
  var o11 = 0.0f;
  var o12 = 0.0f;
  var o13 = 0.0f;
  var o14 = 0.0f;
  var o15 = 0.0f;
  var mx = (-3.4028234663852886e+38f);
  var l = 0.0f;
  let nkt = (Sk + 15i) / 16i;
  let nqt = (Sq + 7i) / 8i;
  let kvbase = (b0 * Hkv + hk) * Sk;
  for (var t = 0i; t < nkt; t++) {
    let cls = buf5[(b0 * nqt + qt) * nkt + t];
    if (cls == 0i) { continue; }
    for (var e = i32(lix); e < 256i; e += 8i) {
      let j = e / 16i;
      let d = e % 16i;
      let kv = min(t * 16i + j, Sk - 1i);
      if (d < 16i) { kt[j * 16i + d] = buf1[(kvbase + kv) * 16i + d]; }
      if (d < 16i) { vt[j * 16i + d] = buf2[(kvbase + kv) * 16i + d]; }
    }
    workgroupBarrier();
    for (var j = 0i; j < 16i; j++) {
      let kv = t * 16i + j;
      var ok = kv < Sk && q < Sq;
      if (ok && cls == 2i) {
        let q = qc;
        let t0: i32 = max(min(b0, 1i), 0i);
        let t1: i32 = buf3[t0];
        let t2: i32 = buf4[((t0 * 12i) + max(min(q, 11i), 0i))];
        ok = ((kv < t1) && (kv <= t2));
      }
      if (ok) {
        let kb = j * 16i;
        var dot = 0.0f;
        dot = fma(q0, kt[kb + 0i], dot);
        dot = fma(q1, kt[kb + 1i], dot);
        dot = fma(q2, kt[kb + 2i], dot);
        dot = fma(q3, kt[kb + 3i], dot);
        dot = fma(q4, kt[kb + 4i], dot);
        dot = fma(q5, kt[kb + 5i], dot);
        dot = fma(q6, kt[kb + 6i], dot);
        dot = fma(q7, kt[kb + 7i], dot);
        dot = fma(q8, kt[kb + 8i], dot);
        dot = fma(q9, kt[kb + 9i], dot);
        dot = fma(q10, kt[kb + 10i], dot);
        dot = fma(q11, kt[kb + 11i], dot);
        dot = fma(q12, kt[kb + 12i], dot);
        dot = fma(q13, kt[kb + 13i], dot);
        dot = fma(q14, kt[kb + 14i], dot);
        dot = fma(q15, kt[kb + 15i], dot);
        if (dot > mx) {
          let corr = exp(mx - dot);
          l = l * corr;
          o0 = o0 * corr;
          o1 = o1 * corr;
          o2 = o2 * corr;
          o3 = o3 * corr;
          o4 = o4 * corr;
          o5 = o5 * corr;
          o6 = o6 * corr;
          o7 = o7 * corr;
          o8 = o8 * corr;
          o9 = o9 * corr;
          o10 = o10 * corr;
          o11 = o11 * corr;
          o12 = o12 * corr;
          o13 = o13 * corr;
          o14 = o14 * corr;
          o15 = o15 * corr;
          mx = dot;
        }
        let p = exp(dot - mx);
        l = l + p;
        let vb = j * 16i;
        o0 = fma(p, vt[vb + 0i], o0);
        o1 = fma(p, vt[vb + 1i], o1);
        o2 = fma(p, vt[vb + 2i], o2);
        o3 = fma(p, vt[vb + 3i], o3);
        o4 = fma(p, vt[vb + 4i], o4);
        o5 = fma(p, vt[vb + 5i], o5);
        o6 = fma(p, vt[vb + 6i], o6);
        o7 = fma(p, vt[vb + 7i], o7);
        o8 = fma(p, vt[vb + 8i], o8);
        o9 = fma(p, vt[vb + 9i], o9);
        o10 = fma(p, vt[vb + 10i], o10);
        o11 = fma(p, vt[vb + 11i], o11);
        o12 = fma(p, vt[vb + 12i], o12);
        o13 = fma(p, vt[vb + 13i], o13);
        o14 = fma(p, vt[vb + 14i], o14);
        o15 = fma(p, vt[vb + 15i], o15);
      }
    }
    workgroupBarrier();
  }
  if (q < Sq) {
    let inv = select(0.0f, 1.0f / l, l > 0.0f);
    let obase = (bh * Sq + q) * 16i;
    buf6[obase + 0i] = o0 * inv;
    buf6[obase + 1i] = o1 * inv;
    buf6[obase + 2i] = o2 * inv;
    buf6[obase + 3i] = o3 * inv;
    buf6[obase + 4i] = o4 * inv;
    buf6[obase + 5i] = o5 * inv;
    buf6[obase + 6i] = o6 * inv;
    buf6[obase + 7i] = o7 * inv;
    buf6[obase + 8i] = o8 * inv;
    buf6[obase + 9i] = o9 * inv;
    buf6[obase + 10i] = o10 * inv;
    buf6[obase + 11i] = o11 * inv;
    buf6[obase + 12i] = o12 * inv;
    buf6[obase + 13i] = o13 * inv;
    buf6[obase + 14i] = o14 * inv;
    buf6[obase + 15i] = o15 * inv;
  }
}
