/**
 * `tfx train`: the training loop, on the host (`--backend cpu`: the reference interpreter, HostTrainer) or on
 * WebGPU (DeviceTrainer: parameters and optimizer state resident, AdamW in place): batches from a data source,
 * the gradient entry from the autodiff pass, clipping, warm-up + cosine learning rate, AdamW; a progress line
 * per step and periodic checkpoints that `--resume` continues exactly (same data, schedule and optimizer state).
 */
import type { HostTensor } from '../core/tensor.js';
import { batch, minSeq, ShapesError, SIZE, type ShapesConfig } from '../data/shapes.js';
import { compileFile } from '../driver.js';
import { TfxError, UsageError } from '../errors.js';
import type { Program } from '../ir/graph.js';
import { GRAD_SUFFIX } from '../ir/autodiff/grad.js';
import { exampleDims } from '../runtime/example-inputs.js';
import { initParams } from '../runtime/weights.js';
import { trainStepMemory } from '../train/memory.js';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from '../train/checkpoint.js';
import { DeviceTrainer } from '../train/device.js';
import { HostTrainer, type StepReport, type TrainConfig } from '../train/host.js';
import { PAPER_ADAMW, type AdamWState } from '../train/optim.js';
import { loadWeights } from './cmd-run.js';
import { intFlag, numFlag, oneFile, str, type Args } from './main.js';

const log = (s: string) => process.stderr.write(s + '\n');


/** `shapes` or `shapes:SEED`: the captioned-shapes data set (src/data/shapes.ts) with that seed (default 0). */
function parseData(s: string): { source: 'shapes'; seed: number } {
  const m = /^shapes(?::(\d+))?$/.exec(s);
  if (!m) throw new UsageError(`unknown data source '${s}' (shapes or shapes:SEED)`);
  return { source: 'shapes', seed: Number(m[1] ?? 0) };
}

const fmtTime = (s: number) => `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;

export default async function train(a: Args): Promise<number> {
  const file = oneFile(a);
  const backend = str(a, 'backend') ?? 'cpu';
  if (!['cpu', 'webgpu'].includes(backend)) throw new UsageError(`unknown backend '${backend}' (cpu or webgpu)`);
  const entry = str(a, 'entry') ?? 'loss';
  const resume = str(a, 'resume');
  const program = compileFile(file, { preset: str(a, 'preset'), entries: [entry + GRAD_SUFFIX] }).program;
  const g = program.entries[0]!;
  if (a.values['dry-run']) { dryRun(program, a); return 0; }

  let params: Map<string, HostTensor>;
  let trainerState: AdamWState | undefined;
  const saved = resume ? loadTrainingCheckpoint(resume, program.params) : undefined;
  if (saved) {
    if (saved.meta.preset !== program.preset) throw new TfxError('TFX4002', `${resume} was trained with preset '${saved.meta.preset}', not '${program.preset}'`);
    params = saved.params; trainerState = saved.state;
  } else {
    const w = str(a, 'weights');
    params = w ? loadWeights(program, w) : initParams(program.params, intFlag(a, 'seed', 0));
  }
  // A resumed run repeats the data source, batch size and schedule of the checkpoint unless told otherwise.
  const from = (k: string, flag: string | undefined) => flag ?? saved?.meta[k];
  const stepsText = from('steps', str(a, 'steps'));
  if (stepsText === undefined) throw new UsageError('missing --steps');
  const steps = Number(stepsText);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError('--steps must be a positive integer');
  const until = Math.min(steps, intFlag(a, 'until', steps));
  const data = parseData(from('data', str(a, 'data')) ?? 'shapes');
  const B = Number(from('batch', str(a, 'batch')) ?? 8);
  if (!Number.isInteger(B) || B < 1) throw new UsageError('--batch must be a positive integer');
  const lr = numFlag(a, 'lr', Number(saved?.meta.lr ?? 3e-3));
  const minLr = numFlag(a, 'min-lr', Number(saved?.meta.min_lr ?? lr / 10));
  const warmup = intFlag(a, 'warmup', Number(saved?.meta.warmup ?? Math.min(100, Math.ceil(steps / 10))));
  const clip = numFlag(a, 'clip', Number(saved?.meta.clip ?? 1));
  const wd = numFlag(a, 'weight-decay', Number(saved?.meta.weight_decay ?? PAPER_ADAMW.weightDecay));
  const every = intFlag(a, 'every', 0);
  const out = str(a, 'o');
  if (every > 0 && !out) throw new UsageError('--every needs -o (where to write checkpoints)');

  const cfg = program.config as unknown as ShapesConfig;
  try { batch(data.seed, 'train', 0, 1, cfg); } catch (e) {
    if (e instanceof ShapesError) throw new TfxError('TFX5001', `data ${data.source} does not fit preset '${program.preset}': ${e.message}`);
    throw e;
  }
  const tc: TrainConfig = { adamw: { ...PAPER_ADAMW, weightDecay: wd }, clip, schedule: { peak: lr, min: minLr, warmup, total: steps } };
  const trainer = backend === 'cpu' ? hostLoop(new HostTrainer(g, params, tc, trainerState), params)
    : deviceLoop(await DeviceTrainer.open(program, params, tc, { backend: 'webgpu', ...(trainerState ? { state: trainerState } : {}) }));
  const meta = {
    model: program.model, preset: program.preset, entry, data: `${data.source}:${data.seed}`, batch: String(B),
    lr: String(lr), min_lr: String(minLr), warmup: String(warmup), steps: String(steps), clip: String(clip), weight_decay: String(wd),
  };
  const save = async () => {
    if (!out) return;
    const s = await trainer.snapshot();
    saveTrainingCheckpoint(out, s.params, s.state, meta);
    log(`  checkpoint at step ${s.state.step}: ${out}`);
  };
  try {
    const start = trainer.taken();
    if (start >= until) { log(`${resume} is already at step ${start}; nothing to do`); return 0; }
    log(`training ${file} (preset ${program.preset}, ${program.params.length} parameters) on ${data.source}:${data.seed}, batch ${B}, steps ${start}..${until} of ${steps}, lr ${lr} -> ${+minLr.toPrecision(6)} (warm-up ${warmup}), clip ${clip}, weight decay ${wd}, backend ${backend}`);
    const t0 = performance.now();
    for (let s = start; s < until; s++) {
      const ts = performance.now();
      const { inputs } = batch(data.seed, 'train', s, B, cfg);
      const S = inputs.get('tokens')!.shape[1]!;
      const r = await trainer.step(inputs, { B, S, N: 1 });
      const dt = (performance.now() - ts) / 1000, done = s + 1 - start;
      const tokens = [...inputs.get('len')!.data].reduce((x, y) => x + y, 0);
      const parts = Object.entries(r.outputs).filter(([k]) => k !== 'loss').map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ');
      const eta = ((performance.now() - t0) / 1000 / done) * (until - s - 1);
      log(`step ${s + 1}/${steps} loss ${r.outputs.loss?.toFixed(4)} (${parts}) |g| ${r.gradNorm.toFixed(3)} lr ${r.lr.toExponential(2)} ${(tokens / dt).toFixed(0)} tokens/s ETA ${fmtTime(eta)}`);
      if (every > 0 && (s + 1) % every === 0 && s + 1 < until) await save();
    }
    await save();
    return 0;
  } finally {
    trainer.dispose();
  }
}

/** What the loop needs of a trainer, host or device. */
interface Loop {
  taken(): number;
  step(inputs: ReadonlyMap<string, HostTensor>, dims: Record<string, number>): Promise<StepReport>;
  /** Parameters and optimizer state on the host, for a checkpoint. */
  snapshot(): Promise<{ params: ReadonlyMap<string, HostTensor>; state: AdamWState }>;
  dispose(): void;
}
const hostLoop = (t: HostTrainer, params: ReadonlyMap<string, HostTensor>): Loop => ({
  taken: () => t.state.step, step: async (i, d) => t.step(i, d), snapshot: async () => ({ params, state: t.state }), dispose: () => {},
});
const deviceLoop = (t: DeviceTrainer): Loop => ({
  taken: () => t.taken, step: (i) => t.step(i), snapshot: async () => ({ params: await t.params(), state: await t.state() }), dispose: () => t.dispose(),
});

const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 100 * 2 ** 20 ? 2 : 0)} MiB`;

