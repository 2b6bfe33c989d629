// dispatch [((S + 15) / 16), 8, 1]
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
@compute @workgroup_size(16, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let qt: i32 = i32(wid.x);
  let qi: i32 = ((qt * 16i) + i32(lix));
  let qc: i32 = max(min(qi, (dims[0] - 1i)), 0i);
  let bh: i32 = i32(wid.y);
  let b0: i32 = (bh / 4i);
  let hk: i32 = ((bh % 4i) / 2i);
  var qr: array<f32, 160>;
  var o: array<f32, 160>;
  for (var d: i32 = 0i; d < 160i; d += 1i) {
    let t0: f32 = buf0[((((bh * dims[0]) + qc) * 160i) + d)];
    qr[d] = (t0 * 0.125f);
  }
  var mx: f32 = (-3.4028234663852886e+38f);
  var l: f32 = 0.0f;
  let nkt: i32 = ((dims[0] + 7i) / 8i);
  let kvbase: i32 = (((b0 * 2i) + hk) * dims[0]);
  for (var t: i32 = 0i; t < nkt; t += 1i) {
    for (var e: i32 = i32(lix); e < 1280i; e += 16i) {
      let jj: i32 = (e / 160i);
      let dd: i32 = (e % 160i);
      let kvl: i32 = max(min(((t * 8i) + jj), (dims[0] - 1i)), 0i);
      let t1: f32 = buf1[(((kvbase + kvl) * 160i) + dd)];
      kt[((jj * 160i) + dd)] = t1;
      let t2: f32 = buf2[(((kvbase + kvl) * 160i) + dd)];
      vt[((jj * 160i) + dd)] = t2;
    }
    workgroupBarrier();
    var s: array<f32, 8>;
    var tmax: f32 = (-3.4028234663852886e+38f);
    for (var j: i32 = 0i; j < 8i; j += 1i) {
      let kv: i32 = ((t * 8i) + j);
      var ok: bool = ((kv < dims[0]) && (qi < dims[0]));
      if (ok) {
        let t3: i32 = max(min(b0, 1i), 0i);
        let t4: i32 = buf3[t3];
        let t5: i32 = buf4[((t3 * dims[0]) + max(min(qc, (dims[0] - 1i)), 0i))];
        ok = ((kv < t4) && (kv <= t5));
      }
      var dot: f32 = 0.0f;
      for (var d: i32 = 0i; d < 160i; d += 1i) {
        dot = fma(qr[d], kt[((j * 160i) + d)], dot);
      }
      s[j] = select((-3.4028234663852886e+38f), dot, ok);
      if (ok) {
        tmax = max(tmax, dot);
      }
    }
    if ((tmax > (-3.4028234663852886e+38f))) {
      let nm: f32 = max(mx, tmax);
      let corr: f32 = exp((mx - nm));
      l = (l * corr);
      for (var d: i32 = 0i; d < 160i; d += 1i) {
        o[d] = (o[d] * corr);
      }
      for (var j: i32 = 0i; j < 8i; j += 1i) {
        if ((s[j] > (-3.4028234663852886e+38f))) {
          let p: f32 = exp((s[j] - nm));
          l = (l + p);
          for (var d: i32 = 0i; d < 160i; d += 1i) {
            o[d] = fma(p, vt[((j * 160i) + d)], o[d]);
          }
        }
      }
      mx = nm;
    }
    workgroupBarrier();
  }
  if ((qi < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l), (l > 0.0f));
    let obase: i32 = (((bh * dims[0]) + qi) * 160i);
    for (var d: i32 = 0i; d < 160i; d += 1i) {
      buf5[(obase + d)] = (o[d] * inv);
    }
  }
}
