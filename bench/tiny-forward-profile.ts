/**
 * Where the Transfusion tiny forward's GPU time goes (issue 16, part 16t), on the WebGPU device here:
 *
 * 1. the device's fixed costs, from calibration kernels: an empty kernel per dispatch (1 .. 1024 workgroups),
 *    a busy kernel on 1 .. 8 workgroups (how many run at once: the rasterizer's thread count), and a kernel
 *    that only crosses workgroup barriers (cost per barrier per workgroup, by workgroup size);
 * 2. the forward's kernels (B 2, S 64, default plan): GPU time each (timestamps), workgroups launched,
 *    invocations per workgroup, and an empty kernel of the same grid next to it (its launch floor);
 * 3. what "GPU time of a forward" is: the sum of per-dispatch timestamp pairs (one pass per dispatch: what
 *    `tfx bench` reports), one timestamp pair around one pass holding every dispatch, and the host's wall time
 *    of one submission, sampled interleaved.
 *
 *   . scripts/env.sh && npx tsx bench/tiny-forward-profile.ts [--json OUT.json] [--md OUT.md] [--plan default|tuned]
 *
 * `--plan tuned` profiles the plan with the tune cache ($TFX_TUNE_CACHE or .tfx-cache/tune.json) applied.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { scheduleName } from '../src/ir/schedule.js';
import { exampleInputs } from '../src/runtime/example-inputs.js';
import { applyTuneCache, loadTuneCache } from '../src/runtime/tune-cache.js';
import { closeGpu, openGpu } from '../src/runtime/webgpu/device.js';
import type { Dispatch } from '../src/runtime/webgpu/executor.js';
import { initParams } from '../src/runtime/weights.js';
import { interleave } from './interleave.js';
import { PlanRunner, stats, type Timing } from './plan-runner.js';
import { benchPlan, bindDims } from './suite.js';

const { values: a } = parseArgs({ options: { json: { type: 'string' }, md: { type: 'string' }, plan: { type: 'string', default: 'default' } } });
const ROUNDS = 9;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const fmt = (t: Timing) => `${r3(t.median)} [${r3(t.min)}-${r3(t.max)}] (${t.samples.length})`;
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

const ctx = await openGpu();
const load0 = loadavg()[0]!;
const { program, graph, plan: plan0 } = benchPlan('models/transfusion.tfx', undefined, 'forward');
const inputs = exampleInputs(program, graph, 1);
const dims = bindDims(program, graph, inputs);
let plan = plan0;
if (a.plan === 'tuned') {
  const cache = loadTuneCache();
  if (!cache) throw new Error('--plan tuned: no tune cache (run tfx bench --tune first)');
  plan = applyTuneCache(plan0, cache, ctx.deviceString);
}
const runner = new PlanRunner(ctx, graph, plan, dims, inputs, initParams(program.params, 1));
await runner.use(plan);
const ex = runner.ex;

// ---- 1. calibration kernels -----------------------------------------------------------------------------
ex.alloc('cal', 4 * 64 * 1024);
const empty = (wg: number): string => `@compute @workgroup_size(${wg}) fn main() {}\n`;
/** Each invocation: `n` dependent FMAs, one store (so the loop is not removed). */
const busy = (wg: number, n: number): string => `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(${wg}) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var x = f32(g.x) * 1e-6;
  for (var i = 0u; i < ${n}u; i++) { x = fma(x, 0.999, 1e-3); }
  o[g.x % 65536u] = x;
}\n`;
/** Each invocation crosses `n` workgroup barriers around a workgroup-memory exchange (a row reduction's step). */
const barriers = (wg: number, n: number): string => `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
var<workgroup> sh: array<f32, ${wg}>;
@compute @workgroup_size(${wg}) fn main(@builtin(local_invocation_index) l: u32, @builtin(workgroup_id) w: vec3<u32>) {
  var x = f32(l);
  for (var i = 0u; i < ${n}u; i++) { sh[l] = x; workgroupBarrier(); x = x + sh[(l + 1u) % ${wg}u]; workgroupBarrier(); }
  o[(w.x * ${wg}u + l) % 65536u] = x;
}\n`;
const disp = (label: string, code: string, groups: number, bind = false): Dispatch =>
  ({ label, kind: 'calibration', code, entryPoint: 'main', bindings: bind ? ['cal'] : [], workgroups: [groups, 1, 1] });
/** Median GPU ms of one dispatch (timestamps), `n` dispatches of it in one submission, after a warm-up. */
async function one(d: Dispatch, n = 15): Promise<Timing> {
  await ex.run([d, d]);
  const res = await ex.run(Array.from({ length: n }, () => d), { profile: true });
  return stats(res.timings.map((t) => t.ms));
}
const calibration: Record<string, unknown>[] = [];
const cal = async (what: string, d: Dispatch, extra: Record<string, unknown>) => {
  const t = await one(d);
  calibration.push({ what, ...extra, ms: fmt(t), median_ms: r3(t.median) });
  process.stderr.write(`${what} ${JSON.stringify(extra)}: ${fmt(t)}\n`);
  return t;
};
for (const wg of [1, 64, 256]) for (const g of [1, 2, 8, 128, 1024]) await cal('empty kernel', disp(`empty${wg}`, empty(wg), g), { wg, workgroups: g });
// Busy work sized to about 1 ms on one workgroup; 1..8 workgroups show how many the device runs at once.
for (const g of [1, 2, 3, 4, 8]) await cal('busy kernel (64 x 20000 FMA per workgroup)', disp('busy', busy(64, 20000), g, true), { wg: 64, workgroups: g });
for (const wg of [8, 32, 64, 256]) for (const n of [0, 16]) await cal('barrier kernel (2 barriers per step)', disp(`bar${wg}`, barriers(wg, n), 128, true), { wg, steps: n, workgroups: 128 });

