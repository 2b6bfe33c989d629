import { isFloat } from '../core/dtype.js';
import { dimEval } from '../core/dim.js';
import type { HostTensor } from '../core/tensor.js';
import { UsageError, compileSource, readSpec } from '../driver.js';
import type { Graph, Program } from '../ir/graph.js';
import { decomposeBackward } from '../ir/autodiff/decompose.js';
import { DEVICE_KERNELS, kernelGaps, requireKernels } from '../ir/autodiff/grad.js';
import { programToF16 } from '../ir/precision.js';
import { bindDims, checkRequirements } from '../runtime/bind.js';
import { loadCheckpointMap, mapCheckpoint, openCheckpoint, type CheckpointReader } from '../runtime/checkpoint.js';
import { loadSafetensors, saveSafetensors } from '../runtime/safetensors.js';
import { WeightsError, checkParams, initParams } from '../runtime/weights.js';
import { oneFile, str, type Args } from './main.js';
import { chooseEntry } from './defaults.js';
import { chooseGenerator, exampleInputs } from '../runtime/example-inputs.js';
import { TfxError, warn, type UserCode } from '../errors.js';
import { nonFiniteWarning, scanNonFinite } from '../runtime/finite.js';
import type { KernelPlan } from '../ir/kernel.js';
import type { MemoryPlan } from '../runtime/memory-plan.js';
import type { Backend } from '../runtime/session.js';
type TileCount = { kernel: string; empty: number; full: number; partial: number };
import { fmtSize, progress } from './progress.js';

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

/**
 * Opens a checkpoint (a file, a sharded index or a directory), applies `--map`, checks names, shapes and
 * dtypes against the spec from the headers alone, then reads the tensors one by one.
 */
export function loadWeights(program: Program, path: string, mapPath?: string): Map<string, HostTensor> {
  const r = openWeights(program, path, mapPath);
  try {
    const out = new Map<string, HostTensor>();
    for (const name of r.tensors.keys()) out.set(name, r.read(name));
    return out;
  } finally {
    r.close();
  }
}

/**
 * The checkpoint opened and checked against the spec from its headers, with `--map` applied and a progress
 * display as tensors are read; the caller reads (or streams it into a session) and closes it.
 */
export function openWeights(program: Program, path: string, mapPath?: string, onTensor?: (name: string, t: HostTensor) => void): CheckpointReader {
  let r = openCheckpoint(path);
  try {
    if (mapPath !== undefined) r = mapCheckpoint(r, loadCheckpointMap(mapPath));
    const problems = checkParams(program.params, r.tensors);
    if (problems.length) throw new WeightsError(`${path} does not match preset '${program.preset}':\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`, 'TFX4002');
    const bar = progress(`loading ${r.tensors.size} tensors (${fmtSize(r.dataBytes)}) from ${path}`, r.dataBytes);
    let done = 0, count = 0;
    const inner = r;
    return {
      ...inner, tensors: inner.tensors, files: inner.files, dataBytes: inner.dataBytes,
      read(name) {
        const t = inner.read(name);
        onTensor?.(name, t);
        done += inner.tensors.get(name)?.bytes ?? 0;
        bar.update(done, name);
        if (++count === inner.tensors.size) bar.finish(`loaded ${count} tensors from ${inner.files.length} file(s)`);
        return t;
      },
      close: () => inner.close(),
    };
  } catch (e) {
    r.close();
    throw e;
  }
}

