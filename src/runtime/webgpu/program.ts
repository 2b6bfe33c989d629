/**
 * Running a compiled entry on WebGPU: bind dims from the inputs, plan memory, upload, compute block-sparse
 * tile maps on the host, encode every kernel in one submission, read the outputs back.
 */
import { dimEval } from '../../core/dim.js';
import { hostTensor, type HostTensor } from '../../core/tensor.js';
import { WEBGPU_LIMITS, renderWgslPlan, type KernelRenderer, type RenderedKernel } from '../../codegen-wgsl/wgsl.js';
import type { Graph, IExpr, Node, Program } from '../../ir/graph.js';
import { bufferNumel, type KernelPlan } from '../../ir/kernel.js';
import type { LowerOptions } from '../../ir/lower.js';
import { planEntry } from '../../ir/pipeline.js';
import { bindDims } from '../bind.js';
import { f16BitsToF32, f32ArrayToF16Bits } from '../weights.js';
import { planMemory, type MemoryPlan } from '../memory-plan.js';
import { computeTileMaps } from '../tiles.js';
import type { GpuContext } from './device.js';
import { GpuExecutor, type KernelTiming } from './executor.js';

export interface CompiledEntry {
  readonly graph: Graph;
  readonly plan: KernelPlan;
  readonly kernels: readonly RenderedKernel[];
}

/** The pipeline (graph passes, fusion, scheduling for WebGPU), then every kernel rendered. */
export function compileEntry(program: Program, entry: string, opts: LowerOptions = {}, render?: KernelRenderer): CompiledEntry {
  const found = program.entries.find((g) => g.entry === entry);
  if (!found) throw new Error(`unknown entry '${entry}'; this spec has ${program.entries.map((g) => g.entry).join(', ')}`);
  const { graph, plan } = planEntry(found, program.symbols, { limits: WEBGPU_LIMITS, lower: opts });
  return withPlan(graph, plan, render);
}

/** Render a plan lowered from `graph` (e.g. one whose schedules the tuner replaced); `render`: e.g. through the module cache (module-cache.ts). */
export function withPlan(graph: Graph, plan: KernelPlan, render?: KernelRenderer): CompiledEntry {
  return { graph, plan, kernels: renderWgslPlan(plan, render).kernels };
}

export interface RunOutput {
  readonly outputs: Map<string, HostTensor>;
  readonly timings: readonly KernelTiming[];
  readonly memory: MemoryPlan;
  readonly dims: Record<string, number>;
  readonly tileCounts: readonly { kernel: string; empty: number; full: number; partial: number }[];
  readonly totalMs: number;
}

/** Host tensor -> bytes in the buffer's storage type (bool and ints as i32, floats as f32). */
function toBytes(t: HostTensor, dtype: string): ArrayBufferView {
  if (dtype === 'f16') {
    const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    const bits = f32ArrayToF16Bits(f);
    // Buffer writes are whole 4-byte words: pad an odd count.
    if (bits.length % 2 === 0) return bits;
    const padded = new Uint16Array(bits.length + 1);
    padded.set(bits);
    return padded;
  }
  if (dtype === 'f32') return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  return t.data instanceof Int32Array ? t.data : Int32Array.from(t.data, (x) => Math.trunc(x));
}

export async function runEntry(ctx: GpuContext, c: CompiledEntry, program: Program, weights: ReadonlyMap<string, HostTensor>,
  inputs: ReadonlyMap<string, HostTensor>, opts: { profile?: boolean } = {}): Promise<RunOutput> {
  const { plan } = c;
  const dims = bindDims(plan.inputs.map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape })), inputs, plan.symbols);
  const dimVals = plan.symbols.map((s) => dims[s] ?? 0);
  const mem = planMemory(plan, dims);
  const ex = new GpuExecutor(ctx);
  try {
    const slotId = (s: number) => `slot${s}`;
    mem.slotBytes.forEach((bytes, s) => ex.alloc(slotId(s), bytes));
    ex.alloc('dims', Math.max(4, dimVals.length * 4));
    ex.write('dims', Int32Array.from(dimVals.length ? dimVals : [0]));
    for (const i of plan.inputs) ex.write(slotId(mem.slotOf[i.buf]!), toBytes(inputs.get(i.name)!, plan.buffers[i.buf]!.dtype));
    for (const p of plan.params) {
      const w = weights.get(p.name);
      if (!w) throw new Error(`missing weight '${p.name}'`);
      ex.write(slotId(mem.slotOf[p.buf]!), toBytes(w, plan.buffers[p.buf]!.dtype));
    }
    const tileCounts: RunOutput['tileCounts'][number][] = [];
    for (const t of await computeTileMaps(plan, c.graph, inputs, dims)) {
      ex.write(slotId(mem.slotOf[t.buf]!), t.classes);
      tileCounts.push({ kernel: t.kernel, ...t.counts });
    }
    const dispatches = c.kernels.map((k, i) => ({
      label: k.name, kind: plan.kernels[i]!.opKind, code: k.code, entryPoint: 'main',
      bindings: k.bindings.map((b) => (b < 0 ? 'dims' : slotId(mem.slotOf[b]!))),
      workgroups: k.workgroups(dimVals),
    }));
    const res = await ex.run(dispatches, { profile: !!opts.profile });
    const outputs = new Map<string, HostTensor>();
    for (const o of plan.outputs) {
      const shape = o.shape.map((d) => dimEval(d, dims));
      const n = shape.reduce((a, b) => a * b, 1);
      const st = plan.buffers[o.buf]!.dtype;
      const raw = await ex.read(slotId(mem.slotOf[o.buf]!), Math.max(4, Math.ceil((n * (st === 'f16' ? 2 : 4)) / 4) * 4));
      const data = st === 'f16' ? Float32Array.from(new Uint16Array(raw, 0, n), f16BitsToF32)
        : st === 'f32' ? Float32Array.from(new Float32Array(raw, 0, n)) : Int32Array.from(new Int32Array(raw, 0, n));
      outputs.set(o.name, hostTensor(o.dtype, shape, data));
    }
    return { outputs, timings: res.timings, memory: mem, dims, tileCounts, totalMs: res.totalMs };
  } finally {
    ex.destroy();
  }
}

