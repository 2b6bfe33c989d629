/**
 * What `tfx bench` measures: the entry's kernels at their real shapes (variants per kernel kind, or every
 * kernel signature with --tune), standalone matmul and attention, the fused-attention table, and peers.
 * Every variant is checked against the interpreter before it is timed; only correct variants can win.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dimEval } from '../src/core/dim.js';
import type { HostTensor } from '../src/core/tensor.js';
import { compileFile, readSpec } from '../src/driver.js';
import { summarizeOrigins } from '../src/ir/provenance.js';
import { analyzeProfile } from '../src/runtime/profile.js';
import { measurePeak } from '../src/runtime/webgpu/peak.js';
import type { Graph, Program } from '../src/ir/graph.js';
import { interpret } from '../src/ir/interpreter.js';
import { bufferNumel, type Kernel, type KernelPlan } from '../src/ir/kernel.js';
import { lowerGraph, type LowerOptions } from '../src/ir/lower.js';
import { scheduleForTarget } from '../src/ir/schedule.js';
import { planEntry } from '../src/ir/pipeline.js';
import { WEBGPU_LIMITS } from '../src/codegen-wgsl/wgsl.js';
import { exampleInputs } from '../src/runtime/example-inputs.js';
import { planMemory } from '../src/runtime/memory-plan.js';
import { applyTuneCache, emptyTuneCache, kernelSignature, loadTuneCache, saveTuneCache, tuneKey, withSchedule, type TuneCache } from '../src/runtime/tune-cache.js';
import type { GpuContext } from '../src/runtime/webgpu/device.js';
import { initParams } from '../src/runtime/weights.js';
import { attentionCase, denseMask, matmulCase, type BenchCase } from './cases.js';
import { DoesNotFitError, PlanRunner, stats, type Timing } from './plan-runner.js';
import { interleave, type Participant } from './interleave.js';
import type { Dispatch } from '../src/runtime/webgpu/executor.js';
import type { PreparedPeer } from './peers/index.js';
import { variantsFor, scheduleName, type Variant } from './variants.js';

/** A standalone case (no spec): fusion and the WebGPU scheduling stage, as planEntry does after the graph passes. */
const lowerCase = (g: Graph, opts: LowerOptions = {}) => scheduleForTarget(lowerGraph(g, [], opts), WEBGPU_LIMITS);

/** The plan `tfx bench` measures for a spec entry: the same pipeline as run and compile (graph passes, fusion, WebGPU scheduling). */
export function benchPlan(file: string, preset: string | undefined, entryName: string | undefined) {
  const { program } = compileFile(file, { preset });
  const entry = entryName ?? (program.entries.some((g) => g.entry === 'forward') ? 'forward' : program.entries[0]?.entry);
  const found = program.entries.find((g) => g.entry === entry);
  if (!found) throw new BenchError(`unknown entry '${entry}'; this spec has ${program.entries.map((g) => g.entry).join(', ')}`);
  return { program, entry, ...planEntry(found, program.symbols, { limits: WEBGPU_LIMITS }) };
}

export interface BenchRecord {
  op: string; variant: string; shape: string; backend: string; device: string;
  median_ms: number; min_ms: number; max_ms: number; gflops: number | null; gbps?: number;
  correct: boolean; max_err: number;
  group: 'model' | 'op' | 'attention' | 'peer'; kernel?: string; is_default?: boolean; sampled_check?: boolean;
  timing: 'gpu' | 'wall'; iters: number; note?: string;
  /** The samples behind median/min/max, in the order taken (interleaved with the other participants). */
  samples_ms?: number[];
}
export interface Skipped { op: string; variant: string; shape: string; reason: string }
export interface AttentionRow {
  S: number; H: number; Hkv?: number; images: number;
  sparse_ms: number; sparse_best: string; dense_ms: number; unfused_ms: number | null; unfused_note?: string;
  nomask_ms: number; sparse_vs_unfused: number | null; mask_vs_nomask: number;
  tiles: { empty: number; full: number; partial: number; total: number };
  peak_bytes_fused: number; peak_bytes_unfused: number;
  /** median / min / max ms and sample count of the figures above, by variant name. */
  spread?: Record<string, Spread>;
}
export interface Spread { median: number; min: number; max: number; n: number }
export interface KernelTune { kernel: string; op: string; signature: string; label: string; default_variant: string; best_variant: string; default_ms: number; best_ms: number; speedup: number; tried: number; instances: number }
export interface ForwardSummary {
  /** Median GPU ms per call; with --tune, from `spread` (default and tuned sampled interleaved). */
  ms: number; spread?: Spread; by_kind: { kind: string; ms: number; share: number; kernels: number }[]; correct: boolean; max_err: number;
  /** Where the time goes in the spec (runtime/profile.ts): kernels with their fused ops and source spans, per spec line and block. */
  kernels?: { kernel: string; fused: string; src: string; ms: number; share: number; gflops: number; gbps: number; bound: string }[];
  by_line?: { line: string; text: string; ms: number; share: number; kernels: number }[];
  by_block?: { block: string; ms: number; share: number; kernels: number }[];
}
/** tfx against one peer on one case, measured interleaved; speedup_vs_peer = peer ms / tfx ms (> 1: tfx faster). */
export interface PeerRatio {
  op: string; shape: string; peer: string; ours_variant?: string; ours_gpu_ms: number; ours_wall_ms: number; peer_ms: number; peer_timing: 'gpu' | 'wall'; peer_wall_ms: number;
  speedup_vs_peer: number; peer_correct: boolean | null; note?: string;
  /** The two figures the ratio divides (like for like: both GPU or both end to end). */
  ours?: Spread; peer_stats?: Spread;
}

