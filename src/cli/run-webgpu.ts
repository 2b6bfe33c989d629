/** `tfx run --backend webgpu`: compile, run once to warm up shaders when profiling, print the profile. */
import type { HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import type { KernelPlan } from '../ir/kernel.js';
import { writeOutputFile } from '../runtime/fs-out.js';
import { analyzeProfile, chromeTrace, formatProfile } from '../runtime/profile.js';
import { getGpu, targetLimitsOf } from '../runtime/webgpu/device.js';
import { measurePeak } from '../runtime/webgpu/peak.js';
import { compileEntry, runEntry, withPlan, type RunOutput } from '../runtime/webgpu/program.js';
import { cachedRenderer } from '../runtime/webgpu/module-cache.js';

const log = (s: string) => process.stderr.write(s + '\n');

export async function runWebGpuCli(program: Program, entry: string, weights: ReadonlyMap<string, HostTensor>, inputs: ReadonlyMap<string, HostTensor>,
  o: { profile: boolean; useCache: boolean; trace?: string | undefined; spec?: { file: string; source: string } | undefined }): Promise<Map<string, HostTensor>> {
  let t0 = performance.now();
  const ctx = await getGpu();
  log(`opened ${ctx.deviceString} in ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  // Rendered modules come from the on-disk cache where an earlier process wrote them (module-cache.ts).
  const render = cachedRenderer(ctx.deviceString);
  let compiled = compileEntry(program, entry, {}, render);
  if (o.useCache) {
    const tune = await import('../runtime/tune-cache.js').catch(() => undefined);
    if (tune) {
      const cache = tune.loadTuneCache();
      if (cache) {
        const plan = tune.applyTuneCache(compiled.plan, cache, ctx.deviceString, targetLimitsOf(ctx.limits));
        if (plan !== compiled.plan) { compiled = withPlan(compiled.graph, plan, render); log('using tuned schedules from the tune cache'); }
      }
    }
  }
  log(`lowered to ${compiled.kernels.length} kernels (WGSL) in ${(performance.now() - t0).toFixed(0)} ms`);
  t0 = performance.now();
  let res: RunOutput = await runEntry(ctx, compiled, program, weights, inputs, { profile: o.profile });
  log(`ran on WebGPU in ${(performance.now() - t0).toFixed(0)} ms (first run: includes shader compilation)`);
  if (o.profile) {
    t0 = performance.now();
    res = await runEntry(ctx, compiled, program, weights, inputs, { profile: true });
    log(`warm run: ${(performance.now() - t0).toFixed(0)} ms wall, ${res.timings.reduce((s, t) => s + t.ms, 0).toFixed(2)} ms of GPU time`);
    if (o.spec && res.timings.length) await printSpecProfile({ plan: compiled.plan, timings: res.timings, dims: res.dims, tileCounts: res.tileCounts }, { ...o.spec, trace: o.trace, meta: { entry, model: program.model, preset: program.preset } });
    else printProfile(res);
  }
  log(`memory: ${fmtBytes(res.memory.tempPlannedBytes)} planned for intermediates vs ${fmtBytes(res.memory.tempNaiveBytes)} with one buffer each; ${fmtBytes(res.memory.plannedBytes)} in all`);
  return res.outputs;
}

/**
 * The profile people read (runtime/profile.ts): per kernel with the spec spans it fused, per spec line, block and
 * op kind, against the device's measured peak; optionally a Chrome trace-event file.
 */
export async function printSpecProfile(r: { plan: KernelPlan; timings: RunOutput['timings']; dims: Readonly<Record<string, number>>; tileCounts: RunOutput['tileCounts'] },
  o: { file: string; source: string; trace?: string | undefined; meta: Record<string, string> }): Promise<void> {
  const ctx = await getGpu();
  if (!ctx.hasTimestamps) { printProfile(r); return; }
  const prof = analyzeProfile(r.plan, r.timings, r.dims, await measurePeak(ctx));
  process.stderr.write(formatProfile(prof, o.file, o.source));
  printTiles(r);
  if (o.trace) {
    writeOutputFile(o.trace, JSON.stringify(chromeTrace(prof, o.file, o.meta), null, 1) + '\n');
    log(`wrote the trace to ${o.trace} (open it in chrome://tracing or ui.perfetto.dev)`);
  }
}

export function fmtBytes(b: number): string {
  return b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(2)} GiB` : b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(2)} MiB` : `${(b / 1024).toFixed(1)} KiB`;
}

export function printProfile(res: Pick<RunOutput, 'timings' | 'tileCounts'>): void {
  const total = res.timings.reduce((s, t) => s + t.ms, 0) || 1;
  log('  kernel                     kind                   ms      share');
  for (const t of res.timings) log(`  ${t.label.padEnd(26)} ${t.kind.padEnd(18)} ${t.ms.toFixed(3).padStart(9)} ${(100 * t.ms / total).toFixed(1).padStart(6)}%`);
  const byKind = new Map<string, { ms: number; n: number }>();
  for (const t of res.timings) { const e = byKind.get(t.kind) ?? { ms: 0, n: 0 }; e.ms += t.ms; e.n++; byKind.set(t.kind, e); }
  log('  by op kind:');
  for (const [k, e] of [...byKind].sort((a, b) => b[1].ms - a[1].ms)) log(`  ${k.padEnd(26)} x${String(e.n).padEnd(17)} ${e.ms.toFixed(3).padStart(9)} ${(100 * e.ms / total).toFixed(1).padStart(6)}%`);
  printTiles(res);
}

function printTiles(res: Pick<RunOutput, 'tileCounts'>): void {
  for (const t of res.tileCounts) {
    const n = t.empty + t.full + t.partial || 1;
    log(`  ${t.kernel}: tiles EMPTY ${(100 * t.empty / n).toFixed(1)}%, FULL ${(100 * t.full / n).toFixed(1)}%, PARTIAL ${(100 * t.partial / n).toFixed(1)}% of ${n}`);
  }
}
