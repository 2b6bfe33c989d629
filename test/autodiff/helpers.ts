/** Gradient-check harness for autodiff rule tests: small graphs, every parameter element against finite differences. */
import { expect } from 'vitest';
import { dimConst, shapeEval, type Shape } from '../../src/core/dim.js';
import type { DType } from '../../src/core/dtype.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import { gradEntry } from '../../src/ir/autodiff/grad.js';
import { finiteDifferences, type GradSample } from '../../src/ir/autodiff/gradcheck.js';
import type { Graph, Node, Program } from '../../src/ir/graph.js';
import { interpretF64, type Tensor } from '../../src/ir/interpreter.js';
import { runGraphPipeline } from '../../src/ir/pipeline.js';
import { Rng } from '../../src/runtime/rng.js';

export interface OpCase {
  /** Float parameters by name: shape and an optional value generator (default: normal(0, 1)). */
  readonly params: Record<string, { shape: number[]; gen?: (rng: Rng, i: number) => number }>;
  /** Non-parameter inputs (ids, masks, positions), with possibly symbolic shapes bound by `dims`. */
  readonly inputs?: Record<string, { dtype: DType; shape: Shape; data: number[] }>;
  readonly dims?: Record<string, number>;
  readonly build: (b: Builder, p: Record<string, Node>, i: Record<string, Node>) => Node;
  readonly seed?: number;
}

export interface CheckResult { readonly samples: GradSample[]; readonly maxRel: number; readonly grad: Graph; readonly grads: Map<string, Tensor> }

/**
 * loss = sum(build(...) * r) with a random r (every output element weighted differently), differentiated by
 * gradEntry; every element of every parameter's gradient (up to `maxPerParam`) checked against central
 * differences, all in float64.
 */
export function checkGrad(c: OpCase, maxPerParam = 64): CheckResult {
  const rng = Rng.seeded(c.seed ?? 7);
  const b = new Builder();
  const dims = c.dims ?? {};
  const p: Record<string, Node> = {}, inp: Record<string, Node> = {};
  const params = new Map<string, Tensor>();
  const inputs = new Map<string, HostTensor>();
  for (const [name, { shape, gen }] of Object.entries(c.params)) {
    p[name] = b.param(name, 'f32', shape.map(dimConst), { kind: 'zeros' });
    const n = shape.reduce((a, x) => a * x, 1);
    params.set(name, { dtype: 'f32', shape, data: Float64Array.from({ length: n }, (_, i) => (gen ? gen(rng, i) : rng.normal())) });
  }
  for (const [name, t] of Object.entries(c.inputs ?? {})) {
    inp[name] = b.input(name, t.dtype, t.shape);
    inputs.set(name, hostTensor(t.dtype, shapeEval(t.shape, dims), t.data));
  }
  const out = c.build(b, p, inp);
  const r = b.input('r', 'f32', out.shape);
  const rShape = shapeEval(out.shape, dims);
  inputs.set('r', hostTensor('f32', rShape, Float32Array.from({ length: rShape.reduce((a, x) => a * x, 1) }, () => rng.normal())));
  const loss = b.reduce('sum', b.binary('mul', out, r), out.shape.map((_, k) => k));
  const fwd: Graph = { entry: 'f', inputs: [...Object.values(inp), r] as Node<'input'>[], outputs: [{ name: 'loss', node: loss }] };
  const program: Program = {
    model: 't', preset: 'p', config: {}, symbols: Object.keys(dims),
    params: Object.entries(c.params).map(([name, { shape }]) => ({ name, dtype: 'f32', shape, init: { kind: 'zeros' } })), entries: [fwd],
  };
  const grad = runGraphPipeline(gradEntry(program, 'f'));
  const env = { inputs, params, dims };
  const outs = interpretF64(grad.outputs.map((o) => o.node), env);
  const grads = new Map(grad.outputs.slice(1).map((o, k) => [o.name.slice('grad.'.length), outs[k + 1]!]));
  const picks = [...params].flatMap(([name, t]) => {
    const n = t.data.length, step = Math.max(1, Math.ceil(n / maxPerParam));
    return Array.from({ length: Math.ceil(n / step) }, (_, k) => ({ param: name, index: k * step }));
  });
  const samples = finiteDifferences(runGraphPipeline(fwd).outputs[0]!.node, env, grads, picks);
  return { samples, maxRel: Math.max(...samples.map((s) => s.rel)), grad, grads };
}

/** Every sample within 1e-4 relative error, and the gradient not identically zero (the check is not vacuous). */
export function expectGradOk(res: CheckResult, tol = 1e-4): void {
  for (const s of res.samples) expect(s.rel, `${s.param}[${s.index}]: analytic ${s.analytic}, numeric ${s.numeric}`).toBeLessThanOrEqual(tol);
  expect(res.samples.some((s) => Math.abs(s.numeric) > 1e-3), 'some gradient element is non-zero').toBe(true);
}
