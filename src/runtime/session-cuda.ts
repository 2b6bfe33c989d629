/**
 * The 'cuda' session backend. On a GPU (the driver API): parameters are uploaded once, device tensors are
 * driver allocations, each entry is built by nvcc once and its module kept loaded, and only the outputs asked
 * for are downloaded. With `emulate` (no GPU needed) the generated CUDA runs on the CPU emulation
 * (tfx_cuda_emu.h); there "device" memory is host memory and each call hands the emulated program its buffers.
 */
import { dimEval } from '../core/dim.js';
import type { DType } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import type { CudaBuffer, CudaDriver, CudaFunction, CudaModule } from './cuda/driver.js';
import type { CompiledCudaEntry } from './cuda/program.js';
import { planMemory } from './memory-plan.js';
import { isDeviceTensor, SessionError, type CallPlan, type DeviceTensor, type Engine, type WeightSource, type TensorArg } from './session.js';
import { computeTileMaps } from './tiles.js';
import { bf16BitsToF32, f16BitsToF32, f32ArrayToBf16Bits, f32ArrayToF16Bits } from './weights.js';

const asBytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const elemBytes = (storage: DType): number => (storage === 'f16' || storage === 'bf16' ? 2 : 4);

function encode(t: HostTensor, storage: DType): Uint8Array {
  if (storage === 'f32') return asBytes(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  if (storage === 'f16') return asBytes(f32ArrayToF16Bits(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)));
  if (storage === 'bf16') return asBytes(f32ArrayToBf16Bits(t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)));
  if (t.dtype === 'bool') return asBytes(Int32Array.from(t.data, (x) => (x !== 0 ? 1 : 0)));
  return asBytes(t.data instanceof Int32Array ? t.data : Int32Array.from(t.data, (x) => Math.trunc(x)));
}

function decode(bytes: Uint8Array, storage: DType, dtype: DType, shape: readonly number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const copy = bytes.slice(0, n * elemBytes(storage));
  if (storage === 'f32') return hostTensor(dtype, shape, new Float32Array(copy.buffer, 0, n));
  if (storage === 'f16' || storage === 'bf16') return hostTensor(dtype, shape, Float32Array.from(new Uint16Array(copy.buffer, 0, n), storage === 'f16' ? f16BitsToF32 : bf16BitsToF32));
  return hostTensor(dtype, shape, new Int32Array(copy.buffer, 0, n));
}

class CudaTensor implements DeviceTensor {
  readonly kind = 'device';
  readonly backend = 'cuda';
  private gone = false;
  constructor(private readonly eng: CudaEngine, readonly dtype: DType, readonly shape: readonly number[],
    /** GPU mode: the allocation and its storage type; emulation: the values. */
    readonly buf: CudaBuffer | undefined, readonly storage: DType, readonly host: HostTensor | undefined) {}
  get disposed(): boolean { return this.gone || this.eng.closed; }
  async read(): Promise<HostTensor> {
    if (this.disposed) throw new SessionError('use of a disposed device tensor');
    if (this.host) return hostTensor(this.host.dtype, this.host.shape, this.host.data.slice());
    return decode(this.eng.driver!.download(this.buf!), this.storage, this.dtype, this.shape);
  }
  dispose(): void {
    if (this.gone) return;
    this.gone = true;
    if (this.buf && !this.eng.closed) this.eng.driver!.free(this.buf);
  }
}

export async function openCudaEngine(program: Program, weights: WeightSource, o: { emulate: boolean }): Promise<CudaEngine> {
  let driver: CudaDriver | undefined;
  if (!o.emulate) driver = (await import('./cuda/driver.js')).loadCudaDriver(); // CudaUnavailableError (TFX6003) without one
  return new CudaEngine(program, weights, driver);
}

interface Built { readonly c: CompiledCudaEntry; readonly mod?: CudaModule; readonly fns?: readonly CudaFunction[] }

export class CudaEngine implements Engine {
  readonly backend = 'cuda';
  closed = false;
  private readonly params = new Map<string, CudaTensor>();
  private readonly built = new Map<string, Built>();
  private readonly owned = new Set<CudaTensor>();

