/**
 * Generation on WebGPU through the one-shot runner (src/runtime/webgpu/program.ts): each entry is compiled to
 * WGSL once; every call uploads the weights and the current state, runs, and reads back the outputs and the
 * new state. That is correct but not the design target: until the device session with resident weights and
 * in-place state buffers (issue 11) exists, weights and the KV cache cross the bus on every call, and
 * sampling happens on the host (logits are read back). Swap this for a session-backed engine when it lands.
 */
import type { HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import { getGpu, type GpuContext } from '../runtime/webgpu/device.js';
import { compileEntry, runEntry, type CompiledEntry } from '../runtime/webgpu/program.js';
import { CpuEngine, entryOf, type Engine } from './engine.js';

export class WebGpuEngine implements Engine {
  readonly backend = 'webgpu';
  /** Holds the state between calls (host copies) and evaluates nothing itself. */
  private readonly host: CpuEngine;
  private readonly compiled = new Map<string, CompiledEntry>();
  /** Wall milliseconds per call of each entry (upload, run, read back), for the generation benchmark. */
  readonly timings = new Map<string, number[]>();
  /** When set, calls are profiled and each entry's last per-kernel GPU times are kept here. */
  profile: Map<string, readonly { label: string; kind: string; ms: number }[]> | undefined;

  private constructor(readonly program: Program, private readonly weights: ReadonlyMap<string, HostTensor>, private readonly entries: readonly string[], private readonly ctx: GpuContext) {
    this.host = new CpuEngine(program, weights, entries);
  }

  static async create(program: Program, weights: ReadonlyMap<string, HostTensor>, entries: readonly string[]): Promise<WebGpuEngine> {
    return new WebGpuEngine(program, weights, entries, await getGpu());
  }

  reset(dims: Readonly<Record<string, number>>): void { this.host.reset(dims); }

  async run(entry: string, inputs: ReadonlyMap<string, HostTensor>, want?: readonly string[]): Promise<Map<string, HostTensor>> {
    const g = entryOf(this.program, entry);
    let c = this.compiled.get(entry);
    if (!c) { c = compileEntry(this.program, entry); this.compiled.set(entry, c); }
    const states = await this.host.states();
    const all = new Map(inputs);
    for (const st of g.states ?? []) all.set(st.name, states.get(st.name)!);
    const t0 = performance.now();
    const res = await runEntry(this.ctx, c, this.program, this.weights, all, { profile: this.profile !== undefined });
    if (this.profile) this.profile.set(entry, res.timings);
    const list = this.timings.get(entry) ?? [];
    list.push(performance.now() - t0);
    this.timings.set(entry, list);
    const written = new Set((g.states ?? []).filter((s) => s.written).map((s) => s.name));
    const out = new Map<string, HostTensor>();
    const next = new Map<string, HostTensor>();
    for (const [k, v] of res.outputs) {
      if (written.has(k)) next.set(k, v);
      else if (!want || want.includes(k)) out.set(k, v);
    }
    this.host.setStates(next);
    return out;
  }

  async states(): Promise<Map<string, HostTensor>> { return this.host.states(); }
}
