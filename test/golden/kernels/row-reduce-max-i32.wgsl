// dispatch 5 workgroups
// k0_reduce: max over axes [0, 2]
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<i32>;
@group(0) @binding(2) var<storage, read_write> buf1: array<i32>;
var<workgroup> sh_i32: array<i32, 64>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let row: i32 = i32(wid.y * nwg.x + wid.x);
  if ((row >= 5i)) {
    return;
  }
  let i0: i32 = row;
  let len: i32 = (7i * dims[0]);
  var a0: i32 = i32(-2147483647 - 1);
  for (var r: i32 = i32(lix); r < len; r += 64i) {
    let t0: i32 = buf0[(((((r / 7i) * 5i) + i0) * 7i) + (r % 7i))];
    a0 = max(a0, t0);
  }
  sh_i32[i32(lix)] = a0;
  workgroupBarrier();
  if ((i32(lix) < 32i)) {
    sh_i32[i32(lix)] = max(sh_i32[i32(lix)], sh_i32[(i32(lix) + 32i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 16i)) {
    sh_i32[i32(lix)] = max(sh_i32[i32(lix)], sh_i32[(i32(lix) + 16i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 8i)) {
    sh_i32[i32(lix)] = max(sh_i32[i32(lix)], sh_i32[(i32(lix) + 8i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 4i)) {
    sh_i32[i32(lix)] = max(sh_i32[i32(lix)], sh_i32[(i32(lix) + 4i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 2i)) {
    sh_i32[i32(lix)] = max(sh_i32[i32(lix)], sh_i32[(i32(lix) + 2i)]);
  }
  workgroupBarrier();
  if ((i32(lix) < 1i)) {
    sh_i32[i32(lix)] = max(sh_i32[i32(lix)], sh_i32[(i32(lix) + 1i)]);
  }
  workgroupBarrier();
  let red0: i32 = sh_i32[0i];
  workgroupBarrier();
  if ((i32(lix) == 0i)) {
    buf1[i0] = red0;
  }
}
