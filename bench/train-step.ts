/**
 * `tfx bench --op train-step`: wall time of one training step split into forward (the `loss` entry alone),
 * forward + backward (the gradient entry; on WebGPU its gradients stay on the device), backward (derived per
 * round: the two before, subtracted) and the optimizer (clipping + AdamW: in place on the device, on the host for
 * the CPU), on WebGPU (DeviceTrainer, src/train/device.ts) and the CPU (the interpreter, HostTrainer), for the
 * tiny preset (example inputs) and the shapes preset (a data-set batch) of a Transfusion spec at a few batch sizes. One warm-up round
 * (compiles), then rounds that run every backend once, the order rotating; the same batch every round.
 */
import { loadavg } from 'node:os';
import { batch, type ShapesConfig } from '../src/data/shapes.js';
import { compileFile } from '../src/driver.js';
import { hostTensor, type HostTensor } from '../src/core/tensor.js';
import { interpret } from '../src/ir/interpreter.js';
import { runGraphPipeline } from '../src/ir/pipeline.js';
import { exampleInputs } from '../src/runtime/example-inputs.js';
import { openSession } from '../src/runtime/session.js';
import type { GpuContext } from '../src/runtime/webgpu/device.js';
import { initParams } from '../src/runtime/weights.js';
import { DeviceTrainer } from '../src/train/device.js';
import { HostTrainer, type TrainConfig } from '../src/train/host.js';
import { PAPER_ADAMW } from '../src/train/optim.js';
import { stats } from './plan-runner.js';
import { spreadText } from './report.js';
import { banner, type Banner, type Spread } from './suite.js';

export interface TrainStepCase { readonly preset: 'tiny' | 'shapes'; readonly B: number }
export type TrainBackend = 'webgpu' | 'cpu';
export interface TrainStepRow {
  preset: string; backend: TrainBackend; B: number; S: number;
  forward: Spread; forward_backward: Spread; backward: Spread; optimizer: Spread; step: Spread;
}
export interface TrainStepResult {
  version: 1; op: 'train-step'; date: string; device: string; banner: Banner; rounds: number;
  rows: TrainStepRow[];
  /** CPU step median / WebGPU step median per case (> 1: WebGPU faster), measured in the same rounds. */
  ratios: { preset: string; B: number; cpu_over_webgpu: number }[];
  notes: string[];
}

const TC: TrainConfig = { adamw: PAPER_ADAMW, clip: 1, schedule: { peak: 1e-3, min: 1e-4, warmup: 10, total: 1000 } };
const spread = (xs: readonly number[]): Spread => { const s = stats(xs); const r = (x: number) => Math.round(x * 100) / 100; return { median: r(s.median), min: r(s.min), max: r(s.max), n: xs.length }; };

/** One backend's runner for a case: a round returns [forward, forward + backward, optimizer] in ms. */
interface Runner { round(): Promise<[number, number, number]>; dispose(): void }

async function runners(file: string, c: TrainStepCase): Promise<{ S: number; run: Record<TrainBackend, Runner> }> {
  const { program } = compileFile(file, { preset: c.preset, entries: ['loss', 'loss_grad'] });
  const entry = (n: string) => program.entries.find((g) => g.entry === n)!;
  const [loss, grad] = [entry('loss'), entry('loss_grad')];
  const inputs: Map<string, HostTensor> = c.preset === 'shapes'
    ? batch(0, 'train', 0, c.B, program.config as unknown as ShapesConfig).inputs
    : exampleInputs(program, loss, 1, { batch: c.B, seq: 64, images: 1 });
  const S = inputs.get('tokens')!.shape[1]!;
  const dims = { B: c.B, S, N: 1 };
  const params = initParams(program.params, 0);
  const scalars = loss.outputs.map((o) => o.name);
  // WebGPU: the forward in a session of its own (same weights), the step in the trainer's session.
  const fwd = await openSession({ ...program, entries: [loss] }, { backend: 'webgpu', weights: params });
  const dev = await DeviceTrainer.open({ ...program, entries: [grad] }, params, TC);
  const lossCpu = runGraphPipeline(loss);
  const host = new HostTrainer(grad, new Map([...params].map(([k, t]) => [k, hostTensor(t.dtype, t.shape, t.data.slice())])), TC);
  const timed = async (f: () => unknown) => { const t = performance.now(); await f(); return performance.now() - t; };
  return {
    S,
    run: {
      webgpu: {
        round: async () => {
          const f = await timed(() => fwd.run('loss', inputs, { outputs: scalars }));
          await dev.step(inputs);
          return [f, dev.last.grad, dev.last.optimizer];
        },
        dispose: () => { fwd.dispose(); dev.dispose(); },
      },
      cpu: {
        round: async () => {
          const f = await timed(() => interpret(lossCpu.outputs.map((o) => o.node), { inputs, params: host.params, dims }));
          host.step(inputs, dims);
          return [f, host.last.grad, host.last.optimizer];
        },
        dispose: () => {},
      },
    },
  };
}

