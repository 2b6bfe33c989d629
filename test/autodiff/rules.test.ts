/**
 * Every differentiation rule against central finite differences (float64 interpreter, relative error <= 1e-4),
 * on small graphs where every parameter element is checked. Values avoid the kinks of piecewise ops.
 */
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import type { Builder } from '../../src/ir/builder.js';
import { AutodiffError } from '../../src/ir/autodiff/grad.js';
import { graphNodes, type BinaryOp, type Graph, type IExpr, type UnaryOp } from '../../src/ir/graph.js';
import type { Rng } from '../../src/runtime/rng.js';
import { bin, idx, k, load, sh } from '../ir/cases/graph-helpers.js';
import { checkGrad, expectGradOk, type OpCase } from './helpers.js';

const pos = (rng: Rng) => 0.5 + Math.abs(rng.normal());
const opsOf = (g: Graph) => new Set(graphNodes(g).map((n) => n.op));
const run = (c: OpCase) => { const r = checkGrad(c); expectGradOk(r); return r; };

describe('unary rules', () => {
  const ops: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'sigmoid', 'silu', 'gelu', 'sin', 'cos', 'abs', 'recip'];
  for (const op of ops) it(op, () => {
    const positive = ['log', 'sqrt', 'rsqrt', 'recip'].includes(op);
    run({ params: { x: { shape: [3, 4], ...(positive ? { gen: pos } : {}) } }, build: (b, p) => b.unary(op, p.x!) });
  });
  it('floor and ceil pass no gradient (x + floor(3x) + ceil(x) has derivative 1)', () => {
    const r = run({ params: { x: { shape: [8] } }, build: (b, p) => b.binary('add', b.binary('add', p.x!, b.unary('floor', b.binary('mul', p.x!, b.const(3)))), b.unary('ceil', p.x!)) });
    expect(r.maxRel).toBeLessThan(1e-6);
  });
});

describe('binary rules', () => {
  const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod'];
  for (const op of ops) it(op, () => {
    const gen = op === 'pow' || op === 'div' || op === 'mod' ? pos : undefined;
    run({ params: { a: { shape: [3, 4], ...(gen ? { gen } : {}) }, b: { shape: [3, 4], ...(gen ? { gen } : {}) } }, build: (b, p) => b.binary(op, p.a!, p.b!) });
  });
  it('the same source on both sides (x * x, x / x + x)', () => {
    run({ params: { x: { shape: [5], gen: pos } }, build: (b, p) => b.binary('add', b.binary('mul', p.x!, p.x!), b.binary('add', b.binary('div', p.x!, p.x!), p.x!)) });
  });
});

describe('structural rules', () => {
  it('where (condition from data)', () => run({
    params: { a: { shape: [2, 3] }, b: { shape: [2, 3] } },
    inputs: { c: { dtype: 'bool', shape: sh(2, 3), data: [1, 0, 1, 1, 0, 0] } },
    build: (b, p, i) => b.where(i.c!, p.a!, b.unary('tanh', p.b!)),
  }));
  it('cast f32 -> f16 -> f32', () => run({ params: { x: { shape: [6] } }, build: (b, p) => b.cast(b.cast(b.binary('mul', p.x!, p.x!), 'f16'), 'f32') }));
  it('expand (broadcast axes summed back)', () => run({ params: { x: { shape: [3, 1] } }, build: (b, p) => b.unary('sin', b.expand(p.x!, sh(2, 3, 4))) }));
  for (const kind of ['sum', 'mean', 'max', 'min'] as const) it(`reduce ${kind}`, () => run({
    params: { x: { shape: [3, 4, 2] } }, build: (b, p) => b.unary('tanh', b.reduce(kind, p.x!, [0, 2])),
  }));
  it('reduce mean over a symbolic axis', () => run({
    params: { x: { shape: [3] } }, dims: { B: 4 },
    build: (b, p) => b.reduce('mean', b.binary('mul', b.expand(p.x!, [dimSym('B'), dimConst(3)]), b.expand(p.x!, [dimSym('B'), dimConst(3)])), [0]),
  }));
  it('reshape and permute', () => run({ params: { x: { shape: [2, 3, 4] } }, build: (b, p) => b.unary('sin', b.permute(b.reshape(p.x!, sh(6, 2, 2)), [2, 0, 1])) }));
  it('slice', () => run({ params: { x: { shape: [3, 5] } }, build: (b, p) => b.unary('exp', b.slice(p.x!, 1, dimConst(1), dimConst(3))) }));
  it('concat', () => run({ params: { x: { shape: [2, 3] }, y: { shape: [1, 3] } }, build: (b, p) => b.unary('tanh', b.concat([p.x!, p.y!, p.x!], 0)) }));
  it('matmul with a broadcast batch operand', () => run({ params: { a: { shape: [2, 3, 4] }, w: { shape: [4, 5] } }, build: (b, p) => b.matmul(p.a!, p.w!) }));
});

