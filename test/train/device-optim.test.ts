/**
 * The optimizer entry (src/train/optim-graph.ts) run through sessions against its oracle, clipByGlobalNorm +
 * adamwStep of src/train/optim.ts: three steps (clipped and unclipped, decaying and non-decaying parameters),
 * on WebGPU (moments and parameters stored in place: the resident tensors stay the same objects), on the CUDA
 * CPU emulation (the same plan rendered as CUDA; the new value replaces the parameter) and on the CPU session. And the in-place rewrite's conditions
 * (src/ir/in-place.ts): an output that reads its source elsewhere than at its own element, or whose source is
 * read after it is written, keeps a buffer of its own.
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Graph, Node, ParamInfo, Program } from '../../src/ir/graph.js';
import { storeInPlace } from '../../src/ir/in-place.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { Rng } from '../../src/runtime/rng.js';
import { openSession, type Backend } from '../../src/runtime/session.js';
import { gradName, mName, newName, optimizerGraph, OPTIMIZER_ENTRY, vName } from '../../src/train/optim-graph.js';
import { adamwStep, clipByGlobalNorm, initAdamW, PAPER_ADAMW } from '../../src/train/optim.js';

const PARAMS: ParamInfo[] = [
  { name: 'w', dtype: 'f32', shape: [3, 5], init: { kind: 'normal', mean: 0, std: 1 } },
  { name: 'b', dtype: 'f32', shape: [5], init: { kind: 'zeros' } },
  { name: 'emb', dtype: 'f32', shape: [7, 4], init: { kind: 'normal', mean: 0, std: 1 } },
];
const program = (entries: Graph[], params = PARAMS): Program => ({ model: 't', preset: 'p', config: {}, symbols: [], params, entries });
const scalar = (x: number) => hostTensor('f32', [], Float32Array.of(x));
const randn = (rng: Rng, shape: number[], s: number) => hostTensor('f32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * s));

/** max |a - b| / max |b|, the error relative to the tensor's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 1e-30;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}

describe.each<Backend>(['webgpu', 'cuda', 'cpu'])('the optimizer entry on %s', (backend) => {
  it('equals clipByGlobalNorm + adamwStep over three steps', async () => {
    const rng = Rng.seeded(5);
    const host = new Map(PARAMS.map((p) => [p.name, randn(rng, [...p.shape], 1)]));
    const s = await openSession(program([optimizerGraph(PARAMS, PAPER_ADAMW)]), { backend, weights: host, cuda: { emulate: true } });
    const state = initAdamW(host);
    const assign = Object.fromEntries(PARAMS.map((p) => [newName(p.name), p.name]));
    const resident = PARAMS.map((p) => s.param(p.name));
    try {
      // Gradient scales: clipped (norm ~ 7 > 1), unclipped (norm ~ 0.07), clipped again.
      for (const [k, gs] of [1, 0.01, 3].entries()) {
        const grads = new Map(PARAMS.map((p) => [p.name, randn(rng, [...p.shape], gs)]));
        const t = state.step + 1, lr = 0.05 / t;
        const r = await s.run(OPTIMIZER_ENTRY, {
          ...Object.fromEntries([...grads].map(([n, g]) => [gradName(n), g])),
          lr: scalar(lr), c1: scalar(1 - PAPER_ADAMW.beta1 ** t), c2: scalar(1 - PAPER_ADAMW.beta2 ** t), clip: scalar(1),
        }, { outputs: ['norm'], assign });
        const clipped = clipByGlobalNorm(grads, 1);
        expect(clipped.norm > 1).toBe(k !== 1);
        adamwStep(host, clipped.grads, state, lr, PAPER_ADAMW);
        expect(Math.abs(r.outputs.norm!.data[0]! - clipped.norm) / clipped.norm).toBeLessThan(1e-5);
        for (const p of PARAMS) {
          expect(relErr((await s.param(p.name).read()).data, host.get(p.name)!.data), `${p.name} step ${t}`).toBeLessThan(1e-5);
          expect(relErr((await s.state(mName(p.name))!.read()).data, state.m.get(p.name)!), `m ${p.name}`).toBeLessThan(1e-5);
          expect(relErr((await s.state(vName(p.name))!.read()).data, state.v.get(p.name)!), `v ${p.name}`).toBeLessThan(1e-5);
        }
      }
      // On WebGPU every update went into the resident buffers: the parameters are the tensors they were.
      if (backend === 'webgpu') PARAMS.forEach((p, i) => expect(s.param(p.name), p.name).toBe(resident[i]));
    } finally { s.dispose(); }
  }, 60_000);
});

describe('storing outputs in place', () => {
  const n = 6;
  /** A state x [6] and an output x computed by `f`, with optional extra outputs. */
  function stateGraph(f: (b: Builder, x: Node) => Node, extra: (b: Builder, x: Node, y: Node) => Record<string, Node> = () => ({})): Graph {
    const b = new Builder();
    const x = b.input('x', 'f32', [dimConst(n)]);
    const y = f(b, x);
    const more = Object.entries(extra(b, x, y)).map(([name, node]) => ({ name, node }));
    return { entry: 'step', inputs: [x], outputs: [{ name: 'x', node: y }, ...more], states: [{ name: 'x', written: true }] };
  }
  const inPlace = (g: Graph) => { const plan = lowerGraph(g, []); return storeInPlace(plan, [{ output: 'x', source: plan.inputs[0]!.buf }]).inPlace; };
  const double = (b: Builder, x: Node) => b.binary('mul', x, b.const(2));
  const reversed = (b: Builder, x: Node) => b.compute('f32', x.shape, [x], { k: 'load', src: 0, dtype: 'f32', idx: [{ k: 'bin', op: 'sub', dtype: 'i32', a: { k: 'const', v: n - 1, dtype: 'i32' }, b: { k: 'idx', i: 0, dtype: 'i32' } }] });

  it('takes an elementwise update at its own element, not a permuted one or one whose source is read later', () => {
    expect(inPlace(stateGraph(double))).toEqual(['x']);
    expect(inPlace(stateGraph(reversed))).toEqual([]);
    expect(inPlace(stateGraph(double, (b, x, y) => ({ z: b.binary('add', y, b.reduce('sum', x, [0])) })))).toEqual([]);
  });

  it('a state updated in place on WebGPU holds the right values call after call; a permuted update stays correct', async () => {
    for (const [f, want] of [[double, (x: number[]) => x.map((v) => v * 2)], [reversed, (x: number[]) => [...x].reverse()]] as const) {
      const s = await openSession(program([stateGraph(f)], []), { backend: 'webgpu' });
      try {
        let cur = [1, 2, 3, 4, 5, 6];
        s.setState('x', hostTensor('f32', [n], Float32Array.from(cur)));
        const first = s.state('x');
        for (let k = 0; k < 3; k++) {
          await s.run('step', {});
          cur = want(cur);
          expect([...(await s.state('x')!.read()).data]).toEqual(cur);
        }
        expect(s.state('x') === first).toBe(f === double);
      } finally { s.dispose(); }
    }
  }, 60_000);
});