/** Where and how a run was made: what a reader needs before believing any figure of it. */
export interface Banner {
  adapter: string;
  /** A CPU rasterizer (lavapipe / llvmpipe, SwiftShader, a fallback adapter), not a GPU. */
  software_gpu: boolean;
  cpus: number;
  /** 1-minute load average when the run started and ended (the machine is shared). */
  load_start: number; load_end?: number;
  node: string; tfx_version: string; commit?: string;
  command: string;
  /** How variants and shapes were chosen (the same every run). */
  selection: string;
}

export interface BenchResult {
  version: 1; date: string; device: string; banner?: Banner; model?: { file: string; preset: string; entry: string; dims: Record<string, number> };
  quick: boolean; records: BenchRecord[]; skipped: Skipped[]; attention_table: AttentionRow[];
  tuning?: { budget_s: number; spent_s: number; cache: string; kernels: KernelTune[]; max_speedup: number; stopped_by_budget: boolean };
  forward?: { default: ForwardSummary; tuned?: ForwardSummary };
  peers: PeerRatio[]; notes: string[];
  /** Host-side costs (Benchmark.js): compile, tile classification, session call vs one-shot call. */
  host?: import('./host.js').HostRecord[];
  /** `--op attention-bwd`: fused vs unfused attention backward (bench/attention-bwd.ts). */
  attention_bwd?: { check: import('./attention-bwd.js').AttentionBwdCheck; rows: import('./attention-bwd.js').AttentionBwdRow[] };
}

/** One attention table row: sequence length, heads, patches per image. */
export interface AttentionShape { readonly S: number; readonly H: number; readonly Hkv?: number; readonly patches: number }

export interface Progress { add(n: number): void; tick(label: string): void }

export interface BenchOptions {
  readonly file: string; readonly preset?: string | undefined; readonly entry?: string | undefined;
  readonly op?: string | undefined; readonly matmulSizes: number[][]; readonly attention: readonly AttentionShape[];
  readonly tune: boolean; readonly budgetS: number; readonly peers: boolean; readonly quick: boolean;
  readonly cachePath?: string | undefined; readonly progress: Progress;
}

const ms = (x: number) => Math.round(x * 1e4) / 1e4;

export async function runBench(ctx: GpuContext, o: BenchOptions): Promise<BenchResult> {
  const res: BenchResult = { version: 1, date: new Date().toISOString(), device: ctx.deviceString, banner: banner(ctx), quick: o.quick, records: [], skipped: [], attention_table: [], peers: [], notes: [] };
  try { return await runSuite(ctx, o, res); } finally { res.banner!.load_end = loadavg()[0]!; }
}

/** Adapter, software or not, machine load, versions and the command line. */
export function banner(ctx: GpuContext): Banner {
  let commit: string | undefined, version = '?';
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* not a checkout */ }
  try { version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version; } catch { /* unknown */ }
  return {
    adapter: ctx.deviceString, software_gpu: /software|fallback|llvmpipe|lavapipe|swiftshader/i.test(ctx.deviceString), cpus: cpus().length, load_start: loadavg()[0]!,
    node: process.version, tfx_version: version, ...(commit ? { commit } : {}), command: `tfx ${process.argv.slice(2).join(' ')}`,
    selection: 'deterministic: the schedule candidates of src/ir/schedule.ts in their fixed order, pruned by the device limits; seeded inputs; variants and peers sampled interleaved (rotating order)',
  };
}

async function runSuite(ctx: GpuContext, o: BenchOptions, res: BenchResult): Promise<BenchResult> {
  const b = new Bencher(ctx, o, res);
  const wants = (kind: string) => o.op === undefined || o.op === kind;
  if (o.op === 'attention-bwd') {
    const { benchAttentionBwd } = await import('./attention-bwd.js');
    const shapes = o.quick ? [256] : [1024, 2048];
    o.progress.add(1 + shapes.length * (2 + 2 * (o.quick ? 2 : 5)));
    res.attention_bwd = await benchAttentionBwd(ctx, (g) => lowerCase(g), {
      shapes, H: 1, D: 64, patches: o.quick ? 32 : 256, samples: o.quick ? 2 : 5, cutAfterS: 1024,
      check: { S: 128, patches: 32 }, tick: (l) => o.progress.tick(l), notes: res.notes,
    });
    return res;
  }
  const modelKinds = o.op === undefined || !['attention-table', 'peers'].includes(o.op);
  if (modelKinds) await b.model();
  if (o.op === undefined || o.op === 'host') await b.host();
  if (wants('matmul')) for (const [m, k, n] of o.matmulSizes) await b.standalone(matmulCase(m!, k!, n!), 'matmul');
  if (wants('attention')) for (const a of o.attention) await b.attentionRow(a);
  if (o.peers) await b.peers();
  return res;
}

class Bencher {
  private readonly maxIters: number; private readonly minIters: number; private readonly targetMs: number;
  /** The fastest correct matmul variant per standalone shape (peers time it next to the default). */
  readonly bestMatmul = new Map<string, Variant>();
  constructor(readonly ctx: GpuContext, readonly o: BenchOptions, readonly res: BenchResult) {
    [this.minIters, this.maxIters, this.targetMs] = o.quick ? [3, 8, 100] : [5, 25, 600];
  }

  record(rec: Omit<BenchRecord, 'device'>): BenchRecord {
    const full = { ...rec, device: this.ctx.deviceString, median_ms: ms(rec.median_ms), min_ms: ms(rec.min_ms), max_ms: ms(rec.max_ms) };
    this.res.records.push(full);
    return full;
  }

