/**
 * The `tfx` command line. Each command declares its flags once (src/cli/args.ts: help text and an example per
 * flag); misuse prints one line and exits 2, spec errors print diagnostics and user errors print
 * `error TFXnnnn: ...` (src/errors.ts), both exit 1; anything else is an internal error (exit 70). Nothing
 * reaches the user as a stack trace unless TFX_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { SpecError } from '../driver.js';
import { EXIT, UsageError, formatUserError } from '../errors.js';
import { commandHelp, didYouMean, parseCommandLine, type Args, type Command, type FlagSpec } from './args.js';

export type { Args, Command } from './args.js';

const SPEC = 'models/transfusion.tfx';
const preset: Record<string, FlagSpec> = {
  preset: { type: 'string', value: 'P', help: "config preset to use; default: the spec's own config values", example: `--preset 0.16b` },
};
const entry: Record<string, FlagSpec> = {
  entry: { type: 'string', value: 'E', help: "entry point to use; default: the spec's only entry, or its first", example: '--entry loss' },
};
const f16: Record<string, FlagSpec> = {
  f16: { type: 'boolean', help: 'store every tensor as f16 (math and accumulation stay f32 in registers)', example: `--f16` },
};

const map: Record<string, FlagSpec> = {
  map: { type: 'string', value: 'MAP.json', help: 'rename and transpose checkpoint tensors on read: {"rename": [[REGEX, REPLACEMENT], ...], "transpose": [REGEX, ...]} (docs/checkpoints.md)', example: '--map hf-names.json' },
};

const lazy = (mod: () => Promise<{ default: (a: Args) => Promise<number> }>) => async (a: Args) => (await mod()).default(a);

export const COMMANDS: Record<string, Command> = {
  check: {
    summary: 'parse and check a spec (the defaults and every preset unless --preset); silent when all is well',
    operands: 'FILE.tfx', flags: { ...preset }, examples: [`tfx check ${SPEC}`, `tfx check ${SPEC} --preset 7b`],
    run: lazy(() => import('./cmd-check.js')),
  },
  inspect: {
    summary: 'presets, config, entries and parameters of a spec',
    operands: 'FILE.tfx',
    flags: {
      ...preset, json: { type: 'boolean', help: 'print the same facts as one JSON object (parameter names are the weights-file keys)', example: '--json' },
      weights: { type: 'string', value: 'W', help: 'also open this checkpoint (a .safetensors file, a .safetensors.index.json or a folder holding one) and check its names, shapes and dtypes against the preset from the headers alone', example: '--weights w.safetensors.index.json' },
      ...map,
      verify: { type: 'boolean', help: 'with --weights: read every tensor, one at a time, and count NaN and infinite values (exit 1 if any)', example: '--verify' },
    },
    examples: [`tfx inspect ${SPEC}`, `tfx inspect ${SPEC} --preset 0.16b --json`, `tfx inspect ${SPEC} --preset 7b --weights w7b/ --verify`],
    run: lazy(() => import('./cmd-inspect.js')),
  },
  ir: {
    summary: 'print the IR after any stage of the pipeline (graph, kernels, kernel IR, memory, source)',
    operands: 'FILE.tfx',
    flags: { ...preset, entry: { ...entry.entry!, help: 'print only this entry; default: every entry' }, 'dump-after': { type: 'string', value: 'STAGE', help: 'print the IR after this stage instead of after the graph passes (parse, elaborate, specializeShapes, foldConstants, simplify, cse, dce, fuse, schedule, memory, render)', example: '--dump-after schedule' }, target: { type: 'string', value: 'wgsl|cuda', help: 'the target scheduled and rendered for the schedule, memory and render stages (default wgsl)', example: '--target cuda' } },
    examples: [`tfx ir ${SPEC} --entry forward`, `tfx ir ${SPEC} --dump-after elaborate`],
    run: lazy(() => import('./cmd-ir.js')),
  },
  init: {
    summary: "initialize weights from the spec's init rules into a safetensors file",
    operands: 'FILE.tfx',
    flags: {
      ...preset,
      seed: { type: 'string', value: 'N', help: 'random seed (an integer); the same seed gives the same file', example: '--seed 7' },
      o: { type: 'string', short: 'o', value: 'W.safetensors', help: 'where to write the weights: NAME.safetensors (one file) or NAME.safetensors.index.json (shards NAME-00001-of-0000N.safetensors next to it)', example: '-o weights.safetensors' },
      dtype: { type: 'string', value: 'f32|f16|bf16', help: "store float parameters at this precision (the f32 draw rounded to nearest even); default: each parameter's own dtype", example: '--dtype bf16' },
      'shard-size': { type: 'string', value: 'SIZE', help: 'with -o NAME.safetensors.index.json: the most tensor bytes per shard (default 2GiB; a bigger tensor gets a shard of its own)', example: '--shard-size 2GB' },
    },
    examples: [`tfx init ${SPEC} --seed 0 -o w.safetensors`, `tfx init ${SPEC} --preset 7b --dtype bf16 --seed 0 -o w7b/model.safetensors.index.json`],
    run: lazy(() => import('./cmd-init.js')),
  },
  'example-inputs': {
    summary: 'write a valid random batch of inputs for an entry',
    operands: 'FILE.tfx',
    flags: {
      ...preset, ...entry,
      seed: { type: 'string', value: 'N', help: 'random seed (an integer; default 0)', example: '--seed 3' },
      o: { type: 'string', short: 'o', value: 'I.safetensors', help: 'where to write the inputs; default: MODEL-ENTRY-inputs.safetensors in the current folder', example: '-o inputs.safetensors' },
      dim: { type: 'string', multiple: true, value: 'NAME=VALUE', help: "size of a symbolic dimension of the spec; the others get the generator's defaults (4 for random; transfusion: batch 2, a sequence that fits two images, 2 image slots)", example: '--dim B=4 --dim S=256' },
      generator: { type: 'string', value: 'random|transfusion', help: "input generator: random (values by dtype, or in a '# @range NAME LO HI' the spec declares) or transfusion (mixed text/image batch layouts); default: the spec's '# @inputs NAME' line, else random", example: '--generator random' },
    },
    examples: [`tfx example-inputs ${SPEC}`, `tfx example-inputs ${SPEC} --entry loss --dim S=256 --seed 3 -o loss.safetensors`],
    run: lazy(() => import('./cmd-example-inputs.js')),
  },
  run: {
    summary: 'run an entry point on WebGPU, the CPU reference interpreter or CUDA',
    operands: 'FILE.tfx',
    flags: {
      ...preset, ...entry,
      backend: { type: 'string', value: 'webgpu|cpu|cuda', help: 'where to run: webgpu (Dawn; default), cpu (the reference interpreter) or cuda', example: '--backend cpu' },
      weights: { type: 'string', value: 'W.safetensors', help: "parameters, as written by tfx init: a .safetensors file, a .safetensors.index.json or a folder holding one; default: initialized from the spec's init rules with seed 0", example: '--weights w.safetensors' },
      ...map,
      inputs: { type: 'string', value: 'I.safetensors', help: "entry inputs, as written by tfx example-inputs; default: generated as tfx example-inputs does with seed 0", example: '--inputs inputs.safetensors' },
      o: { type: 'string', short: 'o', value: 'O.safetensors', help: 'write the outputs here', example: '-o out.safetensors' },
      profile: { type: 'boolean', help: "WebGPU: run twice and print the warm run's profile: per kernel (fused ops, the spec lines and block call path it came from, time share, GFLOP/s and GB/s against the device's measured peak, compute/memory/launch bound) and per spec line, block and op kind", example: '--profile' },
      trace: { type: 'string', value: 'OUT.json', help: 'WebGPU: also write the profile as Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev); implies --profile', example: '--trace trace.json' },
      ...f16,
      'no-tune-cache': { type: 'boolean', help: 'WebGPU: ignore the schedules tfx bench --tune stored in .tfx-cache/tune.json', example: '--no-tune-cache' },
    },
    examples: [`tfx run ${SPEC}`, `tfx run ${SPEC} --weights w.safetensors --inputs inputs.safetensors --profile`, `tfx run ${SPEC} --entry loss --backend cpu --weights w.safetensors --inputs loss.safetensors -o out.safetensors`],
    run: lazy(() => import('./cmd-run.js')),
  },
  grad: {
    summary: "gradients of an entry's scalar loss with respect to every parameter, under each parameter's name",
    operands: 'FILE.tfx',
    flags: {
      ...preset,
      entry: { ...entry.entry!, help: 'the entry to differentiate (its output `loss`, or its only output); default: loss' },
      backend: { type: 'string', value: 'cpu|webgpu', help: 'cpu (the reference interpreter; default) or webgpu (scatter-adds and attention backward run as dense / unfused forms of existing kernels)', example: '--backend webgpu' },
      weights: { type: 'string', value: 'W.safetensors', help: 'parameters, as written by tfx init', example: '--weights w.safetensors' },
      inputs: { type: 'string', value: 'I.safetensors', help: 'entry inputs, as written by tfx example-inputs', example: '--inputs loss.safetensors' },
      o: { type: 'string', short: 'o', value: 'G.safetensors', help: 'where to write the gradients (one tensor per parameter)', example: '-o grads.safetensors' },
    },
    examples: [`tfx grad ${SPEC} --entry loss --weights w.safetensors --inputs loss.safetensors -o grads.safetensors`],
    run: lazy(() => import('./cmd-grad.js')),
  },
  train: {
    summary: 'train on a data source: autodiff gradients, clipping, warm-up + cosine learning rate, AdamW; checkpoints that --resume continues exactly',
    operands: 'FILE.tfx',
    flags: {
      ...preset,
      entry: { ...entry.entry!, help: 'the entry whose scalar output is minimised; default: loss' },
      data: { type: 'string', value: 'shapes[:SEED]', help: 'data source: the captioned-shapes data set (training split) with a seed; default: shapes:0', example: '--data shapes:1' },
      steps: { type: 'string', value: 'N', help: 'total number of optimizer steps, which the schedule spans (a resumed run continues from the checkpoint\'s step; default there: its total)', example: '--steps 400' },
      until: { type: 'string', value: 'K', help: 'stop after step K (the schedule still spans --steps); resume later', example: '--until 200' },
      batch: { type: 'string', value: 'B', help: 'examples per step; default: 8', example: '--batch 8' },
      lr: { type: 'string', value: 'LR', help: 'peak learning rate; default: 3e-3', example: '--lr 1e-3' },
      'min-lr': { type: 'string', value: 'LR', help: 'learning rate at the end of the cosine decay; default: lr / 10', example: '--min-lr 1e-4' },
      warmup: { type: 'string', value: 'N', help: 'linear warm-up steps; default: min(100, steps / 10)', example: '--warmup 20' },
      clip: { type: 'string', value: 'X', help: 'clip gradients to this global norm; default: 1', example: '--clip 1' },
      'weight-decay': { type: 'string', value: 'X', help: 'AdamW decoupled weight decay of matrices and embeddings; default: 0.1', example: '--weight-decay 0.1' },
      seed: { type: 'string', value: 'N', help: 'seed of the initial weights when neither --weights nor --resume is given; default: 0', example: '--seed 1' },
      weights: { type: 'string', value: 'W.safetensors', help: 'start from these weights (fresh optimizer state)', example: '--weights w.safetensors' },
      resume: { type: 'string', value: 'CKPT.safetensors', help: 'continue a run from its checkpoint (weights, optimizer state, step, data and schedule)', example: '--resume run.safetensors' },
      o: { type: 'string', short: 'o', value: 'CKPT.safetensors', help: 'write the checkpoint here at the end (and every --every steps)', example: '-o run.safetensors' },
      every: { type: 'string', value: 'K', help: 'also write the checkpoint every K steps', example: '--every 50' },
      backend: { type: 'string', value: 'cpu|webgpu', help: 'cpu (the reference interpreter; default) or webgpu (parameters and AdamW state resident on the device, updated in place)', example: '--backend cpu' },
      'dry-run': { type: 'boolean', help: 'run nothing: print the device memory of one step (parameters, AdamW moments, gradients, inputs, intermediates with liveness reuse) from the plans', example: '--dry-run' },
      seq: { type: 'string', value: 'S', help: '--dry-run: sequence length; default: the data set\'s when it fits the preset, else the example-input default', example: '--seq 1024' },
    },
    examples: [`tfx train ${SPEC} --preset shapes --data shapes:0 --steps 400 -o run.safetensors --every 50`, `tfx train ${SPEC} --preset shapes --steps 800 --resume run.safetensors -o run.safetensors`],
    run: lazy(() => import('./cmd-train.js')),
  },
  compile: {
    summary: 'compile entries to WGSL or CUDA kernels: DIR/ENTRY/ (kernel files, plan.json) and DIR/manifest.json',
    operands: 'FILE.tfx',
    flags: {
      ...preset, entry: { ...entry.entry!, help: 'compile only this entry; default: every entry (one folder each)' },
      target: { type: 'string', value: 'wgsl|cuda|ts', help: 'kernel language: wgsl (default) or cuda; or ts: typed TypeScript bindings (DIR/index.ts, one typed method per entry, importing only the tfx package)', example: '--target cuda' },
      runtime: { type: 'string', value: 'MODULE', help: "--target ts: the module the bindings import the tfx runtime from (default 'tfx')", example: '--runtime tfx' },
      o: { type: 'string', short: 'o', value: 'DIR', help: 'output folder, replaced as a whole (only a new or empty folder or an earlier tfx output); default: MODEL-TARGET in the current folder, or nothing written with --stats alone', example: '-o out/transfusion' },
      stats: { type: 'boolean', help: 'print kernel counts before and after fusion, memory, and (cuda) registers and spills from nvcc', example: '--stats' },
      ...f16,
    },
    examples: [`tfx compile ${SPEC} -o out/wgsl`, `tfx compile ${SPEC} --target cuda --stats -o out/cuda`, `tfx compile ${SPEC} --preset tiny --target ts -o out/transfusion-ts`],
    run: lazy(() => import('./cmd-compile.js')),
  },
  generate: {
    summary: 'generate text and images from a spec with generation entries (KV-cache decoding, DDIM/DDPM with guidance, captioning)',
    operands: 'FILE.tfx',
    flags: {
      ...preset,
      weights: { type: 'string', value: 'W.safetensors', help: "parameters, as written by tfx init; default: initialized from the spec's init rules with seed 0", example: '--weights w.safetensors' },
      prompt: { type: 'string', value: 'TEXT', help: 'the text prompt (byte-level tokens)', example: '--prompt "a red square"' },
      image: { type: 'string', value: 'IN.png', help: 'an image placed before the prompt, for captioning: a PNG (pixel-space presets; latent_hw pixels square or a whole multiple) or a latent .safetensors [latent_c, latent_hw, latent_hw]', example: '--image shape.png' },
      'force-image': { type: 'boolean', help: 'end the prompt with BOI, so an image is generated first', example: '--force-image' },
      steps: { type: 'string', value: 'N', help: 'denoising steps per image (default 50)', example: '--steps 25' },
      guidance: { type: 'string', value: 'W', help: 'classifier-free guidance weight, eps_u + W (eps_c - eps_u) (default 5; 1 turns it off)', example: '--guidance 3' },
      scheduler: { type: 'string', value: 'ddim|ddpm', help: 'ddim (deterministic, default) or ddpm (ancestral)', example: '--scheduler ddpm' },
      seed: { type: 'string', value: 'N', help: 'random seed for sampling and image noise (default 0); the same seed gives the same output', example: '--seed 7' },
      temperature: { type: 'string', value: 'T', help: 'sampling temperature; 0 (default) is greedy', example: '--temperature 0.8' },
      'top-k': { type: 'string', value: 'K', help: 'sample among the K most likely tokens (default 0: all)', example: '--top-k 40' },
      'top-p': { type: 'string', value: 'P', help: 'sample among the most likely tokens totalling probability P (default 1: all)', example: '--top-p 0.9' },
      'max-tokens': { type: 'string', value: 'N', help: 'text tokens to generate per sequence (default 32); a sequence ends sooner at the end of text token (config eos)', example: '--max-tokens 64' },
      'max-images': { type: 'string', value: 'N', help: 'images a sequence may generate (default 1)', example: '--max-images 2' },
      batch: { type: 'string', value: 'B', help: 'sequences generated together from the same prompt, each with its own random stream (default 1)', example: '--batch 4' },
      backend: { type: 'string', value: 'cpu|webgpu', help: 'cpu (the reference interpreter; default) or webgpu', example: '--backend webgpu' },
      o: { type: 'string', short: 'o', value: 'DIR', help: "where images go (default 'generated'): pixel-space presets as PNG at their size plus an enlarged .preview.png; latent presets as safetensors plus a PNG preview", example: '-o out' },
    },
    examples: [`tfx generate ${SPEC} --weights w.safetensors --prompt "a red square" --force-image --steps 25 -o out`, `tfx generate ${SPEC} --image latent.safetensors --max-tokens 16`],
    notes: 'Text is printed as it is produced, a progress line per denoising step goes to stderr.',
    run: lazy(() => import('./cmd-generate.js')),
  },
  bench: {
    summary: "benchmark an entry's kernels and their variants, standalone matmul and attention, and peers",
    operands: 'FILE.tfx',
    flags: {
      ...preset, ...entry,
      backend: { type: 'string', value: 'webgpu|cuda', help: 'device to benchmark: webgpu (default) or cuda', example: '--backend webgpu' },
      op: { type: 'string', value: 'KIND', help: 'only this kind: host (compile, tile classification and session-call wall times, Benchmark.js), matmul, attention, row, map, rmsnorm, rope, elementwise, compute or peers; or generate (decode tokens/s, ms per denoising step with and without guidance); or train-step (training step time of the tiny and shapes presets on WebGPU and the CPU, split into forward / backward / optimizer; a Transfusion spec with those presets)', example: '--op attention' },
      weights: { type: 'string', value: 'W.safetensors', help: "--op generate: parameters, as written by tfx init; default: initialized from the spec's init rules with seed 0", example: '--weights w.safetensors' },
      shapes: { type: 'string', value: 'LIST', help: 'comma-separated sizes: N or MxKxN for matmul, sS, sShH or sShHkvK for attention (S tokens, H heads, K KV heads; plain S with --op attention)', example: '--shapes 512,1024x1024x4096,s2048h8' },
      json: { type: 'string', value: 'OUT.json', help: 'also write every measurement as JSON', example: '--json bench.json' },
      report: { type: 'string', value: 'OUT.html', help: 'also write an HTML report', example: '--report bench.html' },
      md: { type: 'string', value: 'OUT.md', help: 'also write a Markdown summary (the tables of bench/results/README.md)', example: '--md bench.md' },
      tune: { type: 'boolean', help: 'search schedules per kernel and store the best in .tfx-cache/tune.json (tfx run uses them)', example: '--tune --budget 120' },
      budget: { type: 'string', value: 'SECONDS', help: 'time budget for --tune (default 60)', example: '--budget 120' },
      peers: { type: 'boolean', help: 'also time TensorFlow.js and ONNX Runtime on the same matmul and attention shapes', example: '--peers' },
      quick: { type: 'boolean', help: 'few sizes and iterations (seconds on a software GPU, for CI)', example: '--quick' },
    },
    examples: [`tfx bench ${SPEC} --quick`, `tfx bench ${SPEC} --op attention --shapes 1024,4096 --json bench.json`],
    run: lazy(() => import('./cmd-bench.js')),
  },
};

/** The package version (package.json). */
export function tfxVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'usage: tfx COMMAND FILE.tfx [flags]', '',
    ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`), '',
    "'tfx help COMMAND' or 'tfx COMMAND --help' describes a command's flags; 'tfx --version' prints the version",
  ].join('\n');
}

function unknownCommand(name: string): string {
  const hint = didYouMean(name, Object.keys(COMMANDS));
  return `tfx: unknown command '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; 'tfx help' lists the commands\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) { process.stderr.write(usage() + '\n'); return 2; }
  if (name === '--help' || name === '-h') { process.stdout.write(usage() + '\n'); return 0; }
  if (name === '--version' || name === '-V' || name === 'version') { process.stdout.write(`tfx ${tfxVersion()}\n`); return 0; }
  if (name === 'help') {
    const topic = rest[0];
    if (topic === undefined) { process.stdout.write(usage() + '\n'); return 0; }
    const c = COMMANDS[topic];
    if (!c) { process.stderr.write(unknownCommand(topic)); return 2; }
    process.stdout.write(commandHelp(topic, c));
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) { process.stderr.write(unknownCommand(name)); return 2; }
  const dashdash = rest.indexOf('--');
  const flagPart = dashdash < 0 ? rest : rest.slice(0, dashdash);
  if (flagPart.includes('--help') || flagPart.includes('-h')) { process.stdout.write(commandHelp(name, cmd)); return 0; }
  const misuse = (msg: string) => { process.stderr.write(`tfx ${name}: ${msg}; see 'tfx ${name} --help'\n`); return EXIT.misuse; };
  let args: Args;
  try {
    args = parseCommandLine(rest, cmd.flags);
  } catch (e) {
    if (e instanceof UsageError) return misuse(e.message);
    throw e;
  }
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) return misuse(e.message);
    if (e instanceof SpecError) { process.stderr.write(e.rendered + '\n'); return EXIT.user; }
    const user = formatUserError(e);
    if (user !== undefined) { process.stderr.write(`tfx ${name}: ${user}\n`); return EXIT.user; }
    return internalError(name, e);
  }
}

