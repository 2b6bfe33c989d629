/**
 * Shared harness of the numerical tests: wrap hand-built graphs as a Program, run them on WebGPU (lavapipe in
 * CI) and through the reference interpreter, and compare with a documented tolerance.
 *
 * Why one Program with several outputs per test: runEntry builds a fresh executor (and so fresh pipelines) per
 * call, and lavapipe compiles each shader at its first dispatch; batching related cases into one entry keeps
 * the suite within minutes on two cores.
 */
import { expect } from 'vitest';
import { dimAsConst, dimSymbols, type Dim } from '../../src/core/dim.js';
import { isFloat, type DType } from '../../src/core/dtype.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { topoSort, type Graph, type Node, type ParamInfo, type Program } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';
import type { LowerOptions } from '../../src/ir/lower.js';
import { getGpu, type GpuContext } from '../../src/runtime/webgpu/device.js';
import { compileEntry, runEntry, type RunOutput } from '../../src/runtime/webgpu/program.js';
import type { IExpr, BinaryOp } from '../../src/ir/graph.js';

/** Default f32 tolerance: max |gpu - ref| <= REL * max(1, max |ref|). */
export const REL = 1e-4;

export function gpu(): Promise<GpuContext> {
  // Mesa wants a writable XDG_RUNTIME_DIR; device.ts falls back to a private one when it is unset.
  return getGpu();
}

/** A one-entry Program around hand-built outputs; inputs and params are collected from the graph. */
export function programOf(outputs: Record<string, Node>, entry = 'main'): Program {
  const roots = Object.values(outputs);
  const nodes = topoSort(roots);
  const inputs = nodes.filter((n): n is Node<'input'> => n.op === 'input');
  const params: ParamInfo[] = nodes.filter((n): n is Node<'param'> => n.op === 'param').map((n) => ({
    name: n.arg.name, dtype: n.dtype, init: n.arg.init,
    shape: n.shape.map((d) => { const c = dimAsConst(d); if (c === undefined) throw new Error(`param ${n.arg.name} has a symbolic shape`); return c; }),
  }));
  const symbols = [...new Set(nodes.flatMap((n) => n.shape.flatMap((d: Dim) => dimSymbols(d))))].sort();
  const graph: Graph = { entry, inputs, outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) };
  return { model: 'test', preset: 'test', config: {}, symbols, params, entries: [graph] };
}

/** Deterministic LCG values in [lo, hi), rounded to f32 (ints: floor). */
export function randData(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (s / 2 ** 32) * (hi - lo);
  });
}

export function randTensor(dtype: DType, shape: readonly number[], seed: number, lo = -1, hi = 1): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = randData(n, seed, lo, hi);
  if (isFloat(dtype)) return hostTensor(dtype, shape, Float32Array.from(d));
  if (dtype === 'bool') return hostTensor(dtype, shape, Int32Array.from(d, (x) => (x > (lo + hi) / 2 ? 1 : 0)));
  return hostTensor(dtype, shape, Int32Array.from(d, Math.floor));
}

export interface Compared { readonly name: string; readonly gpu: HostTensor; readonly ref: HostTensor; readonly maxErr: number; readonly maxRef: number }

export interface RunBoth {
  readonly run: RunOutput;
  readonly outputs: Map<string, Compared>;
}

/** Compile with `opts`, run on the GPU and in the interpreter; no comparison yet. */
export async function runBoth(program: Program, inputs: ReadonlyMap<string, HostTensor>, params: ReadonlyMap<string, HostTensor> = new Map(),
  opts: LowerOptions = {}, entry = program.entries[0]!.entry): Promise<RunBoth> {
  const ctx = await gpu();
  const c = compileEntry(program, entry, opts);
  const run = await runEntry(ctx, c, program, params, inputs);
  const ref = interpret(c.graph.outputs.map((o) => o.node), { inputs, params, dims: run.dims });
  const outputs = new Map<string, Compared>();
  c.graph.outputs.forEach((o, i) => {
    const g = run.outputs.get(o.name)!, r = ref[i]!;
    outputs.set(o.name, { name: o.name, gpu: g, ref: r, ...errors(g, r) });
  });
  return { run, outputs };
}

/** Max abs error over finite reference elements, and max |ref|. */
function errors(got: HostTensor, want: HostTensor): { maxErr: number; maxRef: number } {
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < want.data.length; i++) {
    const w = want.data[i]!, g = got.data[i]!;
    if (!Number.isFinite(w)) continue;
    maxRef = Math.max(maxRef, Math.abs(w));
    maxErr = Math.max(maxErr, Number.isNaN(g) ? Infinity : Math.abs(g - w));
  }
  return { maxErr, maxRef };
}

/**
 * Float outputs: max |got - want| <= rel * max(1, max |want|); NaN and infinities must match exactly.
 * Int and bool outputs: exact. Reports the first offending element with its multi-index.
 */
export function expectClose(got: HostTensor, want: HostTensor, what: string, rel = REL): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const n = want.data.length;
  const exact = !isFloat(want.dtype);
  let maxRef = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(want.data[i]!)) maxRef = Math.max(maxRef, Math.abs(want.data[i]!));
  const tol = exact ? 0 : rel * Math.max(1, maxRef);
  for (let i = 0; i < n; i++) {
    const w = want.data[i]!, g = got.data[i]!;
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= tol;
    if (!ok) {
      const at = unflat(i, want.shape);
      expect.fail(`${what}: element [${at.join(', ')}] (flat ${i}) got ${g}, expected ${w} (tolerance ${tol}, dtype ${want.dtype}, shape [${want.shape.join(', ')}])`);
    }
  }
}

export function unflat(i: number, shape: readonly number[]): number[] {
  const out: number[] = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { out[d] = i % shape[d]!; i = Math.floor(i / shape[d]!); }
  return out;
}

/** runBoth, then expectClose on every output; `rel` per output name (default REL). */
export async function checkProgram(program: Program, inputs: ReadonlyMap<string, HostTensor>, params: ReadonlyMap<string, HostTensor> = new Map(),
  opts: LowerOptions = {}, rel: Readonly<Record<string, number>> = {}): Promise<RunBoth> {
  const r = await runBoth(program, inputs, params, opts);
  for (const c of r.outputs.values()) expectClose(c.gpu, c.ref, c.name, rel[c.name] ?? REL);
  return r;
}

// ---- IExpr constructors (the test does not depend on the front end) ------------------------------------
export const ix = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
export const int = (v: number): IExpr => ({ k: 'const', v, dtype: 'i32' });
export const loadI = (src: number, ...idx: IExpr[]): IExpr => ({ k: 'load', src, idx, dtype: 'i32' });
export const loadF = (src: number, ...idx: IExpr[]): IExpr => ({ k: 'load', src, idx, dtype: 'f32' });
export const boolOp = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });
export const intOp = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'i32' });

/** Transfusion's mask: k < len[b] && (k <= q || (img[b,q] >= 0 && img[b,q] == img[b,k])); src 0 = len, 1 = img. */
export const transfusionMask: IExpr = boolOp('and', boolOp('lt', ix(2), loadI(0, ix(0))),
  boolOp('or', boolOp('le', ix(2), ix(1)),
    boolOp('and', boolOp('ge', loadI(1, ix(0), ix(1)), int(0)), boolOp('eq', loadI(1, ix(0), ix(1)), loadI(1, ix(0), ix(2))))));
export const causalMask: IExpr = boolOp('le', ix(2), ix(1));
