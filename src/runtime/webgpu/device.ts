// Opens a WebGPU device through Dawn (npm `webgpu`). One device per process is cached by
// getGpu(): creating one costs hundreds of milliseconds, and lavapipe recompiles nothing
// across devices anyway.
import { mkdirSync, accessSync, constants as fsConstants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { TfxError, type UserCode } from '../../errors.js';
import type { TargetLimits } from '../../ir/schedule.js';

// GPUBufferUsage, GPUMapMode, ... are globals in a browser; Dawn hands them over as an object.
Object.assign(globalThis, globals);

/** No usable adapter (no driver, or only an unsupported one). */
export class GpuUnavailableError extends TfxError {
  override name = 'GpuUnavailableError';
  constructor(message: string, code: UserCode = 'TFX6001') { super(code, message); }
}

/** The device reported an error outside an error scope, or was lost. */
export class GpuDeviceError extends TfxError {
  override name = 'GpuDeviceError';
  constructor(message: string, code: UserCode = 'TFX6002') { super(code, message); }
}

export interface GpuInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** The limits we raise to the adapter's maximum, plus the ones the executor checks against. */
export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxUniformBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupSizeY: number;
  readonly maxComputeWorkgroupSizeZ: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
  /** The adapter's subgroup sizes when the device has the 'subgroups' feature; 0 without it. */
  readonly subgroupMinSize: number;
  readonly subgroupMaxSize: number;
}

export interface GpuContext {
  /** The Dawn instance. Must stay reachable as long as the device lives: if it is collected, the process crashes. */
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  readonly info: GpuInfo;
  /** One readable line, e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) [mesa software, fallback] / Dawn Vulkan". */
  readonly deviceString: string;
  readonly limits: GpuLimits;
  readonly hasTimestamps: boolean;
  readonly hasF16: boolean;
  /** Uncaptured errors and loss since the last throwDeviceErrors(); filled by Dawn's callbacks. */
  readonly pendingErrors: string[];
  lost: string | undefined;
}

const raisedLimits = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxStorageBuffersPerShaderStage',
] as const;

const unavailableHint =
  'run scripts/setup-vulkan.sh (software Vulkan) or install a GPU driver, and set XDG_RUNTIME_DIR to a writable 0700 directory (. scripts/env.sh)';

// Dawn picks the platform's native API; the adapter does not say which, so name it here.
const backendByPlatform: Partial<Record<NodeJS.Platform, string>> = { linux: 'Vulkan', win32: 'D3D12', darwin: 'Metal' };

