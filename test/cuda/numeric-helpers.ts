/**
 * Shared by the CUDA numeric tests: run a graph through lowering -> CUDA -> CPU emulation and through the
 * reference interpreter, and compare. Tolerance: max |cuda - ref| <= 1e-4 * max(1, max |ref|); ints exact.
 */
import { expect } from 'vitest';
import type { HostTensor } from '../../src/core/tensor.js';
import type { Graph, Node, ParamInfo, Program } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';
import type { LowerOptions } from '../../src/ir/lower.js';
import { compileCudaEntry, runCudaEntryOnCpu, type CompiledCudaEntry, type CudaRunOutput } from '../../src/runtime/cuda/program.js';
import type { CpuRunOptions } from '../../src/runtime/cuda/cpu-run.js';

export function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s / 2 ** 31 - 1) * scale; });
}

export interface Comparison { readonly name: string; readonly maxErr: number; readonly scale: number; readonly n: number }

/** Per output: the largest error and the reference's scale; fails the test on any mismatch. */
export function compareOutputs(graph: Graph, run: CudaRunOutput, ref: readonly HostTensor[], rel = 1e-4): Comparison[] {
  return graph.outputs.map((o, i) => {
    const got = run.outputs.get(o.name)!, want = ref[i]!;
    expect(got.shape, `shape of ${o.name}`).toEqual(want.shape);
    expect(got.dtype, `dtype of ${o.name}`).toBe(want.dtype);
    let maxErr = 0, scale = 0;
    for (let j = 0; j < want.data.length; j++) {
      const a = got.data[j]!, b = want.data[j]!;
      if (Number.isNaN(a) !== Number.isNaN(b)) maxErr = Infinity;
      else if (!Number.isNaN(b)) { maxErr = Math.max(maxErr, Math.abs(a - b)); scale = Math.max(scale, Math.abs(b)); }
    }
    if (want.data instanceof Int32Array) expect(Array.from(got.data), `values of ${o.name}`).toEqual(Array.from(want.data));
    else expect(maxErr, `max error of ${o.name} (scale ${scale})`).toBeLessThanOrEqual(rel * Math.max(1, scale));
    return { name: o.name, maxErr, scale, n: want.data.length };
  });
}

export interface GraphCase {
  readonly inputs: readonly Node<'input'>[];
  readonly outputs: readonly { readonly name: string; readonly node: Node }[];
  readonly values: ReadonlyMap<string, HostTensor>;
  readonly params?: readonly { readonly info: ParamInfo; readonly value: HostTensor }[];
  readonly symbols?: readonly string[];
}

/** Lowers, renders and emulates the graph, checks it against the interpreter; returns the compiled entry for more checks. */
export async function checkGraph(c: GraphCase, opts: LowerOptions = {}, runOpts: CpuRunOptions = {}): Promise<{ compiled: CompiledCudaEntry; run: CudaRunOutput; cmp: Comparison[] }> {
  const graph: Graph = { entry: 'test', inputs: c.inputs, outputs: c.outputs };
  const params = c.params ?? [];
  const program: Program = { model: 'test', preset: 'test', config: {}, symbols: c.symbols ?? [], params: params.map((p) => p.info), entries: [graph] };
  const compiled = compileCudaEntry(program, 'test', opts);
  const weights = new Map(params.map((p) => [p.info.name, p.value]));
  const run = await runCudaEntryOnCpu(compiled, program, weights, c.values, runOpts);
  const ref = interpret(c.outputs.map((o) => o.node), { inputs: c.values, params: weights, dims: run.dims });
  return { compiled, run, cmp: compareOutputs(graph, run, ref) };
}