  /** Host-side timings through a session (bench/host.ts). */
  async host(): Promise<void> {
    const o = this.o;
    const { program } = compileFile(o.file, { preset: o.preset });
    const entry = o.entry ?? (program.entries.some((g) => g.entry === 'forward') ? 'forward' : program.entries[0]?.entry);
    const graph = program.entries.find((g) => g.entry === entry);
    if (!graph) throw new BenchError(`unknown entry '${entry}'; this spec has ${program.entries.map((g) => g.entry).join(', ')}`);
    o.progress.add(1);
    const { hostBench } = await import('./host.js');
    this.res.host = await hostBench(this.ctx, o.file, o.preset, program, entry!, exampleInputs(program, graph, 1), initParams(program.params, 1), o.quick);
    o.progress.tick('host: compile, tiles, session call');
  }

  // ---- the entry's own kernels ------------------------------------------------------------------------

  async model(): Promise<void> {
    const o = this.o;
    const { program, entry, graph, plan } = benchPlan(o.file, o.preset, o.entry);
    const inputs = exampleInputs(program, graph, 1);
    const params = initParams(program.params, 1);
    o.progress.add(1);
    const dims = bindDims(program, graph, inputs);
    this.res.model = { file: o.file, preset: program.preset, entry: entry!, dims };
    const ref = interpret(graph.outputs.map((x) => x.node), { inputs, params, dims });
    const runner = new PlanRunner(this.ctx, graph, plan, dims, inputs, params);
    try {
      await runner.use(plan);
      const check = async () => compareOutputs(graph, ref, await runner.runAll());
      const base = await check();
      const prof = await this.forward(runner, base);
      o.progress.tick('model: default plan');
      this.res.forward = { default: prof.summary };
      if (!base.correct) this.res.notes.push(`default plan of ${entry} does not match the interpreter (max err ${base.maxErr})`);

      // Which kernels to vary: one representative per (kind, opKind), or every signature when tuning.
      const sig = plan.kernels.map(kernelSignature);
      const bySig = new Map<string, number[]>();
      sig.forEach((s, i) => bySig.set(s, [...(bySig.get(s) ?? []), i]));
      const pick = (ids: number[]) => ids.reduce((a, c) => (prof.perKernel[c]! > prof.perKernel[a]! ? c : a));
      let targets: number[];
      if (o.tune) targets = [...bySig.values()].map(pick).sort((a, c) => sigTime(c) - sigTime(a));
      else {
        const byKind = new Map<string, number[]>();
        plan.kernels.forEach((k, i) => byKind.set(`${k.kind}/${k.opKind}`, [...(byKind.get(`${k.kind}/${k.opKind}`) ?? []), i]));
        targets = [...byKind.values()].map(pick);
      }
      function sigTime(i: number) { return bySig.get(sig[i]!)!.reduce((s, j) => s + prof.perKernel[j]!, 0); }
      targets = targets.filter((i) => this.o.op === undefined || this.o.op === plan.kernels[i]!.kind || this.o.op === plan.kernels[i]!.opKind);
      // --tune: the first 12 candidates of a matmul (every family's likeliest: src/ir/schedule.ts), 8 of an
      // attention or row kernel, 6 of a map: about 190 for the tiny Transfusion forward, which a budget of 1200 s
      // covers on lavapipe at load 8 (3-5 s each), so the search tries the same candidates every run.
      const cap = (k: Kernel) => (o.tune ? (k.kind === 'matmul' ? 12 : k.kind === 'map' || k.kind === 'scatter' ? 6 : 8) : o.quick ? (k.kind === 'matmul' ? 3 : 2) : k.kind === 'matmul' ? 10 : 5);
      const lists = targets.map((i) => ({ i, ...variantsFor(plan.kernels[i]!, this.ctx.limits, dims, cap(plan.kernels[i]!)) }));
      o.progress.add(lists.reduce((s, l) => s + l.variants.length, 0));

      const t0 = performance.now();
      let stoppedByBudget = false;
      const tunes: KernelTune[] = [];
      const cache: TuneCache = o.tune ? loadTuneCache(o.cachePath) ?? emptyTuneCache() : emptyTuneCache();
      // Rank by rank across kernels (every kernel's default, then every kernel's likeliest candidate, ...), so a
      // budget that runs out leaves every kernel with its likeliest candidates tried, the same ones every run.
      const found = new Map<number, { v: Variant; t: Timing; ok: boolean }[]>(lists.map((l) => [l.i, []]));  // t is re-set by the confirmation below
      // A candidate goes on every instance of the signature (as the tune cache applies it) and is timed inside
      // whole forwards (PlanRunner.timeWithin): ms per instance as the forward runs it.
      const on = (i: number, s: Variant['schedule']) => bySig.get(sig[i]!)!.reduce((p, j) => withSchedule(p, j, s), plan);
      const within = (i: number) => runner.timeWithin(bySig.get(sig[i]!)!, 1, o.quick ? 3 : 2 * this.minIters);
      const ranks = Math.max(0, ...lists.map((l) => l.variants.length));
      for (let rank = 0; rank < ranks; rank++) for (const { i, variants, pruned } of lists) {
        const k = plan.kernels[i]!, v = variants[rank];
        if (!v) continue;
        const results = found.get(i)!;
        if (o.tune && !v.isDefault && (performance.now() - t0) / 1000 > o.budgetS) { stoppedByBudget = true; o.progress.tick('budget spent'); continue; }
        await runner.use(on(i, v.schedule));
        const c = await check();
        const t = await within(i);
        results.push({ v, t, ok: c.correct });
        this.record({
          op: k.opKind, variant: v.name, shape: kernelShape(k, dims), backend: 'webgpu', ...timingFields(t), ...rates(k, plan, dims, t.median),
          correct: c.correct, max_err: c.maxErr, group: 'model', kernel: k.name, is_default: v.isDefault, timing: 'gpu', iters: t.samples.length,
          note: `timed inside the forward, per instance (${bySig.get(sig[i]!)!.length})${pruned ? `; ${pruned} variants pruned (device limits or wasteful tiles)` : ''}`,
        });
        o.progress.tick(`${k.name} ${v.name}`);
      }
      for (const { i } of lists) {
        const k = plan.kernels[i]!, results = found.get(i)!;
        const dflt = results.find((r) => r.v.isDefault);
        let best = results.filter((r) => r.ok).sort((a, c) => a.t.median - c.t.median)[0];
        if (dflt && best && best !== dflt) {
          // A shared 2-core machine is noisy: the default and the three fastest correct candidates are re-timed
          // in 5 interleaved rounds (order rotated) before a win is believed; the lowest median wins.
          const finalists = [dflt, ...results.filter((r) => r.ok && r !== dflt).sort((a, c) => a.t.median - c.t.median).slice(0, 3)];
          const again: number[][] = finalists.map(() => []);
          for (let round = 0; round < 5; round++) for (let j = 0; j < finalists.length; j++) {
            const at = (j + round) % finalists.length;
            await runner.use(on(i, finalists[at]!.v.schedule));
            again[at]!.push((await within(i)).median);
          }
          const med = again.map((x) => stats(x).median);
          const w = med.indexOf(Math.min(...med));
          best = w === 0 ? dflt : { ...finalists[w]!, t: { ...finalists[w]!.t, median: med[w]! } };
          dflt.t = { ...dflt.t, median: med[0]! };
        }
        if (dflt && best) {
          tunes.push({
            kernel: k.name, op: k.opKind, signature: sig[i]!, label: k.label, default_variant: dflt.v.name, best_variant: best.v.name,
            default_ms: ms(dflt.t.median), best_ms: ms(best.t.median), speedup: Math.round((dflt.t.median / best.t.median) * 100) / 100,
            tried: results.length, instances: bySig.get(sig[i]!)!.length,
          });
          if (o.tune) cache.entries[tuneKey(sig[i]!, this.ctx.deviceString)] = {
            signature: sig[i]!, device: this.ctx.deviceString, kind: k.kind, opKind: k.opKind, label: k.label, schedule: best.v.schedule,
            ms: best.t.median, defaultMs: dflt.t.median, dims, tunedAt: this.res.date,
          };
        }
      }
      const spent = (performance.now() - t0) / 1000;
      if (o.tune) {
        const path = saveTuneCache(cache, o.cachePath);
        this.res.tuning = { budget_s: o.budgetS, spent_s: Math.round(spent), cache: path, kernels: tunes, max_speedup: Math.max(1, ...tunes.map((t) => t.speedup)), stopped_by_budget: stoppedByBudget };
        const tuned = applyTuneCache(plan, cache, this.ctx.deviceString);
        await runner.use(tuned);
        const c = await check();
        this.res.forward.tuned = (await this.forward(runner, c)).summary;
        if (!c.correct) this.res.notes.push(`tuned plan of ${entry} does not match the interpreter (max err ${c.maxErr})`);
        // Default and tuned whole forwards sampled interleaved, so their ratio is fair on a loaded machine.
        const all = plan.kernels.map((_, j) => j);
        await runner.use(plan, 'default');
        const dd = runner.capture(all);
        await runner.use(tuned, 'tuned');
        const td = runner.capture(all);
        const part = (d: Dispatch[]): Part => ({ warm: 0, canWin: false, take: async () => (await runner.timeDispatches(d, 0, 1)).median, rec: {} as Part['rec'] });
        const [dt, tt] = await this.interleave([part(dd), part(td)], 'forward default vs tuned');
        const fw = this.res.forward;
        fw.default = { ...fw.default, ms: ms(dt!.median), spread: { median: ms(dt!.median), min: ms(dt!.min), max: ms(dt!.max), n: dt!.samples.length } };
        fw.tuned = { ...fw.tuned!, ms: ms(tt!.median), spread: { median: ms(tt!.median), min: ms(tt!.min), max: ms(tt!.max), n: tt!.samples.length } };
      } else if (tunes.length) {
        this.res.tuning = { budget_s: 0, spent_s: Math.round(spent), cache: '(not written without --tune)', kernels: tunes, max_speedup: Math.max(1, ...tunes.map((t) => t.speedup)), stopped_by_budget: false };
      }
    } finally {
      runner.destroy();
    }
  }

