import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import { graphNodes } from '../../src/ir/graph.js';
import { dce } from '../../src/ir/passes/dce.js';
import { printGraph } from '../../src/ir/print.js';
import { bin, graph, idx, ir, k, load, sh } from './cases/graph-helpers.js';

describe('dce', () => {
  it('drops compute sources the body never loads, and the nodes only they reached', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(4)), w = b.input('w', 'f32', sh(4));
    const dead = b.unary('exp', b.unary('sin', x));
    const c = b.compute('f32', sh(4), [dead, w], load(1, 'f32', idx(0)));
    const g = graph([x, w], { c });
    expect(graphNodes(g).length).toBe(5);
    expect(printGraph(dce(g, {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[4]
        %1 = input "w" : f32[4]
        %2 = compute{load(%1)[i0]} %1 : f32[4]
        out c = %2
      }`);
  });

  it('drops mask inputs of an unmasked attention and the ones a mask never loads', () => {
    const b = new Builder();
    const q = b.input('q', 'f32', sh(1, 1, 2, 4));
    const len = b.input('len', 'i32', sh(1)), img = b.input('img', 'i32', sh(1, 2));
    const none = b.attention(q, q, q, [len, img], null, 'none', 1);
    const some = b.attention(q, q, q, [len, img], bin('lt', idx(2), load(1, 'i32', idx(0), idx(1)), 'bool'), 'm', 1);
    expect(printGraph(dce(graph([q, len, img], { none, some }), {}))).toBe(ir`
      entry main {
        %0 = input "q" : f32[1, 1, 2, 4]
        %1 = input "len" : i32[1]
        %2 = input "img" : i32[1, 2]
        %3 = attention{scale=1} %0, %0, %0 : f32[1, 1, 2, 4]
        %4 = attention{scale=1, mask m = (i2 < load(%2)[i0, i1])} %0, %0, %0, %2 : f32[1, 1, 2, 4]
        out none = %3
        out some = %4
      }`);
  });

  it('keeps unused graph inputs (they are the interface) and is otherwise a no-op', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(4)), unused = b.input('unused', 'i32', sh(2));
    const c = b.compute('f32', sh(4), [x], bin('add', load(0, 'f32', idx(0)), k(1, 'f32')));
    const g = graph([x, unused], { c });
    const text = ir`
      entry main {
        %0 = input "x" : f32[4]
        %1 = input "unused" : i32[2]
        %2 = compute{(load(%0)[i0] + 1.0)} %0 : f32[4]
        out c = %2
      }`;
    expect(printGraph(g)).toBe(text);
    expect(printGraph(dce(g, {}))).toBe(text);
  });
});
