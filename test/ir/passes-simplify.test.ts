import { describe, expect, it } from 'vitest';
import { Builder } from '../../src/ir/builder.js';
import { RULES, rewriteOnce, simplify, type Rule } from '../../src/ir/passes/simplify.js';
import { printGraph } from '../../src/ir/print.js';
import { B, graph, ir, raw, sh } from './cases/graph-helpers.js';

describe('simplify', () => {
  it('removes arithmetic identities: x*1, 1*x, x+0, 0+x, x-0, x/1, --x', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(B, 4));
    const one = b.const(1), zero = b.const(0);
    let y = b.binary('mul', x, one);
    y = b.binary('mul', one, y);
    y = b.binary('add', b.binary('add', y, zero), zero);
    y = b.binary('add', zero, b.binary('sub', y, zero));
    y = b.unary('neg', b.unary('neg', b.binary('div', y, one)));
    expect(printGraph(simplify(graph([x], { y }), {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[B, 4]
        out y = %0
      }`);
  });

  it('composes reshapes and permutes; a permute pair that cancels disappears', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(2, 3, 4));
    const r = b.reshape(b.reshape(x, sh(6, 4)), sh(4, 6));
    const p = b.permute(b.permute(x, [1, 0, 2]), [2, 0, 1]);
    const id = b.permute(b.permute(x, [1, 0, 2]), [1, 0, 2]);
    const back = b.reshape(b.reshape(x, sh(24)), sh(2, 3, 4));
    expect(printGraph(simplify(graph([x], { r, p, id, back }), {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[2, 3, 4]
        %1 = reshape %0 : f32[4, 6]
        %2 = permute{perm=[2, 1, 0]} %0 : f32[4, 3, 2]
        out r = %1
        out p = %2
        out id = %0
        out back = %0
      }`);
  });

  it('removes boolean identities and constant-condition wheres', () => {
    const b = new Builder();
    const m = b.input('m', 'bool', sh(3));
    const x = b.input('x', 'f32', sh(3)), z = b.input('z', 'f32', sh(3));
    const nn = b.unary('not', b.unary('not', m));
    const and = b.binary('and', b.binary('or', m, b.const(0, 'bool')), b.const(1, 'bool'));
    const wt = b.where(b.const(1, 'bool'), x, z);
    const wf = b.where(b.const(0, 'bool'), x, z);
    const same = b.where(m, z, z);
    expect(printGraph(simplify(graph([m, x, z], { nn, and, wt, wf, same }), {}))).toBe(ir`
      entry main {
        %0 = input "m" : bool[3]
        %1 = input "x" : f32[3]
        %2 = input "z" : f32[3]
        out nn = %0
        out and = %0
        out wt = %1
        out wf = %2
        out same = %2
      }`);
  });

  it('removes identity nodes the builder would not make (hand-made cast/reshape/expand to the same type and shape)', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(B));
    const y = raw('reshape', 'f32', x.shape, [raw('cast', 'f32', x.shape, [raw('expand', 'f32', x.shape, [x], null)], null)], null);
    expect(printGraph(simplify(graph([x], { y }), {}))).toBe(ir`
      entry main {
        %0 = input "x" : f32[B]
        out y = %0
      }`);
  });

  it('is a no-op on expressions that are not identities (0*x is not 0 for NaN; expand(const) stays)', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', sh(B));
    const y = b.binary('sub', b.binary('mul', b.const(0), x), b.binary('add', x, b.const(2)));
    const g = graph([x], { y, z: b.binary('sub', x, x) });
    const text = ir`
      entry main {
        %0 = input "x" : f32[B]
        %1 = const 0.0 : f32[]
        %2 = expand %1 : f32[B]
        %3 = mul %2, %0 : f32[B]
        %4 = const 2.0 : f32[]
        %5 = expand %4 : f32[B]
        %6 = add %0, %5 : f32[B]
        %7 = sub %3, %6 : f32[B]
        %8 = sub %0, %0 : f32[B]
        out y = %7
        out z = %8
      }`;
    expect(printGraph(g)).toBe(text);
    expect(printGraph(simplify(g, {}))).toBe(text);
  });

  it('skips a rule whose replacement would change the dtype or shape', () => {
    const b = new Builder();
    const x = b.input('x', 'i32', sh(3));
    const bad: Rule = { name: 'cast is free (wrong)', pat: { op: 'cast', src: [{ any: 'x' }] }, to: 'x' };
    expect(rewriteOnce(b.cast(x, 'f32'), b, [bad])).toBeUndefined();
    expect(RULES.length).toBeGreaterThan(15);
  });
});
