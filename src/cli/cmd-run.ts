import { isFloat } from '../core/dtype.js';
import { dimEval } from '../core/dim.js';
import type { HostTensor } from '../core/tensor.js';
import { UsageError, compileFile } from '../driver.js';
import type { Graph, Program } from '../ir/graph.js';
import { interpret } from '../ir/interpreter.js';
import { programToF16 } from '../ir/precision.js';
import { bindDims } from '../runtime/bind.js';
import { loadSafetensors, saveSafetensors } from '../runtime/safetensors.js';
import { WeightsError, checkParams } from '../runtime/weights.js';
import { need, oneFile, str, type Args } from './main.js';
import { TfxError, type UserCode } from '../errors.js';

const ms = (t0: number) => `${(performance.now() - t0).toFixed(0)} ms`;
const log = (s: string) => process.stderr.write(s + '\n');

export class RunError extends TfxError {
  override name = 'RunError';
  constructor(message: string, code: UserCode = 'TFX5001') { super(code, message); }
}

/** Inputs must have the kind of dtype the entry declares (ints for ints, floats for floats). */
export function checkInputs(g: Graph, inputs: ReadonlyMap<string, HostTensor>, file: string): void {
  const names = new Set(g.inputs.map((i) => i.arg.name));
  const extra = [...inputs.keys()].filter((k) => !names.has(k));
  if (extra.length) throw new RunError(`${file}: tensor(s) ${extra.join(', ')} are not inputs of entry '${g.entry}' (it takes ${[...names].join(', ')})`);
  for (const i of g.inputs) {
    const t = inputs.get(i.arg.name);
    if (t && isFloat(i.dtype) !== isFloat(t.dtype)) throw new RunError(`${file}: input '${i.arg.name}' is ${t.dtype}, entry '${g.entry}' wants ${i.dtype}`);
  }
}

export function loadWeights(program: Program, path: string): Map<string, HostTensor> {
  const w = loadSafetensors(path);
  const problems = checkParams(program.params, w);
  if (problems.length) throw new WeightsError(`${path} does not match preset '${program.preset}':\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`, 'TFX4002');
  return w;
}

export default async function run(a: Args): Promise<number> {
  const file = oneFile(a);
  const backend = str(a, 'backend') ?? 'webgpu';
  if (!['webgpu', 'cpu', 'cuda'].includes(backend)) throw new UsageError(`unknown backend '${backend}' (webgpu, cpu or cuda)`);
  const entry = str(a, 'entry') ?? 'forward';
  const wPath = need(a, 'weights'), iPath = need(a, 'inputs');
  let t0 = performance.now();
  const compiled = compileFile(file, { preset: str(a, 'preset'), entries: [entry] }).program;
  // --f16: every tensor stored as f16 (math and accumulation stay f32 in registers).
  const program = a.values.f16 ? programToF16(compiled) : compiled;
  const g = program.entries[0]!;
  log(`compiled ${file} (preset ${program.preset}, entry ${entry}) in ${ms(t0)}`);
  t0 = performance.now();
  const weights = loadWeights(program, wPath);
  const inputs = loadSafetensors(iPath);
  checkInputs(g, inputs, iPath);
  const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, program.symbols);
  log(`loaded ${weights.size} weights and ${inputs.size} inputs (${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ')}) in ${ms(t0)}`);

  let outputs: Map<string, HostTensor>;
  t0 = performance.now();
  if (backend === 'cpu') {
    const res = interpret(g.outputs.map((o) => o.node), { inputs, params: weights, dims });
    outputs = new Map(g.outputs.map((o, i) => [o.name, res[i]!]));
    log(`ran on the CPU reference interpreter in ${ms(t0)}`);
  } else if (backend === 'cuda') {
    const { runCudaCli } = await import('./run-cuda.js');
    outputs = await runCudaCli(program, entry, weights, inputs);
  } else {
    const { runWebGpuCli } = await import('./run-webgpu.js');
    outputs = await runWebGpuCli(program, entry, weights, inputs, { profile: !!a.values.profile, useCache: !a.values['no-tune-cache'] });
  }
  for (const o of g.outputs) {
    const t = outputs.get(o.name)!;
    log(`  ${o.name}: ${t.dtype}[${t.shape.join(', ')}] ${summarize(t)}`);
  }
  if (entry === 'loss' && program.config.vocab !== undefined) {
    const v = (n: string) => outputs.get(n)?.data[0];
    log(`  expected at initialization: l_lm ~ ln(vocab) = ${Math.log(program.config.vocab).toFixed(3)}, l_ddpm ~ 1 (noise MSE), loss ~ ${(Math.log(program.config.vocab) + (program.config.lambda ?? 1)).toFixed(3)}; got l_lm = ${v('l_lm')?.toFixed(4)}, l_ddpm = ${v('l_ddpm')?.toFixed(4)}`);
  }
  const out = str(a, 'o');
  if (out) { saveSafetensors(out, outputs, { model: program.model, entry, backend }); log(`wrote ${out}`); }
  void dimEval;
  return 0;
}

function summarize(t: HostTensor): string {
  const d = t.data;
  if (d.length === 1) return `= ${d[0]}`;
  let mn = Infinity, mx = -Infinity, s = 0, nan = 0;
  for (let i = 0; i < d.length; i++) { const x = d[i]!; if (Number.isNaN(x)) { nan++; continue; } mn = Math.min(mn, x); mx = Math.max(mx, x); s += x; }
  return `min ${mn.toPrecision(4)} max ${mx.toPrecision(4)} mean ${(s / Math.max(1, d.length - nan)).toPrecision(4)}${nan ? ` NaN x${nan}` : ''}`;
}