  /** Median GPU ms of the whole entry, per kernel and per op kind. */
  async forward(r: PlanRunner, c: { correct: boolean; maxErr: number }): Promise<{ summary: ForwardSummary; perKernel: number[] }> {
    const all = r.plan.kernels.map((_, i) => i);
    const iters = this.o.quick ? 3 : 10;
    await r.time(all, 1, 1);
    const res = await r.ex.run(Array.from({ length: iters }, () => all.map((i) => r.dispatch(i))).flat(), { profile: true });
    const n = all.length;
    const perKernel = all.map((i) => stats(Array.from({ length: iters }, (_, it) => res.timings[it * n + i]!.ms)).median);
    const total = stats(Array.from({ length: iters }, (_, it) => res.timings.slice(it * n, (it + 1) * n).reduce((s, t) => s + t.ms, 0))).median;
    const kinds = new Map<string, { ms: number; kernels: number }>();
    r.plan.kernels.forEach((k, i) => { const e = kinds.get(k.opKind) ?? { ms: 0, kernels: 0 }; e.ms += perKernel[i]!; e.kernels++; kinds.set(k.opKind, e); });
    const sum = perKernel.reduce((s, x) => s + x, 0) || 1;
    const by_kind = [...kinds].map(([kind, e]) => ({ kind, ms: ms(e.ms), share: Math.round((1000 * e.ms) / sum) / 1000, kernels: e.kernels })).sort((a, b) => b.ms - a.ms);
    const prof = analyzeProfile(r.plan, r.plan.kernels.map((k, i) => ({ label: k.name, ms: perKernel[i]! })), r.dims, await measurePeak(this.ctx));
    const file = this.o.file, lines = readSpec(file).split(/\r\n|\r|\n/);
    const kernels = [...prof.rows].sort((a, b) => b.ms - a.ms).map((x) => ({ kernel: x.name, fused: x.label, src: summarizeOrigins(x.src, file), ms: ms(x.ms), share: Math.round(1000 * x.share) / 1000, gflops: Math.round(100 * x.gflops) / 100, gbps: Math.round(100 * x.gbps) / 100, bound: x.bound }));
    const by_line = prof.byLine.map((g) => ({ line: `${file}:${g.key}`, text: (lines[Number(g.key) - 1] ?? '').trim(), ms: ms(g.ms), share: Math.round(1000 * g.share) / 1000, kernels: g.kernels }));
    const by_block = prof.byBlock.map((g) => ({ block: g.key, ms: ms(g.ms), share: Math.round(1000 * g.share) / 1000, kernels: g.kernels }));
    return { summary: { ms: ms(total), by_kind, correct: c.correct, max_err: c.maxErr, kernels, by_line, by_block }, perKernel };
  }

