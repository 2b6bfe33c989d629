/**
 * Host-side costs, timed with Benchmark.js (statistically sound for sub-millisecond host work): parsing and
 * checking the spec, tile classification of the attention masks, and the wall time of one session call with
 * resident weights against the one-shot path that uploads every weight per call (what `tfx run` did before
 * sessions). GPU kernel times are the rest of the suite's business (timestamps, not host clocks).
 */
import Benchmark from 'benchmark';
import type { HostTensor } from '../src/core/tensor.js';
import { compileSource, readSpec } from '../src/driver.js';
import type { Program } from '../src/ir/graph.js';
import { bindDims } from '../src/runtime/bind.js';
import { openSession } from '../src/runtime/session.js';
import { computeTileMaps } from '../src/runtime/tiles.js';
import type { GpuContext } from '../src/runtime/webgpu/device.js';
import { compileEntry, runEntry } from '../src/runtime/webgpu/program.js';

export interface HostRecord { readonly name: string; readonly mean_ms: number; readonly rme_pct: number; readonly samples: number }

function measure(name: string, fn: (() => void) | ((d: Benchmark.Deferred) => void), defer: boolean, maxTime: number): Promise<HostRecord> {
  return new Promise((resolve, reject) => {
    const b = new Benchmark(name, fn as () => void, {
      defer, maxTime, minSamples: 3, initCount: 1,
      onComplete: () => resolve({ name, mean_ms: b.stats.mean * 1000, rme_pct: b.stats.rme, samples: b.stats.sample.length }),
      onError: (e: { message?: unknown }) => reject(e.message instanceof Error ? e.message : new Error(String(e.message ?? 'benchmark failed'))),
    });
    b.run({ async: true });
  });
}

export async function hostBench(ctx: GpuContext, file: string, preset: string | undefined, program: Program, entry: string, inputs: ReadonlyMap<string, HostTensor>,
  weights: ReadonlyMap<string, HostTensor>, quick: boolean): Promise<HostRecord[]> {
  const maxTime = quick ? 0.3 : 2;
  const source = readSpec(file);
  const out: HostRecord[] = [];
  out.push(await measure(`compile ${file} (parse, check, elaborate)`, () => { compileSource(source, file, { preset }); }, false, maxTime));
  const c = compileEntry(program, entry);
  const g = program.entries.find((x) => x.entry === entry)!;
  const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, program.symbols);
  if (c.plan.tileMaps.length) {
    out.push(await measure(`tile classification (${c.plan.tileMaps.length} maps)`, (d: Benchmark.Deferred) => { void computeTileMaps(c.plan, c.graph, inputs, dims).then(() => d.resolve()); }, true, maxTime));
  }
  const s = await openSession(program, { backend: 'webgpu', weights, tuneCache: false });
  try {
    await s.run(entry, inputs, { outputs: [] }); // compile the shaders outside the timing
    out.push(await measure(`session.run(${entry}), weights resident, no readback`, (d: Benchmark.Deferred) => { void s.run(entry, inputs, { outputs: [] }).then(() => d.resolve()); }, true, maxTime));
    out.push(await measure(`one-shot run(${entry}), every weight uploaded, all read back`, (d: Benchmark.Deferred) => { void runEntry(ctx, c, program, weights, inputs).then(() => d.resolve()); }, true, maxTime));
  } finally {
    s.dispose();
  }
  return out;
}
