// Runs a list of compute dispatches over named buffers. One run() is one command encoder and
// one queue submission, so a kernel chain costs one round trip; profiling puts each dispatch in
// its own pass so timestamps can bracket it.
import { createPipelineChecked } from './check.js';
import { type GpuContext, throwDeviceErrors } from './device.js';
import { TfxError } from '../../errors.js';
import { storageBytes } from '../memory-plan.js';

export interface Dispatch {
  readonly label: string;
  readonly kind: string;
  readonly code: string;
  readonly entryPoint: string;
  /** Buffer ids for @group(0) @binding(0..n-1), in order. */
  readonly bindings: readonly string[];
  readonly workgroups: readonly [number, number, number];
}

export interface KernelTiming {
  readonly label: string;
  readonly kind: string;
  readonly ms: number;
}

export interface RunResult {
  /** Per-dispatch GPU time; only with `profile` on an adapter with timestamp queries. */
  readonly timings: KernelTiming[];
  /** Host wall time from submit to completion. */
  readonly totalMs: number;
  /** Set when profiling was asked for but could not be done. */
  readonly warning?: string;
}

export type BufferUsageKind = 'storage' | 'uniform';

interface Plan {
  readonly d: Dispatch;
  readonly pipeline: GPUComputePipeline;
  readonly entries: GPUBindGroupEntry[];
  readonly wg: [number, number, number];
}

interface TimestampQueries {
  readonly count: number;
  readonly set: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly staging: GPUBuffer;
}

interface Slot {
  readonly buffer: GPUBuffer;
  readonly bytes: number;
  readonly usage: BufferUsageKind;
}

const PIPELINES = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

export class GpuExecutor {
  private readonly buffers = new Map<string, Slot>();
  /** Pipelines live as long as the device: compiling is the slow part on lavapipe, so executors share them. */
  private get pipelines(): Map<string, Promise<GPUComputePipeline>> {
    let m = PIPELINES.get(this.ctx.device);
    if (!m) { m = new Map(); PIPELINES.set(this.ctx.device, m); }
    return m;
  }

  constructor(readonly ctx: GpuContext) {}

