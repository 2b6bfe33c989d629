/**
 * Where generation runs: an Engine runs the spec's generation entries and keeps their `state` (the KV cache of
 * every layer) between calls. The caller passes only the non-state inputs; every state an entry declares is
 * passed from the engine's current value and, when the entry writes it, replaced by the output of that name.
 * CpuEngine runs the reference interpreter (src/ir/interpreter.ts), so it is also the oracle for other engines.
 */
import { shapeEval } from '../core/dim.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import { TfxError } from '../errors.js';
import type { Graph, Program } from '../ir/graph.js';
import { interpret } from '../ir/interpreter.js';
import { bindDims } from '../runtime/bind.js';

export interface Engine {
  readonly program: Program;
  readonly backend: string;
  /** Fresh (zero) state for the given dims (B sequences, C cache positions, ...). */
  reset(dims: Readonly<Record<string, number>>): void;
  /**
   * Run an entry: the non-state inputs in, the non-state outputs out (only those in `want` when given: an
   * engine on a device need not read the others back); its states are read and updated.
   */
  run(entry: string, inputs: ReadonlyMap<string, HostTensor>, want?: readonly string[]): Promise<Map<string, HostTensor>>;
  /** The current value of every state (copied to the host), by name. */
  states(): Promise<Map<string, HostTensor>>;
}

export function entryOf(program: Program, entry: string): Graph {
  const g = program.entries.find((e) => e.entry === entry);
  if (!g) throw new TfxError('TFX5001', `the spec has no entry '${entry}' (generation needs prefill, decode, denoise and commit; see docs/language.md section 12)`);
  return g;
}

/** The names, dtypes and shapes of every state of the given entries (one declaration may be shared by several). */
export function stateSpecs(program: Program, entries: readonly string[]): Map<string, Graph['inputs'][number]> {
  const out = new Map<string, Graph['inputs'][number]>();
  for (const e of entries) {
    const g = entryOf(program, e);
    for (const st of g.states ?? []) out.set(st.name, g.inputs.find((i) => i.arg.name === st.name)!);
  }
  return out;
}

export class CpuEngine implements Engine {
  readonly backend = 'cpu';
  private state = new Map<string, HostTensor>();

  constructor(readonly program: Program, private readonly weights: ReadonlyMap<string, HostTensor>, private readonly entries: readonly string[]) {}

  reset(dims: Readonly<Record<string, number>>): void {
    this.state = new Map();
    for (const [name, n] of stateSpecs(this.program, this.entries)) {
      const shape = shapeEval(n.shape, dims);
      this.state.set(name, hostTensor(n.dtype, shape));
    }
  }

  async run(entry: string, inputs: ReadonlyMap<string, HostTensor>, want?: readonly string[]): Promise<Map<string, HostTensor>> {
    const g = entryOf(this.program, entry);
    const all = new Map(inputs);
    for (const st of g.states ?? []) {
      const v = this.state.get(st.name);
      if (!v) throw new TfxError('TFX5001', `state '${st.name}' of entry '${entry}' was not set up; call reset first`);
      all.set(st.name, v);
    }
    const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), all, this.program.symbols);
    const res = interpret(g.outputs.map((o) => o.node), { inputs: all, params: this.weights, dims });
    const out = new Map<string, HostTensor>();
    const written = new Set((g.states ?? []).filter((s) => s.written).map((s) => s.name));
    g.outputs.forEach((o, i) => {
      if (written.has(o.name)) this.state.set(o.name, res[i]!);
      else if (!want || want.includes(o.name)) out.set(o.name, res[i]!);
    });
    return out;
  }

  async states(): Promise<Map<string, HostTensor>> { return new Map(this.state); }

  /** Replace some states (same names, dtypes and shapes), e.g. with values computed elsewhere. */
  setStates(values: ReadonlyMap<string, HostTensor>): void {
    for (const [k, v] of values) {
      const cur = this.state.get(k);
      if (!cur || cur.shape.join() !== v.shape.join()) throw new Error(`internal error: state '${k}' does not match`);
      this.state.set(k, v);
    }
  }
}
