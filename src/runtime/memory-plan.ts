/**
 * Memory planning: temporaries share physical buffers when their lifetimes (first write .. last read, in
 * kernel order) do not overlap. Inputs, params and outputs keep their own buffers.
 */
import { byteSize } from '../core/dtype.js';
import { bufferNumel, type KernelPlan } from '../ir/kernel.js';

export interface MemoryPlan {
  /** physical slot of each logical buffer */
  readonly slotOf: readonly number[];
  readonly slotBytes: readonly number[];
  readonly plannedBytes: number;        // sum of all slots
  readonly naiveBytes: number;          // one buffer per logical buffer
  readonly tempPlannedBytes: number;
  readonly tempNaiveBytes: number;
}

/**
 * Bytes a device buffer of `bytes` payload takes: the one padding rule of every GPU buffer, a multiple of 16
 * bytes (at least 16), so a kernel that binds it as `array<vec4<f32>>` (vector loads, src/ir/kernel-ir.ts)
 * reaches every element. The WebGPU executor allocates by it; memory figures count by it.
 */
export const storageBytes = (bytes: number): number => Math.max(16, Math.ceil(bytes / 16) * 16);

export function planMemory(plan: KernelPlan, dims: Readonly<Record<string, number>>): MemoryPlan {
  const n = plan.buffers.length;
  const bytes = plan.buffers.map((b) => storageBytes(bufferNumel(b, dims) * byteSize(b.dtype)));
  const first = new Array<number>(n).fill(Infinity), last = new Array<number>(n).fill(-1);
  plan.kernels.forEach((k, i) => {
    for (const b of [...k.reads, k.out]) { first[b] = Math.min(first[b]!, i); last[b] = Math.max(last[b]!, i); }
  });
  // Tile maps are written before the first kernel.
  for (const t of plan.tileMaps) first[t.buf] = -1;
  const slotOf = new Array<number>(n).fill(-1);
  const slotBytes: number[] = [];
  const freeAt: number[] = [];   // slot -> index of the kernel after which it is free
  const order = plan.buffers.map((_, i) => i).filter((i) => plan.buffers[i]!.kind === 'temp').sort((a, b) => first[a]! - first[b]!);
  for (let i = 0; i < n; i++) if (plan.buffers[i]!.kind !== 'temp') { slotOf[i] = slotBytes.length; slotBytes.push(bytes[i]!); freeAt.push(Infinity); }
  for (const b of order) {
    let best = -1;
    for (let s = 0; s < slotBytes.length; s++) {
      if (freeAt[s]! < first[b]! && slotBytes[s]! >= bytes[b]! && (best < 0 || slotBytes[s]! < slotBytes[best]!)) best = s;
    }
    if (best < 0) {
      // Grow the largest free slot rather than adding one, when one is free.
      for (let s = 0; s < slotBytes.length; s++) if (freeAt[s]! < first[b]! && (best < 0 || slotBytes[s]! > slotBytes[best]!)) best = s;
      if (best >= 0) slotBytes[best] = bytes[b]!;
    }
    if (best < 0) { best = slotBytes.length; slotBytes.push(bytes[b]!); freeAt.push(0); }
    slotOf[b] = best;
    freeAt[best] = last[b]! < 0 ? first[b]! : last[b]!;
  }
  const temps = plan.buffers.map((b, i) => (b.kind === 'temp' ? i : -1)).filter((i) => i >= 0);
  const tempSlots = new Set(temps.map((i) => slotOf[i]!));
  return {
    slotOf, slotBytes,
    plannedBytes: slotBytes.reduce((a, b) => a + b, 0),
    naiveBytes: bytes.reduce((a, b) => a + b, 0),
    tempPlannedBytes: [...tempSlots].reduce((a, s) => a + slotBytes[s]!, 0),
    tempNaiveBytes: temps.reduce((a, i) => a + bytes[i]!, 0),
  };
}
