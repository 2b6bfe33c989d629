/**
 * What limits tfx's f32 matmul against onnxruntime-node's WebGPU EP on this device (issue 16). Separates the
 * kernel code from the runtime: onnxruntime's own MatMul WGSL (bench/peers/ort-node-matmul.wgsl, dumped by the EP)
 * and tfx's best tiles run through tfx's executor on tfx's Dawn, each on two devices: Dawn's defaults as tfx opens
 * them (robustness on) and the device toggles onnxruntime's EP sets (disable_robustness, skip_validation,
 * lazy_clear_resource_on_first_use off). Every kernel is checked against the interpreter (sampled rows) on both
 * devices; GPU time from timestamps, all participants interleaved (one sample each per round, order rotated).
 * Also sampled in the same rounds, end to end (submit through the output on the host): tfx's first tile on the
 * default device and onnxruntime-node's session.run (which also uploads A and B every call), whose own profile gives
 * its MatMul program's GPU time in its own Dawn (the same WGSL as the file). A probe reads past a buffer on each
 * device to show whether the toggle took effect.
 *
 *   . scripts/env.sh && npx tsx bench/matmul-limits.ts SIZE OUT.json ROUNDS [TILE...] [--ort-robustness] [--devices=a,b,...] [--peer-no-subgroups]
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBGPU_LIMITS } from '../src/codegen-wgsl/wgsl.js';
import { lowerGraph } from '../src/ir/lower.js';
import { parseMatmulSchedule, scheduleForTarget, withSchedule } from '../src/ir/schedule.js';
import { openGpu, type GpuContext } from '../src/runtime/webgpu/device.js';
import type { Dispatch } from '../src/runtime/webgpu/executor.js';
import { matmulCase } from './cases.js';
import { interleave, type Participant } from './interleave.js';
import { encodeModel, peerGraph } from './peers/onnx-model.js';
import { PlanRunner, stats } from './plan-runner.js';

// --ort-robustness: onnxruntime's EP with enableRobustness (its WebGPU context is per process, first session wins,
// so its robust and default kinds need two runs; each run's ratios to the same tfx kernels compare them).
const args = process.argv.slice(2);
const ortRobust = args.includes('--ort-robustness');
const [size = '1024', out = 'matmul-limits.json', rounds = '5', ...tiles] = args.filter((a) => !a.startsWith('--'));
const n = Number(size);
if (!Number.isInteger(n) || n % 32 !== 0) throw new Error(`size must be a multiple of 32 (onnxruntime's 32x32 tile), got ${size}`);
if (tiles.length === 0) tiles.push('wg8x8_t16x8', 'wg8x8_t8x8_v4');

/** onnxruntime's device toggles (its webgpu_context.cc; the names are in libonnxruntime.so), as Dawn instance flags. */
const ortToggles = ['enable-dawn-features=disable_robustness,skip_validation', 'disable-dawn-features=timestamp_quantization,lazy_clear_resource_on_first_use'];
/** Devices by name (--devices=a,b,...; default the first three): Dawn instance flags for each. */
const deviceFlags: Record<string, string[]> = {
  'dawn-default': [],
  'ort-toggles': ortToggles,
  // ... and the other shader-side safety Dawn adds: zeroing workgroup memory, polyfilled integer / and %.
  'no-safety': [`${ortToggles[0]!},disable_workgroup_init,disable_polyfills_on_integer_div_and_mod`, ortToggles[1]!],
  // Code generation choices of this Dawn build that onnxruntime's (older) Dawn may make otherwise.
  'no-vk-memory-model': ['disable-dawn-features=timestamp_quantization,use_vulkan_memory_model'],
  'no-reconvergence': ['disable-dawn-features=timestamp_quantization,use_spirv_reconvergence_mode'],
  'no-spirv-1.4': ['disable-dawn-features=timestamp_quantization,use_spirv_1_4'],
  // All three at once, with onnxruntime's toggles: SPIR-V 1.0, GLSL450 memory model, no maximal reconvergence.
  'old-codegen': [ortToggles[0]!, `${ortToggles[1]!},use_vulkan_memory_model,use_spirv_reconvergence_mode,use_spirv_1_4`],
};
const deviceArg = args.find((a) => a.startsWith('--devices='));
const devices: { tag: string; ctx: GpuContext }[] = [];
for (const tag of deviceArg ? deviceArg.slice('--devices='.length).split(',') : ['dawn-default', 'ort-toggles', 'no-safety']) {
  const flags = deviceFlags[tag];
  if (!flags) throw new Error(`unknown device '${tag}' (known: ${Object.keys(deviceFlags).join(', ')})`);
  devices.push({ tag, ctx: await openGpu({ dawnFlags: flags }) });
}
const load0 = loadavg();
const c = matmulCase(n, n, n);
const plan = scheduleForTarget(lowerGraph(c.graph, []), WEBGPU_LIMITS);
const mi = plan.kernels.findIndex((k) => k.kind === 'matmul');
const ortWgsl = readFileSync(new URL('./peers/ort-node-matmul.wgsl', import.meta.url), 'utf8');
// --peer-no-subgroups: also the same kernel without its two unused subgroup builtins and `enable subgroups`.
const ortWgslNoSg = ortWgsl.replace('enable subgroups;\n', '').replace(/^ *@builtin\(subgroup_(invocation_id|size)\).*\n/gm, '');
if (ortWgslNoSg.includes('subgroup')) throw new Error('internal error: subgroup builtins left in the stripped peer kernel');

