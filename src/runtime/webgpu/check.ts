// WGSL validation through Dawn's compiler (Tint), and pipeline creation that fails with the
// compiler's messages instead of an uncaptured device error.
import { TfxError } from '../../errors.js';
import { subgroupRequirement } from '../../codegen-wgsl/wgsl.js';
import type { GpuContext } from './device.js';

export interface WgslCheck {
  /** "line:col: message", 1-based as Tint reports them. */
  readonly errors: string[];
  readonly warnings: string[];
}

/** A compute pipeline could not be built; `messages` holds the WGSL diagnostics, if any. */
export class WgslCompileError extends TfxError {
  override name = 'WgslCompileError';
  constructor(
    message: string,
    readonly messages: readonly string[],
  ) {
    super('TFX6006', message);
  }
}

function formatMessage(m: GPUCompilationMessage): string {
  return `${m.lineNum}:${m.linePos}: ${m.message}`;
}

async function compile(ctx: GpuContext, code: string, label: string): Promise<{ module: GPUShaderModule } & WgslCheck> {
  const { device } = ctx;
  // An invalid module also raises a validation error; scope it so it does not count as uncaptured.
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code, label });
  const info = await module.getCompilationInfo();
  await device.popErrorScope();
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const m of info.messages) {
    if (m.type === 'error') errors.push(formatMessage(m));
    else if (m.type === 'warning') warnings.push(formatMessage(m));
  }
  return { module, errors, warnings };
}

export async function checkWgsl(ctx: GpuContext, code: string): Promise<WgslCheck> {
  const { errors, warnings } = await compile(ctx, code, 'checkWgsl');
  return { errors, warnings };
}

/** Builds a compute pipeline with layout 'auto'; throws WgslCompileError with the diagnostics. */
export async function createPipelineChecked(
  ctx: GpuContext,
  code: string,
  entryPoint: string,
  label = entryPoint,
): Promise<GPUComputePipeline> {
  checkSubgroups(ctx, code, label);
  const { module, errors } = await compile(ctx, code, label);
  if (errors.length > 0) {
    throw new WgslCompileError(`WGSL for '${label}' does not compile:\n  ${errors.join('\n  ')}`, errors);
  }
  const { device } = ctx;
  device.pushErrorScope('validation');
  let pipeline: GPUComputePipeline | undefined;
  let failure: string | undefined;
  try {
    pipeline = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint } });
  } catch (e) {
    failure = e instanceof Error ? e.message : String(e);
  }
  const scoped = await device.popErrorScope();
  failure ??= scoped?.message;
  if (pipeline === undefined || failure !== undefined) {
    const msg = (failure ?? 'unknown error').trim();
    throw new WgslCompileError(`pipeline '${label}' (entry point '${entryPoint}') failed: ${msg}`, [msg]);
  }
  return pipeline;
}

/**
 * A module that uses subgroups (wgsl.ts states what it needs in a comment line) on a device without them, or
 * with subgroups too small for its broadcasts, or a workgroup that leaves a subgroup partly empty: a coded error
 * before Dawn sees it.
 */
export function checkSubgroups(ctx: Pick<GpuContext, 'limits'>, code: string, label: string): void {
  const need = subgroupRequirement(code);
  if (!need) return;
  const { subgroupMinSize: min, subgroupMaxSize: max } = ctx.limits;
  const why = !max ? 'this device has no subgroups (the adapter lacks the \'subgroups\' feature)'
    : need.lanes > min ? `it needs subgroups of at least ${need.lanes} lanes; this device's may have ${min}`
    : need.invocations % max !== 0 ? `its ${need.invocations} invocations per workgroup are not a multiple of this device's largest subgroup (${max})`
    : null;
  if (why) throw new TfxError('TFX7005', `kernel '${label}' uses subgroups, but ${why}: pick another schedule (the tuner offers subgroup schedules only where they fit)`);
}
