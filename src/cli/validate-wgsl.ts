/**
 * `tfx compile` validates the WGSL it wrote with Dawn (Tint) before reporting success: a shader Dawn rejects is
 * a tfx bug, reported as TFX6006 with Dawn's messages, and no output folder is left behind. Without a WebGPU
 * adapter the check is skipped with a note (TFX_NO_WGSL_VALIDATION=1 skips it too).
 */
export async function validateWithDawn(shaders: readonly { readonly name: string; readonly code: string }[], log: (s: string) => void): Promise<void> {
  if (shaders.length === 0 || process.env.TFX_NO_WGSL_VALIDATION === '1') return;
  const { getGpu, closeGpu, GpuUnavailableError } = await import('../runtime/webgpu/device.js');
  const { checkWgsl, WgslCompileError } = await import('../runtime/webgpu/check.js');
  let ctx;
  try { ctx = await getGpu(); } catch (e) {
    if (!(e instanceof GpuUnavailableError)) throw e;
    log('note: no WebGPU adapter here, so the WGSL was not validated with Dawn');
    return;
  }
  try {
    for (const s of shaders) {
      const c = await checkWgsl(ctx, s.code);
      if (c.errors.length) {
        throw new WgslCompileError(`${s.name}: Dawn rejects the generated WGSL (a tfx bug; please report it with the spec): ${c.errors.slice(0, 3).join('; ')}`, c.errors);
      }
    }
  } finally {
    await closeGpu();
  }
}
