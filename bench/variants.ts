/**
 * Schedule variants per kernel kind, pruned by the device's limits before anything is compiled, ordered so a
 * bounded search (budget, max count) tries the default first and the likeliest winners next.
 */
import { dimEval } from '../src/core/dim.js';
import type { AttentionSchedule, Kernel, MapSchedule, MatmulSchedule, RowSchedule } from '../src/ir/kernel.js';
import type { GpuLimits } from '../src/runtime/webgpu/device.js';
import type { Schedule } from '../src/runtime/tune-cache.js';

export interface Variant { readonly name: string; readonly schedule: Schedule; readonly isDefault: boolean }

export function scheduleName(kind: Kernel['kind'], s: Schedule): string {
  switch (kind) {
    case 'map': { const m = s as MapSchedule; return `wg${m.wg}x${m.perThread}`; }
    case 'row': return `wg${(s as RowSchedule).wg}`;
    case 'matmul': { const m = s as MatmulSchedule; return `wg${m.wgX}x${m.wgY}_t${m.tm}x${m.tn}`; }
    case 'attention': { const a = s as AttentionSchedule; return `${a.sparse ? 'sparse' : 'dense'}_bq${a.bq}_bk${a.bk}`; }
  }
}

/** Why a schedule cannot run on this device for this kernel at these sizes, or null if it can. */
export function violatesLimits(k: Kernel, s: Schedule, lim: GpuLimits, dims: Readonly<Record<string, number>>): string | null {
  const maxGroups = lim.maxComputeWorkgroupsPerDimension;
  switch (k.kind) {
    case 'map': {
      const m = s as MapSchedule;
      return m.wg > lim.maxComputeInvocationsPerWorkgroup || m.wg > lim.maxComputeWorkgroupSizeX ? `workgroup ${m.wg} > device max` : null;
    }
    case 'row': {
      const r = s as RowSchedule;
      if (r.wg > lim.maxComputeInvocationsPerWorkgroup || r.wg > lim.maxComputeWorkgroupSizeX) return `workgroup ${r.wg} > device max`;
      return r.wg * 4 > lim.maxComputeWorkgroupStorageSize ? 'reduction scratch exceeds workgroup storage' : null;
    }
    case 'matmul': {
      const m = s as MatmulSchedule;
      if (m.wgX * m.wgY > lim.maxComputeInvocationsPerWorkgroup) return `workgroup ${m.wgX}x${m.wgY} > ${lim.maxComputeInvocationsPerWorkgroup} invocations`;
      if (m.wgX > lim.maxComputeWorkgroupSizeX || m.wgY > lim.maxComputeWorkgroupSizeY) return 'workgroup side > device max';
      const x = Math.ceil(dimEval(k.N, dims) / (m.wgX * m.tn)), y = Math.ceil(dimEval(k.M, dims) / (m.wgY * m.tm));
      return x > maxGroups || y > maxGroups ? `grid ${x} x ${y} > ${maxGroups} per dimension` : null;
    }
    case 'attention': {
      const a = s as AttentionSchedule;
      const bytes = a.bk * (k.D + k.Dv) * 4;
      if (bytes > lim.maxComputeWorkgroupStorageSize) return `K/V tiles need ${bytes} B of workgroup storage > ${lim.maxComputeWorkgroupStorageSize}`;
      if (a.bq > lim.maxComputeInvocationsPerWorkgroup || a.bq > lim.maxComputeWorkgroupSizeX) return `bq ${a.bq} > device workgroup max`;
      return Math.ceil(dimEval(k.Sq, dims) / a.bq) > maxGroups ? 'too many query tiles' : null;
    }
  }
}

/** Every candidate schedule of a kernel (before limits), default first. */
export function candidates(k: Kernel): Schedule[] {
  const out: Schedule[] = [k.schedule];
  switch (k.kind) {
    case 'map':
      for (const wg of [64, 128, 256]) for (const perThread of [1, 2, 4]) out.push({ wg, perThread });
      break;
    case 'row':
      for (const wg of [32, 64, 128, 256]) out.push({ wg });
      break;
    case 'matmul': {
      const all: MatmulSchedule[] = [];
      for (const wgX of [4, 8, 16]) for (const wgY of [4, 8, 16]) for (const tm of [1, 2, 4, 8]) for (const tn of [1, 2, 4, 8])
        all.push({ wgX, wgY, tm, tn, tk: k.schedule.tk, shared: k.schedule.shared });
      // Likeliest first: 64..256 threads and 4..16 outputs per thread (enough reuse, few registers).
      const score = (m: MatmulSchedule) => Math.abs(Math.log2(m.wgX * m.wgY) - 7) + Math.abs(Math.log2(m.tm * m.tn) - 3.5) + 0.1 * Math.abs(Math.log2(m.tm / m.tn));
      out.push(...all.sort((a, b) => score(a) - score(b)));
      break;
    }
    case 'attention': {
      const sparse = k.tiles !== null;
      for (const s of sparse ? [true, false] : [false]) for (const bq of [16, 32, 8]) for (const bk of [16, 32, 8]) out.push({ bq, bk, sparse: s });
      break;
    }
  }
  return out;
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
  for (const s of candidates(k)) {
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
