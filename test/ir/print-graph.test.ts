import { describe, expect, it } from 'vitest';
import { dimSub } from '../../src/core/dim.js';
import { Builder } from '../../src/ir/builder.js';
import type { IExpr } from '../../src/ir/graph.js';
import { literal, printGraph, printIExpr } from '../../src/ir/print.js';
import { B, bin, c, graph, idx, ir, k, load, S, sh } from './cases/graph-helpers.js';

function model(b: Builder) {
  const x = b.input('x', 'f32', sh(B, S, 64)), ids = b.input('ids', 'i32', sh(B, S));
  const wq = b.param('layers.0.attn.wq', 'f32', sh(64, 64), { kind: 'normal', mean: 0, std: 0.02 });
  const h = b.matmul(x, wq);
  const r = b.reduce('sum', h, [2]);
  const sl = b.slice(r, 1, dimSub(S, c(1)), c(1));
  const body: IExpr = { k: 'where', c: bin('ge', load(1, 'i32', idx(0), idx(1)), k(0), 'bool'), a: load(0, 'f32', idx(0), { k: 'cast', a: load(1, 'i32', idx(0), idx(1)), dtype: 'i32' }), b: { k: 'const', v: 0, dtype: 'f32' }, dtype: 'f32' };
  const g = b.compute('f32', sh(B, S), [r, ids], body);
  return graph([x, ids], { g, last: sl });
}

describe('printGraph', () => {
  it('prints one line per node in topological order with compact arguments and outputs last', () => {
    expect(printGraph(model(new Builder()))).toBe(ir`
      entry main {
        %0 = input "x" : f32[B, S, 64]
        %1 = input "ids" : i32[B, S]
        %2 = param "layers.0.attn.wq" normal(0, 0.02) : f32[64, 64]
        %3 = expand %2 : f32[B, 64, 64]
        %4 = matmul %0, %3 : f32[B, S, 64]
        %5 = reduce{sum, axes=[2]} %4 : f32[B, S]
        %6 = compute{where((load(%1)[i0, i1] >= 0), load(%5)[i0, i32(load(%1)[i0, i1])], 0.0)} %5, %1 : f32[B, S]
        %7 = slice{axis=1, start=-1 + S} %5 : f32[B, 1]
        out g = %6
        out last = %7
      }`);
  });

  it('numbers by position, not by node id', () => {
    const b = new Builder();
    b.unary('exp', b.input('other', 'f32', sh(7))); // shifts every id of the model below
    expect(printGraph(model(b))).toBe(printGraph(model(new Builder())));
  });

  it('prints literals by dtype and IExprs with every binary op parenthesized', () => {
    expect([literal(1, 'f32'), literal(1, 'i32'), literal(1, 'bool'), literal(3, 'u32'), literal(0.1, 'f32'), literal(-0, 'f32')])
      .toEqual(['1.0', '1', 'true', 'u32(3)', '0.1', '-0.0']);
    const e: IExpr = { k: 'un', op: 'neg', a: bin('mul', bin('add', idx(0), { k: 'dim', d: B, dtype: 'i32' }), bin('max', idx(1), k(2))), dtype: 'i32' };
    expect(printIExpr(e, (i) => `%${i}`)).toBe('-((i0 + dim(B)) * max(i1, 2))');
  });

  it('prints an attention mask with loads named by the mask inputs', () => {
    const b = new Builder();
    const q = b.input('q', 'f32', sh(B, 4, S, 16)), kv = b.input('kv', 'f32', sh(B, 2, S, 16)), len = b.input('len', 'i32', sh(B));
    const a = b.attention(q, kv, kv, [len], bin('and', bin('lt', idx(2), load(0, 'i32', idx(0)), 'bool'), bin('le', idx(2), idx(1), 'bool'), 'bool'), 'causal', 0.25);
    expect(printGraph(graph([q, kv, len], { a }))).toContain(
      '%3 = attention{scale=0.25, mask causal = ((i2 < load(%2)[i0]) && (i2 <= i1))} %0, %1, %1, %2 : f32[B, 4, S, 16]');
  });
});