describe('gathers and computes become scatter-adds', () => {
  it('gather with repeated and out-of-range (clamped) ids', () => {
    const r = run({
      params: { t: { shape: [5, 3] } },
      inputs: { ids: { dtype: 'i32', shape: sh(2, 4), data: [1, 1, 4, -2, 9, 1, 0, 3] } },
      build: (b, p, i) => b.unary('tanh', b.gather(p.t!, i.ids!)),
    });
    expect(opsOf(r.grad)).toContain('scatter_add');
  });
  it('compute with data-dependent, shifted and guarded loads', () => {
    // out[i, j] = tanh(x[ids[i], j]) * x[i + 1, 2 - j] + where(ids[i] > 1, x[i, j], 0)
    const f = (src: number, ...ix: IExpr[]) => load(src, 'f32', ...ix);
    const id = load(1, 'i32', idx(0));
    const body: IExpr = bin('add',
      bin('mul', { k: 'un', op: 'tanh', a: f(0, id, idx(1)), dtype: 'f32' }, f(0, bin('add', idx(0), k(1)), bin('sub', k(2), idx(1)))),
      { k: 'where', c: bin('gt', id, k(1), 'bool'), a: f(0, idx(0), idx(1)), b: { k: 'const', v: 0, dtype: 'f32' }, dtype: 'f32' });
    run({
      params: { x: { shape: [4, 3] } },
      inputs: { ids: { dtype: 'i32', shape: sh(6), data: [3, 0, 3, 2, 3, 1] } },
      build: (b, p, i) => b.compute('f32', sh(6, 3), [p.x!, i.ids!], body),
    });
  });
  it('compute at the output index (elementwise, no scatter)', () => {
    const x = load(0, 'f32', idx(0), idx(1));
    const r = run({ params: { x: { shape: [3, 2] } }, build: (b, p) => b.compute('f32', sh(3, 2), [p.x!], bin('add', bin('mul', x, x), { k: 'un', op: 'sin', a: load(0, 'f32', idx(0), idx(1)), dtype: 'f32' })) });
    expect(opsOf(r.grad)).not.toContain('scatter_add');
  });
  it('scatter_add itself (its gradient is a gather)', () => run({
    params: { v: { shape: [6, 2] } },
    inputs: { ids: { dtype: 'i32', shape: sh(6), data: [2, 0, 2, 2, 1, 0] } },
    build: (b: Builder, p, i) => b.unary('tanh', b.scatterAdd(p.v!, sh(3, 2), [i.ids!], [load(0, 'i32', idx(0)), idx(1)])),
  }));
});

describe('normalisations and softmax', () => {
  it('softmax', () => run({ params: { x: { shape: [2, 4, 3] } }, build: (b, p) => b.softmax(p.x!, 1) }));
  it('log_softmax', () => run({ params: { x: { shape: [2, 3, 5] } }, build: (b, p) => b.softmax(p.x!, -1, true) }));
  it('rmsnorm (x and weight)', () => run({ params: { x: { shape: [2, 3, 5] }, w: { shape: [5] } }, build: (b, p) => b.rmsnorm(p.x!, p.w!, 1e-5) }));
  it('layernorm (x, weight and bias)', () => run({ params: { x: { shape: [3, 6] }, w: { shape: [6] }, c: { shape: [6] } }, build: (b, p) => b.unary('tanh', b.layernorm(p.x!, p.w!, p.c!, 1e-5)) }));
  it('rope', () => run({
    params: { x: { shape: [2, 2, 3, 4] } },
    inputs: { pos: { dtype: 'i32', shape: sh(2, 3), data: [0, 5, 17, 3, 2, 1] } },
    build: (b, p, i) => b.rope(p.x!, i.pos!, 10000),
  }));
});

describe('attention', () => {
  // allowed(b, q, k) = k < len[b] && k < q: row q = 0 is fully masked, keys past len are padding.
  const mask: IExpr = bin('and', bin('lt', idx(2), load(0, 'i32', idx(0)), 'bool'), bin('lt', idx(2), idx(1), 'bool'), 'bool');
  const qkv = { q: { shape: [2, 4, 5, 4] }, k: { shape: [2, 2, 6, 4] }, v: { shape: [2, 2, 6, 3] } };
  it('masked, grouped KV heads (4 / 2), padding, a fully masked row, Dv != D', () => {
    const r = run({
      params: qkv, inputs: { len: { dtype: 'i32', shape: sh(2), data: [5, 3] } },
      build: (b, p, i) => b.attention(p.q!, p.k!, p.v!, [i.len!], mask, 'm', 0.5),
    });
    // A fully masked row has no influence: dQ of query 0 is exactly zero.
    const dq = r.grads.get('q')!.data;
    for (let h = 0; h < 4; h++) for (let d = 0; d < 4; d++) expect(dq[(h * 5 + 0) * 4 + d]).toBe(0);
  });
  it('no mask', () => run({ params: qkv, build: (b, p) => b.attention(p.q!, p.k!, p.v!, [], null, '', 0.7) }));
  it('attention_grad has no rule of its own (second derivatives)', () => {
    expect(() => checkGrad({
    params: { q: { shape: [1, 1, 2, 2] }, k: { shape: [1, 1, 2, 2] }, v: { shape: [1, 1, 2, 2] } },
    build: (b, p) => {
      const o = b.attention(p.q!, p.k!, p.v!, [], null, '', 1);
      return b.attentionGrad('q', p.q!, p.k!, p.v!, o, p.v!, [], null, '', 1);
    },
  })).toThrow(AutodiffError);
  });
});