export async function benchTrainStep(ctx: GpuContext, o: { file: string; cases: readonly TrainStepCase[]; rounds: number; log: (s: string) => void }): Promise<TrainStepResult> {
  const res: TrainStepResult = { version: 1, op: 'train-step', date: new Date().toISOString(), device: ctx.deviceString, rounds: o.rounds, rows: [], ratios: [], notes: [],
    banner: { ...banner(ctx), selection: 'fixed cases (tiny: example inputs at S 64; shapes: data-set batch 0), one warm-up round, then rounds running every backend once in rotating order; wall times of awaited calls' } };
  const backends: TrainBackend[] = ['webgpu', 'cpu'];
  for (const c of o.cases) {
    const { S, run } = await runners(o.file, c);
    try {
      const samples = Object.fromEntries(backends.map((b) => [b, [] as [number, number, number][]])) as Record<TrainBackend, [number, number, number][]>;
      for (let r = 0; r <= o.rounds; r++) {
        const order = r % 2 ? [...backends].reverse() : backends;
        for (const b of order) {
          const t = await run[b].round();
          if (r > 0) samples[b].push(t);
        }
        o.log(`train-step ${c.preset} B=${c.B}: round ${r}${r === 0 ? ' (warm-up)' : ''} done`);
      }
      for (const b of backends) {
        const xs = samples[b];
        res.rows.push({
          preset: c.preset, backend: b, B: c.B, S,
          forward: spread(xs.map((x) => x[0])), forward_backward: spread(xs.map((x) => x[1])), backward: spread(xs.map((x) => x[1] - x[0])),
          optimizer: spread(xs.map((x) => x[2])), step: spread(xs.map((x) => x[1] + x[2])),
        });
      }
      const step = (b: TrainBackend) => res.rows.find((r) => r.preset === c.preset && r.B === c.B && r.backend === b)!.step.median;
      res.ratios.push({ preset: c.preset, B: c.B, cpu_over_webgpu: Math.round((step('cpu') / step('webgpu')) * 100) / 100 });
    } finally { run.webgpu.dispose(); run.cpu.dispose(); }
  }
  res.banner.load_end = loadavg()[0]!;
  res.notes.push('backward = (forward + backward) - forward per round: the gradient entry recomputes the forward, so this is what the backward adds');
  return res;
}

/** The result as a Markdown table (stdout and --md): median [min-max] (n) in ms. */
export function trainStepText(r: TrainStepResult): string {
  const lines = [
    `# tfx bench --op train-step`, '',
    `device: ${r.banner.adapter}${r.banner.software_gpu ? ' (SOFTWARE GPU: a CPU rasterizer)' : ''}; ${r.banner.cpus} CPUs, load ${r.banner.load_start.toFixed(2)} at start, ${r.banner.load_end?.toFixed(2) ?? '?'} at end`,
    `command: ${r.banner.command}${r.banner.commit ? ` (commit ${r.banner.commit})` : ''}`, '',
    'Wall ms per step, median [min-max] (samples):', '',
    '| preset | B x S | backend | forward | forward + backward | backward (derived) | optimizer | step |',
    '|---|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => `| ${x.preset} | ${x.B} x ${x.S} | ${x.backend} | ${spreadText(x.forward)} | ${spreadText(x.forward_backward)} | ${spreadText(x.backward)} | ${spreadText(x.optimizer)} | ${spreadText(x.step)} |`),
    '',
    ...r.ratios.map((x) => `- ${x.preset} B=${x.B}: CPU step / WebGPU step = ${x.cpu_over_webgpu}x (${x.cpu_over_webgpu >= 1 ? `WebGPU ${x.cpu_over_webgpu}x faster` : `CPU ${(1 / x.cpu_over_webgpu).toFixed(2)}x faster`})`),
    ...r.notes.map((n) => `- ${n}`),
  ];
  return lines.join('\n') + '\n';
}
