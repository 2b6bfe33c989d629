/**
 * The probe used to choose the shapes training run's batch: time of a training step of the shapes preset on the
 * device trainer (WebGPU) at one batch size, and optionally of the CPU host trainer on the same batches
 * (alternating step by step), after one warm-up step; prints median [min-max] (n) and the first step's time.
 * `tfx bench --op train-step` (bench/train-step.ts) is the full benchmark (forward / backward / optimizer split).
 *   npx tsx bench/shapes-step-time.ts BATCH [STEPS=4] [cpu]      (SPEC=path.tfx to time another spec's shapes preset)
 */
import { batch, type ShapesConfig } from '../src/data/shapes.js';
import { compileFile } from '../src/driver.js';
import { DeviceTrainer } from '../src/train/device.js';
import { HostTrainer } from '../src/train/host.js';
import { PAPER_ADAMW } from '../src/train/optim.js';
import { closeGpu } from '../src/runtime/webgpu/device.js';
import { initParams } from '../src/runtime/weights.js';

const [Bs, ns, cpu] = process.argv.slice(2);
const B = Number(Bs), n = Number(ns ?? 4);
if (!(B >= 1) || !(n >= 1)) { process.stderr.write('usage: npx tsx bench/shapes-step-time.ts BATCH [STEPS] [cpu]\n'); process.exit(2); }
const program = compileFile(process.env.SPEC ?? 'models/transfusion.tfx', { preset: 'shapes', entries: ['loss_grad'] }).program;
const cfg = program.config as unknown as ShapesConfig;
const tc = { adamw: PAPER_ADAMW, clip: 1, schedule: { peak: 3e-3, min: 3e-4, warmup: 3, total: 100 } };
const dev = await DeviceTrainer.open(program, initParams(program.params, 0), tc, { backend: 'webgpu' });
const host = cpu === 'cpu' ? new HostTrainer(program.entries[0]!, initParams(program.params, 0), tc) : undefined;
const td: number[] = [], th: number[] = [];
for (let k = 0; k <= n; k++) {
  const { inputs } = batch(0, 'train', k, B, cfg);
  let t0 = performance.now();
  await dev.step(inputs);
  td.push(performance.now() - t0);
  if (host) { t0 = performance.now(); host.step(inputs, { B, S: inputs.get('tokens')!.shape[1]!, N: 1 }); th.push(performance.now() - t0); }
}
const stat = (xs: number[]) => {
  const t = xs.slice(1).sort((a, b) => a - b);
  return `${t[Math.floor(t.length / 2)]!.toFixed(0)} [${t[0]!.toFixed(0)}-${t[t.length - 1]!.toFixed(0)}] ms (${t.length}); first ${xs[0]!.toFixed(0)} ms`;
};
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(`shapes preset, batch ${B}, load ${load}: webgpu ${stat(td)}`);
if (host) console.log(`shapes preset, batch ${B}, load ${load}: cpu    ${stat(th)}`);
dev.dispose();
await closeGpu();