  // ---- interleaved measurement ------------------------------------------------------------------------

  /** Every participant sampled in interleaved rounds (bench/interleave.ts), with this run's round limits. */
  async interleave(parts: readonly Part[], label: string): Promise<Timing[]> {
    return interleave(parts, { minRounds: this.minIters, maxRounds: this.maxIters, targetMs: this.targetMs }, {
      add: (n) => this.o.progress.add(n), tick: (r, n) => this.o.progress.tick(`${label} round ${r}/${n}`),
    });
  }

  // ---- standalone ops ---------------------------------------------------------------------------------

  /**
   * The variants of the single kernel of a standalone case, each checked against the interpreter and warmed up
   * (compiled) on `runner`, as participants of an interleaved measurement. Each variant's tile maps get their own
   * buffers (tag = variant name).
   */
  async variantParts(c: BenchCase, runner: PlanRunner, plan: KernelPlan, op: string, pick?: (all: Variant[]) => Variant[]): Promise<(Part & { v: Variant })[]> {
    const i = plan.kernels.findIndex((k) => k.kind === 'matmul' || k.kind === 'attention');
    // With --tune 24 candidates, 12 for the largest cases (seconds per call on a software GPU).
    const max = pick ? 1000 : this.o.quick ? 3 : this.o.tune ? (c.flops > 4e9 ? 12 : 24) : 10;
    const all = variantsFor(plan.kernels[i]!, this.ctx.limits, c.dims, max).variants;
    const variants = pick ? pick(all) : all;
    this.o.progress.add(variants.length);
    const out: (Part & { v: Variant })[] = [];
    for (const v of variants) {
      await runner.use(withSchedule(plan, i, v.schedule), v.name);
      const chk = c.check([...(await runner.runAll()).values()][0]!);
      const d = runner.capture([i]);
      const warm = (await runner.timeDispatches(d, 0, 1)).median;
      out.push({
        v, warm, canWin: chk.correct, take: async () => (await runner.timeDispatches(d, 0, 1)).median,
        rec: { op, variant: v.name, shape: c.shape, backend: 'webgpu', correct: chk.correct, max_err: chk.maxErr, group: 'op', is_default: v.isDefault, sampled_check: chk.sampled, timing: 'gpu' },
      });
      this.o.progress.tick(`${op} ${c.shape} ${v.name} (checked)`);
    }
    return out;
  }

  /** Records the timings of interleaved participants; returns the record of each. */
  recordParts(c: BenchCase, parts: readonly Part[], ts: readonly Timing[]): BenchRecord[] {
    return parts.map((p, j) => this.record({ ...p.rec, ...timingFields(ts[j]!), ...caseRates(c, ts[j]!.median), iters: ts[j]!.samples.length }));
  }

  /** Variants of the single kernel of a standalone case, timed interleaved; returns the default and best correct ones. */
  async standalone(c: BenchCase, op: string, pick?: (all: Variant[]) => Variant[]): Promise<{ dflt?: Timing; best?: { v: Variant; t: Timing } }> {
    const plan = lowerCase(c.graph);
    const runner = new PlanRunner(this.ctx, c.graph, plan, c.dims, c.inputs, new Map());
    const out: { dflt?: Timing; best?: { v: Variant; t: Timing } } = {};
    try {
      const parts = await this.variantParts(c, runner, plan, op, pick);
      const ts = await this.interleave(parts, `${op} ${c.shape}`);
      this.recordParts(c, parts, ts);
      parts.forEach((p, j) => {
        const t = ts[j]!;
        if (p.v.isDefault) out.dflt = t;
        // Only a variant sampled as often as the rest can be called the best.
        if (p.canWin && t.samples.length === Math.max(...ts.map((x) => x.samples.length)) && (!out.best || t.median < out.best.t.median)) out.best = { v: p.v, t };
      });
      if (op === 'matmul' && out.best) this.bestMatmul.set(c.shape, out.best.v);
    } finally { runner.destroy(); }
    return out;
  }

