/**
 * Running a compiled entry through CUDA: the same host work as the WebGPU runner (bind dims from the inputs,
 * plan memory, compute block-sparse tile maps), then either the CPU emulation of the generated CUDA (one
 * program, every launch in order) or a real GPU through the driver API (nvcc -> cubin -> cuLaunchKernel).
 */
import { dimEval } from '../../core/dim.js';
import { hostTensor, type HostTensor } from '../../core/tensor.js';
import type { RenderedCudaKernel } from '../../codegen-cuda/cuda.js';
import { renderCudaModule } from '../../codegen-cuda/module.js';
import { CUDA_LIMITS } from '../../codegen-cuda/cuda.js';
import { planEntry } from '../../ir/pipeline.js';
import type { Graph, IExpr, Node, Program } from '../../ir/graph.js';
import { bufferNumel, type KernelPlan } from '../../ir/kernel.js';
import type { LowerOptions } from '../../ir/lower.js';
import { bindDims } from '../bind.js';
import { planMemory, type MemoryPlan } from '../memory-plan.js';
import { computeTileMaps } from '../tiles.js';
import { bf16BitsToF32, f16BitsToF32, f32ArrayToBf16Bits, f32ArrayToF16Bits } from '../weights.js';
import { runCudaOnCpu, type CpuRunOptions, type Launch } from './cpu-run.js';
import { CudaUnavailableError, loadCudaDriver, type CudaBuffer, type CudaDriver, type LoadOptions } from './driver.js';
import { nvccCompile, type CudaArch } from './nvcc.js';

export interface CompiledCudaEntry {
  readonly graph: Graph;
  readonly plan: KernelPlan;
  readonly kernels: readonly RenderedCudaKernel[];
  /** The whole entry as one .cu translation unit. */
  readonly source: string;
}

export function compileCudaEntry(program: Program, entry: string, opts: LowerOptions = {}): CompiledCudaEntry {
  const found = program.entries.find((g) => g.entry === entry);
  if (!found) throw new Error(`unknown entry '${entry}'; this spec has ${program.entries.map((g) => g.entry).join(', ')}`);
  const { graph, plan } = planEntry(found, program.symbols, { limits: CUDA_LIMITS, lower: opts });
  const mod = renderCudaModule(plan, program);
  return { graph, plan, kernels: mod.kernels, source: mod.source };
}

export interface CudaLaunchRecord { readonly kernel: string; readonly grid: [number, number, number]; readonly block: readonly [number, number, number] }

export interface CudaRunOutput {
  readonly outputs: Map<string, HostTensor>;
  readonly memory: MemoryPlan;
  readonly dims: Record<string, number>;
  readonly tileCounts: readonly { kernel: string; empty: number; full: number; partial: number }[];
  readonly launches: readonly CudaLaunchRecord[];
}

/** Everything the host prepares before the first launch: slot contents, dims, launch shapes. */
interface Prepared {
  readonly dims: Record<string, number>;
  readonly dimVals: Int32Array;
  readonly mem: MemoryPlan;
  /** Initial bytes of each physical slot; null where the slot starts as scratch. */
  readonly init: (Uint8Array | null)[];
  readonly tileCounts: CudaRunOutput['tileCounts'][number][];
  readonly launches: CudaLaunchRecord[];
}

