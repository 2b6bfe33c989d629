/**
 * The 'webgpu' session backend: one executor per session. Parameters are uploaded once (`p:NAME`), device
 * tensors are buffers `t:N` the session hands out, and each call binds them directly; temporaries live in
 * scratch slots (`s:N`) that stay allocated between calls of the same sizes.
 */
import { dimEval } from '../core/dim.js';
import type { DType } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import { storeInPlace, type InPlacePair } from '../ir/in-place.js';
import { planMemory } from './memory-plan.js';
import { computeTileMaps } from './tiles.js';
import { f16BitsToF32, f32ArrayToF16Bits } from './weights.js';
import { isDeviceTensor, SessionError, type CallPlan, type DeviceTensor, type Engine, type WeightSource, type KernelTime, type TensorArg } from './session.js';
import { targetLimitsOf, type GpuContext } from './webgpu/device.js';
import { GpuExecutor } from './webgpu/executor.js';
import { compileEntry, withPlan, type CompiledEntry } from './webgpu/program.js';

/** How a dtype is laid out in a WebGPU buffer: f16 as 16 bits, other floats as f32, ints and bool as i32. */
type Storage = 'f32' | 'f16' | 'i32';
const storageOf = (d: DType): Storage => (d === 'f16' ? 'f16' : d === 'f32' || d === 'bf16' ? 'f32' : 'i32');
const bytesOf = (s: Storage, n: number): number => Math.max(4, Math.ceil((n * (s === 'f16' ? 2 : 4)) / 4) * 4);