  constructor(private readonly program: Program, weights: WeightSource, readonly driver: CudaDriver | undefined) {
    for (const p of program.params) this.params.set(p.name, this.make(weights.get(p.name)!, p.dtype));
  }

  private make(t: HostTensor, storage: DType): CudaTensor {
    let g: CudaTensor;
    if (this.driver) {
      const bytes = encode(t, storage);
      const buf = this.driver.alloc(Math.max(4, bytes.byteLength));
      this.driver.upload(buf, bytes);
      g = new CudaTensor(this, t.dtype, t.shape, buf, storage, undefined);
    } else g = new CudaTensor(this, t.dtype, t.shape, undefined, storage, hostTensor(t.dtype, t.shape, t.data.slice()));
    this.owned.add(g);
    return g;
  }
  private hostOf = async (t: TensorArg): Promise<HostTensor> => (isDeviceTensor(t) ? t.read() : t);

  upload(t: HostTensor): DeviceTensor { return this.make(t, t.dtype === 'bool' || t.dtype === 'i64' || t.dtype === 'u32' ? 'i32' : t.dtype); }
  zeros(dtype: DType, shape: readonly number[]): DeviceTensor { return this.upload(hostTensor(dtype, shape)); }
  copy(t: TensorArg): DeviceTensor {
    if (!isDeviceTensor(t)) return this.upload(t);
    const g = t as CudaTensor;
    if (g.host) return this.make(g.host, g.storage);
    // Driver copies go through the host here (no cuMemcpyDtoD binding yet); states and keeps do not copy.
    return this.make(decode(this.driver!.download(g.buf!), g.storage, g.dtype, g.shape), g.storage);
  }
  param(name: string): DeviceTensor {
    const p = this.params.get(name);
    if (!p) throw new SessionError(`no parameter '${name}'`);
    return p;
  }
  setParam(name: string, t: DeviceTensor): void { this.params.get(name)?.dispose(); this.params.set(name, t as CudaTensor); }

  private async build(entry: string): Promise<Built> {
    const have = this.built.get(entry);
    if (have) return have;
    const { compileCudaEntry } = await import('./cuda/program.js');
    const c = compileCudaEntry(this.program, entry);
    let b: Built = { c };
    if (this.driver) {
      const { nvccCompile } = await import('./cuda/nvcc.js');
      const [major] = this.driver.computeCapability;
      const arch = major === 8 ? 'sm_80' : 'sm_90';
      const out = await nvccCompile(c.source, { arch, output: major === 8 || major === 9 ? 'cubin' : 'ptx' });
      if (!out.ok || !out.binary) throw new Error(`nvcc could not compile entry '${entry}' for ${arch}:\n${out.errors.join('\n')}`);
      const mod = this.driver.loadModule(out.binary);
      b = { c, mod, fns: c.kernels.map((k) => this.driver!.getFunction(mod, k.name)) };
    }
    this.built.set(entry, b);
    return b;
  }

