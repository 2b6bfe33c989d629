/**
 * Sessions: a compiled spec opened on one backend, with its parameters uploaded once and kept resident.
 *
 *   const s = await openSession(compiled, { backend: 'webgpu', weights });
 *   const { outputs } = await s.run('forward', inputs, { outputs: ['logits'] });
 *   s.dispose();
 *
 * - Only the outputs asked for are read back (`outputs`); `keep` returns outputs as device tensors instead,
 *   which later calls take as inputs without a host round trip.
 * - State (`state NAME` in the spec, e.g. a KV cache) lives in the session: a call that does not pass a state
 *   gets the session's current value (zeros at first), and a state the entry writes is updated for the next
 *   call (in its own buffer where the plan allows: src/ir/in-place.ts). Parameters are session state of the
 *   same kind: `setParam` replaces one, on the device when given a device tensor, and `assign` stores an
 *   entry's outputs into parameters (a training step's update, src/train/device.ts).
 * - The same API on every backend: 'cpu' is the reference interpreter, 'webgpu' runs through Dawn, 'cuda'
 *   through the driver (or its CPU emulation with `cuda: { emulate: true }`).
 */
import { isFloat, type DType } from '../core/dtype.js';
import { dimEval } from '../core/dim.js';
import type { HostTensor } from '../core/tensor.js';
import type { Compiled } from '../driver.js';
import { TfxError } from '../errors.js';
import type { Graph, Program } from '../ir/graph.js';
import { programToF16 } from '../ir/precision.js';
import { bindDims, checkRequirements, type InputSpec } from './bind.js';
import type { CheckpointReader } from './checkpoint.js';
import { checkParams } from './weights.js';

export type Backend = 'webgpu' | 'cuda' | 'cpu';
export const BACKENDS: readonly Backend[] = ['webgpu', 'cuda', 'cpu'];

/** A tensor held by a session's backend. Valid until disposed or until its session is disposed. */
export interface DeviceTensor {
  readonly kind: 'device';
  readonly backend: Backend;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Copies the values to the host. */
  read(): Promise<HostTensor>;
  /** Frees the device memory now (also done by the session's dispose). */
  dispose(): void;
  readonly disposed: boolean;
}
export type TensorArg = HostTensor | DeviceTensor;
export type Tensors<T = TensorArg> = ReadonlyMap<string, T> | Readonly<Record<string, T>>;

export const isDeviceTensor = (t: unknown): t is DeviceTensor => typeof t === 'object' && t !== null && (t as DeviceTensor).kind === 'device';

export interface SessionOptions {
  readonly backend?: Backend;
  /**
   * Parameters: tensors, or a checkpoint (a path to a .safetensors file, a .safetensors.index.json or a folder,
   * or an open CheckpointReader) streamed to the device one tensor at a time, so the host never holds them
   * all. Default: initialized from the spec's init rules with `seed`.
   */
  readonly weights?: Tensors<HostTensor> | string | CheckpointReader;
  /** Seed for initialized parameters (default 0). */
  readonly seed?: number;
  /** Store every tensor as f16 (math stays f32 in registers), as `tfx run --f16`. */
  readonly f16?: boolean;
  /** CUDA: run the generated CUDA on the CPU emulation instead of a GPU (no driver needed). */
  readonly cuda?: { readonly emulate?: boolean };
  /** WebGPU: use schedules from the tune cache (`tfx bench --tune`). Default true. */
  readonly tuneCache?: boolean;
}

export interface RunOptions {
  /** Outputs to read back to the host; default: every output not in `keep`. */
  readonly outputs?: readonly string[];
  /** Outputs to return as device tensors (not read back). */
  readonly keep?: readonly string[];
  /** WebGPU: per-kernel GPU times (when the adapter has timestamps). */
  readonly profile?: boolean;
  /**
   * Outputs stored into resident parameters: output name -> parameter name (same shape and dtype kind), e.g. a
   * training step's update. Stored in place (one buffer, no copy) where the entry's plan allows it
   * (src/ir/in-place.ts), otherwise the new value replaces the parameter after the call.
   */
  readonly assign?: Readonly<Record<string, string>>;
}

export interface KernelTime { readonly label: string; readonly kind: string; readonly ms: number }