export default async function run(a: Args): Promise<number> {
  const file = oneFile(a);
  const backend = str(a, 'backend') ?? 'webgpu';
  if (!['webgpu', 'cpu', 'cuda'].includes(backend)) throw new UsageError(`unknown backend '${backend}' (webgpu, cpu or cuda)`);
  const source = readSpec(file);
  const chosen = chooseEntry(source, file, str(a, 'entry'));
  const entry = chosen.entry;
  if (chosen.note) log(chosen.note);
  const wPath = str(a, 'weights'), iPath = str(a, 'inputs');
  let t0 = performance.now();
  const compiled = compileSource(source, file, { preset: str(a, 'preset'), entries: [entry] }).program;
  // --f16: every tensor stored as f16 (math and accumulation stay f32 in registers).
  const picked = a.values.f16 ? programToF16(compiled) : compiled;
  // Device backends get backward ops (scatter_add, attention_grad) rewritten into ops they have kernels for.
  const program = backend !== 'cpu' && kernelGaps(picked.entries[0]!, DEVICE_KERNELS).length ? { ...picked, entries: [decomposeBackward(picked.entries[0]!, {}, DEVICE_KERNELS)] } : picked;
  const g = program.entries[0]!;
  log(`compiled ${file} (preset ${program.preset}, entry ${entry}) in ${ms(t0)}`);
  t0 = performance.now();
  // Without files, the spec supplies both: weights from its init rules, inputs from its input generator (seed 0).
  // A checkpoint streams into the session one tensor at a time (the host never holds every weight).
  // Each tensor is scanned for NaN/inf/huge values as it streams by (warning TFX4004 once the session is open).
  const found: ReturnType<typeof scanNonFinite> = [];
  const weights = wPath !== undefined ? openWeights(program, wPath, str(a, 'map'), (name, t) => found.push(...scanNonFinite(new Map([[name, t]])))) : initParams(program.params, 0);
  if (wPath === undefined) log(`weights: initialized from the spec's init rules, seed 0 (--weights loads a file)`);
  let inputs: Map<string, HostTensor>;
  if (iPath !== undefined) {
    inputs = loadSafetensors(iPath);
    checkInputs(g, inputs, iPath);
  } else {
    const gen = chooseGenerator(program);
    inputs = exampleInputs(program, g, 0, { generator: gen.name });
    log(`inputs: generated by the ${gen.name} input generator, seed 0 (${gen.why}; --inputs loads a file)`);
  }
  const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, program.symbols);
  checkRequirements(compiled.entries[0]!.requires, dims, file);
  log(`${wPath !== undefined ? `opened ${weights instanceof Map ? weights.size : (weights as CheckpointReader).tensors.size} weights` : `initialized ${program.params.length} weights`} and loaded ${inputs.size} inputs (${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ')}) in ${ms(t0)}`);

  // One session: weights uploaded once; every output read back (states included, so -o saves them too).
  if (backend !== 'cpu') requireKernels(g, backend === 'cuda' ? 'CUDA' : 'WebGPU');
  if (backend === 'webgpu') {
    // Buffers past the device's binding limit are refused before shaders are compiled or weights uploaded.
    const [{ getGpu }, { checkBufferLimits }] = await Promise.all([import('../runtime/webgpu/device.js'), import('../runtime/webgpu/limits-check.js')]);
    checkBufferLimits(g, program.symbols, dims, (await getGpu()).limits);
  }
  const { openSession } = await import('../runtime/session.js');
  t0 = performance.now();
  const session = await openSession(program, { backend: backend as Backend, weights, tuneCache: !a.values['no-tune-cache'] });
  if (!(weights instanceof Map)) weights.close();
  if (wPath !== undefined) { const w = nonFiniteWarning(wPath, found); if (w) warn('TFX4004', w); }
  log(`opened a ${backend} session (weights resident) in ${ms(t0)}`);
  let outputs: Map<string, HostTensor>;
  try {
    const all = { outputs: g.outputs.map((o) => o.name) };
    t0 = performance.now();
    let res = await session.run(entry, inputs, all);
    log(`ran on ${backend === 'cpu' ? 'the CPU reference interpreter' : backend} in ${ms(t0)}${backend === 'webgpu' ? ' (first run: includes shader compilation)' : ''}`);
    const trace = str(a, 'trace');
    if ((a.values.profile || trace !== undefined) && backend === 'webgpu') {
      t0 = performance.now();
      res = await session.run(entry, inputs, { ...all, profile: true });
      log(`warm run: ${ms(t0)} wall, ${res.timings.reduce((s, t) => s + t.ms, 0).toFixed(2)} ms of GPU time`);
      const { printProfile, printSpecProfile } = await import('./run-webgpu.js');
      const plan = res.info?.plan as KernelPlan | undefined;
      const tileCounts = (res.info?.tileCounts ?? []) as TileCount[];
      // Per kernel and per spec line / block / op kind against the device's measured peak (runtime/profile.ts).
      if (plan && res.timings.length) await printSpecProfile({ plan, timings: res.timings, dims: res.dims, tileCounts }, { file, source, trace, meta: { entry, model: program.model, preset: program.preset } });
      else printProfile({ timings: res.timings, tileCounts });
    }
    const mem = res.info?.memory as MemoryPlan | undefined;
    if (mem && backend === 'webgpu') {
      const { fmtBytes } = await import('./run-webgpu.js');
      log(`memory: ${fmtBytes(mem.tempPlannedBytes)} planned for intermediates vs ${fmtBytes(mem.tempNaiveBytes)} with one buffer each; ${fmtBytes(mem.plannedBytes)} in all`);
    }
    outputs = new Map(Object.entries(res.outputs));
  } finally {
    session.dispose();
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
