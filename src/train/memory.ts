/**
 * Device memory of one training step of DeviceTrainer (device.ts) on WebGPU, from the plans alone (nothing
 * runs): what the session holds while the gradient entry and then the optimizer entry run.
 *
 * - parameters, AdamW moments (2x the parameters, f32) and the kept gradients: resident across the step;
 * - the batch's inputs, uploaded per call;
 * - intermediates: temporaries of each entry's plan share slots by liveness (memory-plan.ts); the session keeps
 *   its scratch slots between calls and entries (slot s holds the larger of the two entries' slot s), so the
 *   step's scratch is the sum over slots of that maximum. The optimizer's updates are stored in place
 *   (in-place.ts), so its outputs need no buffers; those that do not qualify are counted as intermediates.
 */
import { WEBGPU_LIMITS } from '../codegen-wgsl/wgsl.js';
import { byteSize } from '../core/dtype.js';
import { decomposeBackward } from '../ir/autodiff/decompose.js';
import { DEVICE_KERNELS } from '../ir/autodiff/grad.js';
import type { Graph, Program } from '../ir/graph.js';
import { storeInPlace } from '../ir/in-place.js';
import { bufferNumel, type KernelPlan } from '../ir/kernel.js';
import { planEntry } from '../ir/pipeline.js';
import { planMemory, storageBytes } from '../runtime/memory-plan.js';
import { gradName, mName, newName, optimizerGraph, vName } from './optim-graph.js';
import type { AdamWConfig } from './optim.js';

export interface StepMemory {
  readonly params: number;
  readonly moments: number;
  readonly grads: number;
  readonly inputs: number;
  /** Scratch of the gradient entry with liveness reuse, and with one buffer per temporary. */
  readonly gradScratch: number;
  readonly gradScratchNaive: number;
  readonly optimizerScratch: number;
  /** Scratch the session holds over the step (per slot, the larger entry's). */
  readonly scratch: number;
  /** Everything at once: the step's peak. */
  readonly peak: number;
  readonly kernels: { readonly grad: number; readonly optimizer: number };
}

const bytesOf = (plan: KernelPlan, b: number, dims: Readonly<Record<string, number>>) =>
  storageBytes(bufferNumel(plan.buffers[b]!, dims) * byteSize(plan.buffers[b]!.dtype));

/** Slot bytes of a plan's scratch: slots of buffers that are not inputs, parameters or `own` outputs. */
function scratchSlots(plan: KernelPlan, dims: Readonly<Record<string, number>>, own: ReadonlySet<string>): { slots: number[]; naive: number } {
  const mem = planMemory(plan, dims);
  const outside = new Set([...plan.inputs.map((i) => i.buf), ...plan.params.map((p) => p.buf), ...plan.outputs.filter((o) => own.has(o.name)).map((o) => o.buf)]);
  const slots: number[] = [];
  let naive = 0;
  plan.buffers.forEach((_, b) => {
    if (outside.has(b)) return;
    const s = mem.slotOf[b]!;
    slots[s] = mem.slotBytes[s]!;
    naive += bytesOf(plan, b, dims);
  });
  return { slots, naive };
}

/**
 * Memory of a step of the gradient entry `grad` (program.entries[0], as the driver makes it) at `dims`, with
 * the optimizer entry for `adamw`; storage as on WebGPU (f32 for float tensors).
 */
export function trainStepMemory(program: Program, dims: Readonly<Record<string, number>>, adamw: AdamWConfig): StepMemory {
  const grad: Graph = decomposeBackward(program.entries[0]!, {}, DEVICE_KERNELS);
  const gp = planEntry(grad, program.symbols, { limits: WEBGPU_LIMITS }).plan; // symbolic, as the session compiles it
  const op0 = planEntry(optimizerGraph(program.params, adamw), [], { limits: WEBGPU_LIMITS }).plan;
  const pairs = program.params.flatMap((p) => [mName(p.name), vName(p.name), newName(p.name)].map((output) => ({
    output, source: output.startsWith('new.') ? op0.params.find((x) => x.name === p.name)!.buf : op0.inputs.find((i) => i.name === output)!.buf,
  })));
  const { plan: op, inPlace } = storeInPlace(op0, pairs);
  const params = program.params.reduce((a, p) => a + storageBytes(4 * p.shape.reduce((x, y) => x * y, 1)), 0);
  const grads = new Set(program.params.map((p) => gradName(p.name)));
  const inputs = gp.inputs.reduce((a, i) => a + bytesOf(gp, i.buf, dims), 0);
  const g = scratchSlots(gp, dims, grads), o = scratchSlots(op, {}, new Set(inPlace));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + (b ?? 0), 0);
  const scratch = sum(Array.from({ length: Math.max(g.slots.length, o.slots.length) }, (_, s) => Math.max(g.slots[s] ?? 0, o.slots[s] ?? 0)));
  return {
    params, moments: 2 * params, grads: params, inputs,
    gradScratch: sum(g.slots), gradScratchNaive: g.naive, optimizerScratch: sum(o.slots), scratch,
    peak: 3 * params + params + inputs + scratch,
    kernels: { grad: gp.kernels.length, optimizer: op.kernels.length },
  };
}