export interface RunResult {
  readonly outputs: Readonly<Record<string, HostTensor>>;
  readonly device: Readonly<Record<string, DeviceTensor>>;
  readonly dims: Readonly<Record<string, number>>;
  /** Wall time of the call, ms. */
  readonly ms: number;
  readonly timings: readonly KernelTime[];
  /** Backend detail for reports (memory plan, tile counts); shape depends on the backend. */
  readonly info?: Readonly<Record<string, unknown>>;
}

export interface Session {
  readonly backend: Backend;
  readonly program: Program;
  /** Entry names. */
  readonly entries: readonly string[];
  run(entry: string, inputs: Tensors, opts?: RunOptions): Promise<RunResult>;
  /** Copies a host tensor to the device, for passing to several calls. */
  upload(t: HostTensor): DeviceTensor;
  /** The current value of a state (undefined before anything created it). */
  state(name: string): DeviceTensor | undefined;
  /** Sets a state's value (a copy; the caller's tensor stays its own). */
  setState(name: string, t: TensorArg): void;
  /** Forgets every state (the next call starts from zeros). */
  resetStates(): void;
  /** The resident value of a parameter. */
  param(name: string): DeviceTensor;
  /** Replaces a parameter's value (same dtype kind and shape). */
  setParam(name: string, t: TensorArg): void;
  /** Bytes the session holds on its device now (parameters, states, device tensors, scratch); undefined where not tracked. */
  deviceBytes(): number | undefined;
  dispose(): void;
}

/** Bad session use (unknown entry or output, wrong tensor, disposed session): a coded user error. */
export class SessionError extends TfxError {
  override name = 'SessionError';
  constructor(message: string) { super('TFX5001', message); }
}

/** Where engines get each parameter's values, once, at open. */
export interface WeightSource { get(name: string): HostTensor | undefined }
const isReader = (w: unknown): w is CheckpointReader => typeof w === 'object' && w !== null && typeof (w as CheckpointReader).read === 'function' && typeof (w as CheckpointReader).close === 'function';

const toMap = <T>(t: Tensors<T>): Map<string, T> => (t instanceof Map ? new Map(t) : new Map(Object.entries(t as Record<string, T>)));

/** What every backend needs for one call: the entry, bound dims, outputs to read and keep, states. */
export interface CallPlan {
  readonly graph: Graph;
  readonly dims: Record<string, number>;
  readonly inputs: Map<string, TensorArg>;
  readonly read: readonly string[];
  readonly keep: readonly string[];
  /** States the entry writes: output name == state name. */
  readonly written: readonly string[];
  /** Written states whose input is the session's own value (not the caller's): an engine may update them in place. */
  readonly own?: ReadonlySet<string>;
  /** Outputs stored into parameters (RunOptions.assign); an engine returns them as device tensors unless in place. */
  readonly assign?: Readonly<Record<string, string>>;
  readonly profile?: boolean;
}

/** A backend's part of a session: residency and execution; the checks are shared (below). */
export interface Engine {
  readonly backend: Backend;
  upload(t: HostTensor): DeviceTensor;
  /** A device tensor of zeros. */
  zeros(dtype: DType, shape: readonly number[]): DeviceTensor;
  /** A device copy of `t` (owned by the session). */
  copy(t: TensorArg): DeviceTensor;
  param(name: string): DeviceTensor;
  setParam(name: string, t: DeviceTensor): void;
  /**
   * Runs; `keep`, `written` and `assign` outputs come back as new device tensors owned by the caller / the
   * session, except those listed in `inPlace`: stored into the state's or parameter's own buffer.
   */
  /** Bytes held on the device now, where the backend tracks them. */
  deviceBytes?(): number;
  execute(c: CallPlan): Promise<{ outputs: Record<string, HostTensor>; device: Record<string, DeviceTensor>; timings: KernelTime[]; info?: Record<string, unknown>; inPlace?: readonly string[] }>;
  dispose(): void;
}