/** Anything that is not a user error or misuse is a tfx bug: say so, exit 70, the stack only under TFX_DEBUG=1. */
export function internalError(name: string, e: unknown): number {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/^internal error: /, '').split('\n')[0];
  process.stderr.write(`tfx ${name}: internal error: ${msg}\n(this is a tfx bug; please report it with the command that triggered it; TFX_DEBUG=1 shows the stack)\n`);
  if (process.env.TFX_DEBUG === '1') process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  return EXIT.internal;
}

/** Shared helpers for commands. */
export function oneFile(a: Args): string {
  if (a.positionals.length === 0) throw new UsageError('missing FILE.tfx');
  if (a.positionals.length > 1) throw new UsageError(`unexpected argument '${a.positionals[1]}'`);
  return a.positionals[0]!;
}
export function str(a: Args, k: string): string | undefined {
  const v = a.values[k];
  return typeof v === 'string' ? v : undefined;
}
export function need(a: Args, k: string): string {
  const v = str(a, k);
  if (v === undefined) throw new UsageError(`missing ${k.length === 1 ? '-' : '--'}${k}`);
  return v;
}
/** A decimal number flag (digits, optional fraction and exponent; no hex, no separators). */
export function numFlag(a: Args, k: string, dflt: number): number {
  const v = str(a, k);
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v) || !Number.isFinite(x)) throw new UsageError(`--${k} must be a number, got '${v}'`);
  return x;
}
export function intFlag(a: Args, k: string, dflt?: number): number {
  const v = str(a, k);
  if (v === undefined) { if (dflt === undefined) throw new UsageError(`missing --${k}`); return dflt; }
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${k} must be an integer, got '${v}'`);
  return Number(v);
}