/** `--dry-run`: the device memory of one step (src/train/memory.ts) at --batch and --seq; nothing runs. */
function dryRun(program: Program, a: Args): void {
  const cfg = program.config as unknown as ShapesConfig;
  const fits = cfg.latent_c === 3 && cfg.latent_hw === SIZE;
  const B = intFlag(a, 'batch', 8);
  const seq = str(a, 'seq') !== undefined ? intFlag(a, 'seq') : fits ? minSeq(cfg) : undefined;
  if (B < 1 || (seq !== undefined && seq < 1)) throw new UsageError('--batch and --seq must be positive integers');
  const dims = exampleDims(program, program.entries[0]!, 'transfusion', { batch: B, images: 1, ...(seq !== undefined ? { seq } : {}) });
  const m = trainStepMemory(program, dims, PAPER_ADAMW);
  const values = program.params.reduce((n, p) => n + p.shape.reduce((x, y) => x * y, 1), 0);
  const rows: [string, number, string][] = [
    ['parameters', m.params, `${program.params.length} tensors, ${values} values, f32`],
    ['AdamW moments', m.moments, 'm and v, f32; updated in place'],
    ['gradients', m.grads, 'kept on the device between the two entries'],
    ['inputs', m.inputs, 'one batch'],
    ['intermediates', m.scratch, `gradient entry ${mib(m.gradScratch)} with liveness reuse (${mib(m.gradScratchNaive)} with one buffer each), optimizer ${mib(m.optimizerScratch)}`],
  ];
  log(`one training step of ${program.model} (preset ${program.preset}) at ${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ')}, WebGPU storage, from the plans (${m.kernels.grad} + ${m.kernels.optimizer} kernels):`);
  for (const [what, b, note] of rows) log(`  ${what.padEnd(14)} ${mib(b).padStart(10)}  ${note}`);
  log(`  ${'peak'.padEnd(14)} ${mib(m.peak).padStart(10)}  all of the above at once`);
}
