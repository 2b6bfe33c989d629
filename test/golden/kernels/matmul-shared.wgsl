// dispatch [3, ((S + 7) / 8), 3]
// k0_matmul: matmul
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<f32>;
@group(0) @binding(3) var<storage, read_write> buf2: array<f32>;
var<workgroup> ta: array<f32, 64>;
var<workgroup> tb: array<f32, 128>;
@compute @workgroup_size(8, 4, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let b0: i32 = i32(wid.z);
  let bm0: i32 = (i32(wid.y) * 8i);
  let bn0: i32 = (i32(wid.x) * 16i);
  var c_0: f32 = 0.0f;
  var c_1: f32 = 0.0f;
  var c_2: f32 = 0.0f;
  var c_3: f32 = 0.0f;
  var av_0: f32 = 0.0f;
  var av_1: f32 = 0.0f;
  var bv_0: f32 = 0.0f;
  var bv_1: f32 = 0.0f;
  for (var k0: i32 = 0i; k0 < 24i; k0 += 8i) {
    for (var e: i32 = ((i32(lid.y) * 8i) + i32(lid.x)); e < 64i; e += 32i) {
      var x: f32 = 0.0f;
      if ((((bm0 + (e / 8i)) < dims[0]) && ((k0 + (e % 8i)) < 24i))) {
        let t0: f32 = buf0[((((b0 * dims[0]) + (bm0 + (e / 8i))) * 24i) + (k0 + (e % 8i)))];
        x = t0;
      }
      ta[e] = x;
    }
    for (var e: i32 = ((i32(lid.y) * 8i) + i32(lid.x)); e < 128i; e += 32i) {
      var x: f32 = 0.0f;
      if ((((bn0 + (e % 16i)) < 40i) && ((k0 + (e / 16i)) < 24i))) {
        let t1: f32 = buf1[((((b0 * 24i) + (k0 + (e / 16i))) * 40i) + (bn0 + (e % 16i)))];
        x = t1;
      }
      tb[e] = x;
    }
    workgroupBarrier();
    for (var kk: i32 = 0i; kk < 8i; kk += 1i) {
      av_0 = ta[((i32(lid.y) * 8i) + kk)];
      av_1 = ta[(((i32(lid.y) + 4i) * 8i) + kk)];
      bv_0 = tb[((kk * 16i) + i32(lid.x))];
      bv_1 = tb[(((kk * 16i) + i32(lid.x)) + 8i)];
      c_0 = fma(av_0, bv_0, c_0);
      c_1 = fma(av_0, bv_1, c_1);
      c_2 = fma(av_1, bv_0, c_2);
      c_3 = fma(av_1, bv_1, c_3);
    }
    workgroupBarrier();
  }
  if ((((bm0 + i32(lid.y)) < dims[0]) && ((bn0 + i32(lid.x)) < 40i))) {
    buf2[((((b0 * dims[0]) + (bm0 + i32(lid.y))) * 40i) + (bn0 + i32(lid.x)))] = c_0;
  }
  if ((((bm0 + i32(lid.y)) < dims[0]) && (((bn0 + i32(lid.x)) + 8i) < 40i))) {
    buf2[((((b0 * dims[0]) + (bm0 + i32(lid.y))) * 40i) + ((bn0 + i32(lid.x)) + 8i))] = c_1;
  }
  if (((((bm0 + i32(lid.y)) + 4i) < dims[0]) && ((bn0 + i32(lid.x)) < 40i))) {
    buf2[((((b0 * dims[0]) + ((bm0 + i32(lid.y)) + 4i)) * 40i) + (bn0 + i32(lid.x)))] = c_2;
  }
  if (((((bm0 + i32(lid.y)) + 4i) < dims[0]) && (((bn0 + i32(lid.x)) + 8i) < 40i))) {
    buf2[((((b0 * dims[0]) + ((bm0 + i32(lid.y)) + 4i)) * 40i) + ((bn0 + i32(lid.x)) + 8i))] = c_3;
  }
}