export async function openSession(compiled: Compiled | Program, opts: SessionOptions = {}): Promise<Session> {
  const backend = opts.backend ?? 'webgpu';
  if (!BACKENDS.includes(backend)) throw new SessionError(`unknown backend '${String(backend)}' (webgpu, cuda or cpu)`);
  const base = 'program' in compiled ? compiled.program : compiled;
  const program = opts.f16 ? programToF16(base) : base;
  let weights: WeightSource;
  let reader: CheckpointReader | undefined;
  if (typeof opts.weights === 'string' || isReader(opts.weights)) {
    reader = typeof opts.weights === 'string' ? (await import('./checkpoint.js')).openCheckpoint(opts.weights) : opts.weights;
    const problems = checkParams(program.params, reader.tensors);
    if (problems.length) { reader.close(); throw new TfxError('TFX4002', `${reader.path} does not match preset '${program.preset}':\n  ${problems.slice(0, 20).join('\n  ')}`); }
    const r = reader;
    weights = { get: (name) => r.read(name) };
  } else if (opts.weights !== undefined) {
    weights = toMap(opts.weights);
    const problems = checkParams(program.params, weights as Map<string, HostTensor>);
    if (problems.length) throw new TfxError('TFX4002', `weights do not match preset '${program.preset}':\n  ${problems.slice(0, 20).join('\n  ')}`);
  } else {
    const { initParams } = await import('./weights.js');
    weights = initParams(program.params, opts.seed ?? 0);
  }
  let engine: Engine;
  try {
    if (backend === 'cpu') engine = new (await import('./session-cpu.js')).CpuEngine(program, weights);
    else if (backend === 'webgpu') engine = await (await import('./session-webgpu.js')).openWebGpuEngine(program, weights, { tuneCache: opts.tuneCache !== false });
    else engine = await (await import('./session-cuda.js')).openCudaEngine(program, weights, { emulate: opts.cuda?.emulate === true });
  } finally {
    // A reader the session opened is closed once every tensor is on the device; one passed in stays the caller's.
    if (typeof opts.weights === 'string') reader?.close();
  }
  return new SessionImpl(backend, program, engine);
}

class SessionImpl implements Session {
  private readonly states = new Map<string, DeviceTensor>();
  private disposed = false;
  readonly entries: readonly string[];

  constructor(readonly backend: Backend, readonly program: Program, private readonly engine: Engine) {
    this.entries = program.entries.map((g) => g.entry);
  }

  private live(): void { if (this.disposed) throw new SessionError('the session has been disposed'); }

  upload(t: HostTensor): DeviceTensor { this.live(); return this.engine.upload(t); }
  state(name: string): DeviceTensor | undefined { return this.states.get(name); }
  setState(name: string, t: TensorArg): void {
    this.live();
    const known = this.program.entries.some((g) => g.states?.some((s) => s.name === name));
    if (!known) throw new SessionError(`no entry of this spec has a state '${name}'`);
    this.checkArg(t, `state '${name}'`);
    this.states.get(name)?.dispose();
    this.states.set(name, this.engine.copy(t));
  }
  resetStates(): void { for (const s of this.states.values()) s.dispose(); this.states.clear(); }
  param(name: string): DeviceTensor { this.live(); return this.engine.param(name); }
  setParam(name: string, t: TensorArg): void {
    this.live();
    const p = this.program.params.find((x) => x.name === name);
    if (!p) throw new SessionError(`no parameter '${name}'`);
    this.checkArg(t, `parameter '${name}'`);
    if (isFloat(p.dtype) !== isFloat(t.dtype) || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new SessionError(`parameter '${name}' is ${p.dtype} [${p.shape.join(', ')}], got ${t.dtype} [${t.shape.join(', ')}]`);
    }
    this.engine.setParam(name, this.engine.copy(t));
  }
  deviceBytes(): number | undefined { this.live(); return this.engine.deviceBytes?.(); }
  dispose(): void {
    if (this.disposed) return;
    this.resetStates();
    this.engine.dispose();
    this.disposed = true;
  }

  private checkArg(t: TensorArg, what: string): void {
    if (isDeviceTensor(t)) {
      if (t.disposed) throw new SessionError(`${what} is a disposed device tensor`);
      if (t.backend !== this.backend) throw new SessionError(`${what} lives on ${t.backend}, this session runs on ${this.backend}`);
    }
  }

