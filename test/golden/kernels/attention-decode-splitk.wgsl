// dispatch [1, 2 * 4, 1]
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
@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let Hq = 4i;
  let Hkv = 2i;
  let Sq = 1i;
  let Sk = dims[0];
  let bh = i32(wid.y);
  let b0 = bh / Hq;
  let h = bh % Hq;
  let hk = h / (Hq / Hkv);
  let q = i32(wid.x);
  let qt = q / 1i;
  let qbase = (bh * Sq + q) * 16i;
  var qr: array<f32, 16>;
  for (var d = 0i; d < 16i; d++) { qr[d] = buf0[qbase + d] * 0.125f; }
  var o: array<f32, 16>;
  var mx = (-3.4028234663852886e+38f);
  var l = 0.0f;
  let nkt = (Sk + 15i) / 16i;
  let nqt = (Sq + 0i) / 1i;
  let kvbase = (b0 * Hkv + hk) * Sk;
  for (var t = i32(lix); t < nkt; t += 32i) {
    let cls = buf5[(b0 * nqt + qt) * nkt + t];
    if (cls == 0i) { continue; }
    for (var j = 0i; j < 16i; j++) {
      let kv = t * 16i + j;
      if (kv >= Sk) { break; }
      if (cls == 2i) {
        let t0: i32 = max(min(b0, 1i), 0i);
        let t1: i32 = buf3[t0];
        let t2: i32 = buf4[(t0 + max(min(q, 0i), 0i))];
        let ok = ((kv < t1) && (kv <= t2));
        if (!ok) { continue; }
      }
      var dot = 0.0f;
      for (var d = 0i; d < 16i; d++) { dot = fma(qr[d], buf1[(kvbase + kv) * 16i + d], dot); }
      let nm = max(mx, dot);
      let corr = exp(mx - nm);
      let p = exp(dot - nm);
      l = l * corr + p;
      for (var d = 0i; d < 16i; d++) { o[d] = fma(p, buf2[(kvbase + kv) * 16i + d], o[d] * corr); }
      mx = nm;
    }
  }
  pm[lix] = mx;
  pl[lix] = l;
  for (var d = 0i; d < 16i; d++) { po[i32(lix) * 16i + d] = o[d]; }
  workgroupBarrier();
  if (lix == 0u) {
    var gm = (-3.4028234663852886e+38f);
    for (var t = 0i; t < 32i; t++) { gm = max(gm, pm[t]); }
    var gl = 0.0f;
    for (var t = 0i; t < 32i; t++) { if (pl[t] > 0.0f) { gl = gl + pl[t] * exp(pm[t] - gm); } }
    let inv = select(0.0f, 1.0f / gl, gl > 0.0f);
    let obase = (bh * Sq + q) * 16i;
    for (var d = 0i; d < 16i; d++) {
      var acc = 0.0f;
      for (var t = 0i; t < 32i; t++) { if (pl[t] > 0.0f) { acc = fma(po[t * 16i + d], exp(pm[t] - gm), acc); } }
      buf6[obase + d] = acc * inv;
    }
  }
}
