// dispatch [ceil(40 / 16), ceil(S / 8), 3]
// k0_matmul: matmul
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf2: array<f32>;
var<workgroup> ta: array<f32, 64>;
var<workgroup> tb: array<f32, 128>;
@compute @workgroup_size(8, 4)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let bz = i32(wid.z);
  let b0 = bz;
  let M = dims[0];
  let N = 40i;
  let K = 24i;
  let bm0 = i32(wid.y) * 8i;
  let bn0 = i32(wid.x) * 16i;
  let tm0 = i32(lid.y);
  let tn0 = i32(lid.x);
  var c0_0 = 0.0f;
  var c0_1 = 0.0f;
  var c1_0 = 0.0f;
  var c1_1 = 0.0f;
  for (var k0 = 0i; k0 < K; k0 += 8i) {
    for (var e = i32(lix); e < 64i; e += 32i) {
      let m = bm0 + e / 8i;
      let k = k0 + e % 8i;
      var v = 0.0f;
        let t0: f32 = buf0[((((b0 * dims[0]) + m) * 24i) + k)];
      if (m < M && k < K) { v = t0; }
      ta[e] = v;
    }
    for (var e = i32(lix); e < 128i; e += 32i) {
      let k = k0 + e / 16i;
      let n = bn0 + e % 16i;
      var v = 0.0f;
        let t1: f32 = buf1[((((b0 * 24i) + k) * 40i) + n)];
      if (n < N && k < K) { v = t1; }
      tb[e] = v;
    }
    workgroupBarrier();
    for (var kk = 0i; kk < 8i; kk++) {
      let av0 = ta[(tm0 + 0i) * 8i + kk];
      let av1 = ta[(tm0 + 4i) * 8i + kk];
      let bv0 = tb[kk * 16i + tn0 + 0i];
      let bv1 = tb[kk * 16i + tn0 + 8i];
      c0_0 = fma(av0, bv0, c0_0);
      c0_1 = fma(av0, bv1, c0_1);
      c1_0 = fma(av1, bv0, c1_0);
      c1_1 = fma(av1, bv1, c1_1);
    }
    workgroupBarrier();
  }
  {
    let m = bm0 + tm0 + 0i;
    let n = bn0 + tn0 + 0i;
    if (m < M && n < N) {
      let acc = c0_0;
      buf2[((((b0 * dims[0]) + m) * 40i) + n)] = acc;
    }
  }
  {
    let m = bm0 + tm0 + 0i;
    let n = bn0 + tn0 + 8i;
    if (m < M && n < N) {
      let acc = c0_1;
      buf2[((((b0 * dims[0]) + m) * 40i) + n)] = acc;
    }
  }
  {
    let m = bm0 + tm0 + 4i;
    let n = bn0 + tn0 + 0i;
    if (m < M && n < N) {
      let acc = c1_0;
      buf2[((((b0 * dims[0]) + m) * 40i) + n)] = acc;
    }
  }
  {
    let m = bm0 + tm0 + 4i;
    let n = bn0 + tn0 + 8i;
    if (m < M && n < N) {
      let acc = c1_1;
      buf2[((((b0 * dims[0]) + m) * 40i) + n)] = acc;
    }
  }
}
