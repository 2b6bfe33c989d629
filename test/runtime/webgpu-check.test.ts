import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GpuContext, getGpu, closeGpu } from '../../src/runtime/webgpu/device.js';
import { checkWgsl, createPipelineChecked, WgslCompileError } from '../../src/runtime/webgpu/check.js';

const good = `
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < arrayLength(&x)) { x[g.x] = x[g.x] + 1.0; }
}`;

// Line 4 assigns a float to an i32.
const bad = `
@compute @workgroup_size(1)
fn main() {
  let k: i32 = 1.5;
}`;

describe('device', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await getGpu();
  });
  afterAll(closeGpu);

  it('is cached per process and describes itself', async () => {
    expect(await getGpu()).toBe(ctx);
    expect(ctx.deviceString.length).toBeGreaterThan(5);
    expect(ctx.deviceString).toContain(ctx.info.description || ctx.info.device);
    // the limits we asked for are the adapter's maximum
    expect(ctx.limits.maxStorageBufferBindingSize).toBe(ctx.adapter.limits.maxStorageBufferBindingSize);
    expect(ctx.limits.maxComputeWorkgroupStorageSize).toBe(ctx.adapter.limits.maxComputeWorkgroupStorageSize);
    expect(ctx.hasTimestamps).toBe(ctx.device.features.has('timestamp-query'));
    expect(ctx.hasF16).toBe(ctx.device.features.has('shader-f16'));
  });

  describe('checkWgsl', () => {
    it('accepts good WGSL', async () => {
      expect((await checkWgsl(ctx, good)).errors).toEqual([]);
    });

    it('reports an error with its line and column', async () => {
      const { errors } = await checkWgsl(ctx, bad);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors[0]).toMatch(/^4:16: .*i32/);
      expect(ctx.pendingErrors).toEqual([]); // checked inside an error scope
    });

    it('reports warnings separately', async () => {
      const code = `
@compute @workgroup_size(1)
fn main() {
  return;
  let unreachable = 1;
}`;
      const { errors, warnings } = await checkWgsl(ctx, code);
      expect(errors).toEqual([]);
      expect(warnings.join('\n')).toMatch(/^5:\d+: .*unreachable/);
    });
  });

  describe('createPipelineChecked', () => {
    it('builds a pipeline from good WGSL', async () => {
      const p = await createPipelineChecked(ctx, good, 'main');
      expect(p.getBindGroupLayout(0)).toBeDefined();
    });

    it('throws the compiler messages for bad WGSL', async () => {
      const err = await createPipelineChecked(ctx, bad, 'main', 'badKernel').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WgslCompileError);
      expect((err as Error).message).toMatch(/WGSL for 'badKernel' does not compile:\n {2}4:16: /);
    });

    it('throws a clear error for a missing entry point', async () => {
      await expect(createPipelineChecked(ctx, good, 'nope')).rejects.toThrow(/pipeline 'nope' \(entry point 'nope'\) failed: .*nope/);
      expect(ctx.pendingErrors).toEqual([]);
    });
  });
});