  /** One case as a whole plan (all its kernels timed together, e.g. unfused attention) as a participant; null if it does not fit. */
  async planPart(c: BenchCase, plan: KernelPlan, op: string, variant: string, runners: PlanRunner[]): Promise<Part | null> {
    let runner: PlanRunner;
    try { runner = new PlanRunner(this.ctx, c.graph, plan, c.dims, c.inputs, new Map()); } catch (e) {
      if (!(e instanceof DoesNotFitError)) throw e;
      this.res.skipped.push({ op, variant, shape: c.shape, reason: `does not fit: ${e.message}` });
      return null;
    }
    runners.push(runner);
    await runner.use(plan);
    const chk = c.check([...(await runner.runAll()).values()][0]!);
    const d = runner.capture(plan.kernels.map((_, j) => j));
    const warm = (await runner.timeDispatches(d, 0, 1)).median;
    return {
      warm, canWin: false, take: async () => (await runner.timeDispatches(d, 0, 1)).median,
      rec: { op, variant, shape: c.shape, backend: 'webgpu', correct: chk.correct, max_err: chk.maxErr, group: 'attention', sampled_check: chk.sampled, timing: 'gpu' },
    };
  }

  async attentionRow({ S, H, Hkv = H, patches }: AttentionShape): Promise<void> {
    const masked = attentionCase({ S, H, Hkv, patches });
    // Sparse tilings (fewer for long sequences: each call is slow on a software GPU) and the dense default;
    // unfused and no-mask as whole plans: all interleaved in one measurement. Also the first sparse candidate
    // with the head dim split across lanes (up to S 2048: 3x slower than the rows kind here) and, for grouped
    // heads, the gqa candidates (query heads of a KV group in one workgroup).
    const nSparse = this.o.quick ? 1 : S <= 512 ? 5 : 2;
    type A = { sparse: boolean; lanes?: number; gqa?: boolean };
    const extra = (all: Variant[]) => this.o.quick ? [] : [
      ...S <= 2048 ? all.filter((v) => (v.schedule as A).sparse && ((v.schedule as A).lanes ?? 1) > 1).slice(0, 1) : [],
      ...all.filter((v) => (v.schedule as A).sparse && (v.schedule as A).gqa),
    ];
    const plan = lowerCase(masked.graph);
    const runners: PlanRunner[] = [new PlanRunner(this.ctx, masked.graph, plan, masked.dims, masked.inputs, new Map())];
    try {
      const fused = await this.variantParts(masked, runners[0]!, plan, 'attention', (all) => [
        ...all.filter((v) => (v.schedule as A).sparse).slice(0, nSparse),
        ...extra(all).filter((v) => !all.filter((w) => (w.schedule as A).sparse).slice(0, nSparse).includes(v)),
        ...all.filter((v) => !(v.schedule as A).sparse).slice(0, 1),
      ]);
      const unfusedPlan = lowerCase(masked.graph, { attention: 'unfused' });
      const unfused = await this.planPart(masked, unfusedPlan, 'attention', 'unfused', runners);
      const nomaskCase = attentionCase({ S, H, Hkv, patches, masked: false });
      const nm = await this.planPart(nomaskCase, lowerCase(nomaskCase.graph), 'attention', 'fused_nomask', runners);
      const parts = [...fused, ...(unfused ? [unfused] : []), ...(nm ? [nm] : [])];
      const ts = await this.interleave(parts, `attention S${S}`);
      const recs = this.recordParts(masked, parts, ts);
      const bestOf = (sparse: boolean) => recs.slice(0, fused.length).filter((r) => r.correct && r.variant.startsWith(sparse ? 'sparse' : 'dense')).sort((a, c) => a.median_ms - c.median_ms)[0];
      const sp = bestOf(true), dn = bestOf(false);
      const uf = unfused ? recs[fused.length]! : null, nmr = nm ? recs[recs.length - 1]! : null;
      const counts = await tileCounts(this.ctx, masked, plan);
      if (!sp || !dn || !nmr || !nmr.correct || (uf && !uf.correct)) { this.res.notes.push(`attention S=${S}: a variant failed its check; row incomplete`); return; }
      const peak = (p: KernelPlan) => planMemory(p, {}).plannedBytes;
      this.res.attention_table.push({
        S, H, ...Hkv !== H ? { Hkv } : {}, images: masked.meta['images'] as number, sparse_ms: sp.median_ms, sparse_best: sp.variant, dense_ms: dn.median_ms,
        unfused_ms: uf ? uf.median_ms : null, ...(uf ? {} : { unfused_note: 'does not fit (S x S scores exceed maxStorageBufferBindingSize)' }),
        nomask_ms: nmr.median_ms, sparse_vs_unfused: uf ? Math.round((uf.median_ms / sp.median_ms) * 100) / 100 : null,
        mask_vs_nomask: Math.round((sp.median_ms / nmr.median_ms) * 1000) / 1000, tiles: counts,
        peak_bytes_fused: peak(plan), peak_bytes_unfused: peak(unfusedPlan),
        spread: Object.fromEntries([sp, dn, uf, nmr].filter((r): r is BenchRecord => !!r).map((r) => [r.variant, { median: r.median_ms, min: r.min_ms, max: r.max_ms, n: r.iters }])),
      });
    } finally { for (const r of runners) r.destroy(); }
  }

  // ---- peers ------------------------------------------------------------------------------------------

