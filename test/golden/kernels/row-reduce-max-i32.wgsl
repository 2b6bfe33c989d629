// dispatch rows 5
// k0_reduce: max over axes [0, 2]
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<i32>;
@group(0) @binding(2) var<storage, read_write> buf1: array<i32>;
var<workgroup> sh_i32: array<i32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let row = i32(wid.y * nwg.x + wid.x);
  if (row >= 5i) { return; }
  let i0 = row;
  let len = (7i * dims[0]);
  var a0: i32 = i32(-2147483647 - 1);
  for (var r = i32(lix); r < len; r += 64i) {
    let t0: i32 = buf0[(((((r / 7i) * 5i) + i0) * 7i) + (r % 7i))];
    a0 = max(a0, t0);
  }
  sh_i32[lix] = a0;
  workgroupBarrier();
  if (lix < 32u) { sh_i32[lix] = max(sh_i32[lix], sh_i32[lix + 32u]); }
  workgroupBarrier();
  if (lix < 16u) { sh_i32[lix] = max(sh_i32[lix], sh_i32[lix + 16u]); }
  workgroupBarrier();
  if (lix < 8u) { sh_i32[lix] = max(sh_i32[lix], sh_i32[lix + 8u]); }
  workgroupBarrier();
  if (lix < 4u) { sh_i32[lix] = max(sh_i32[lix], sh_i32[lix + 4u]); }
  workgroupBarrier();
  if (lix < 2u) { sh_i32[lix] = max(sh_i32[lix], sh_i32[lix + 2u]); }
  workgroupBarrier();
  if (lix < 1u) { sh_i32[lix] = max(sh_i32[lix], sh_i32[lix + 1u]); }
  workgroupBarrier();
  let red0 = sh_i32[0];
  workgroupBarrier();
  if (lix == 0u) {
    buf1[i0] = red0;
  }
}
