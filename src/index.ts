/**
 * The tfx library: compile a `.tfx` spec, inspect it, open a session on a backend and run its entries,
 * and read or write checkpoints. Everything here is public API (built to dist/ with .d.ts by
 * `npm run build`); anything else under src/ is internal and may change.
 *
 *   import { compileFile, openSession, hostTensor } from 'tfx';
 *   const compiled = compileFile('models/transfusion.tfx', { preset: 'tiny' });
 *   const session = await openSession(compiled, { backend: 'webgpu' });
 *   const { outputs } = await session.run('forward', inputs, { outputs: ['logits'] });
 *   session.dispose();
 */
import { numel } from './core/dim.js';
import type { DType } from './core/dtype.js';
import { compileFile, compileSource, type Compiled } from './driver.js';
import type { Program } from './ir/graph.js';

export { compileFile, compileSource, SpecError, type Compiled } from './driver.js';
export { TfxError, UsageError, USER_ERRORS, type UserCode } from './errors.js';
export type { Diagnostic } from './dsl/diagnostics.js';
export type { DType } from './core/dtype.js';
export { hostTensor, type HostTensor } from './core/tensor.js';
export type { Program, ParamInfo, InitRule, Graph, StateInfo } from './ir/graph.js';
export {
  openSession, isDeviceTensor, SessionError, BACKENDS,
  type Backend, type DeviceTensor, type KernelTime, type RunOptions, type RunResult, type Session, type SessionOptions, type TensorArg, type Tensors,
} from './runtime/session.js';
export {
  loadSafetensors, saveSafetensors, openSafetensors, readSafetensors, writeSafetensors, writeSafetensorsFile,
  type SafetensorsReader, type TensorInfo, type TensorSpec,
} from './runtime/safetensors.js';
export {
  openCheckpoint, writeCheckpoint, mapCheckpoint, parseCheckpointMap, loadCheckpointMap, INDEX_SUFFIX,
  type CheckpointMap, type CheckpointReader, type WriteCheckpointOptions,
} from './runtime/checkpoint.js';
export { initParams, initParam, checkParams, WeightsError } from './runtime/weights.js';
export { exampleInputs } from './runtime/example-inputs.js';

/** A tensor's name, dtype and shape; symbolic dims are written as their names (`B`, `S`, `n_heads * 64`). */
export interface TensorDescription { readonly name: string; readonly dtype: DType; readonly shape: readonly (number | string)[] }

/** What a compiled spec offers: the same facts `tfx inspect --json` prints. */
export interface SpecDescription {
  readonly model: string;
  readonly preset: string;
  readonly presets: readonly string[];
  readonly config: Readonly<Record<string, number>>;
  readonly dims: readonly string[];
  readonly entries: readonly { readonly name: string; readonly inputs: readonly TensorDescription[]; readonly outputs: readonly TensorDescription[]; readonly states: readonly string[] }[];
  readonly parameters: readonly TensorDescription[];
  readonly parameterCount: number;
}

const dimOf = (d: { key: string; terms: readonly { c: number; syms: readonly string[] }[] }): number | string =>
  (d.terms.length === 1 && d.terms[0]!.syms.length === 0 ? d.terms[0]!.c : d.terms.length === 0 ? 0 : d.key);

/** Describes a compiled spec (or a spec file, compiled with `preset`). */
export function inspect(spec: Compiled | Program | string, opts: { preset?: string } = {}): SpecDescription {
  const c: Compiled | Program = typeof spec === 'string' ? compileFile(spec, opts) : spec;
  const p: Program = 'program' in c ? c.program : c;
  const presets = 'program' in c ? c.presets : [];
  return {
    model: p.model, preset: p.preset, presets, config: p.config, dims: p.symbols,
    entries: p.entries.map((g) => ({
      name: g.entry,
      inputs: g.inputs.map((n) => ({ name: n.arg.name, dtype: n.dtype, shape: n.shape.map(dimOf) })),
      outputs: g.outputs.map((o) => ({ name: o.name, dtype: o.node.dtype, shape: o.node.shape.map(dimOf) })),
      states: (g.states ?? []).map((s) => s.name),
    })),
    parameters: p.params.map((x) => ({ name: x.name, dtype: x.dtype, shape: x.shape })),
    parameterCount: p.params.reduce((s, x) => s + numel(x.shape), 0),
  };
}

/** compileSource with a default file name for messages. */
export const compile = (source: string, opts: { preset?: string; entries?: readonly string[]; file?: string } = {}): Compiled =>
  compileSource(source, opts.file ?? '<spec>', opts);