function encode(t: HostTensor, s: Storage): ArrayBufferView {
  if (s === 'f16') {
    const bits = f32ArrayToF16Bits(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
    if (bits.length % 2 === 0) return bits;
    const padded = new Uint16Array(bits.length + 1); // buffer writes are whole 4-byte words
    padded.set(bits);
    return padded;
  }
  if (s === 'f32') return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  return t.data instanceof Int32Array ? (t.dtype === 'bool' ? Int32Array.from(t.data, (x) => (x !== 0 ? 1 : 0)) : t.data) : Int32Array.from(t.data, (x) => Math.trunc(x));
}

function decode(raw: ArrayBuffer, s: Storage, dtype: DType, shape: readonly number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = s === 'f16' ? Float32Array.from(new Uint16Array(raw, 0, n), f16BitsToF32)
    : s === 'f32' ? Float32Array.from(new Float32Array(raw, 0, n)) : Int32Array.from(new Int32Array(raw, 0, n));
  return hostTensor(dtype, shape, data);
}

class GpuTensor implements DeviceTensor {
  readonly kind = 'device';
  readonly backend = 'webgpu';
  private gone = false;
  constructor(private readonly eng: WebGpuEngine, readonly id: string, readonly dtype: DType, readonly shape: readonly number[],
    readonly storage: Storage, /** The host values it was made from, when known (tile maps need mask inputs on the host). */ readonly host?: HostTensor) {}
  get disposed(): boolean { return this.gone || this.eng.closed; }
  get bytes(): number { return bytesOf(this.storage, this.shape.reduce((a, b) => a * b, 1)); }
  async read(): Promise<HostTensor> {
    if (this.disposed) throw new SessionError('use of a disposed device tensor');
    return decode(await this.eng.ex.read(this.id, this.bytes), this.storage, this.dtype, this.shape);
  }
  dispose(): void {
    if (this.gone) return;
    this.gone = true;
    if (!this.eng.closed) this.eng.ex.free(this.id);
  }
}

export async function openWebGpuEngine(program: Program, weights: WeightSource, o: { tuneCache: boolean }): Promise<WebGpuEngine> {
  const { getGpu } = await import('./webgpu/device.js');
  return new WebGpuEngine(await getGpu(), program, weights, o.tuneCache);
}

export class WebGpuEngine implements Engine {
  readonly backend = 'webgpu';
  readonly ex: GpuExecutor;
  closed = false;
  private next = 0;
  private readonly params = new Map<string, GpuTensor>();
  private readonly compiled = new Map<string, CompiledEntry & { inPlace: readonly string[] }>();
  private readonly scratch = new Map<number, number>(); // slot -> allocated bytes

  constructor(readonly ctx: GpuContext, private readonly program: Program, weights: WeightSource, private readonly tune: boolean) {
    this.ex = new GpuExecutor(ctx);
    for (const p of program.params) this.params.set(p.name, this.fromHost(weights.get(p.name)!, p.dtype, false));
  }

  private fromHost(t: HostTensor, dtype: DType = t.dtype, keepHost = true): GpuTensor {
    const s = storageOf(dtype);
    const g = new GpuTensor(this, `t:${this.next++}`, dtype, t.shape, s, keepHost ? t : undefined);
    this.ex.alloc(g.id, g.bytes);
    this.ex.write(g.id, encode(t, s));
    return g;
  }
  private fresh(dtype: DType, shape: readonly number[]): GpuTensor {
    const g = new GpuTensor(this, `t:${this.next++}`, dtype, shape, storageOf(dtype));
    this.ex.alloc(g.id, g.bytes); // zero-filled
    return g;
  }

  upload(t: HostTensor): DeviceTensor { return this.fromHost(t); }
  deviceBytes(): number { return this.ex.allocatedBytes(); }
  zeros(dtype: DType, shape: readonly number[]): DeviceTensor { return this.fresh(dtype, shape); }
  copy(t: TensorArg): DeviceTensor {
    if (!isDeviceTensor(t)) return this.fromHost(t);
    const g = t as GpuTensor;
    const c = new GpuTensor(this, `t:${this.next++}`, g.dtype, g.shape, g.storage, g.host);
    this.ex.alloc(c.id, c.bytes);
    this.ex.copy(g.id, c.id, c.bytes);
    return c;
  }
  param(name: string): DeviceTensor {
    const p = this.params.get(name);
    if (!p) throw new SessionError(`no parameter '${name}'`);
    return p;
  }
  setParam(name: string, t: DeviceTensor): void {
    const p = this.program.params.find((x) => x.name === name)!;
    let g = t as GpuTensor;
    if (g.storage !== storageOf(p.dtype)) { const h = g.host; if (!h) throw new SessionError(`parameter '${name}' needs ${storageOf(p.dtype)} storage`); g.dispose(); g = this.fromHost(h, p.dtype, false); }
    this.params.get(name)?.dispose();
    this.params.set(name, g);
  }

  /**
   * The entry compiled with the tune cache's schedules (async import, so done before the first call) and the
   * outputs of `pairs` stored in place where the plan allows (src/ir/in-place.ts); cached per entry and pairs.
   */
  private async tuned(name: string, pairs: readonly InPlacePair[]): Promise<CompiledEntry & { inPlace: readonly string[] }> {
    const key = `${name}|${pairs.map((p) => `${p.output}>${p.source}`).join(',')}`;
    const have = this.compiled.get(key);
    if (have) return have;
    const { cachedRenderer } = await import('./webgpu/module-cache.js');
    const render = cachedRenderer(this.ctx.deviceString);   // rendered modules from the on-disk cache
    let c = compileEntry(this.program, name, {}, render);
    const tune = this.tune ? await import('./tune-cache.js').catch(() => undefined) : undefined;
    const cache = tune?.loadTuneCache();
    let plan = this.tune && tune && cache ? tune.applyTuneCache(c.plan, cache, this.ctx.deviceString, targetLimitsOf(this.ctx.limits)) : c.plan;
    const stored = storeInPlace(plan, pairs);
    plan = stored.plan;
    if (plan !== c.plan) c = withPlan(c.graph, plan, render);
    const out = { ...c, inPlace: stored.inPlace };
    this.compiled.set(key, out);
    return out;
  }

  async execute(call: CallPlan) {
    // Written states the session owns and assigned parameters may take over their source's buffer.
    const base = await this.tuned(call.graph.entry, []);
    const bufOfInput = (n: string) => base.plan.inputs.find((i) => i.name === n)?.buf;
    const bufOfParam = (n: string) => base.plan.params.find((p) => p.name === n)?.buf;
    const pairs: InPlacePair[] = [];
    for (const n of call.written) {
      const b = bufOfInput(n), t = call.inputs.get(n);
      if (call.own?.has(n) && b !== undefined && isDeviceTensor(t) && (t as GpuTensor).storage === storageOf(base.plan.buffers[b]!.dtype)) pairs.push({ output: n, source: b });
    }
    for (const [o, p] of Object.entries(call.assign ?? {})) { const b = bufOfParam(p); if (b !== undefined) pairs.push({ output: o, source: b }); }
    const c = pairs.length ? await this.tuned(call.graph.entry, pairs) : base;
    const { plan } = c;
    const inPlace = new Set(c.inPlace);
    const dims = call.dims;
    const dimVals = plan.symbols.map((s) => dims[s] ?? 0);
    const mem = planMemory(plan, dims);
    const ids = new Array<string>(plan.buffers.length);
    const scratchId = (slot: number) => `s:${slot}`;
    for (let b = 0; b < plan.buffers.length; b++) ids[b] = scratchId(mem.slotOf[b]!);
    const hostInputs = new Map<string, HostTensor>();
    const temps: GpuTensor[] = [];
    for (const i of plan.inputs) {
      const t = call.inputs.get(i.name)!;
      const want = storageOf(plan.buffers[i.buf]!.dtype);
      let g: GpuTensor;
      if (isDeviceTensor(t) && (t as GpuTensor).storage === want) g = t as GpuTensor;
      else { const h = isDeviceTensor(t) ? await t.read() : t; g = this.fromHost(h, plan.buffers[i.buf]!.dtype); temps.push(g); }
      ids[i.buf] = g.id;
      if (g.host) hostInputs.set(i.name, g.host);
    }
    for (const p of plan.params) {
      const g = this.params.get(p.name)!;
      if (g.storage !== storageOf(plan.buffers[p.buf]!.dtype)) throw new SessionError(`parameter '${p.name}' is stored as ${g.storage}, entry '${plan.entry}' wants ${plan.buffers[p.buf]!.dtype}`);
      ids[p.buf] = g.id;
    }
    // Outputs stored in place share their source's buffer; others that leave the call on the device get
    // buffers of their own; the rest reuse scratch slots.
    const pairOf = new Map(pairs.map((p) => [p.output, p.source]));
    for (const o of plan.outputs) if (inPlace.has(o.name)) ids[o.buf] = ids[pairOf.get(o.name)!]!;
    const leaves = (n: string) => call.keep.includes(n) || call.written.includes(n) || Object.hasOwn(call.assign ?? {}, n);
    const produced: Record<string, GpuTensor> = {};
    const inputBufs = new Set([...plan.inputs.map((i) => i.buf), ...plan.params.map((p) => p.buf)]);
    for (const o of plan.outputs) {
      if (!leaves(o.name) || inputBufs.has(o.buf) || inPlace.has(o.name)) continue;
      const g = this.fresh(o.dtype, o.shape.map((d) => dimEval(d, dims)));
      if (g.storage !== storageOf(plan.buffers[o.buf]!.dtype)) throw new SessionError(`internal: output '${o.name}' storage mismatch`);
      produced[o.name] = g;
      ids[o.buf] = g.id;
    }
    mem.slotBytes.forEach((bytes, s) => {
      if (!ids.includes(scratchId(s))) return;
      if ((this.scratch.get(s) ?? -1) < bytes) { this.ex.alloc(scratchId(s), bytes); this.scratch.set(s, bytes); }
    });
    this.ex.alloc('dims', Math.max(4, dimVals.length * 4));
    this.ex.write('dims', Int32Array.from(dimVals.length ? dimVals : [0]));
    // Tile maps need the mask inputs' values on the host: read back any that only exist on the device.
    if (plan.tileMaps.length) {
      for (const i of plan.inputs) if (!hostInputs.has(i.name)) { const t = call.inputs.get(i.name)!; hostInputs.set(i.name, isDeviceTensor(t) ? await t.read() : t); }
    }
    const tileCounts: { kernel: string; empty: number; full: number; partial: number }[] = [];
    for (const t of await computeTileMaps(plan, c.graph, hostInputs, dims)) {
      this.ex.write(ids[t.buf]!, t.classes);
      tileCounts.push({ kernel: t.kernel, ...t.counts });
    }
    const dispatches = c.kernels.map((k, i) => ({
      label: k.name, kind: plan.kernels[i]!.opKind, code: k.code, entryPoint: 'main',
      bindings: k.bindings.map((b) => (b < 0 ? 'dims' : ids[b]!)), workgroups: k.workgroups(dimVals),
    }));
    try {
      const res = await this.ex.run(dispatches, { profile: call.profile === true });
      const outputs: Record<string, HostTensor> = {};
      for (const o of plan.outputs) {
        if (!call.read.includes(o.name)) continue;
        const shape = o.shape.map((d) => dimEval(d, dims));
        const s = storageOf(plan.buffers[o.buf]!.dtype);
        outputs[o.name] = decode(await this.ex.read(ids[o.buf]!, bytesOf(s, shape.reduce((a, b) => a * b, 1))), s, o.dtype, shape);
      }
      const device: Record<string, DeviceTensor> = {};
      for (const o of plan.outputs) {
        if (!leaves(o.name)) continue;
        if (inPlace.has(o.name)) { if (call.written.includes(o.name)) device[o.name] = call.inputs.get(o.name) as GpuTensor; continue; }
        // An output that is an input or parameter buffer as such is copied, so the two stay independent.
        device[o.name] = produced[o.name] ?? this.copy(new GpuTensor(this, ids[o.buf]!, o.dtype, o.shape.map((d) => dimEval(d, dims)), storageOf(plan.buffers[o.buf]!.dtype)));
      }
      const timings: KernelTime[] = res.timings.map((t) => ({ label: t.label, kind: t.kind, ms: t.ms }));
      return { outputs, device, timings, inPlace: c.inPlace, info: { memory: mem, tileCounts, kernels: c.kernels.length, gpuMs: res.totalMs, plan } };
    } catch (e) {
      for (const g of Object.values(produced)) g.dispose();
      throw e;
    } finally {
      for (const g of temps) g.dispose();
    }
  }

  dispose(): void {
    this.ex.destroy();
    this.closed = true;
    this.params.clear();
    this.compiled.clear();
    this.scratch.clear();
  }
}
