// dispatch [ceil(S / 16), 2 * 4, 1]
// k0_attention: flash attention, mask m
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read> buf3: array<i32>;
@group(0) @binding(5) var<storage, read> buf4: array<i32>;
@group(0) @binding(6) var<storage, read_write> buf5: array<f32>;
var<workgroup> kt: array<f32, 1280>;
var<workgroup> vt: array<f32, 1280>;
@compute @workgroup_size(16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let Hq = 4i;
  let Hkv = 2i;
  let Sq = dims[0];
  let Sk = dims[0];
  let bh = i32(wid.y);
  let b0 = bh / Hq;
  let h = bh % Hq;
  let hk = h / (Hq / Hkv);
  let qt = i32(wid.x);
  let q = qt * 16i + i32(lix);
  let qc = min(q, Sq - 1i);
  let qbase = (bh * Sq + qc) * 160i;
  var qr: array<f32, 160>;
  for (var d = 0i; d < 160i; d++) { qr[d] = buf0[qbase + d] * 0.125f; }
  var o: array<f32, 160>;
  var mx = (-3.4028234663852886e+38f);
  var l = 0.0f;
  let nkt = (Sk + 7i) / 8i;
  let nqt = (Sq + 15i) / 16i;
  let kvbase = (b0 * Hkv + hk) * Sk;
  for (var t = 0i; t < nkt; t++) {
    let cls = 2i;
    for (var e = i32(lix); e < 1280i; e += 16i) {
      let j = e / 160i;
      let d = e % 160i;
      let kv = min(t * 8i + j, Sk - 1i);
      kt[j * 160i + d] = buf1[(kvbase + kv) * 160i + d];
      if (d < 160i) { vt[j * 160i + d] = buf2[(kvbase + kv) * 160i + d]; }
    }
    workgroupBarrier();
    var s: array<f32, 8>;
    var tmax = (-3.4028234663852886e+38f);
    for (var j = 0i; j < 8i; j++) {
      let kv = t * 8i + j;
      var ok = kv < Sk && q < Sq;
      if (ok && cls == 2i) {
        let q = qc;
        let t0: i32 = max(min(b0, 1i), 0i);
        let t1: i32 = buf3[t0];
        let t2: i32 = buf4[((t0 * dims[0]) + max(min(q, (dims[0] - 1i)), 0i))];
        ok = ((kv < t1) && (kv <= t2));
      }
      var dot = 0.0f;
      for (var d = 0i; d < 160i; d++) { dot = fma(qr[d], kt[j * 160i + d], dot); }
      s[j] = select((-3.4028234663852886e+38f), dot, ok);
      if (ok) { tmax = max(tmax, dot); }
    }
    if (tmax > (-3.4028234663852886e+38f)) {
      let nm = max(mx, tmax);
      let corr = exp(mx - nm);
      l = l * corr;
      for (var d = 0i; d < 160i; d++) { o[d] = o[d] * corr; }
      for (var j = 0i; j < 8i; j++) {
        if (s[j] > (-3.4028234663852886e+38f)) {
          let p = exp(s[j] - nm);
          l = l + p;
          for (var d = 0i; d < 160i; d++) { o[d] = fma(p, vt[j * 160i + d], o[d]); }
        }
      }
      mx = nm;
    }
    workgroupBarrier();
  }
  if (q < Sq) {
    let inv = select(0.0f, 1.0f / l, l > 0.0f);
    let obase = (bh * Sq + q) * 160i;
    for (var d = 0i; d < 160i; d++) { buf5[obase + d] = o[d] * inv; }
  }
}
