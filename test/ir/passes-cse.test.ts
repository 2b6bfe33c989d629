import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { cse } from '../../src/ir/passes/cse.js';
import { printGraph } from '../../src/ir/print.js';
import { B, bin, graph, idx, ir, load, raw, sh } from './cases/graph-helpers.js';

describe('cse', () => {
  it('merges structurally equal nodes made without interning', () => {
    const x = raw('input', 'f32', sh(B), [], { name: 'x' });
    const e1 = raw('unary', 'f32', sh(B), [x], { op: 'exp' });
    const e2 = raw('unary', 'f32', sh(B), [x], { op: 'exp' });
    const y = raw('binary', 'f32', sh(B), [e1, e2], { op: 'add' });
    expect(printGraph(graph([x], { y }))).toContain('%2 = exp %0');
    expect(printGraph(cse(graph([x], { y }), {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[B]
        %1 = exp %0 : f32[B]
        %2 = add %1, %1 : f32[B]
        out y = %2
      }`);
  });

  it('merges compute nodes whose bodies differ only in source numbering or a repeated source', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(4)), w = b.input('w', 'f32', sh(4));
    const c1 = b.compute('f32', sh(4), [x, w], bin('mul', load(0, 'f32', idx(0)), load(1, 'f32', idx(0))));
    const c2 = b.compute('f32', sh(4), [w, x], bin('mul', load(1, 'f32', idx(0)), load(0, 'f32', idx(0))));
    const d1 = b.compute('f32', sh(4), [x, x], bin('add', load(0, 'f32', idx(0)), load(1, 'f32', idx(0))));
    const d2 = b.compute('f32', sh(4), [x], bin('add', load(0, 'f32', idx(0)), load(0, 'f32', idx(0))));
    expect(new Set([c1, c2, d1, d2]).size).toBe(4);
    expect(printGraph(cse(graph([x, w], { c1, c2, d1, d2 }), {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[4]
        %1 = input "w" : f32[4]
        %2 = compute{(load(%0)[i0] * load(%1)[i0])} %0, %1 : f32[4]
        %3 = compute{(load(%0)[i0] + load(%0)[i0])} %0 : f32[4]
        out c1 = %2
        out c2 = %2
        out d1 = %3
        out d2 = %3
      }`);
  });

  it('renumbers attention mask inputs by first use', () => {
    const b = new Builder();
    const q = b.input('q', 'f32', sh(1, 1, 2, 4));
    const len = b.input('len', 'i32', sh(1)), img = b.input('img', 'i32', sh(1, 2));
    // mask reads source 1 (len) first, source 0 (img) second: cse lists len first
    const mask = bin('and', bin('lt', idx(2), load(1, 'i32', idx(0)), 'bool'), bin('ge', load(0, 'i32', idx(0), idx(1)), { k: 'const', v: 0, dtype: 'i32' }, 'bool'), 'bool');
    const a = b.attention(q, q, q, [img, len], mask, 'm', 0.5);
    expect(printGraph(cse(graph([q, len, img], { a }), {}))).toBe(ir`
      entry main {
        %0 = input "q" : f32[1, 1, 2, 4]
        %1 = input "len" : i32[1]
        %2 = input "img" : i32[1, 2]
        %3 = attention{scale=0.5, mask m = ((i2 < load(%1)[i0]) && (load(%2)[i0, i1] >= 0))} %0, %0, %0, %1, %2 : f32[1, 1, 2, 4]
        out a = %3
      }`);
  });

  it('is a no-op on a graph without duplicates', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(B, 3));
    const y: Node = b.reduce('sum', b.unary('exp', x), [1]);
    const g = graph([x], { y, z: b.unary('exp', x) });
    expect(printGraph(cse(g, {}))).toBe(printGraph(g));
    expect(printGraph(g)).toBe(ir`
      entry main {
        %0 = input "x" : f32[B, 3]
        %1 = exp %0 : f32[B, 3]
        %2 = reduce{sum, axes=[1]} %1 : f32[B]
        out y = %2
        out z = %1
      }`);
  });
});
