/**
 * WebGPU binding limits the backward needs: the flash-attention backward's dq/dk kernels bind 10 storage
 * buffers, past WebGPU's default maxStorageBuffersPerShaderStage of 8. The device is opened with the adapter's
 * limit, every kernel of the training step fits it, and a device that allows fewer gets a coded error (TFX7005)
 * from the executor before any pipeline is made, not a Dawn validation failure.
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { decomposeBackward } from '../../src/ir/autodiff/decompose.js';
import { DEVICE_KERNELS } from '../../src/ir/autodiff/grad.js';
import { getGpu } from '../../src/runtime/webgpu/device.js';
import { GpuExecutor } from '../../src/runtime/webgpu/executor.js';
import { compileEntry } from '../../src/runtime/webgpu/program.js';
import { TfxError } from '../../src/errors.js';

describe('storage-buffer limits of the training step', async () => {
  const p = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['loss_grad'] }).program;
  const c = compileEntry({ ...p, entries: [decomposeBackward(p.entries[0]!, {}, DEVICE_KERNELS)] }, 'loss_grad');
  const widestOf = (ks: typeof c.kernels) => ks.reduce((w, k) => (k.bindings.length > w.bindings.length ? k : w));
  // The flash backward's dq/dk kernels (other kernels, e.g. a matmul with a wide fused epilogue, may bind as many).
  const widest = widestOf(c.kernels.filter((k) => /attention_d[qk]/.test(k.name)));
  const ctx = await getGpu();

  it('the device has the adapter\'s limit, and every kernel of the gradient entry fits it', () => {
    expect(ctx.limits.maxStorageBuffersPerShaderStage).toBe(ctx.adapter.limits.maxStorageBuffersPerShaderStage);
    expect(widest.bindings.length).toBe(10);
    expect(widestOf(c.kernels).bindings.length).toBeLessThanOrEqual(ctx.limits.maxStorageBuffersPerShaderStage);
  });

  it('a kernel binding more than the device allows is TFX7005 before dispatch', async () => {
    const ex = new GpuExecutor({ ...ctx, limits: { ...ctx.limits, maxStorageBuffersPerShaderStage: 8 } });
    try {
      const ids = widest.bindings.map((b) => `b${b}`);
      for (const id of ids) ex.alloc(id, 64);
      const run = ex.run([{ label: widest.name, kind: 'attention_grad', code: widest.code, entryPoint: 'main', bindings: ids, workgroups: [1, 1, 1] }]);
      await expect(run).rejects.toThrow(TfxError);
      await expect(run).rejects.toMatchObject({ code: 'TFX7005', message: expect.stringMatching(/binds 10 storage buffers; this GPU allows 8/) });
    } finally { ex.destroy(); }
  });
});
