import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { verifyGraph, verifyOps } from '../../src/ir/verify.js';
import { B, graph, idx, load, raw, sh } from './cases/graph-helpers.js';

describe('verifyGraph', () => {
  it('accepts what the builder makes', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(B, 3)), ids = b.input('ids', 'i32', sh(B));
    const y = b.binary('add', b.gather(x, ids), b.reduce('mean', b.permute(x, [1, 0]), [1]));
    expect(verifyGraph(graph([x, ids], { y }))).toEqual([]);
  });

  it('catches an elementwise node whose operands differ in shape', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(2, 3)), v = b.input('v', 'f32', sh(3));
    const bad = raw('binary', 'f32', sh(2, 3), [x, v], { op: 'add' });
    const errs = verifyGraph(graph([x, v], { y: bad }));
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^%2 \(binary\): sources need implicit conversions \(ok, expand to f32\[2, 3\]\)/);
  });

  it('catches wrong dtypes and shapes, reshapes that change the element count, and bad permutations', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(2, 3));
    const wrongType = raw('unary', 'i32', sh(2, 3), [x], { op: 'exp' });
    const wrongShape = raw('matmul', 'f32', sh(2, 3), [x, b.permute(x, [1, 0])], null);
    const reshape = raw('reshape', 'f32', sh(5), [x], null);
    const perm = raw('permute', 'f32', sh(3, 2), [x], { perm: [1, 1] });
    const errs = verifyGraph(graph([x], { wrongType, wrongShape, reshape, perm }));
    expect(errs.join('\n')).toMatch(/%1 \(unary\): dtype should be f32/);
    expect(errs.join('\n')).toMatch(/\(matmul\): shape should be \[2, 2\]/);
    expect(errs.join('\n')).toMatch(/\(reshape\): cannot reshape \[2, 3\] \(6 elements\) to \[5\]/);
    expect(errs.join('\n')).toMatch(/\(permute\): permutation \[1, 1\] is not a permutation of 2 axes/);
    expect(errs).toHaveLength(4);
  });

  it('checks compute bodies: loads index existing sources with one index per axis, idx vars within the output rank', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(4, 4));
    const tooFew = b.compute('f32', sh(4), [x], load(0, 'f32', idx(0)));
    const noSrc = b.compute('f32', sh(4), [x], load(1, 'f32', idx(0), idx(0)));
    const badIdx = b.compute('f32', sh(4), [x], load(0, 'f32', idx(0), idx(1)));
    const errs = verifyGraph(graph([x], { tooFew, noSrc, badIdx }));
    expect(errs).toEqual([
      expect.stringMatching(/^%1 \(compute\): load from source 0 uses 1 indices for a rank-2 tensor/),
      expect.stringMatching(/^%2 \(compute\): load reads source 1, but there are 1/),
      expect.stringMatching(/^%3 \(compute\): index variable i1 is out of range \(1 are bound\)/),
    ]);
  });

  it('reports cycles and shared ids instead of hanging', () => {
    const x = raw('input', 'f32', sh(2), [], { name: 'x' });
    const a = { ...raw('unary', 'f32', sh(2), [], { op: 'neg' }), src: [] as Node[] };
    const c = raw('unary', 'f32', sh(2), [a], { op: 'neg' });
    a.src.push(c);
    expect(verifyGraph(graph([x], { y: c }))).toEqual([expect.stringMatching(/cycle/)]);
    const twin = { ...raw('unary', 'f32', sh(2), [x], { op: 'exp' }), id: x.id };
    expect(verifyGraph(graph([x], { y: twin }))).toEqual([expect.stringMatching(/^%1 \(unary\): id \d+ is shared with %0/)]);
  });
});

describe('verifyOps', () => {
  it('lists ops outside the allowed set', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(3));
    const g = graph([x], { y: b.softmax(b.unary('exp', x), 0) });
    expect(verifyOps(g, ['input', 'unary', 'softmax'])).toEqual([]);
    expect(verifyOps(g, ['input', 'unary'])).toEqual([expect.stringMatching(/^op 'softmax' is not allowed/)]);
  });
});