/** onnxruntime's Uniforms struct, laid out by WGSL's uniform rules (vec2 align 8, vec3 align 16; 96 bytes); A, B, C in vec4s. */
function ortUniforms(m: number, k: number, nn: number): Uint32Array {
  const u = new Uint32Array(24);
  u.set([m, k / 4], 0); u[2] = k / 4; // a_shape, a_stride
  u.set([k, nn / 4], 4); u[6] = nn / 4; // b_shape, b_stride
  u.set([1, m, nn / 4], 8); u.set([m * nn / 4, nn / 4], 12); // output_shape, output_stride
  u.set([m, nn, k, nn / 32, m / 32, 1, 1], 14); // dim_a_outer, dim_b_outer, dim_inner, logical_dispatch_xyz, splits_per_batch
  return u;
}

/**
 * Whether a device clamps out-of-bounds indices (what disable_robustness removes): element 5 of a 4-element workgroup
 * array holding 1..4, followed by one holding 101..104, the index from a uniform. Dawn's clamp reads element 3 (4);
 * without it the read lands one element past the array, inside the workgroup block (this probe only): likely 101.
 */
async function probeRobustness(runner: PlanRunner): Promise<number> {
  runner.ex.alloc('probeU', 16, 'uniform'); runner.ex.write('probeU', Uint32Array.from([5, 0, 0, 0]));
  runner.ex.alloc('probeOut', 16);
  const code = `@group(0) @binding(0) var<storage, read_write> o: array<f32>;
@group(0) @binding(1) var<uniform> u: vec4<u32>;
var<workgroup> w1: array<f32, 4>;
var<workgroup> w2: array<f32, 4>;
@compute @workgroup_size(1) fn main() {
  for (var i = 0u; i < 4u; i++) { w1[i] = f32(i + 1u); w2[i] = f32(i + 101u); }
  workgroupBarrier();
  o[0] = w1[u.x] + 0.0 * w2[u.y];
}`;
  await runner.ex.run([{ label: 'probe', kind: 'probe', code, entryPoint: 'main', bindings: ['probeOut', 'probeU'], workgroups: [1, 1, 1] }]);
  return new Float32Array(await runner.ex.read('probeOut'))[0]!;
}