  /**
   * tfx (its default schedule and, where the matmul search ran, its best variant) and every peer on the same
   * cases, interleaved call by call. tfx is timed both ways: GPU timestamps, and end to end like the peers
   * (inputs written from the host, submit, the result read back on the host). A ratio compares GPU time with GPU time where the peer
   * has it (tfjs), else end-to-end time with end-to-end time.
   */
  async peers(): Promise<void> {
    const { preparePeer, peerFailure, peerNames } = await import('./peers/index.js');
    type PeerCase = Parameters<typeof preparePeer>[1];
    const sizes = this.o.matmulSizes.length ? this.o.matmulSizes.filter(([m, k, n]) => m === k && k === n).map(([n]) => n!) : [256];
    const cases: { c: BenchCase; peers: readonly (typeof peerNames)[number][]; peerCase: PeerCase }[] = [];
    for (const n of this.o.quick ? sizes.slice(0, 1) : sizes) {
      const c = matmulCase(n, n, n, 3);
      cases.push({ c, peers: peerNames, peerCase: { op: 'matmul', m: n, k: n, n, a: c.inputs.get('a')!.data as Float32Array, b: c.inputs.get('b')!.data as Float32Array } });
    }
    const S = this.o.quick ? 128 : 512, att = attentionCase({ S, seed: 11, ...(this.o.quick ? { patches: 32 } : {}) });
    cases.push({ c: att, peers: ['tfjs-webgpu', 'ort-node-webgpu'], peerCase: { op: 'attention', b: 1, h: att.meta['H'] as number ?? 8, s: S, d: 64, q: att.inputs.get('q')!.data as Float32Array, k: att.inputs.get('k')!.data as Float32Array, v: att.inputs.get('v')!.data as Float32Array, mask: denseMask(S, att.meta['img'] as Int32Array) } });
    this.o.progress.add(cases.reduce((s, x) => s + x.peers.length, 0));
    for (const { c, peers, peerCase } of cases) {
      const plan = lowerCase(c.graph);
      const runner = new PlanRunner(this.ctx, c.graph, plan, c.dims, c.inputs, new Map());
      const prepared: PreparedPeer[] = [];
      try {
        await runner.use(plan);
        const chk = c.check([...(await runner.runAll()).values()][0]!);
        const all = plan.kernels.map((_, j) => j);
        const dflt = c.op === 'matmul' ? scheduleName('matmul', plan.kernels[0]!.schedule) : 'fused_sparse_default';
        const ours: { name: string; d: Dispatch[]; correct: boolean; maxErr: number }[] = [{ name: dflt, d: runner.capture(all), correct: chk.correct, maxErr: chk.maxErr }];
        const best = this.bestMatmul.get(c.shape);
        if (c.op === 'matmul' && best && best.name !== dflt) {
          await runner.use(withSchedule(plan, 0, best.schedule), best.name);
          const bc = c.check([...(await runner.runAll()).values()][0]!);
          ours.push({ name: best.name, d: runner.capture(all), correct: bc.correct, maxErr: bc.maxErr });
        }
        const parts: Part[] = [];
        const rec = (variant: string, correct: boolean, maxErr: number, timing: 'gpu' | 'wall', backend = 'webgpu', note?: string): Part['rec'] =>
          ({ op: c.op, variant, shape: c.shape, backend, correct, max_err: maxErr, group: 'peer', timing, ...(note ? { note } : {}) });
        for (const o of ours) {
          const take = async () => (await runner.timeDispatches(o.d, 0, 1)).median;
          parts.push({ warm: await take(), canWin: false, take, rec: rec(o.name, o.correct, o.maxErr, 'gpu') });
          // End to end as the peers' session.run with host tensors: inputs uploaded, run, output read back.
          const wall = async () => (await runner.wall(o.d, 1, plan.outputs[0]!.buf, { upload: true })).median;
          parts.push({ warm: await wall(), canWin: false, take: wall, rec: rec(`${o.name} (end to end)`, o.correct, o.maxErr, 'wall') });
        }
        const nOurs = parts.length;
        const peerParts: { peer: string; wall: number; kernel?: number; device: string }[] = [];
        for (const peer of peers) {
          const p = await preparePeer(peer, peerCase);
          this.o.progress.tick(`${peer} ${c.op} ${c.shape}`);
          const variant = c.op === 'matmul' ? 'matmul' : 'composed (mask as additive bias)';
          if ('reason' in p) { this.res.skipped.push({ op: c.op, variant, shape: c.shape, reason: p.reason }); continue; }
          prepared.push(p);
          try {
            const t0 = performance.now();
            const out = await p.call();   // warm-up (compiles), checked like ours
            const warm = performance.now() - t0;
            const pc = c.check({ dtype: 'f32', shape: [out.length], data: out });
            const device = await p.device();
            const call = async () => { const t = performance.now(); await p.call(); return performance.now() - t; };
            peerParts.push({ peer, wall: parts.length, device });
            parts.push({ warm, canWin: false, take: call, rec: rec(`${variant} (end to end)`, pc.correct, pc.maxErr, 'wall', peer, device) });
            const km = p.kernelMs && (await p.kernelMs());
            if (km !== undefined && p.kernelMs) {
              const k = p.kernelMs;
              peerParts[peerParts.length - 1]!.kernel = parts.length;
              parts.push({ warm: km, canWin: false, take: async () => (await k()) ?? NaN, rec: rec(variant, pc.correct, pc.maxErr, 'gpu', peer, device) });
            }
          } catch (e) {
            this.res.skipped.push({ op: c.op, variant, shape: c.shape, reason: peerFailure(peer, e) });
          }
        }
        const ts = await this.interleave(parts, `peers ${c.op} ${c.shape}`);
        const recs = this.recordParts(c, parts, ts);
        // tfx's fastest GPU and end-to-end records (the default, or the search's best variant).
        const fastest = (timing: 'gpu' | 'wall') => recs.slice(0, nOurs).filter((r) => r.timing === timing && r.correct).sort((a, b) => a.median_ms - b.median_ms)[0];
        const spread = (r: BenchRecord) => ({ median: r.median_ms, min: r.min_ms, max: r.max_ms, n: r.iters });
        for (const pp of peerParts) {
          const pr = recs[pp.kernel ?? pp.wall]!, pw = recs[pp.wall]!;
          const o = fastest(pp.kernel !== undefined ? 'gpu' : 'wall'), og = fastest('gpu'), ow = fastest('wall');
          if (!o || !og || !ow) continue;
          this.res.peers.push({
            op: c.op, shape: c.shape, peer: pp.peer, ours_variant: o.variant, ours_gpu_ms: og.median_ms, ours_wall_ms: ow.median_ms,
            peer_ms: pr.median_ms, peer_timing: pr.timing, peer_wall_ms: pw.median_ms,
            speedup_vs_peer: Math.round((pr.median_ms / o.median_ms) * 100) / 100, peer_correct: pr.correct,
            ours: spread(o), peer_stats: spread(pr), note: pp.device,
          });
        }
      } finally {
        runner.destroy();
        for (const p of prepared) await p.release().catch(() => undefined);
      }
    }
  }
}

