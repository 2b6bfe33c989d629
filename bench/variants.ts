/**
 * Schedule variants per kernel kind (the space, names and limits live in src/ir/schedule.ts), pruned by the device's limits before anything is compiled, ordered so a
 * bounded search (budget, max count) tries the default first and the likeliest winners next.
 */
import { dimEval } from '../src/core/dim.js';
import type { Kernel, MatmulSchedule } from '../src/ir/kernel.js';
import { scheduleCandidates, scheduleName, scheduleViolation } from '../src/ir/schedule.js';
import { targetLimitsOf, type GpuLimits } from '../src/runtime/webgpu/device.js';
import type { Schedule } from '../src/runtime/tune-cache.js';

export interface Variant { readonly name: string; readonly schedule: Schedule; readonly isDefault: boolean }

export { scheduleName, targetLimitsOf };

/** Why a schedule cannot run on this device for this kernel at these sizes, or null if it can. */
export function violatesLimits(k: Kernel, s: Schedule, lim: GpuLimits, dims: Readonly<Record<string, number>>): string | null {
  return scheduleViolation(k, s, targetLimitsOf(lim), dims);
}

/**
 * The variants to try: unique, within the device's limits at these sizes, at most `max`. Matmul tiles much
 * wider than the output (only clamped duplicate work) are dropped too.
 */
export function variantsFor(k: Kernel, lim: GpuLimits, dims: Readonly<Record<string, number>>, max: number): { variants: Variant[]; pruned: number } {
  const seen = new Set<string>();
  const variants: Variant[] = [];
  let pruned = 0;
  const dflt = JSON.stringify(k.schedule);
  for (const s of scheduleCandidates(k)) {
    const key = JSON.stringify(s);
    if (seen.has(key)) continue;
    seen.add(key);
    if (violatesLimits(k, s, lim, dims) !== null || wasteful(k, s, dims)) { pruned++; continue; }
    if (variants.length < max) variants.push({ name: scheduleName(k.kind, s), schedule: s, isDefault: key === dflt });
  }
  return { variants, pruned };
}

function wasteful(k: Kernel, s: Schedule, dims: Readonly<Record<string, number>>): boolean {
  if (k.kind !== 'matmul' || JSON.stringify(s) === JSON.stringify(k.schedule)) return false;
  const m = s as MatmulSchedule;
  return m.wgX * m.tn > 2 * Math.max(1, dimEval(k.N, dims)) || m.wgY * m.tm > 2 * Math.max(1, dimEval(k.M, dims));
}
