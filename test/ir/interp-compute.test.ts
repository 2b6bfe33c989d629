import { describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import type { DType } from '../../src/core/dtype.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { BinaryOp, IExpr, UnaryOp } from '../../src/ir/graph.js';
import { evalIExpr, interpret } from '../../src/ir/interpreter.js';

const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const cst = (v: number, dtype: DType = 'i32'): IExpr => ({ k: 'const', v, dtype });
const load = (src: number, dtype: DType, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype });
const bin = (op: BinaryOp, a: IExpr, b: IExpr, dtype: DType): IExpr => ({ k: 'bin', op, a, b, dtype });
const un = (op: UnaryOp, a: IExpr, dtype: DType): IExpr => ({ k: 'un', op, a, dtype });
const cast = (a: IExpr, dtype: DType): IExpr => ({ k: 'cast', a, dtype });

describe('evalIExpr', () => {
  const t = hostTensor('f32', [2, 3], [0, 1, 2, 10, 11, 12]);
  it('clamps every load index into [0, dim - 1]', () => {
    expect(evalIExpr(load(0, 'f32', cst(1), cst(2)), [], [t])).toBe(12);
    expect(evalIExpr(load(0, 'f32', cst(-4), cst(7)), [], [t])).toBe(2);
    expect(evalIExpr(load(0, 'f32', cst(9), cst(-1)), [], [t])).toBe(10);
  });
  it('int div and mod follow the node semantics (trunc, sign of dividend, x / 0 = 0)', () => {
    const d = (a: number, b: number) => evalIExpr(bin('div', cst(a), cst(b), 'i32'), [], []);
    const m = (a: number, b: number) => evalIExpr(bin('mod', cst(a), cst(b), 'i32'), [], []);
    expect([d(7, 2), d(-7, 2), d(7, -2), d(5, 0)]).toEqual([3, -3, -3, 0]);
    expect([m(7, 2), m(-7, 2), m(7, -2), m(5, 0)]).toEqual([1, -1, 1, 0]);
  });
  it('float ops round to f32; cast float -> int truncates toward zero; cast to bool is != 0', () => {
    expect(evalIExpr(bin('div', cst(1, 'f32'), cst(3, 'f32'), 'f32'), [], [])).toBe(Math.fround(1 / 3));
    expect(evalIExpr(cast(cst(-2.7, 'f32'), 'i32'), [], [])).toBe(-2);
    expect(evalIExpr(cast(cst(0.25, 'f32'), 'bool'), [], [])).toBe(1);
    expect(evalIExpr(cast(cst(0, 'f32'), 'bool'), [], [])).toBe(0);
  });
  it('dim evaluates with the bindings; idx reads the index vector', () => {
    const e = bin('add', { k: 'dim', d: dimSym('S'), dtype: 'i32' }, idx(1), 'i32');
    expect(evalIExpr(e, [5, 7], [], { S: 100 })).toBe(107);
    expect(() => evalIExpr(e, [5, 7], [])).toThrow(/unbound dimension symbol 'S'/);
  });
  it('operands are cast to the computing type: int + float computed as float', () => {
    expect(evalIExpr(bin('mul', cst(3), cst(0.5, 'f32'), 'f32'), [], [])).toBe(1.5);
    expect(evalIExpr(un('sqrt', cst(9), 'f32'), [], [])).toBe(3);
    expect(evalIExpr({ k: 'where', c: bin('lt', idx(0), cst(2), 'bool'), a: cst(1), b: cst(-1), dtype: 'i32' }, [3], [])).toBe(-1);
  });
});

describe('compute nodes', () => {
  it('shifted read with clamped loads: out[i] = x[i - 1] (x[0] at i = 0)', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [dimConst(4)]);
    const n = g.compute('f32', [dimConst(4)], [x], load(0, 'f32', bin('sub', idx(0), cst(1), 'i32')));
    const [out] = interpret([n], { inputs: new Map([['x', hostTensor('f32', [4], [5, 6, 7, 8])]]), params: new Map(), dims: {} });
    expect([...out!.data]).toEqual([5, 5, 6, 7]);
  });
  it('2-D body over both indices with two sources and a symbolic shape', () => {
    const g = new Builder();
    const S = dimSym('S');
    const a = g.input('a', 'i32', [S]), b = g.input('b', 'i32', [dimConst(2)]);
    // out[i, j] = a[i] * 10 + b[j]  (the output is [S, 3], so j = 2 clamps to b[1])
    const body = bin('add', bin('mul', load(0, 'i32', idx(0)), cst(10), 'i32'), load(1, 'i32', idx(1)), 'i32');
    const n = g.compute('i32', [S, dimConst(3)], [a, b], body);
    const [out] = interpret([n], {
      inputs: new Map([['a', hostTensor('i32', [3], [1, 2, 3])], ['b', hostTensor('i32', [2], [7, 8])]]), params: new Map(), dims: { S: 3 },
    });
    expect(out!.shape).toEqual([3, 3]);
    expect([...out!.data]).toEqual([17, 18, 18, 27, 28, 28, 37, 38, 38]);
  });
  it('body dtype differs from the node: result is cast on store (bool -> f32)', () => {
    const g = new Builder();
    const n = g.compute('f32', [dimConst(2), dimConst(2)], [], bin('le', idx(1), idx(0), 'bool'));
    const [out] = interpret([n], { inputs: new Map(), params: new Map(), dims: {} });
    expect([...out!.data]).toEqual([1, 0, 1, 1]);
  });
});
