// dispatch [((S + 7) / 8), 8, 1]
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
@compute @workgroup_size(8, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let qt: i32 = i32(wid.x);
  let qi: i32 = ((qt * 8i) + i32(lix));
  let qc: i32 = max(min(qi, (dims[0] - 1i)), 0i);
  let bh: i32 = i32(wid.y);
  let b0: i32 = (bh / 4i);
  let hk: i32 = ((bh % 4i) / 2i);
  var qr: array<f32, 16>;
  var o: array<f32, 16>;
  for (var d: i32 = 0i; d < 16i; d += 1i) {
    let t0: f32 = buf0[((((bh * dims[0]) + qc) * 16i) + d)];
    qr[d] = (t0 * 0.125f);
  }
  var mx: f32 = (-3.4028234663852886e+38f);
  var l: f32 = 0.0f;
  let nkt: i32 = ((dims[0] + 63i) / 64i);
  let nqt: i32 = ((dims[0] + 7i) / 8i);
  let kvbase: i32 = (((b0 * 2i) + hk) * dims[0]);
  for (var t: i32 = 0i; t < nkt; t += 1i) {
    let t1: i32 = buf5[((((b0 * nqt) + qt) * nkt) + t)];
    let cls: i32 = t1;
    if ((cls == 0i)) {
      continue;
    }
    for (var e: i32 = i32(lix); e < 1024i; e += 8i) {
      let jj: i32 = (e / 16i);
      let dd: i32 = (e % 16i);
      let kvl: i32 = max(min(((t * 64i) + jj), (dims[0] - 1i)), 0i);
      let t2: f32 = buf1[(((kvbase + kvl) * 16i) + dd)];
      kt[((jj * 16i) + dd)] = t2;
      let t3: f32 = buf2[(((kvbase + kvl) * 16i) + dd)];
      vt[((jj * 16i) + dd)] = t3;
    }
    workgroupBarrier();
    var s: array<f32, 64>;
    var tmax: f32 = (-3.4028234663852886e+38f);
    for (var j: i32 = 0i; j < 64i; j += 1i) {
      let kv: i32 = ((t * 64i) + j);
      var ok: bool = ((kv < dims[0]) && (qi < dims[0]));
      if (((cls == 2i) && ok)) {
        let t4: i32 = max(min(b0, 1i), 0i);
        let t5: i32 = buf3[t4];
        let t6: i32 = buf4[((t4 * dims[0]) + max(min(qc, (dims[0] - 1i)), 0i))];
        ok = ((kv < t5) && (kv <= t6));
      }
      var dot: f32 = 0.0f;
      for (var d: i32 = 0i; d < 16i; d += 1i) {
        dot = fma(qr[d], kt[((j * 16i) + d)], dot);
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
      for (var d: i32 = 0i; d < 16i; d += 1i) {
        o[d] = (o[d] * corr);
      }
      for (var j: i32 = 0i; j < 64i; j += 1i) {
        if ((s[j] > (-3.4028234663852886e+38f))) {
          let p: f32 = exp((s[j] - nm));
          l = (l + p);
          for (var d: i32 = 0i; d < 16i; d += 1i) {
            o[d] = fma(p, vt[((j * 16i) + d)], o[d]);
          }
        }
      }
      mx = nm;
    }
    workgroupBarrier();
  }
  if ((qi < dims[0])) {
    let inv: f32 = select(0.0f, (1.0f / l), (l > 0.0f));
    let obase: i32 = (((bh * dims[0]) + qi) * 16i);
    for (var d: i32 = 0i; d < 16i; d += 1i) {
      buf6[(obase + d)] = (o[d] * inv);
    }
  }
}
