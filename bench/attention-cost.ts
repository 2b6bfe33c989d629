/**
 * Where the time of block-sparse attention goes (issue 16): why skipping about half the tiles of the Transfusion
 * mask saves only about a third of the time. One kernel schedule, the same Q / K / V, five masks or modes, each
 * checked against the interpreter (sampled rows), then timed interleaved:
 *
 * - `empty`: a mask no pair passes (kv < 0): every tile EMPTY, so the time is the fixed cost of the workgroups
 *   (Q load, normalisation, output writes) plus one tile-map lookup per tile;
 * - `full`: a mask every pair passes (kv >= 0): every tile FULL, the masked kernel's code, no mask test run;
 * - `nomask`: no mask, every tile computed, no mask code at all;
 * - `dense`: the Transfusion mask with sparse off: every tile computed and every pair tested (a PARTIAL tile);
 * - `sparse`: the Transfusion mask with its tile map (EMPTY skipped, FULL untested, PARTIAL tested);
 * - `causal`: the causal mask (kv <= q) with its tile map: the same skipping without image blocks.
 *
 * From these, per tile: c_full = (full - empty) / N, c_partial = (dense - empty) / N, and the sparse time the
 * tile counts predict if the work spread evenly over the device's threads: empty + F c_full + P c_partial. The
 * load-balance model: lavapipe (Mesa 25 lp_cs_tpool) hands each of its threads one contiguous block of
 * workgroups (num_workgroups / threads, in dispatch order); with the tile classes each thread's share of the
 * work is known, and max(share) * threads is the slowdown over a perfect split. Run it with LP_NUM_THREADS=1
 * and 2 (separate processes): with one thread there is nothing to balance.
 *
 *   . scripts/env.sh && LP_NUM_THREADS=2 npx tsx bench/attention-cost.ts OUT.json [S] [heads]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { WEBGPU_LIMITS } from '../src/codegen-wgsl/wgsl.js';
import type { BinaryOp, IExpr } from '../src/ir/graph.js';
import type { AttentionSchedule } from '../src/ir/kernel.js';
import { lowerGraph } from '../src/ir/lower.js';
import { computeTileMaps } from '../src/runtime/tiles.js';
import { DEFAULT_ATTENTION, scheduleForTarget, scheduleName, withSchedule } from '../src/ir/schedule.js';
import { closeGpu, openGpu } from '../src/runtime/webgpu/device.js';
import { attentionCase, type BenchCase } from './cases.js';
import { interleave, type Participant } from './interleave.js';
import { PlanRunner } from './plan-runner.js';

const out = process.argv[2] ?? 'attention-cost.json';
const S = Number(process.argv[3] ?? 2048), H = Number(process.argv[4] ?? 1);
const threads = Number(process.env['LP_NUM_THREADS'] ?? 0) || null;
const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });
const NONE: IExpr = bool('lt', idx(2), { k: 'const', v: 0, dtype: 'i32' });
const CAUSAL: IExpr = bool('le', idx(2), idx(1));
const ALL: IExpr = bool('ge', idx(2), { k: 'const', v: 0, dtype: 'i32' });
const rounds = Number(process.env['ROUNDS'] ?? 9);
const schedules: AttentionSchedule[] = [DEFAULT_ATTENTION, { bq: 64, bk: 16, sparse: true, rows: 8 }];

const modes: { mode: string; c: BenchCase; sparse: boolean }[] = [
  { mode: 'empty', c: attentionCase({ S, H, mask: NONE, maskName: 'none-pass' }), sparse: true },
  { mode: 'full', c: attentionCase({ S, H, mask: ALL, maskName: 'all-pass' }), sparse: true },
  { mode: 'nomask', c: attentionCase({ S, H, masked: false }), sparse: false },
  { mode: 'dense', c: attentionCase({ S, H }), sparse: false },
  { mode: 'sparse', c: attentionCase({ S, H }), sparse: true },
  { mode: 'causal', c: attentionCase({ S, H, mask: CAUSAL, maskName: 'causal' }), sparse: true },
];

const ctx = await openGpu();
const load0 = loadavg();
const runners: PlanRunner[] = [];
const parts: (Participant & { schedule: string; mode: string; correct: boolean; max_err: number; classes: Int32Array | null; nqt: number; nkt: number })[] = [];
for (const s of schedules) {
  for (const m of modes) {
    const base = scheduleForTarget(lowerGraph(m.c.graph, []), WEBGPU_LIMITS);
    const i = base.kernels.findIndex((k) => k.kind === 'attention');
    const plan = withSchedule(base, i, { ...s, sparse: m.sparse });
    const r = new PlanRunner(ctx, m.c.graph, plan, m.c.dims, m.c.inputs, new Map());
    runners.push(r);
    await r.use(plan);
    const chk = m.c.check([...(await r.runAll()).values()][0]!);
    const maps = await computeTileMaps(plan, m.c.graph, m.c.inputs, { ...m.c.dims });
    const d = r.capture([i]);
    const warm = (await r.timeDispatches(d, 0, 1)).median;
    const name = scheduleName('attention', { ...s, sparse: true });
    parts.push({
      schedule: name, mode: m.mode, correct: chk.correct, max_err: chk.maxErr, classes: maps[0]?.classes ?? null,
      nqt: Math.ceil(S / s.bq), nkt: Math.ceil(S / s.bk), warm, canWin: false, take: async () => (await r.timeDispatches(d, 0, 1)).median,
    });
    console.log(`${name} ${m.mode}: ${chk.correct ? 'correct' : 'WRONG'} (max err ${chk.maxErr.toExponential(1)}), first call ${warm.toFixed(1)} ms`);
  }
}
const ts = await interleave(parts, { minRounds: rounds, maxRounds: rounds, targetMs: 0 });
for (const r of runners) r.destroy();

/** Query tile of workgroup x (the rows kind takes tiles in zigzag order: 0, n-1, 1, n-2, ...). */
const zig = (x: number, n: number) => (x % 2 === 0 ? x / 2 : n - 1 - (x - 1) / 2);
const rows = parts.map((p, j) => ({ schedule: p.schedule, mode: p.mode, correct: p.correct, max_err: p.max_err, median_ms: ts[j]!.median, min_ms: ts[j]!.min, max_ms: ts[j]!.max, n: ts[j]!.samples.length, samples_ms: ts[j]!.samples }));
const analysis = schedules.map((s) => {
  const name = scheduleName('attention', { ...s, sparse: true });
  // Medians, and the same model on minimums (the least disturbed sample of each: the machine is shared).
  return [model(s, name, 'median_ms'), model(s, name, 'min_ms')];
}).flat();
function model(s: AttentionSchedule, name: string, stat: 'median_ms' | 'min_ms') {
  const t = (mode: string) => rows.find((r) => r.schedule === name && r.mode === mode)![stat];
  const p = (mode: string) => parts.find((x) => x.schedule === name && x.mode === mode)!;
  const sp = p('sparse'), nqt = sp.nqt, nkt = sp.nkt, N = H * nqt * nkt;
  const count = (cl: Int32Array | null, c: number) => (cl ? cl.reduce((a, x) => a + (x === c ? 1 : 0), 0) * H : 0);
  const F = count(sp.classes, 1), P = count(sp.classes, 2), E = N - F - P;
  const cFull = (t('full') - t('empty')) / N, cPart = (t('dense') - t('empty')) / N, fixed = t('empty');
  const predicted = fixed + F * cFull + P * cPart;
  // Work per workgroup (in dispatch order: x fastest, then heads), each thread a contiguous block.
  const work = (cl: Int32Array | null, order = (x: number) => zig(x, nqt)) => {
    const w: number[] = [];
    for (let h = 0; h < H; h++) for (let x = 0; x < nqt; x++) {
      const qt = order(x);
      let u = fixed / (H * nqt);
      for (let kt = 0; kt < nkt; kt++) { const c = cl ? cl[qt * nkt + kt]! : 1; u += c === 1 ? cFull : c === 2 ? cPart : 0; }
      w.push(u);
    }
    return w;
  };
  const imbalance = (w: number[], n: number) => {
    const per = Math.floor(w.length / n), total = w.reduce((a, b) => a + b, 0);
    const shares = Array.from({ length: n }, (_, k) => w.slice(k * per, k === n - 1 ? w.length : (k + 1) * per).reduce((a, b) => a + b, 0));
    return Math.max(...shares) * n / total;
  };
  const wS = work(sp.classes), wC = work(p('causal').classes);
  return {
    schedule: name, stat, tiles: { total: N, empty: E, full: F, partial: P, non_empty_fraction: (F + P) / N },
    fixed_and_lookups_ms: fixed, c_full_us: cFull * 1e3, c_partial_us: cPart * 1e3, partial_over_full: cPart / cFull,
    c_nomask_us: (t('nomask') - t('empty')) / N * 1e3, full_over_nomask: t('full') / t('nomask'),
    sparse_ms: t('sparse'), dense_ms: t('dense'), full_ms: t('full'), nomask_ms: t('nomask'), causal_ms: t('causal'),
    sparse_over_dense: t('sparse') / t('dense'), sparse_over_nomask: t('sparse') / t('nomask'),
    predicted_sparse_ms: predicted, measured_over_predicted: t('sparse') / predicted,
    imbalance_2_threads_sparse: imbalance(wS, 2), imbalance_2_threads_causal: imbalance(wC, 2),
    imbalance_2_threads_sparse_linear_order: imbalance(work(sp.classes, (x) => x), 2),
  };
}
for (const r of rows) console.log(`${r.schedule.padEnd(24)} ${r.mode.padEnd(7)} ${r.median_ms.toFixed(1)} [${r.min_ms.toFixed(1)}-${r.max_ms.toFixed(1)}] ms (${r.n})`);
for (const a of analysis) console.log(JSON.stringify(a));
writeFileSync(out, JSON.stringify({
  device: ctx.deviceString, lp_num_threads: threads, S, H, timing: `gpu timestamps, interleaved (${rounds} rounds, order rotated)`, load_avg_start: load0, load_avg_end: loadavg(),
  command: `LP_NUM_THREADS=${threads ?? ''} npx tsx bench/attention-cost.ts ${out} ${S} ${H}`, rows, analysis,
}, null, 2) + '\n');
await closeGpu();