  /**
   * (Re)allocates buffer `id`, zero-filled, padded by the one rule of every GPU buffer (inputs, parameters,
   * memory plan slots, outputs written in place): storageBytes (memory-plan.ts). Buffers are bound whole, never
   * at an offset.
   */
  alloc(id: string, bytes: number, usage: BufferUsageKind = 'storage'): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`buffer '${id}': invalid size ${bytes}`);
    const size = storageBytes(bytes);
    const max = this.ctx.limits.maxBufferSize;
    if (size > max) {
      throw new TfxError('TFX7003', `buffer '${id}' needs ${size} bytes, more than this GPU's maxBufferSize (${max} bytes)`);
    }
    this.buffers.get(id)?.buffer.destroy();
    const u = usage === 'uniform' ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE;
    const buffer = this.ctx.device.createBuffer({
      label: id,
      size,
      usage: u | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.buffers.set(id, { buffer, bytes: size, usage });
  }

  /** Writes `data` at offset 0 of buffer `id`. */
  write(id: string, data: ArrayBufferView): void {
    const slot = this.slot(id);
    if (data.byteLength > slot.bytes) {
      throw new Error(`write to buffer '${id}': ${data.byteLength} bytes do not fit in ${slot.bytes}`);
    }
    let src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // Dawn rejects SharedArrayBuffer views, and writeBuffer wants a multiple of 4 bytes.
    if (!(data.buffer instanceof ArrayBuffer) || src.byteLength % 4 !== 0) {
      const copy = new Uint8Array(Math.ceil(src.byteLength / 4) * 4);
      copy.set(src);
      src = copy;
    }
    this.ctx.device.queue.writeBuffer(slot.buffer, 0, src.buffer as ArrayBuffer, src.byteOffset, src.byteLength);
  }

  /** Reads the first `bytes` (default: all) of buffer `id`. */
  async read(id: string, bytes?: number): Promise<ArrayBuffer> {
    throwDeviceErrors(this.ctx);
    const slot = this.slot(id);
    const n = bytes ?? slot.bytes;
    if (n > slot.bytes || n < 0) throw new Error(`read of ${n} bytes from buffer '${id}' of ${slot.bytes} bytes`);
    const size = Math.max(4, Math.ceil(n / 4) * 4);
    const { device } = this.ctx;
    const staging = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(slot.buffer, 0, staging, 0, size);
      device.queue.submit([enc.finish()]);
      await mapped(staging, `read of buffer '${id}'`);
      throwDeviceErrors(this.ctx);
      return staging.getMappedRange(0, size).slice(0, n);
    } finally {
      staging.destroy();
    }
  }

  /**
   * `profile`: one pass per dispatch, each bracketed by timestamps (per-kernel times). `span`: every dispatch in
   * one pass bracketed by one timestamp pair (the chain's GPU time without per-pass costs; one timing, 'span').
   */
  async run(dispatches: readonly Dispatch[], opts: { profile?: boolean; span?: boolean } = {}): Promise<RunResult> {
    throwDeviceErrors(this.ctx);
    const { device } = this.ctx;
    for (const d of dispatches) this.checkBindings(d);
    // Pipelines first: compiling is the slow part, and it must not sit inside the timed submission.
    const pipelines = await Promise.all(dispatches.map((d) => this.pipeline(d)));
    // Checks that throw go before the error scope, so a throw cannot leave it pushed.
    const plans = dispatches.map((d, i) => ({ d, pipeline: pipelines[i]!, entries: this.entries(d), wg: this.checkedWorkgroups(d) }));
    const wantProfile = opts.profile === true || opts.span === true;
    const span = opts.span === true && opts.profile !== true;
    const queries = wantProfile && this.ctx.hasTimestamps && plans.length > 0 ? this.timestampQueries(span ? 1 : plans.length) : undefined;

    try {
      device.pushErrorScope('validation');
      let commands: GPUCommandBuffer | undefined;
      try {
        commands = this.encode(plans, queries, span);
      } finally {
        const invalid = await device.popErrorScope();
        if (invalid !== null) {
          throw new Error(`GPU rejected run [${dispatches.map((d) => d.label).join(', ')}]: ${invalid.message.trim()}`);
        }
      }
      const t0 = performance.now();
      device.queue.submit([commands]);
      await device.queue.onSubmittedWorkDone();
      const totalMs = performance.now() - t0;
      throwDeviceErrors(this.ctx);
      if (queries === undefined) {
        if (!wantProfile || this.ctx.hasTimestamps) return { timings: [], totalMs };
        return { timings: [], totalMs, warning: 'this adapter has no timestamp-query feature; no per-kernel timings' };
      }
      await mapped(queries.staging, 'read of timestamps');
      const ts = new BigUint64Array(queries.staging.getMappedRange());
      if (span) return { timings: [{ label: 'span', kind: 'span', ms: Number(ts[1]! - ts[0]!) / 1e6 }], totalMs };
      const timings = dispatches.map((d, i) => ({ label: d.label, kind: d.kind, ms: Number(ts[2 * i + 1]! - ts[2 * i]!) / 1e6 }));
      return { timings, totalMs };
    } finally {
      queries?.set.destroy();
      queries?.resolve.destroy();
      queries?.staging.destroy();
    }
  }

  /** Frees every buffer and forgets the pipelines; the executor can be reused after alloc(). */
  destroy(): void {
    for (const s of this.buffers.values()) s.buffer.destroy();
    this.buffers.clear();
  }

  /** Frees one buffer (sessions keep buffers across runs and free them one by one). */
  free(id: string): void {
    this.buffers.get(id)?.buffer.destroy();
    this.buffers.delete(id);
  }

  /** Bytes of every buffer held now (memory reports). */
  allocatedBytes(): number {
    let n = 0;
    for (const s of this.buffers.values()) n += s.bytes;
    return n;
  }

  /** Size in bytes of buffer `id`, or undefined if there is none. */
  size(id: string): number | undefined {
    return this.buffers.get(id)?.bytes;
  }

  /** Copies the first `bytes` (a multiple of 4) of buffer `src` into `dst` on the device, in queue order. */
  copy(src: string, dst: string, bytes: number): void {
    const a = this.slot(src), b = this.slot(dst);
    if (bytes % 4 !== 0 || bytes > a.bytes || bytes > b.bytes) throw new Error(`copy of ${bytes} bytes from '${src}' (${a.bytes}) to '${dst}' (${b.bytes})`);
    const enc = this.ctx.device.createCommandEncoder();
    enc.copyBufferToBuffer(a.buffer, 0, b.buffer, 0, bytes);
    this.ctx.device.queue.submit([enc.finish()]);
  }

  private slot(id: string): Slot {
    const s = this.buffers.get(id);
    if (s === undefined) throw new Error(`unknown GPU buffer '${id}' (alloc it first)`);
    return s;
  }

  private pipeline(d: Dispatch): Promise<GPUComputePipeline> {
    const key = `${d.entryPoint}\n${d.code}`;
    let p = this.pipelines.get(key);
    if (p === undefined) {
      p = createPipelineChecked(this.ctx, d.code, d.entryPoint, d.label);
      // A failed compile is not cached, so a fixed kernel with the same key can be retried.
      p.catch(() => this.pipelines.delete(key));
      this.pipelines.set(key, p);
    }
    return p;
  }

  private encode(plans: readonly Plan[], queries: TimestampQueries | undefined, span = false): GPUCommandBuffer {
    const { device } = this.ctx;
    const enc = device.createCommandEncoder({ label: 'run' });
    let pass: GPUComputePassEncoder | undefined;
    const perPass = queries !== undefined && !span;
    plans.forEach(({ d, pipeline, entries, wg }, i) => {
      if (perPass) {
        pass = enc.beginComputePass({
          label: d.label,
          timestampWrites: { querySet: queries!.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
      } else {
        // One pass is enough: WebGPU orders dispatches within a pass, storage writes included.
        pass ??= enc.beginComputePass(queries !== undefined
          ? { label: 'run', timestampWrites: { querySet: queries.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : { label: 'run' });
      }
      // With layout 'auto', bindings the entry point never uses are dropped from the layout, so
      // passing a buffer for one is a validation error (reported by run()).
      const group = device.createBindGroup({ label: d.label, layout: pipeline.getBindGroupLayout(0), entries });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(...wg);
      if (perPass) pass.end();
    });
    if (!perPass) pass?.end();
    if (queries !== undefined) {
      enc.resolveQuerySet(queries.set, 0, queries.count, queries.resolve, 0);
      enc.copyBufferToBuffer(queries.resolve, 0, queries.staging, 0, queries.count * 8);
    }
    return enc.finish();
  }

  private entries(d: Dispatch): GPUBindGroupEntry[] {
    return d.bindings.map((id, binding) => {
      const s = this.buffers.get(id);
      if (s === undefined) throw new Error(`dispatch '${d.label}': unknown GPU buffer '${id}' at binding ${binding}`);
      const { maxUniformBufferBindingSize, maxStorageBufferBindingSize } = this.ctx.limits;
      const max = s.usage === 'uniform' ? maxUniformBufferBindingSize : maxStorageBufferBindingSize;
      if (s.bytes > max) {
        throw new TfxError('TFX7003', `dispatch '${d.label}': buffer '${id}' (${s.bytes} bytes) exceeds the ${s.usage} binding limit of ${max} bytes`);
      }
      return { binding, resource: { buffer: s.buffer } };
    });
  }

  /**
   * More storage bindings in one kernel than the device's maxStorageBuffersPerShaderStage would fail Dawn's
   * pipeline validation: say so first, with a code. The device is opened with the adapter's maximum
   * (device.ts; lavapipe: 16); WebGPU's default is 8, and the attention backward's dq/dk kernels bind 10.
   */
  private checkBindings(d: Dispatch): void {
    const max = this.ctx.limits.maxStorageBuffersPerShaderStage;
    const n = d.bindings.filter((id) => this.buffers.get(id)?.usage !== 'uniform').length;
    if (n > max) {
      throw new TfxError('TFX7005', `kernel '${d.label}' (${d.kind}) binds ${n} storage buffers; this GPU allows ${max} per shader stage (maxStorageBuffersPerShaderStage)`);
    }
  }

  private checkedWorkgroups(d: Dispatch): [number, number, number] {
    const max = this.ctx.limits.maxComputeWorkgroupsPerDimension;
    for (const n of d.workgroups) {
      if (!Number.isInteger(n) || n < 0 || n > max) {
        throw new Error(`dispatch '${d.label}': workgroup count [${d.workgroups.join(', ')}] outside 0..${max} per dimension`);
      }
    }
    return [d.workgroups[0], d.workgroups[1], d.workgroups[2]];
  }

  private timestampQueries(dispatchCount: number): TimestampQueries {
    const { device } = this.ctx;
    const count = 2 * dispatchCount;
    return {
      count,
      set: device.createQuerySet({ type: 'timestamp', count }),
      resolve: device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      staging: device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    };
  }
}

/** mapAsync rejects with bare DOMExceptions; say what was being read. */
async function mapped(buffer: GPUBuffer, what: string): Promise<void> {
  try {
    await buffer.mapAsync(GPUMapMode.READ);
  } catch (e) {
    const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new Error(`GPU ${what} failed (${why})`);
  }
}