  async execute(call: CallPlan) {
    const { c, fns } = await this.build(call.graph.entry);
    const { plan } = c;
    const dims = call.dims;
    const hostInputs = new Map<string, HostTensor>();
    for (const i of plan.inputs) hostInputs.set(i.name, await this.hostOf(call.inputs.get(i.name)!));
    const outShape = (o: (typeof plan.outputs)[number]) => o.shape.map((d) => dimEval(d, dims));
    const outputs: Record<string, HostTensor> = {};
    const device: Record<string, DeviceTensor> = {};
    const leaves = (n: string) => call.keep.includes(n) || call.written.includes(n) || Object.hasOwn(call.assign ?? {}, n);

    if (!this.driver) {
      const { runCudaEntryOnCpu } = await import('./cuda/program.js');
      const weights = new Map([...this.params].map(([k, t]) => [k, t.host!]));
      const res = await runCudaEntryOnCpu(c, this.program, weights, hostInputs);
      for (const o of plan.outputs) {
        const t = res.outputs.get(o.name)!;
        if (call.read.includes(o.name)) outputs[o.name] = t;
        if (leaves(o.name)) device[o.name] = this.make(t, plan.buffers[o.buf]!.dtype);
      }
      return { outputs, device, timings: [], info: { memory: res.memory, tileCounts: res.tileCounts, emulated: true } };
    }

    const drv = this.driver;
    const mem = planMemory(plan, dims);
    const dimVals = Int32Array.from(plan.symbols.map((s) => dims[s] ?? 0));
    const scratch: CudaBuffer[] = [];
    const alloc = (bytes: number) => { const b = drv.alloc(Math.max(4, bytes)); scratch.push(b); return b; };
    const bufs = new Array<CudaBuffer | undefined>(plan.buffers.length);
    for (const p of plan.params) bufs[p.buf] = this.params.get(p.name)!.buf;
    for (const i of plan.inputs) {
      const t = call.inputs.get(i.name)!;
      const st = plan.buffers[i.buf]!.dtype;
      if (isDeviceTensor(t) && (t as CudaTensor).storage === st) bufs[i.buf] = (t as CudaTensor).buf;
      else { const b = alloc(mem.slotBytes[mem.slotOf[i.buf]!]!); drv.upload(b, encode(hostInputs.get(i.name)!, st)); bufs[i.buf] = b; }
    }
    const produced: Record<string, CudaTensor> = {};
    for (const o of plan.outputs) {
      if (!leaves(o.name) || bufs[o.buf]) continue;
      const shape = outShape(o);
      const st = plan.buffers[o.buf]!.dtype;
      const buf = drv.alloc(Math.max(4, shape.reduce((a, b) => a * b, 1) * elemBytes(st)));
      produced[o.name] = new CudaTensor(this, o.dtype, shape, buf, st, undefined);
      this.owned.add(produced[o.name]!);
      bufs[o.buf] = buf;
    }
    const slots = new Map<number, CudaBuffer>();
    for (let b = 0; b < plan.buffers.length; b++) {
      if (bufs[b]) continue;
      const s = mem.slotOf[b]!;
      if (!slots.has(s)) slots.set(s, alloc(mem.slotBytes[s]!));
      bufs[b] = slots.get(s)!;
    }
    const dimsBuf = alloc(Math.max(4, dimVals.byteLength));
    if (dimVals.length) drv.upload(dimsBuf, dimVals);
    try {
      for (const t of await computeTileMaps(plan, c.graph, hostInputs, dims)) drv.upload(bufs[t.buf]!, t.classes);
      const dv = Array.from(dimVals);
      c.kernels.forEach((k, i) => drv.launch(fns![i]!, k.grid(dv), [...k.block], k.sharedBytes, k.params.map((b) => ({ buf: b < 0 ? dimsBuf : bufs[b]! }))));
      drv.synchronize();
      for (const o of plan.outputs) {
        const st = plan.buffers[o.buf]!.dtype;
        if (call.read.includes(o.name)) outputs[o.name] = decode(drv.download(bufs[o.buf]!), st, o.dtype, outShape(o));
        if (leaves(o.name)) device[o.name] = produced[o.name] ?? this.make(decode(drv.download(bufs[o.buf]!), st, o.dtype, outShape(o)), st);
      }
      return { outputs, device, timings: [], info: { memory: mem, device: drv.deviceName } };
    } catch (e) {
      for (const t of Object.values(produced)) t.dispose();
      throw e;
    } finally {
      for (const b of scratch) { try { drv.free(b); } catch { /* reported by the original error */ } }
    }
  }

  dispose(): void {
    if (this.closed) return;
    for (const t of this.owned) t.dispose();
    for (const b of this.built.values()) if (b.mod) { try { this.driver!.unloadModule(b.mod); } catch { /* closing anyway */ } }
    try { this.driver?.close(); } catch { /* closing anyway */ }
    this.closed = true;
    this.owned.clear();
    this.params.clear();
  }
}
