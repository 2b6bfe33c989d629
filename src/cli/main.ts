/**
 * The `tfx` command line. Each command declares its flags; misuse prints one line plus usage and exits 2,
 * spec errors print diagnostics and user errors print `error TFXnnnn: ...` (src/errors.ts), both exit 1; anything
 * else is an internal error (exit 70). Nothing reaches the user as a stack trace unless TFX_DEBUG=1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SpecError } from '../driver.js';
import { EXIT, UsageError, formatUserError } from '../errors.js';

type Flags = NonNullable<ParseArgsConfig['options']>;
export type Args = { positionals: string[]; values: Record<string, string | boolean | undefined> };
export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly flags: Flags;
  readonly run: (a: Args) => Promise<number>;
}

const preset = { preset: { type: 'string' } } as const;
const entry = { entry: { type: 'string' } } as const;
const runFlags = {
  ...preset, ...entry, backend: { type: 'string' }, weights: { type: 'string' }, inputs: { type: 'string' }, o: { type: 'string', short: 'o' },
  profile: { type: 'boolean' }, f16: { type: 'boolean' }, 'no-tune-cache': { type: 'boolean' },
} as const;

const lazy = (mod: () => Promise<{ default: (a: Args) => Promise<number> }>) => async (a: Args) => (await mod()).default(a);

export const COMMANDS: Record<string, Command> = {
  check: { summary: 'parse and check a spec (every preset unless --preset)', usage: 'tfx check FILE.tfx [--preset P]', flags: preset, run: lazy(() => import('./cmd-check.js')) },
  inspect: { summary: 'presets, config, entries and parameters of a spec', usage: 'tfx inspect FILE.tfx [--preset P] [--json]', flags: { ...preset, json: { type: 'boolean' } }, run: lazy(() => import('./cmd-inspect.js')) },
  ir: { summary: 'print the graph IR after the pass pipeline', usage: 'tfx ir FILE.tfx [--preset P] [--entry E] [--dump-after PASS]', flags: { ...preset, ...entry, 'dump-after': { type: 'string' } }, run: lazy(() => import('./cmd-ir.js')) },
  init: { summary: 'initialize weights from the spec\'s init rules', usage: 'tfx init FILE.tfx [--preset P] --seed N -o W.safetensors', flags: { ...preset, seed: { type: 'string' }, o: { type: 'string', short: 'o' } }, run: lazy(() => import('./cmd-init.js')) },
  'example-inputs': { summary: 'a valid random batch for an entry', usage: 'tfx example-inputs FILE.tfx [--preset P] [--entry E] --seed N -o I.safetensors [--batch B] [--seq S]', flags: { ...preset, ...entry, seed: { type: 'string' }, o: { type: 'string', short: 'o' }, batch: { type: 'string' }, seq: { type: 'string' } }, run: lazy(() => import('./cmd-example-inputs.js')) },
  run: { summary: 'run an entry point', usage: 'tfx run FILE.tfx [--preset P] [--entry E] [--backend webgpu|cpu|cuda] --weights W.safetensors --inputs I.safetensors [-o O.safetensors] [--profile] [--f16]', flags: runFlags, run: lazy(() => import('./cmd-run.js')) },
  compile: { summary: 'compile to WGSL or CUDA kernels plus plan.json', usage: 'tfx compile FILE.tfx [--preset P] [--entry E] [--target wgsl|cuda] [-o DIR] [--stats]', flags: { ...preset, ...entry, target: { type: 'string' }, o: { type: 'string', short: 'o' }, stats: { type: 'boolean' }, f16: { type: 'boolean' } }, run: lazy(() => import('./cmd-compile.js')) },
  bench: { summary: 'benchmark kernel variants (and peers)', usage: 'tfx bench FILE.tfx [--preset P] [--entry E] [--backend webgpu|cuda] [--op KIND] [--shapes ...] [--json OUT.json] [--report OUT.html] [--tune] [--budget SECONDS] [--peers]', flags: { ...preset, ...entry, backend: { type: 'string' }, op: { type: 'string' }, shapes: { type: 'string' }, json: { type: 'string' }, report: { type: 'string' }, tune: { type: 'boolean' }, budget: { type: 'string' }, peers: { type: 'boolean' }, quick: { type: 'boolean' } }, run: lazy(() => import('./cmd-bench.js')) },
};

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: tfx COMMAND FILE.tfx [flags]', '', ...Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(w)}  ${c.summary}`), '', "run 'tfx COMMAND --help' for a command's flags"].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? process.stdout : process.stderr).write(usage() + '\n');
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) { process.stderr.write(`tfx: unknown command '${name}'\n${usage()}\n`); return 2; }
  if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(`usage: ${cmd.usage}\n`); return 0; }
  let args: Args;
  try {
    const parsed = parseArgs({ args: [...rest], options: cmd.flags, allowPositionals: true, strict: true });
    args = { positionals: parsed.positionals, values: parsed.values as Args['values'] };
  } catch (e) {
    process.stderr.write(`tfx ${name}: ${(e as Error).message.split('\n')[0]}\nusage: ${cmd.usage}\n`);
    return 2;
  }
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`tfx ${name}: ${e.message}\nusage: ${cmd.usage}\n`); return EXIT.misuse; }
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
  if (v === undefined) throw new UsageError(`missing --${k.length === 1 ? k : k}`.replace('--o', '-o'));
  return v;
}
export function intFlag(a: Args, k: string, dflt?: number): number {
  const v = str(a, k);
  if (v === undefined) { if (dflt === undefined) throw new UsageError(`missing --${k}`); return dflt; }
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${k} must be an integer, got '${v}'`);
  return Number(v);
}
