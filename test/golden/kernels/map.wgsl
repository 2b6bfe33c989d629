// dispatch (((S * 8) + 63) / 64) workgroups
// k0_map: add gelu cast expand reshape
@group(0) @binding(0) var<storage, read> dims: array<i32>;
@group(0) @binding(1) var<storage, read> buf0: array<f32>;
@group(0) @binding(2) var<storage, read> buf1: array<i32>;
@group(0) @binding(3) var<storage, read_write> buf2: array<f32>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32) {
  let base: i32 = ((i32(wid.y * nwg.x + wid.x) * 64i) + i32(lix));
  if ((base < (dims[0] * 8i))) {
    let gid: i32 = base;
    let i0: i32 = (gid / 8i);
    let i1: i32 = (gid % 8i);
    let t0: f32 = buf0[((i0 * 8i) + i1)];
    let t1: i32 = buf1[i0];
    buf2[gid] = ((0.5f * t0 * (1.0f + tanh(clamp(0.7978845608028654f * (t0 + 0.044715f * t0 * t0 * t0), -15.0f, 15.0f)))) + f32(t1));
  }
}