const asBytes = (v: ArrayBufferView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** Host tensor -> bytes in the buffer's storage type (ints and bool as i32, bool canonical 0/1). */
function encode(t: HostTensor, storage: string, what: string): Uint8Array {
  const isFloatData = t.data instanceof Float32Array;
  const wantFloat = storage === 'f32' || storage === 'f16' || storage === 'bf16';
  if (isFloatData !== wantFloat) throw new Error(`${what} holds ${t.dtype} data, the entry needs ${wantFloat ? 'floating-point' : 'integer'} values`);
  if (storage === 'f32') return asBytes(t.data);
  if (storage === 'f16') return asBytes(f32ArrayToF16Bits(t.data as Float32Array));
  if (storage === 'bf16') return asBytes(f32ArrayToBf16Bits(t.data as Float32Array));
  if (t.dtype === 'bool') return asBytes(Int32Array.from(t.data, (x) => (x !== 0 ? 1 : 0)));
  return asBytes(t.data);
}

function decode(bytes: Uint8Array, storage: string, dtype: HostTensor['dtype'], shape: number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const copy = bytes.slice(0, n * (storage === 'f16' || storage === 'bf16' ? 2 : 4));
  if (storage === 'f32') return hostTensor(dtype, shape, new Float32Array(copy.buffer, 0, n));
  if (storage === 'f16' || storage === 'bf16') {
    const bits = new Uint16Array(copy.buffer, 0, n);
    const dec = storage === 'f16' ? f16BitsToF32 : bf16BitsToF32;
    return hostTensor(dtype, shape, Float32Array.from(bits, dec));
  }
  return hostTensor(dtype, shape, new Int32Array(copy.buffer, 0, n));
}

async function prepare(c: CompiledCudaEntry, weights: ReadonlyMap<string, HostTensor>, inputs: ReadonlyMap<string, HostTensor>): Promise<Prepared> {
  const { plan } = c;
  const dims = bindDims(plan.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape })), inputs, plan.symbols);
  const dimVals = Int32Array.from(plan.symbols.map((s) => dims[s] ?? 0));
  const mem = planMemory(plan, dims);
  const init: (Uint8Array | null)[] = mem.slotBytes.map(() => null);
  const put = (buf: number, bytes: Uint8Array) => {
    const s = mem.slotOf[buf]!;
    const slot = (init[s] ??= new Uint8Array(mem.slotBytes[s]!));
    if (bytes.byteLength > slot.byteLength) throw new Error(`internal error: ${bytes.byteLength} bytes for a ${slot.byteLength}-byte slot`);
    slot.set(bytes);
  };
  for (const i of plan.inputs) put(i.buf, encode(inputs.get(i.name)!, plan.buffers[i.buf]!.dtype, `input '${i.name}'`));
  for (const p of plan.params) {
    const w = weights.get(p.name);
    if (!w) throw new Error(`missing weight '${p.name}'`);
    const need = bufferNumel(plan.buffers[p.buf]!, dims);
    if (w.data.length !== need) throw new Error(`weight '${p.name}' has ${w.data.length} elements, the entry needs ${need}`);
    put(p.buf, encode(w, plan.buffers[p.buf]!.dtype, `weight '${p.name}'`));
  }
  const tileCounts: Prepared['tileCounts'] = [];
  for (const t of await computeTileMaps(plan, c.graph, inputs, dims)) {
    put(t.buf, asBytes(t.classes));
    tileCounts.push({ kernel: t.kernel, ...t.counts });
  }
  const dv = Array.from(dimVals);
  const launches = c.kernels.map((k) => ({ kernel: k.name, grid: k.grid(dv), block: k.block }));
  return { dims, dimVals, mem, init, tileCounts, launches };
}

function readOutputs(c: CompiledCudaEntry, dims: Record<string, number>, bytesOf: (buf: number) => Uint8Array): Map<string, HostTensor> {
  const outputs = new Map<string, HostTensor>();
  for (const o of c.plan.outputs) {
    const shape = o.shape.map((d) => dimEval(d, dims));
    outputs.set(o.name, decode(bytesOf(o.buf), c.plan.buffers[o.buf]!.dtype, o.dtype, shape));
  }
  return outputs;
}

/** Runs the generated CUDA on the CPU (tfx_cuda_emu.h): blocks in sequence, a block's threads as OpenMP threads. */
export async function runCudaEntryOnCpu(c: CompiledCudaEntry, _program: Program, weights: ReadonlyMap<string, HostTensor>,
  inputs: ReadonlyMap<string, HostTensor>, opts: CpuRunOptions = {}): Promise<CudaRunOutput> {
  const p = await prepare(c, weights, inputs);
  const slot = (s: number) => `slot${s}`;
  const buffers: Record<string, ArrayBufferView> = { dims: p.dimVals.length ? p.dimVals : new Int32Array(1) };
  p.mem.slotBytes.forEach((bytes, s) => { buffers[slot(s)] = p.init[s] ?? new Uint8Array(bytes); });
  const launches: Launch[] = c.kernels.map((k, i) => ({
    kernel: k.fn, grid: p.launches[i]!.grid, block: [...k.block], sharedBytes: k.sharedBytes,
    args: k.params.map((b) => ({ buf: b < 0 ? 'dims' : slot(p.mem.slotOf[b]!) })),
  }));
  const outSlots = [...new Set(c.plan.outputs.map((o) => slot(p.mem.slotOf[o.buf]!)))];
  const res = await runCudaOnCpu(c.source, launches, buffers, outSlots, opts);
  const outputs = readOutputs(c, p.dims, (b) => res[slot(p.mem.slotOf[b]!)]!);
  return { outputs, memory: p.mem, dims: p.dims, tileCounts: p.tileCounts, launches: p.launches };
}

