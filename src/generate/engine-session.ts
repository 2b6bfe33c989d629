/**
 * Generation through a device session (src/runtime/session.ts): weights uploaded once and kept resident, the
 * KV cache held by the session and replaced by each call's new value on the device, and only the outputs
 * asked for read back (with `decode_choose`, just the chosen token ids).
 */
import type { HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import { openSession, type Backend, type Session } from '../runtime/session.js';
import { entryOf, stateSpecs, type Engine } from './engine.js';

export class SessionEngine implements Engine {
  /** Wall milliseconds per call of each entry, for the generation benchmark. */
  readonly timings = new Map<string, number[]>();
  /** When set, calls are profiled and each entry's last per-kernel GPU times are kept here. */
  profile: Map<string, readonly { label: string; kind: string; ms: number }[]> | undefined;

  private constructor(readonly program: Program, private readonly session: Session, readonly backend: string, private readonly entries: readonly string[]) {}

  static async open(program: Program, weights: ReadonlyMap<string, HostTensor>, entries: readonly string[], backend: Backend): Promise<SessionEngine> {
    return new SessionEngine(program, await openSession(program, { backend, weights }), backend, entries);
  }

  /** States are created as zeros by the next call, at the dims its inputs bind. */
  reset(_dims: Readonly<Record<string, number>>): void { this.session.resetStates(); }

  async run(entry: string, inputs: ReadonlyMap<string, HostTensor>, want?: readonly string[]): Promise<Map<string, HostTensor>> {
    const g = entryOf(this.program, entry);
    const states = new Set((g.states ?? []).map((s) => s.name));
    const outputs = want ? [...want] : g.outputs.map((o) => o.name).filter((n) => !states.has(n));
    const r = await this.session.run(entry, inputs, { outputs, profile: this.profile !== undefined });
    const list = this.timings.get(entry) ?? [];
    list.push(r.ms);
    this.timings.set(entry, list);
    if (this.profile) this.profile.set(entry, r.timings);
    return new Map(Object.entries(r.outputs));
  }

  async states(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const name of stateSpecs(this.program, this.entries).keys()) {
      const t = this.session.state(name);
      if (t) out.set(name, await t.read());
    }
    return out;
  }

  dispose(): void { this.session.dispose(); }
}
