// dispatch S workgroups
// k0_softmax: softmax over axis 1
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf1: array<f32>;
var<workgroup> sh_f32: array<f32, 64>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let row: i32 = i32(wid.y * nwg.x + wid.x);
  if ((row >= dims[0])) {
    return;
  }
  let i0: i32 = row;
  let len: i32 = 32i;
  var a0: f32 = (-3.4028234663852886e+38f);
  for (var r: i32 = i32(lix); r < len; r += 64i) {
    let t0: f32 = buf0[((i0 * 32i) + r)];
    a0 = max(a0, t0);
  }
  sh_f32[i32(lix)] = a0;
  workgroupBarrier();
  if ((i32(lix) < 32i)) {
    sh_f32[i32(lix)] = max(sh_f32[i32(lix)], sh_f32[(i32(lix) + 32i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 16i)) {
    sh_f32[i32(lix)] = max(sh_f32[i32(lix)], sh_f32[(i32(lix) + 16i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 8i)) {
    sh_f32[i32(lix)] = max(sh_f32[i32(lix)], sh_f32[(i32(lix) + 8i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 4i)) {
    sh_f32[i32(lix)] = max(sh_f32[i32(lix)], sh_f32[(i32(lix) + 4i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 2i)) {
    sh_f32[i32(lix)] = max(sh_f32[i32(lix)], sh_f32[(i32(lix) + 2i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 1i)) {
    sh_f32[i32(lix)] = max(sh_f32[i32(lix)], sh_f32[(i32(lix) + 1i)]);
  }
  workgroupBarrier();
  let red0: f32 = sh_f32[0i];
  workgroupBarrier();
  var a1: f32 = 0.0f;
  for (var r: i32 = i32(lix); r < len; r += 64i) {
    let t1: f32 = buf0[((i0 * 32i) + r)];
    a1 = (a1 + exp((t1 - red0)));
  }
  sh_f32[i32(lix)] = a1;
  workgroupBarrier();
  if ((i32(lix) < 32i)) {
    sh_f32[i32(lix)] = (sh_f32[i32(lix)] + sh_f32[(i32(lix) + 32i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 16i)) {
    sh_f32[i32(lix)] = (sh_f32[i32(lix)] + sh_f32[(i32(lix) + 16i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 8i)) {
    sh_f32[i32(lix)] = (sh_f32[i32(lix)] + sh_f32[(i32(lix) + 8i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 4i)) {
    sh_f32[i32(lix)] = (sh_f32[i32(lix)] + sh_f32[(i32(lix) + 4i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 2i)) {
    sh_f32[i32(lix)] = (sh_f32[i32(lix)] + sh_f32[(i32(lix) + 2i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 1i)) {
    sh_f32[i32(lix)] = (sh_f32[i32(lix)] + sh_f32[(i32(lix) + 1i)]);
  }
  workgroupBarrier();
  let red1: f32 = sh_f32[0i];
  workgroupBarrier();
  for (var r: i32 = i32(lix); r < len; r += 64i) {
    let t2: i32 = ((i0 * 32i) + r);
    let t3: f32 = buf0[t2];
    buf1[t2] = (exp((t3 - red0)) / red1);
  }
}