export interface CudaGpuOptions extends LoadOptions {
  /** Use this driver (left open) instead of loading one (closed at the end). */
  readonly driver?: CudaDriver;
  /** Time each launch with events (serializes launches). */
  readonly profile?: boolean;
}

export interface CudaGpuRunOutput extends CudaRunOutput {
  readonly device: string;
  readonly arch: CudaArch;
  /** Per-kernel GPU milliseconds, when profiled. */
  readonly timings: readonly { kernel: string; ms: number }[];
}

/** The nvcc target for a device: sm_80 cubins run on every 8.x part, sm_90 on 9.x; newer parts JIT the PTX. */
function targetFor(cc: readonly [number, number]): { arch: CudaArch; output: 'cubin' | 'ptx' } {
  const [major, minor] = cc;
  if (major < 8) throw new CudaUnavailableError(`the GPU has compute capability ${major}.${minor}; tfx's CUDA backend needs 8.0 or newer`);
  if (major === 8) return { arch: 'sm_80', output: 'cubin' };
  return { arch: 'sm_90', output: major === 9 ? 'cubin' : 'ptx' };
}

/**
 * Runs the entry on a GPU. Without a driver this throws CudaUnavailableError (one line for the user) before
 * doing anything else.
 */
export async function runCudaEntryOnGpu(c: CompiledCudaEntry, _program: Program, weights: ReadonlyMap<string, HostTensor>,
  inputs: ReadonlyMap<string, HostTensor>, opts: CudaGpuOptions = {}): Promise<CudaGpuRunOutput> {
  const driver = opts.driver ?? loadCudaDriver(opts);
  const owned = !opts.driver;
  const allocated: CudaBuffer[] = [];
  let mod: ReturnType<CudaDriver['loadModule']> | undefined;
  try {
    const p = await prepare(c, weights, inputs);
    const { arch, output } = targetFor(driver.computeCapability);
    const built = await nvccCompile(c.source, { arch, output });
    if (!built.ok || !built.binary) throw new Error(`nvcc could not compile entry '${c.plan.entry}' for ${arch}:\n${built.errors.join('\n')}`);
    mod = driver.loadModule(built.binary);
    const fns = c.kernels.map((k) => driver.getFunction(mod!, k.fn));
    const alloc = (bytes: number) => { const b = driver.alloc(bytes); allocated.push(b); return b; };
    const dimsBuf = alloc(Math.max(4, p.dimVals.byteLength));
    if (p.dimVals.length) driver.upload(dimsBuf, p.dimVals);
    const slots = p.mem.slotBytes.map((bytes, s) => {
      const b = alloc(bytes);
      const init = p.init[s];
      if (init) driver.upload(b, init);
      return b;
    });
    const timings: { kernel: string; ms: number }[] = [];
    c.kernels.forEach((k, i) => {
      const args = k.params.map((b) => ({ buf: b < 0 ? dimsBuf : slots[p.mem.slotOf[b]!]! }));
      const go = () => driver.launch(fns[i]!, p.launches[i]!.grid, [...k.block], k.sharedBytes, args);
      if (opts.profile) timings.push({ kernel: k.name, ms: driver.time(go) });
      else go();
    });
    driver.synchronize();
    const outputs = readOutputs(c, p.dims, (b) => driver.download(slots[p.mem.slotOf[b]!]!));
    return { outputs, memory: p.mem, dims: p.dims, tileCounts: p.tileCounts, launches: p.launches, device: driver.deviceName, arch, timings };
  } finally {
    // Cleanup must not mask the error that got us here (after a failed launch the context may refuse frees).
    const quietly = (f: () => void) => { try { f(); } catch { /* reported by the original error */ } };
    for (const b of allocated) quietly(() => driver.free(b));
    if (mod) quietly(() => driver.unloadModule(mod!));
    if (owned) quietly(() => driver.close());
  }
}