/** A participant with the record it becomes. */
interface Part extends Participant {
  readonly rec: Omit<BenchRecord, 'device' | 'median_ms' | 'min_ms' | 'max_ms' | 'gflops' | 'gbps' | 'iters'>;
}

export class BenchError extends Error { override name = 'BenchError'; }

/** Median, min, max and every sample (in the order taken), so a reader can recompute any ratio. */
function timingFields(t: Timing) { return { median_ms: t.median, min_ms: t.min, max_ms: t.max, samples_ms: t.samples.map(ms) }; }

function caseRates(c: BenchCase, medianMs: number): { gflops: number | null; gbps: number } {
  return { gflops: Math.round((c.flops / (medianMs * 1e6)) * 100) / 100, gbps: Math.round((c.bytes / (medianMs * 1e6)) * 100) / 100 };
}

/** GFLOP/s for matmul and attention (dense-equivalent); GB/s of the distinct bytes a kernel reads and writes. */
function rates(k: Kernel, plan: KernelPlan, dims: Record<string, number>, medianMs: number): { gflops: number | null; gbps: number } {
  const bytes = [...k.reads, k.out].reduce((s, bf) => s + 4 * bufferNumel(plan.buffers[bf]!, dims), 0);
  let flops: number | null = null;
  const d = (x: Parameters<typeof dimEval>[0]) => dimEval(x, dims);
  if (k.kind === 'matmul') flops = 2 * k.batch.reduce((s, x) => s * d(x), 1) * d(k.M) * d(k.N) * d(k.K);
  if (k.kind === 'attention') flops = 2 * d(k.B) * d(k.Hq) * d(k.Sq) * d(k.Sk) * (k.D + k.Dv);
  return { gflops: flops === null ? null : Math.round((flops / (medianMs * 1e6)) * 100) / 100, gbps: Math.round((bytes / (medianMs * 1e6)) * 100) / 100 };
}

function kernelShape(k: Kernel, dims: Record<string, number>): string {
  const d = (x: Parameters<typeof dimEval>[0]) => dimEval(x, dims);
  switch (k.kind) {
    case 'map': return `[${k.shape.map(d).join(', ')}]`;
    case 'scatter': return `[${k.shape.map(d).join(', ')}] over [${k.free.map(d).join(', ')}]`;
    case 'row': return `${k.rows.reduce((s, x) => s * d(x), 1)} rows x ${d(k.len)}`;
    case 'matmul': return `${k.batch.length ? `${k.batch.map(d).join('x')} x ` : ''}${d(k.M)}x${d(k.K)}x${d(k.N)}`;
    case 'attention': case 'attention_bwd': return `B${d(k.B)} H${d(k.Hq)}/${d(k.Hkv)} S${d(k.Sq)} D${k.D}`;
  }
}

export function bindDims(program: Program, graph: Graph, inputs: ReadonlyMap<string, HostTensor>): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const n of graph.inputs) n.shape.forEach((dm, i) => {
    const t = dm.terms;
    if (t.length === 1 && t[0]!.c === 1 && t[0]!.syms.length === 1) dims[t[0]!.syms[0]!] ??= inputs.get(n.arg.name)!.shape[i]!;
  });
  for (const s of program.symbols) dims[s] ??= 0;
  return dims;
}

function compareOutputs(graph: Graph, ref: HostTensor[], got: Map<string, HostTensor>): { correct: boolean; maxErr: number } {
  let maxErr = 0, correct = true;
  graph.outputs.forEach((o, i) => {
    const w = ref[i]!.data, g = got.get(o.name)!.data;
    for (let j = 0; j < w.length; j++) {
      const e = Math.abs(g[j]! - w[j]!);
      if (!(e <= 1e-3 * (1 + Math.abs(w[j]!)))) correct = false;
      maxErr = Math.max(maxErr, Number.isNaN(e) ? Infinity : e);
    }
  });
  return { correct, maxErr };
}

async function tileCounts(ctx: GpuContext, c: BenchCase, plan: KernelPlan): Promise<AttentionRow['tiles']> {
  const r = new PlanRunner(ctx, c.graph, plan, c.dims, c.inputs, new Map());
  try {
    await r.use(plan);
    const t = [...r.tileCounts.values()][0] ?? { empty: 0, full: 0, partial: 0 };
    return { ...t, total: t.empty + t.full + t.partial };
  } finally { r.destroy(); }
}
