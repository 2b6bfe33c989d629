import { describe, expect, it } from 'vitest';
import { dimMul, dimSub } from '../../src/core/dim.js';
import { Builder } from '../../src/ir/builder.js';
import { PassError } from '../../src/ir/passes/rebuild.js';
import { specializeShapes } from '../../src/ir/passes/specialize-shapes.js';
import { printGraph } from '../../src/ir/print.js';
import { B, bin, c, graph, idx, ir, load, S, sh } from './cases/graph-helpers.js';

function sample() {
  const b = new Builder();
  const x = b.input('x', 'f32', sh(B, S));
  const flat = b.reshape(x, [dimMul(B, S)]);
  const last = b.slice(x, 1, dimSub(S, c(1)), c(1));
  const body = load(0, 'f32', idx(0), bin('sub', { k: 'dim', d: S, dtype: 'i32' }, idx(1)));
  const rev = b.compute('f32', sh(B, S), [x], body);
  return graph([x], { flat, last, rev });
}

describe('specializeShapes', () => {
  it('turns every dim into a constant, slice starts and IExpr dims included', () => {
    expect(printGraph(specializeShapes(sample(), { dims: { B: 2, S: 3, N: 5 } }))).toBe(ir`
      entry main {
        %0 = input "x" : f32[2, 3]
        %1 = reshape %0 : f32[6]
        %2 = slice{axis=1, start=2} %0 : f32[2, 1]
        %3 = compute{load(%0)[i0, (3 - i1)]} %0 : f32[2, 3]
        out flat = %1
        out last = %2
        out rev = %3
      }`);
  });

  it('substitutes only the bound symbols', () => {
    expect(printGraph(specializeShapes(sample(), { dims: { S: 4 } }))).toBe(ir`
      entry main {
        %0 = input "x" : f32[B, 4]
        %1 = reshape %0 : f32[4*B]
        %2 = slice{axis=1, start=3} %0 : f32[B, 1]
        %3 = compute{load(%0)[i0, (4 - i1)]} %0 : f32[B, 4]
        out flat = %1
        out last = %2
        out rev = %3
      }`);
  });

  it('is a no-op without dims or when no bound symbol occurs', () => {
    const g = sample();
    expect(specializeShapes(g, {})).toBe(g);
    expect(printGraph(specializeShapes(g, { dims: { N: 7 } }))).toBe(printGraph(g));
    expect(printGraph(g)).toContain('%3 = compute{load(%0)[i0, (dim(S) - i1)]} %0 : f32[B, S]');
  });

  it('rejects bindings that are not sizes, or that make a node invalid, with a one-line PassError', () => {
    expect(() => specializeShapes(sample(), { dims: { B: -1 } })).toThrow(/dimension B = -1 is not a non-negative integer/);
    expect(() => specializeShapes(sample(), { dims: { B: 1.5 } })).toThrow(PassError);
    const b = new Builder();
    const x = b.input('x', 'f32', sh(S));
    const g = graph([x], { y: b.slice(x, 0, c(2), c(1)) });
    expect(() => specializeShapes(g, { dims: { S: 2 } })).toThrow(/with S=2, a slice node of shape \[1\] is invalid: slice \[2, 3\) is out of range/);
    expect(printGraph(specializeShapes(g, { dims: { S: 3 } }))).toContain('slice{axis=0, start=2} %0 : f32[1]');
  });
});
