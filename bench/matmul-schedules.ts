/**
 * Chosen matmul schedules, by name, at one size on this device (issue 16): each checked against the interpreter
 * (sampled), then sampled interleaved (rounds rotated), GPU timestamps. For controls and for looking at what a
 * change buys before a full `tfx bench` run; names as `tfx bench` prints them (wg8x8_t8x8_v4, ..._shared16_u4).
 *
 *   . scripts/env.sh && npx tsx bench/matmul-schedules.ts 1024 OUT.json ROUNDS NAME...
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { WEBGPU_LIMITS } from '../src/codegen-wgsl/wgsl.js';
import type { MatmulSchedule } from '../src/ir/kernel.js';
import { lowerGraph } from '../src/ir/lower.js';
import { parseMatmulSchedule, scheduleForTarget, scheduleName, withSchedule } from '../src/ir/schedule.js';
import { closeGpu, openGpu } from '../src/runtime/webgpu/device.js';
import { matmulCase } from './cases.js';
import { interleave } from './interleave.js';
import { PlanRunner } from './plan-runner.js';

const [size = '1024', out = 'matmul-schedules.json', rounds = '5', ...names] = process.argv.slice(2);
const n = Number(size), R = Number(rounds);
const ctx = await openGpu();
const load0 = loadavg()[0]!;
const c = matmulCase(n, n, n);
const plan = scheduleForTarget(lowerGraph(c.graph, []), WEBGPU_LIMITS);
const i = plan.kernels.findIndex((k) => k.kind === 'matmul');
const runner = new PlanRunner(ctx, c.graph, plan, c.dims, c.inputs, new Map());
const parts = [];
for (const name of names) {
  await runner.use(withSchedule(plan, i, parseMatmulSchedule(name)), name);
  const chk = c.check([...(await runner.runAll()).values()][0]!);
  const d = runner.capture([i]);
  const warm = (await runner.timeDispatches(d, 0, 1)).median;
  parts.push({ name, correct: chk.correct, max_err: chk.maxErr, warm, canWin: false, take: async () => (await runner.timeDispatches(d, 0, 1)).median });
  console.log(`${name}: checked (${chk.correct ? 'correct' : 'WRONG'}), first call ${warm.toFixed(1)} ms`);
}
const ts = await interleave(parts, { minRounds: R, maxRounds: R, targetMs: 0 });
runner.destroy();
const rows = parts.map((p, j) => ({ variant: p.name, correct: p.correct, max_err: p.max_err, median_ms: ts[j]!.median, min_ms: ts[j]!.min, max_ms: ts[j]!.max, samples: ts[j]!.samples.length }));
for (const r of rows) console.log(`${r.variant.padEnd(24)} ${r.median_ms.toFixed(1)} [${r.min_ms.toFixed(1)}-${r.max_ms.toFixed(1)}] ms (${r.samples})`);
const load1 = loadavg()[0]!;
console.log(`load average ${load0.toFixed(1)} -> ${load1.toFixed(1)}`);
writeFileSync(out, JSON.stringify({ device: ctx.deviceString, shape: `${n}x${n}x${n}`, timing: 'gpu timestamps, interleaved', load_avg: [load0, load1], command: `npx tsx bench/matmul-schedules.ts ${process.argv.slice(2).join(' ')}`, rows }, null, 2) + '\n');
await closeGpu();