// ---- 2. the forward's kernels ---------------------------------------------------------------------------
const all = plan.kernels.map((_, i) => i);
const dispatches = runner.capture(all);
await ex.run(dispatches);   // compile
const ITERS = 15;
const prof = await ex.run(Array.from({ length: ITERS }, () => dispatches).flat(), { profile: true });
const per = all.map((i) => stats(Array.from({ length: ITERS }, (_, it) => prof.timings[it * all.length + i]!.ms)));
const floors = new Map<string, Timing>();
const kernels = [];
for (const i of all) {
  const k = plan.kernels[i]!, d = dispatches[i]!;
  const groups = d.workgroups[0] * d.workgroups[1] * d.workgroups[2];
  const inv = /@workgroup_size\(([^)]*)\)/.exec(d.code)![1]!.split(',').map((x) => Number(x.trim())).reduce((p, x) => p * x, 1);
  const key = `${groups}/${inv}`;
  if (!floors.has(key)) floors.set(key, await one(disp(`empty${inv}`, empty(inv), groups)));
  kernels.push({
    kernel: k.name, kind: k.kind, op: k.opKind, schedule: scheduleName(k.kind, k.schedule), workgroups: groups, invocations_per_workgroup: inv,
    barriers_in_source: (d.code.match(/workgroupBarrier\(\)/g) ?? []).length, ms: r3(per[i]!.median), min_ms: r3(per[i]!.min), max_ms: r3(per[i]!.max),
    empty_same_grid_ms: r3(floors.get(key)!.median),
  });
}

// ---- 3. what a forward's GPU time is ----------------------------------------------------------------------
const parts = [
  { name: 'sum of per-dispatch timestamps (one pass per dispatch)', take: async () => sum((await ex.run(dispatches, { profile: true })).timings.map((t) => t.ms)) },
  { name: 'one pass, one timestamp pair', take: async () => (await ex.run(dispatches, { span: true })).timings[0]!.ms },
  { name: 'host wall time of one submission (no timestamps)', take: async () => (await ex.run(dispatches)).totalMs },
  { name: 'host wall time of one submission, one pass per dispatch with timestamps', take: async () => (await ex.run(dispatches, { profile: true })).totalMs },
];
const ts = await interleave(parts.map((p) => ({ warm: 0, canWin: false, take: p.take })), { minRounds: ROUNDS, maxRounds: ROUNDS, targetMs: 0 });
const totals = parts.map((p, j) => ({ what: p.name, ms: fmt(ts[j]!), median_ms: r3(ts[j]!.median) }));
runner.destroy();
await closeGpu();

// ---- report -------------------------------------------------------------------------------------------------
const emptyMs = (wg: number, g: number) => (calibration.find((c) => c['what'] === 'empty kernel' && c['wg'] === wg && c['workgroups'] === g)!['median_ms'] as number);
const res = {
  date: new Date().toISOString(), device: ctx.deviceString, cpus: cpus().length, load_start: load0, load_end: loadavg()[0]!,
  command: `npx tsx bench/tiny-forward-profile.ts ${process.argv.slice(2).join(' ')}`, model: { file: 'models/transfusion.tfx', preset: program.preset, entry: 'forward', dims, plan: a.plan },
  calibration, kernels, totals,
  summary: {
    kernels: kernels.length, kernel_ms_sum: r3(sum(kernels.map((k) => k.ms))), empty_floor_ms_sum: r3(sum(kernels.map((k) => k.empty_same_grid_ms))),
    kernels_with_fewer_workgroups_than_cpus: kernels.filter((k) => k.workgroups < cpus().length).length,
  },
};
const md = [
  `# Tiny forward profile ${res.date}`, '',
  `- device: ${res.device}; ${res.cpus} CPUs; load average ${r3(load0)} at start, ${r3(res.load_end)} at end`,
  `- model: ${JSON.stringify(res.model)}`, `- command: \`${res.command}\``, '',
  '## Calibration (GPU ms per dispatch, median [min-max] (dispatches))', '',
  '| kernel | wg | workgroups | steps | ms |', '| --- | --- | --- | --- | --- |',
  ...calibration.map((c) => `| ${c['what']} | ${c['wg']} | ${c['workgroups']} | ${c['steps'] ?? ''} | ${c['ms']} |`), '',
  `## Kernels of the forward (${ITERS} forwards, GPU ms median [min-max])`, '',
  '| kernel | op | schedule | workgroups | invocations / wg | barriers in source | ms | empty kernel, same grid |', '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...kernels.map((k) => `| ${k.kernel} | ${k.op} | ${k.schedule} | ${k.workgroups} | ${k.invocations_per_workgroup} | ${k.barriers_in_source} | ${k.ms} [${k.min_ms}-${k.max_ms}] | ${k.empty_same_grid_ms} |`), '',
  `Sum of kernel medians ${res.summary.kernel_ms_sum} ms; of their empty-kernel floors ${res.summary.empty_floor_ms_sum} ms; empty kernel, 1 workgroup of 1: ${emptyMs(1, 1)} ms.`, '',
  `## One forward, four ways (interleaved, ${ROUNDS} rounds, ms median [min-max] (samples))`, '',
  '| what | ms |', '| --- | --- |', ...totals.map((t) => `| ${t.what} | ${t.ms} |`), '',
].join('\n');
process.stdout.write(md);
if (a.json) writeFileSync(a.json, JSON.stringify(res, null, 1) + '\n');
if (a.md) writeFileSync(a.md, md);
