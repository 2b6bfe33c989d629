/**
 * Runs a kernel plan on WebGPU with one buffer per logical buffer (no memory sharing), so any kernel can be
 * re-dispatched alone after a full run and still find its inputs intact. Timing is GPU timestamps per
 * dispatch; every pipeline is warmed up first (lavapipe compiles a shader at its first dispatch).
 */
import { dimEval } from '../src/core/dim.js';
import { hostTensor, type HostTensor } from '../src/core/tensor.js';
import { renderWgsl, type KernelRenderer, type RenderedKernel } from '../src/codegen-wgsl/wgsl.js';
import type { Graph } from '../src/ir/graph.js';
import { bufferNumel, type KernelPlan } from '../src/ir/kernel.js';
import { computeTileMaps } from '../src/runtime/tiles.js';
import type { GpuContext } from '../src/runtime/webgpu/device.js';
import { GpuExecutor, type Dispatch } from '../src/runtime/webgpu/executor.js';

/** A buffer of the plan does not fit this device (recorded as "does not fit", not a failure). */
export class DoesNotFitError extends Error { override name = 'DoesNotFitError'; }

export interface Timing { readonly median: number; readonly min: number; readonly max: number; readonly samples: readonly number[] }

export function stats(samples: readonly number[]): Timing {
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { median, min: s[0] ?? NaN, max: s[n - 1] ?? NaN, samples };
}

const bytesOf = (plan: KernelPlan, i: number, dims: Readonly<Record<string, number>>) => Math.max(4, bufferNumel(plan.buffers[i]!, dims) * 4);

/** Largest buffer the plan needs, and whether it fits the device's binding limit. */
export function checkFits(plan: KernelPlan, dims: Readonly<Record<string, number>>, ctx: GpuContext): void {
  const max = Math.min(ctx.limits.maxStorageBufferBindingSize, ctx.limits.maxBufferSize);
  plan.buffers.forEach((b, i) => {
    const n = bytesOf(plan, i, dims);
    if (n > max) throw new DoesNotFitError(`${b.name} needs ${(n / 2 ** 20).toFixed(0)} MiB > ${(max / 2 ** 20).toFixed(0)} MiB (maxStorageBufferBindingSize)`);
  });
}

export class PlanRunner {
  readonly ex: GpuExecutor;
  readonly dimVals: number[];
  plan!: KernelPlan;
  kernels!: RenderedKernel[];
  tileCounts = new Map<number, { empty: number; full: number; partial: number }>();
  /** Where each tile map of the current plan lives (a tagged plan gets its own buffers: see use()). */
  private tileBufs = new Map<number, string>();

  constructor(readonly ctx: GpuContext, readonly graph: Graph, plan: KernelPlan, readonly dims: Readonly<Record<string, number>>,
    readonly inputs: ReadonlyMap<string, HostTensor>, readonly params: ReadonlyMap<string, HostTensor>) {
    this.ex = new GpuExecutor(ctx);
    this.dimVals = plan.symbols.map((s) => dims[s] ?? 0);
    checkFits(plan, dims, ctx);
    plan.buffers.forEach((_, i) => this.ex.alloc(`b${i}`, bytesOf(plan, i, dims)));
    this.ex.alloc('dims', Math.max(4, this.dimVals.length * 4));
    this.ex.write('dims', Int32Array.from(this.dimVals.length ? this.dimVals : [0]));
    for (const inp of plan.inputs) this.ex.write(`b${inp.buf}`, toBytes(inputs.get(inp.name)!, plan.buffers[inp.buf]!.dtype));
    for (const p of plan.params) {
      const w = params.get(p.name);
      if (!w) throw new Error(`missing weight '${p.name}'`);
      this.ex.write(`b${p.buf}`, toBytes(w, plan.buffers[p.buf]!.dtype));
    }
  }

  /**
   * Switch to a plan over the same buffers (a rescheduled kernel); tile maps are recomputed for it. With a `tag`
   * the tile maps get buffers of their own, so dispatches captured under different tags (attention variants with
   * different tile sizes) can be interleaved. `render`: how kernels become WGSL (a control experiment's rewrite).
   */
  async use(plan: KernelPlan, tag = '', render: KernelRenderer = renderWgsl): Promise<void> {
    checkFits(plan, this.dims, this.ctx);
    this.plan = plan;
    this.kernels = plan.kernels.map((k) => render(k, plan.buffers, plan.symbols));
    this.tileBufs = new Map();
    for (const t of await computeTileMaps(plan, this.graph, this.inputs, { ...this.dims })) {
      const name = tag ? `b${t.buf}@${tag}` : `b${t.buf}`;
      this.ex.alloc(name, Math.max(4, t.classes.length * 4));
      this.ex.write(name, t.classes);
      this.tileBufs.set(t.buf, name);
      this.tileCounts.set(t.buf, t.counts);
    }
  }