/** Mesa wants XDG_RUNTIME_DIR to be a writable directory; point it at a private one when it is not. */
function ensureRuntimeDir(): void {
  const cur = process.env['XDG_RUNTIME_DIR'];
  if (cur !== undefined && cur !== '') {
    try {
      if (statSync(cur).isDirectory()) {
        accessSync(cur, fsConstants.W_OK);
        return;
      }
    } catch {
      // fall through to a private directory
    }
  }
  const dir = join(tmpdir(), `xdg-runtime-${process.getuid?.() ?? 'user'}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env['XDG_RUNTIME_DIR'] = dir;
}

function describe(info: GpuInfo, fallback: boolean): string {
  const name = info.description || info.device || 'unknown adapter';
  const tags = [info.vendor, info.architecture].filter((s) => s !== '').join(' ');
  const extra = [tags, fallback ? 'fallback' : ''].filter((s) => s !== '').join(', ');
  const backend = backendByPlatform[process.platform] ?? process.platform;
  return `${name}${extra ? ` [${extra}]` : ''} / Dawn ${backend}`;
}

/**
 * dawnFlags: extra Dawn instance flags, for measurements only (bench/matmul-limits.ts compares Dawn's default
 * robustness against the toggles onnxruntime's WebGPU EP sets, e.g. 'enable-dawn-features=disable_robustness');
 * the runtime never passes any: robustness is what keeps a wrong index from touching memory outside a buffer.
 */
export async function openGpu(opts: { f16?: boolean; dawnFlags?: readonly string[] } = {}): Promise<GpuContext> {
  ensureRuntimeDir();
  let gpu: GPU;
  let adapter: GPUAdapter | null;
  try {
    // Without this toggle Dawn rounds timestamps to 100 us, useless for per-kernel timings.
    gpu = create(['disable-dawn-features=timestamp_quantization', ...(opts.dawnFlags ?? [])]);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new GpuUnavailableError(`WebGPU failed to start (${firstLine(e)}): ${unavailableHint}`);
  }
  if (adapter === null) throw new GpuUnavailableError(`no WebGPU adapter found: ${unavailableHint}`);

  const requiredLimits: Record<string, number> = {};
  for (const k of raisedLimits) requiredLimits[k] = adapter.limits[k];
  const hasTimestamps = adapter.features.has('timestamp-query');
  const hasF16 = opts.f16 === true && adapter.features.has('shader-f16');
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  if (hasF16) requiredFeatures.push('shader-f16');
  // Subgroups whenever the adapter has them (lavapipe: 8 lanes): the subgroup-broadcast matmul schedules need them.
  const hasSubgroups = adapter.features.has('subgroups');
  if (hasSubgroups) requiredFeatures.push('subgroups');

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  } catch (e) {
    throw new GpuUnavailableError(`WebGPU device creation failed (${firstLine(e)}): ${unavailableHint}`);
  }

  const a = adapter.info;
  const info: GpuInfo = { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
  const l = device.limits;
  const ctx: GpuContext = {
    gpu,
    adapter,
    device,
    info,
    deviceString: describe(info, a.isFallbackAdapter),
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxUniformBufferBindingSize: l.maxUniformBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      subgroupMinSize: hasSubgroups ? a.subgroupMinSize ?? 0 : 0,
      subgroupMaxSize: hasSubgroups ? a.subgroupMaxSize ?? 0 : 0,
    },
    hasTimestamps,
    hasF16,
    pendingErrors: [],
    lost: undefined,
  };
  // Errors outside an error scope would otherwise only be printed by Dawn; keep them so the
  // next await in the executor can throw them at the caller.
  device.onuncapturederror = (ev: GPUUncapturedErrorEvent) => {
    ctx.pendingErrors.push(`${ev.error.constructor.name}: ${oneLine(ev.error.message)}`);
  };
  void device.lost.then((li) => {
    if (li.reason !== 'destroyed') ctx.lost = `device lost (${li.reason}): ${firstLine(li.message)}`;
    else ctx.lost ??= 'device was destroyed';
  });
  return ctx;
}

/** Throws (and clears) what the device reported since the last call. */
export function throwDeviceErrors(ctx: GpuContext): void {
  if (ctx.lost !== undefined) throw new GpuDeviceError(`GPU ${ctx.lost}`);
  if (ctx.pendingErrors.length === 0) return;
  const errs = ctx.pendingErrors.splice(0);
  throw new GpuDeviceError(`GPU reported ${errs.length} error(s): ${errs.join('; ')}`);
}

let cached: Promise<GpuContext> | undefined;

/** The process-wide context, opened on first use with shader-f16 when the adapter has it. */
export function getGpu(): Promise<GpuContext> {
  cached ??= openGpu({ f16: true }).catch((e: unknown) => {
    cached = undefined; // let a later call retry, e.g. after the driver was installed
    throw e;
  });
  return cached;
}

/** Destroys the cached device and drops the Dawn instance, so the process can exit. */
export async function closeGpu(): Promise<void> {
  const c = cached;
  cached = undefined;
  if (c === undefined) return;
  const ctx = await c.catch(() => undefined);
  ctx?.device.destroy();
}

function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.trim().split('\n')[0] ?? '';
}

/** Dawn's messages span lines (the call chain follows the cause); keep them whole but on one line. */
function oneLine(s: string): string {
  return s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' | ');
}

/** The device's limits as the schedule home's TargetLimits (src/ir/schedule.ts), for checking schedules against it. */
export function targetLimitsOf(lim: GpuLimits): TargetLimits {
  return {
    name: 'webgpu device', workgroupBytes: lim.maxComputeWorkgroupStorageSize, invocations: lim.maxComputeInvocationsPerWorkgroup,
    workgroupSize: [lim.maxComputeWorkgroupSizeX, lim.maxComputeWorkgroupSizeY, lim.maxComputeWorkgroupSizeZ],
    groupsPerDim: lim.maxComputeWorkgroupsPerDimension, bindingBytes: lim.maxStorageBufferBindingSize, storageBuffers: lim.maxStorageBuffersPerShaderStage, bf16Storage: false,
    ...(lim.subgroupMaxSize ? { subgroups: { min: lim.subgroupMinSize, max: lim.subgroupMaxSize } } : {}),
  };
}