const parts: (Participant & { name: string; correct: boolean; max_err: number })[] = [];
const runners: PlanRunner[] = [];
const probes: Record<string, number> = {};
async function add(name: string, runner: PlanRunner, d: Dispatch[]): Promise<void> {
  runner.ex.write(`b${plan.outputs[0]!.buf}`, new Float32Array(n * n)); // no earlier kernel's result can pass the check
  await runner.ex.run(d);
  const chk = c.check([...(await runner.readOutputs()).values()][0]!);
  const warm = (await runner.timeDispatches(d, 0, 1)).median;
  parts.push({ name, correct: chk.correct, max_err: chk.maxErr, warm, canWin: false, take: async () => (await runner.timeDispatches(d, 0, 1)).median });
  console.log(`${name}: ${chk.correct ? 'correct' : 'WRONG'} (max err ${chk.maxErr.toExponential(2)}), first call ${warm.toFixed(1)} ms`);
}
for (const { tag, ctx } of devices) {
  const runner = new PlanRunner(ctx, c.graph, plan, c.dims, c.inputs, new Map());
  runners.push(runner);
  probes[tag] = await probeRobustness(runner);
  console.log(`${tag}: out-of-bounds probe read ${probes[tag]} (4: clamped)`);
  for (const t of tiles) {
    await runner.use(withSchedule(plan, mi, parseMatmulSchedule(t)), t);
    await add(`tfx ${t} @${tag}`, runner, runner.capture([mi]));
  }
  runner.ex.alloc('ortU', 96, 'uniform');
  runner.ex.write('ortU', ortUniforms(n, n, n));
  const [a, b] = plan.inputs.map((x) => `b${x.buf}`);
  for (const [what, code] of [['', ortWgsl], ...(args.includes('--peer-no-subgroups') ? [[' (no subgroup builtins)', ortWgslNoSg]] : [])] as const) {
    await add(`ort-node kernel${what} @${tag}`, runner, [{ label: 'ort_matmul', kind: 'matmul', code, entryPoint: 'main', bindings: [a!, b!, `b${plan.outputs[0]!.buf}`, 'ortU'], workgroups: [n / 32, n / 32, 1] }]);
  }
}
// End to end, as the peers table measures them: tfx's first tile on the first device, onnxruntime-node's session.run.
const r0 = runners[0]!;
await r0.use(withSchedule(plan, mi, parseMatmulSchedule(tiles[0]!)), tiles[0]);
const d0 = r0.capture([mi]);
const e2e = async () => (await r0.wall(d0, 1, plan.outputs[0]!.buf)).median;
parts.push({ name: `tfx ${tiles[0]} end to end @${devices[0]!.tag}`, correct: parts[0]!.correct, max_err: 0, warm: await e2e(), canWin: false, take: e2e });
// onnxruntime-node's session as the peers table runs it (robustness off, its default; on with --ort-robustness),
// profiled: its profile holds the MatMul program's GPU time (timestamps in its own Dawn, category 'Api').
const ort = await import('onnxruntime-node');
const profDir = mkdtempSync(join(tmpdir(), 'tfx-ort-prof-'));
const feeds = { a: new ort.Tensor('float32', c.inputs.get('a')!.data as Float32Array, [n, n]), b: new ort.Tensor('float32', c.inputs.get('b')!.data as Float32Array, [n, n]) };
const sessions: { name: string; prefix: string; s: Awaited<ReturnType<typeof ort.InferenceSession.create>> }[] = [];
{
  const name = `ort-node-webgpu session.run end to end${ortRobust ? ' (enableRobustness)' : ''}`;
  const prefix = join(profDir, 'ort');
  const ep = { name: 'webgpu', enableRobustness: ortRobust };
  const s = await ort.InferenceSession.create(encodeModel(peerGraph({ op: 'matmul', m: n, k: n, n, a: feeds.a.data as Float32Array, b: feeds.b.data as Float32Array })), { executionProviders: [ep], enableProfiling: true, profileFilePrefix: prefix });
  sessions.push({ name, prefix, s });
  const call = async () => { const t0 = performance.now(); const y = (await s.run(feeds))['y']!.data as Float32Array; return { ms: performance.now() - t0, y }; };
  const first = await call();
  const chk = c.check({ ...c.inputs.get('a')!, shape: [n, n], data: first.y.slice() });
  console.log(`${name}: ${chk.correct ? 'correct' : 'WRONG'} (max err ${chk.maxErr.toExponential(2)}), first call ${first.ms.toFixed(1)} ms`);
  parts.push({ name, correct: chk.correct, max_err: chk.maxErr, warm: (await call()).ms, canWin: false, take: async () => (await call()).ms });
}

const ts = await interleave(parts, { minRounds: Number(rounds), maxRounds: Number(rounds), targetMs: 0 });
const rows = parts.map((p, j) => ({ participant: p.name, correct: p.correct, max_err: p.max_err, median_ms: ts[j]!.median, min_ms: ts[j]!.min, max_ms: ts[j]!.max, samples: ts[j]!.samples.length }));
for (const r of rows) console.log(`${r.participant.padEnd(44)} ${r.median_ms.toFixed(1)} [${r.min_ms.toFixed(1)}-${r.max_ms.toFixed(1)}] ms (${r.samples})`);
// The profiles are written when a session is released; the last `rounds` MatMul programs are the interleaved calls.
for (const { name, prefix, s: sess } of sessions) {
  await sess.release();
  const file = readdirSync(profDir).map((f) => join(profDir, f)).find((f) => f.startsWith(prefix));
  const gpu = (JSON.parse(readFileSync(file!, 'utf8')) as { cat: string; name: string; dur: number }[])
    .filter((e) => e.cat === 'Api' && e.name.includes('MatMul')).map((e) => e.dur / 1000).slice(-Number(rounds));
  const t = stats(gpu);
  const row = { participant: name.replace('session.run end to end', 'MatMul program, its own GPU timestamps'), correct: rows.find((r) => r.participant === name)!.correct, max_err: 0, median_ms: t.median, min_ms: t.min, max_ms: t.max, samples: gpu.length };
  rows.push(row);
  console.log(`${row.participant.padEnd(44)} ${t.median.toFixed(1)} [${t.min.toFixed(1)}-${t.max.toFixed(1)}] ms (${gpu.length})`);
}
writeFileSync(out, JSON.stringify({
  device: devices[0]!.ctx.deviceString, shape: `${n}x${n}x${n}`, timing: 'gpu timestamps per dispatch (tfx executor; onnxruntime profile), except the end-to-end rows (wall ms); interleaved',
  ort_enable_robustness: ortRobust,
  dawn_flags: Object.fromEntries(devices.map((d) => [d.tag, deviceFlags[d.tag]])), oob_probe_read: probes, load_avg_start: load0, load_avg_end: loadavg(),
  command: `. scripts/env.sh && npx tsx bench/matmul-limits.ts ${args.join(' ')}`, rows,
}, null, 2) + '\n');
for (const r of runners) r.destroy();
for (const { ctx } of devices) ctx.device.destroy();
