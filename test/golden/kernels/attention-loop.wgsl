// dispatch [ceil(S / 8), 2 * 4, 1]
// k0_attention: flash attention, mask m, block-sparse
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read> buf2: array<f32>;
@group(0) @binding(4) var<storage, read> buf3: array<i32>;
@group(0) @binding(5) var<storage, read> buf4: array<i32>;
@group(0) @binding(6) var<storage, read> buf5: array<i32>;
@group(0) @binding(7) var<storage, read_write> buf6: array<f32>;
var<workgroup> kt: array<f32, 1024>;
var<workgroup> vt: array<f32, 1024>;
@compute @workgroup_size(8)
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
  let q = qt * 8i + i32(lix);
  let qc = min(q, Sq - 1i);
  let qbase = (bh * Sq + qc) * 16i;
  var qr: array<f32, 16>;
  for (var d = 0i; d < 16i; d++) { qr[d] = buf0[qbase + d] * 0.125f; }
  var o: array<f32, 16>;
  var mx = (-3.4028234663852886e+38f);
  var l = 0.0f;
  let nkt = (Sk + 63i) / 64i;
  let nqt = (Sq + 7i) / 8i;
  let kvbase = (b0 * Hkv + hk) * Sk;
  for (var t = 0i; t < nkt; t++) {
    let cls = buf5[(b0 * nqt + qt) * nkt + t];
    if (cls == 0i) { continue; }
    for (var e = i32(lix); e < 1024i; e += 8i) {
      let j = e / 16i;
      let d = e % 16i;
      let kv = min(t * 64i + j, Sk - 1i);
      kt[j * 16i + d] = buf1[(kvbase + kv) * 16i + d];
      if (d < 16i) { vt[j * 16i + d] = buf2[(kvbase + kv) * 16i + d]; }
    }
    workgroupBarrier();
    var s: array<f32, 64>;
    var tmax = (-3.4028234663852886e+38f);
    for (var j = 0i; j < 64i; j++) {
      let kv = t * 64i + j;
      var ok = kv < Sk && q < Sq;
      if (ok && cls == 2i) {
        let q = qc;
        let t0: i32 = max(min(b0, 1i), 0i);
        let t1: i32 = buf3[t0];
        let t2: i32 = buf4[((t0 * dims[0]) + max(min(q, (dims[0] - 1i)), 0i))];
        ok = ((kv < t1) && (kv <= t2));
      }
      var dot = 0.0f;
      for (var d = 0i; d < 16i; d++) { dot = fma(qr[d], kt[j * 16i + d], dot); }
      s[j] = select((-3.4028234663852886e+38f), dot, ok);
      if (ok) { tmax = max(tmax, dot); }
    }
    if (tmax > (-3.4028234663852886e+38f)) {
      let nm = max(mx, tmax);
      let corr = exp(mx - nm);
      l = l * corr;
      for (var d = 0i; d < 16i; d++) { o[d] = o[d] * corr; }
      for (var j = 0i; j < 64i; j++) {
        if (s[j] > (-3.4028234663852886e+38f)) {
          let p = exp(s[j] - nm);
          l = l + p;
          for (var d = 0i; d < 16i; d++) { o[d] = fma(p, vt[j * 16i + d], o[d]); }
        }
      }
      mx = nm;
    }
    workgroupBarrier();
  }
  if (q < Sq) {
    let inv = select(0.0f, 1.0f / l, l > 0.0f);
    let obase = (bh * Sq + q) * 16i;
    for (var d = 0i; d < 16i; d++) { buf6[obase + d] = o[d] * inv; }
  }
}
