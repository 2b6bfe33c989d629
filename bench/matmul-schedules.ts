/**
 * Chosen matmul schedules, by name, at one size on this device (issue 16): each checked against the interpreter
 * (sampled), then sampled interleaved (rounds rotated), GPU timestamps. For controls and for looking at what a
 * change buys before a full `tfx bench` run; names as `tfx bench` prints them (wg8x8_t8x8_v4, ..._shared16_u4).
 * A name ending in `:interior` is a control (issue 16): the same kernel with its bounds handling removed, the
 * clamps of A's rows and B's columns (min) and the guards of the stores, as a kernel that knew every workgroup
 * lies inside M x N would be; only where that holds (the size a multiple of both tile sides), checked as well.
 *
 *   . scripts/env.sh && npx tsx bench/matmul-schedules.ts 1024 OUT.json ROUNDS NAME...
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { WEBGPU_LIMITS, renderWgsl, renderWgslBody, type KernelRenderer } from '../src/codegen-wgsl/wgsl.js';
import type { KExpr, MatmulSchedule } from '../src/ir/kernel.js';
import { buildKernel } from '../src/ir/kernel-build.js';
import { mapExpr, mapStmtExprs, type KBody, type KStmt } from '../src/ir/kernel-ir.js';
import { lowerGraph } from '../src/ir/lower.js';
import { parseMatmulSchedule, scheduleForTarget, scheduleName, withSchedule } from '../src/ir/schedule.js';
import { closeGpu, openGpu } from '../src/runtime/webgpu/device.js';
import { matmulCase } from './cases.js';
import { interleave } from './interleave.js';
import { PlanRunner } from './plan-runner.js';

/** The matmul body without bounds handling: min(x, _) -> x, `if (inside) store` -> store (see the header). */
function interior(b: KBody): KBody {
  let clamps = 0;
  const ex = (e: KExpr) => mapExpr(e, (x) => (x.k === 'bin' && x.op === 'min' ? (clamps++, x.a) : x));
  const stmts = (ss: readonly KStmt[]): KStmt[] => ss.flatMap((st) =>
    st.s === 'if' && st.then.every((t) => t.s === 'store' || t.s === 'vstore') ? stmts(st.then) : [mapStmtExprs(st, ex, stmts)]);
  const body = stmts(b.body);
  if (clamps === 0) throw new Error(`${b.name}: no clamps to remove`);
  return { ...b, body };
}
const interiorRenderer: KernelRenderer = (k, buffers, symbols) =>
  (k.kind === 'matmul' ? renderWgslBody(interior(buildKernel(k, buffers, symbols)), buffers, symbols) : renderWgsl(k, buffers, symbols));

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
  const [sched = '', control] = name.split(':');
  const m = parseMatmulSchedule(sched);
  if (control !== undefined && (control !== 'interior' || n % (m.wgX * m.tn) !== 0 || n % (m.wgY * m.tm) !== 0 || (m.shared && n % m.tk !== 0))) {
    throw new Error(`${name}: only NAME:interior, at a size both tile sides divide`);
  }
  await runner.use(withSchedule(plan, i, m), name, control ? interiorRenderer : renderWgsl);
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
