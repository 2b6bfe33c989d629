/**
 * Forward attention schedules side by side on one Transfusion-layout case (issue 16: the head dim split across
 * lanes vs the rows kind, the gqa variant vs plain rows): each schedule checked against the interpreter (sampled
 * rows), then sampled interleaved with the unfused plan (order rotated each round).
 *
 *   . scripts/env.sh && npx tsx bench/attention-variants.ts OUT.json S H HKV ROUNDS SCHEDULE...
 *
 * SCHEDULE: bq x bk, rows, lanes, gqa, sparse or dense, as `64x16r8`, `32x16r4l4`, `16x16l16`, `32x16r8g`
 * (g: gqa), a trailing `d`: dense.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { WEBGPU_LIMITS } from '../src/codegen-wgsl/wgsl.js';
import type { AttentionSchedule } from '../src/ir/kernel.js';
import { lowerGraph } from '../src/ir/lower.js';
import { scheduleForTarget, scheduleName, withSchedule } from '../src/ir/schedule.js';
import { closeGpu, openGpu } from '../src/runtime/webgpu/device.js';
import { attentionCase } from './cases.js';
import { interleave, type Participant } from './interleave.js';
import { PlanRunner } from './plan-runner.js';

const [out = 'attention-variants.json', s = '2048', h = '1', hkv = h, n = '7', ...names] = process.argv.slice(2);
const S = Number(s), H = Number(h), Hkv = Number(hkv), rounds = Number(n);
const parse = (x: string): AttentionSchedule => {
  const m = /^(\d+)x(\d+)(?:r(\d+))?(?:l(\d+))?(g?)(d?)$/.exec(x);
  if (!m) throw new Error(`schedule '${x}' is not like 64x16r8, 32x16r4l4, 32x16r8g`);
  return { bq: Number(m[1]), bk: Number(m[2]), sparse: !m[6], ...m[3] ? { rows: Number(m[3]) } : {}, ...m[4] ? { lanes: Number(m[4]) } : {}, ...m[5] ? { gqa: true } : {} };
};
const schedules = names.map(parse);

const ctx = await openGpu();
const load0 = loadavg();
const c = attentionCase({ S, H, Hkv });
const plan = scheduleForTarget(lowerGraph(c.graph, []), WEBGPU_LIMITS);
const i = plan.kernels.findIndex((k) => k.kind === 'attention');
const parts: (Participant & { name: string; correct: boolean; max_err: number })[] = [];
const runners: PlanRunner[] = [];
const add = async (name: string, p: typeof plan, which: number[]) => {
  const r = new PlanRunner(ctx, c.graph, p, c.dims, c.inputs, new Map());
  runners.push(r);
  await r.use(p);
  const chk = c.check([...(await r.runAll()).values()][0]!);
  const d = r.capture(which);
  const warm = (await r.timeDispatches(d, 0, 1)).median;
  parts.push({ name, correct: chk.correct, max_err: chk.maxErr, warm, canWin: false, take: async () => (await r.timeDispatches(d, 0, 1)).median });
  console.log(`${name}: ${chk.correct ? 'correct' : 'WRONG'} (max err ${chk.maxErr.toExponential(1)}), first call ${warm.toFixed(1)} ms`);
};
for (const sc of schedules) await add(scheduleName('attention', sc), withSchedule(plan, i, sc), [i]);
const unfused = scheduleForTarget(lowerGraph(c.graph, [], { attention: 'unfused' }), WEBGPU_LIMITS);
await add('unfused', unfused, unfused.kernels.map((_, j) => j));
const ts = await interleave(parts, { minRounds: rounds, maxRounds: rounds, targetMs: 0 });
for (const r of runners) r.destroy();
const rows = parts.map((p, j) => ({ variant: p.name, correct: p.correct, max_err: p.max_err, median_ms: ts[j]!.median, min_ms: ts[j]!.min, max_ms: ts[j]!.max, n: ts[j]!.samples.length, samples_ms: ts[j]!.samples }));
const uf = rows[rows.length - 1]!.median_ms;
for (const r of rows) console.log(`${r.variant.padEnd(32)} ${r.median_ms.toFixed(1)} [${r.min_ms.toFixed(1)}-${r.max_ms.toFixed(1)}] ms (${r.n})  unfused / this ${(uf / r.median_ms).toFixed(2)}x`);
writeFileSync(out, JSON.stringify({
  device: ctx.deviceString, lp_num_threads: process.env['LP_NUM_THREADS'] ?? null, shape: c.shape, timing: `gpu timestamps, interleaved (${rounds} rounds, order rotated)`,
  load_avg_start: load0, load_avg_end: loadavg(), command: `npx tsx bench/attention-variants.ts ${out} ${S} ${H} ${Hkv} ${rounds} ${names.join(' ')}`, rows,
}, null, 2) + '\n');
await closeGpu();
