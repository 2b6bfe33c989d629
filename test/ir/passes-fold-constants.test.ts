import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { foldConstants } from '../../src/ir/passes/fold-constants.js';
import { printGraph } from '../../src/ir/print.js';
import { B, graph, ir, sh } from './cases/graph-helpers.js';

describe('foldConstants', () => {
  it('folds a scalar product and keeps it broadcast as expand(const)', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', [B]);
    const g = graph([x], { y: b.binary('add', x, b.binary('mul', b.const(2), b.const(3))) });
    expect(printGraph(foldConstants(g, {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[B]
        %1 = const 6.0 : f32[]
        %2 = expand %1 : f32[B]
        %3 = add %0, %2 : f32[B]
        out y = %3
      }`);
  });

  it('folds through compare, cast, expand, reshape and unary, with integer division truncating', () => {
    const b = new Builder();
    const one = b.cast(b.binary('lt', b.const(1, 'i32'), b.const(2, 'i32')), 'f32');
    const y = b.unary('neg', b.reshape(b.expand(one, sh(2, 3)), sh(6)));
    const q = b.binary('div', b.const(-7, 'i32'), b.const(2, 'i32'));
    const w = b.where(b.binary('gt', b.const(0), b.const(1)), b.const(10), b.const(20));
    expect(printGraph(foldConstants(graph([], { y, q, w }), {}))).toBe(ir`
      entry main {
        %0 = const -1.0 : f32[]
        %1 = expand %0 : f32[6]
        %2 = const -3 : i32[]
        %3 = const 20.0 : f32[]
        out y = %1
        out q = %2
        out w = %3
      }`);
  });

  it('rounds like the interpreter: f32 sums and wrapping i32 products', () => {
    const b = new Builder();
    const s = b.binary('add', b.const(0.1), b.const(0.2));
    const m = b.binary('mul', b.const(65536, 'i32'), b.const(65537, 'i32'));
    const out = foldConstants(graph([], { s, m }), {});
    const vals = out.outputs.map((o) => (o.node.op === 'const' ? (o.node as Node<'const'>).arg.value : NaN));
    expect(vals[0]).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
    expect(vals[1]).toBe(65536); // 65536 * 65537 = 2^32 + 65536 wraps to 65536
  });

  it('leaves NaN results unfolded (the builder cannot intern NaN consts faithfully)', () => {
    const b = new Builder();
    const g = graph([], { y: b.binary('div', b.const(0), b.const(0)) });
    expect(printGraph(foldConstants(g, {}))).toBe(ir`
      entry main {
        %0 = const 0.0 : f32[]
        %1 = div %0, %0 : f32[]
        out y = %1
      }`);
  });

  it('is a no-op when an operand is not constant (and never folds reductions or matmuls)', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(B, 4));
    const y = b.reduce('sum', b.binary('mul', x, b.const(2)), [1]);
    const r = b.reduce('max', b.expand(b.const(1), sh(3)), [0]);
    const g = graph([x], { y, r });
    const before = printGraph(g);
    expect(before).toBe(ir`
      entry main {
        %0 = input "x" : f32[B, 4]
        %1 = const 2.0 : f32[]
        %2 = expand %1 : f32[B, 4]
        %3 = mul %0, %2 : f32[B, 4]
        %4 = reduce{sum, axes=[1]} %3 : f32[B]
        %5 = const 1.0 : f32[]
        %6 = expand %5 : f32[3]
        %7 = reduce{max, axes=[0]} %6 : f32[]
        out y = %4
        out r = %7
      }`);
    expect(printGraph(foldConstants(g, {}))).toBe(before);
  });
});
