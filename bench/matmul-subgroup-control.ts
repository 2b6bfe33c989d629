/**
 * Control for the subgroup-broadcast matmul (issue 16): the same wgY 1 register tiles with and without `sg`,
 * next to the best register tile of the main matmul run, at 1024 on this device; each checked against the
 * interpreter (sampled), then sampled interleaved (5 rounds, order rotated). Separates the cost of the wide
 * 1-row workgroup shape from that of the broadcasts.
 *
 *   . scripts/env.sh && npx tsx bench/matmul-subgroup-control.ts OUT.json
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { WEBGPU_LIMITS } from '../src/codegen-wgsl/wgsl.js';
import type { MatmulSchedule } from '../src/ir/kernel.js';
import { lowerGraph } from '../src/ir/lower.js';
import { scheduleForTarget, scheduleName, withSchedule } from '../src/ir/schedule.js';
import { closeGpu, openGpu } from '../src/runtime/webgpu/device.js';
import { matmulCase } from './cases.js';
import { interleave } from './interleave.js';
import { PlanRunner } from './plan-runner.js';

const out = process.argv[2] ?? 'matmul-subgroup-control.json';
const base = { tk: 8, shared: false } as const;
const schedules: MatmulSchedule[] = [
  { ...base, wgX: 64, wgY: 1, tm: 8, tn: 8 }, { ...base, wgX: 64, wgY: 1, tm: 8, tn: 8, sg: 8 },
  { ...base, wgX: 16, wgY: 1, tm: 8, tn: 8 }, { ...base, wgX: 16, wgY: 1, tm: 8, tn: 8, sg: 8 },
  { ...base, wgX: 4, wgY: 16, tm: 8, tn: 16 },
];
const ctx = await openGpu();
const load0 = loadavg()[0]!;
const c = matmulCase(1024, 1024, 1024);
const plan = scheduleForTarget(lowerGraph(c.graph, []), WEBGPU_LIMITS);
const i = plan.kernels.findIndex((k) => k.kind === 'matmul');
const runner = new PlanRunner(ctx, c.graph, plan, c.dims, c.inputs, new Map());
const parts = [];
for (const s of schedules) {
  const name = scheduleName('matmul', s);
  await runner.use(withSchedule(plan, i, s), name);
  const chk = c.check([...(await runner.runAll()).values()][0]!);
  const d = runner.capture([i]);
  const warm = (await runner.timeDispatches(d, 0, 1)).median;
  parts.push({ name, correct: chk.correct, max_err: chk.maxErr, warm, canWin: false, take: async () => (await runner.timeDispatches(d, 0, 1)).median });
  console.log(`${name}: checked (${chk.correct ? 'correct' : 'WRONG'}), first call ${warm.toFixed(1)} ms`);
}
const ts = await interleave(parts, { minRounds: 5, maxRounds: 5, targetMs: 0 });
runner.destroy();
const rows = parts.map((p, j) => ({ variant: p.name, correct: p.correct, max_err: p.max_err, median_ms: ts[j]!.median, min_ms: ts[j]!.min, max_ms: ts[j]!.max, samples: ts[j]!.samples.length }));
for (const r of rows) console.log(`${r.variant.padEnd(20)} ${r.median_ms.toFixed(1)} [${r.min_ms.toFixed(1)}-${r.max_ms.toFixed(1)}] ms (${r.samples})`);
writeFileSync(out, JSON.stringify({ device: ctx.deviceString, shape: '1024x1024x1024', timing: 'gpu timestamps, interleaved', load_avg: [load0, loadavg()[0]], command: `npx tsx bench/matmul-subgroup-control.ts ${out}`, rows }, null, 2) + '\n');
await closeGpu();