  async run(entry: string, given: Tensors, opts: RunOptions = {}): Promise<RunResult> {
    this.live();
    const t0 = performance.now();
    const graph = this.program.entries.find((g) => g.entry === entry);
    if (!graph) throw new SessionError(`unknown entry '${entry}'; this spec has ${this.entries.join(', ')}`);
    const inputs = toMap(given);
    const passed = new Set(inputs.keys());
    const stateNames = new Set((graph.states ?? []).map((s) => s.name));
    const names = new Set(graph.inputs.map((i) => i.arg.name));
    for (const [k, t] of inputs) {
      if (!names.has(k)) throw new SessionError(`'${k}' is not an input of entry '${entry}' (it takes ${[...names].join(', ')})`);
      this.checkArg(t, `input '${k}'`);
      const spec = graph.inputs.find((i) => i.arg.name === k)!;
      if (isFloat(spec.dtype) !== isFloat(t.dtype)) throw new SessionError(`input '${k}' is ${t.dtype}, entry '${entry}' wants ${spec.dtype}`);
    }
    // Dims come from what the caller passed; states not passed then take the session's value or zeros.
    const specs: InputSpec[] = graph.inputs.filter((i) => inputs.has(i.arg.name)).map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape }));
    const missing = graph.inputs.filter((i) => !inputs.has(i.arg.name) && !stateNames.has(i.arg.name)).map((i) => i.arg.name);
    if (missing.length) throw new SessionError(`entry '${entry}' needs input(s) ${missing.join(', ')}`);
    let dims: Record<string, number>;
    try {
      dims = bindDims(specs, inputs as unknown as ReadonlyMap<string, HostTensor>, this.program.symbols);
    } catch (e) {
      throw new SessionError((e as Error).message);
    }
    checkRequirements(graph.requires, dims); // bounds `check` could not prove (TFX5005), before anything runs
    for (const i of graph.inputs) {
      const name = i.arg.name;
      if (inputs.has(name)) continue;
      let s = this.states.get(name);
      const shape = i.shape.map((d) => dimEval(d, dims));
      if (s && (s.shape.length !== shape.length || s.shape.some((d, k) => d !== shape[k]))) {
        throw new SessionError(`state '${name}' holds [${s.shape.join(', ')}], entry '${entry}' with these inputs wants [${shape.join(', ')}] (resetStates() or setState() first)`);
      }
      if (!s) { s = this.engine.zeros(i.dtype, shape); this.states.set(name, s); }
      inputs.set(name, s);
    }
    const outNames = graph.outputs.map((o) => o.name);
    const assign = opts.assign ?? {};
    for (const [o, p] of Object.entries(assign)) {
      const out = graph.outputs.find((x) => x.name === o);
      if (!out) throw new SessionError(`entry '${entry}' has no output '${o}' to assign (it has ${outNames.join(', ')})`);
      const info = this.program.params.find((x) => x.name === p);
      if (!info) throw new SessionError(`no parameter '${p}' to assign output '${o}' to`);
      const shape = out.node.shape.map((d) => dimEval(d, dims));
      if (isFloat(info.dtype) !== isFloat(out.node.dtype) || shape.length !== info.shape.length || shape.some((d, i) => d !== info.shape[i]))
        throw new SessionError(`output '${o}' is ${out.node.dtype} [${shape.join(', ')}], parameter '${p}' is ${info.dtype} [${info.shape.join(', ')}]`);
    }
    const keep = opts.keep ?? [];
    const read = opts.outputs ?? outNames.filter((n) => !keep.includes(n) && !stateNames.has(n));
    for (const n of [...read, ...keep]) if (!outNames.includes(n)) throw new SessionError(`entry '${entry}' has no output '${n}' (it has ${outNames.join(', ')})`);
    const written = (graph.states ?? []).filter((s) => s.written).map((s) => s.name);
    const own = new Set(written.filter((n) => !passed.has(n)));
    const res = await this.engine.execute({ graph, dims, inputs, read, keep, written, own, assign, profile: opts.profile === true });
    for (const [o, p] of Object.entries(assign)) if (!res.inPlace?.includes(o)) this.engine.setParam(p, res.device[o]!);
    for (const n of written) {
      const t = res.device[n];
      if (!t) continue;
      // The new value replaces the old one (kernels never read and write one buffer in a call).
      const old = this.states.get(n);
      this.states.set(n, t);
      if (old !== undefined && old !== t) old.dispose();
    }
    const device: Record<string, DeviceTensor> = {};
    for (const n of keep) device[n] = stateNames.has(n) && written.includes(n) ? this.engine.copy(res.device[n]!) : res.device[n]!;
    return { outputs: res.outputs, device, dims, ms: performance.now() - t0, timings: res.timings, ...(res.info ? { info: res.info } : {}) };
  }
}