  dispatch(i: number): Dispatch {
    const k = this.kernels[i]!;
    return {
      label: k.name, kind: this.plan.kernels[i]!.opKind, code: k.code, entryPoint: 'main',
      bindings: k.bindings.map((b) => (b < 0 ? 'dims' : this.tileBufs.get(b) ?? `b${b}`)), workgroups: k.workgroups(this.dimVals),
    };
  }

  /** The dispatches of kernels `which` under the current plan, to time later (timeDispatches). */
  capture(which: readonly number[]): Dispatch[] { return which.map((i) => this.dispatch(i)); }

  /** Every kernel once, in order; returns the entry's outputs. */
  async runAll(): Promise<Map<string, HostTensor>> {
    await this.ex.run(this.plan.kernels.map((_, i) => this.dispatch(i)));
    return this.readOutputs();
  }

  async readOutputs(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const o of this.plan.outputs) out.set(o.name, await this.readBuffer(o.buf, o.shape.map((d) => dimEval(d, this.dims)), o.dtype));
    return out;
  }

  async readBuffer(buf: number, shape: number[], dtype = this.plan.buffers[buf]!.dtype): Promise<HostTensor> {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = await this.ex.read(`b${buf}`, Math.max(4, n * 4));
    const isF = this.plan.buffers[buf]!.dtype === 'f32';
    return hostTensor(dtype, shape, isF ? new Float32Array(raw, 0, n).slice() : new Int32Array(raw, 0, n).slice());
  }

  /**
   * GPU ms of the kernels `which` run back to back, per iteration: `warmup` untimed iterations, then `iters`
   * timed ones in one submission (one timestamp pair per dispatch).
   */
  async time(which: readonly number[], warmup: number, iters: number): Promise<Timing> {
    return this.timeDispatches(this.capture(which), warmup, iters);
  }

  /** GPU ms per iteration of `one` (captured dispatches), as time() does. */
  async timeDispatches(one: readonly Dispatch[], warmup: number, iters: number): Promise<Timing> {
    if (warmup > 0) await this.ex.run(Array.from({ length: warmup }, () => one).flat());
    const res = await this.ex.run(Array.from({ length: iters }, () => one).flat(), { profile: true });
    if (res.timings.length !== iters * one.length) throw new Error(`no GPU timestamps on this adapter (${res.warning ?? 'timestamp-query missing'})`);
    const per: number[] = [];
    for (let it = 0; it < iters; it++) per.push(res.timings.slice(it * one.length, (it + 1) * one.length).reduce((s, t) => s + t.ms, 0));
    return stats(per);
  }

  /**
   * GPU ms per instance of the kernels `of`, timed inside whole runs of the plan (every kernel in order, `iters`
   * runs in one submission after `warmup` untimed ones): each kernel meets its inputs as the run leaves them, not
   * as a loop of it alone does (on lavapipe a kernel alone in a loop ran up to 1.8x faster or slower than in the
   * forward: bench/results/README.md, tiny forward).
   */
  async timeWithin(of: readonly number[], warmup: number, iters: number): Promise<Timing> {
    const one = this.capture(this.plan.kernels.map((_, i) => i));
    if (warmup > 0) await this.ex.run(Array.from({ length: warmup }, () => one).flat());
    const res = await this.ex.run(Array.from({ length: iters }, () => one).flat(), { profile: true });
    if (res.timings.length !== iters * one.length) throw new Error(`no GPU timestamps on this adapter (${res.warning ?? 'timestamp-query missing'})`);
    return stats(Array.from({ length: iters }, (_, it) => of.reduce((s, i) => s + res.timings[it * one.length + i]!.ms, 0) / of.length));
  }

  /** Wall ms per call, submit through the output on the host (how the peers are timed). */
  async wall(which: readonly number[] | readonly Dispatch[], iters: number, readBuf: number, opts: { upload?: boolean } = {}): Promise<Timing> {
    const one = which.map((x) => (typeof x === 'number' ? this.dispatch(x) : x));
    const times: number[] = [];
    for (let it = 0; it < iters; it++) {
      const t0 = performance.now();
      // `upload`: the entry's inputs written from the host first, as a peer's run with host tensors does.
      if (opts.upload) for (const inp of this.plan.inputs) this.ex.write(`b${inp.buf}`, toBytes(this.inputs.get(inp.name)!, this.plan.buffers[inp.buf]!.dtype));
      await this.ex.run(one);
      await this.ex.read(`b${readBuf}`);
      times.push(performance.now() - t0);
    }
    return stats(times);
  }

  destroy(): void { this.ex.destroy(); }
}

function toBytes(t: HostTensor, dtype: string): ArrayBufferView {
  if (dtype === 'f32') return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  return t.data instanceof Int32Array ? t.data : Int32Array.from(t.data, (x) => Math.trunc(x));
}
