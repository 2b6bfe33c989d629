import { describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';

const sh = (...n: (number | string)[]): Dim[] => n.map((d) => (typeof d === 'number' ? dimConst(d) : dimSym(d)));
const iota = (n: number) => Array.from({ length: n }, (_, i) => i);
function run(root: Node, inputs: Record<string, HostTensor>, dims: Record<string, number> = {}): HostTensor {
  return interpret([root], { inputs: new Map(Object.entries(inputs)), params: new Map(), dims })[0]!;
}

describe('movement ops', () => {
  it('expand broadcasts right-aligned', () => {
    const g = new Builder();
    const x = g.input('x', 'f32', sh(3, 1));
    const out = run(g.expand(x, sh(2, 3, 2)), { x: hostTensor('f32', [3, 1], [1, 2, 3]) });
    expect(out.shape).toEqual([2, 3, 2]);
    expect([...out.data]).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
  });
  it('binary broadcasts a row against a column', () => {
    const g = new Builder();
    const n = g.binary('sub', g.input('r', 'f32', sh(3)), g.input('c', 'f32', sh(2, 1)));
    const out = run(n, { r: hostTensor('f32', [3], [10, 20, 30]), c: hostTensor('f32', [2, 1], [1, 2]) });
    expect([...out.data]).toEqual([9, 19, 29, 8, 18, 28]);
  });
  it('reshape keeps row-major order', () => {
    const g = new Builder();
    const out = run(g.reshape(g.input('x', 'i32', sh(2, 3)), sh(3, 2)), { x: hostTensor('i32', [2, 3], iota(6)) });
    expect(out.shape).toEqual([3, 2]);
    expect([...out.data]).toEqual(iota(6));
  });
  it('permute: out.shape[i] = in.shape[perm[i]]', () => {
    const g = new Builder();
    // x[a, b, c] = 100a + 10b + c with shape [2, 3, 4]; out = x.permute(2, 0, 1) has out[c, a, b] = x[a, b, c].
    const data: number[] = [];
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 4; c++) data.push(100 * a + 10 * b + c);
    const out = run(g.permute(g.input('x', 'i32', sh(2, 3, 4)), [2, 0, 1]), { x: hostTensor('i32', [2, 3, 4], data) });
    expect(out.shape).toEqual([4, 2, 3]);
    const want: number[] = [];
    for (let c = 0; c < 4; c++) for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) want.push(100 * a + 10 * b + c);
    expect([...out.data]).toEqual(want);
  });
  it('slice with a symbolic start', () => {
    const g = new Builder();
    const x = g.input('x', 'i32', sh(2, 'S'));
    const n = g.slice(x, 1, dimSym('P'), dimConst(2));
    const out = run(n, { x: hostTensor('i32', [2, 5], iota(10)) }, { S: 5, P: 3 });
    expect(out.shape).toEqual([2, 2]);
    expect([...out.data]).toEqual([3, 4, 8, 9]);
    expect(() => run(n, { x: hostTensor('i32', [2, 5], iota(10)) }, { S: 5, P: 4 })).toThrow(/out of range/);
  });
  it('concat along a middle axis', () => {
    const g = new Builder();
    const n = g.concat([g.input('a', 'i32', sh(2, 1, 2)), g.input('b', 'i32', sh(2, 2, 2))], 1);
    const out = run(n, { a: hostTensor('i32', [2, 1, 2], [1, 2, 3, 4]), b: hostTensor('i32', [2, 2, 2], [5, 6, 7, 8, 9, 10, 11, 12]) });
    expect(out.shape).toEqual([2, 3, 2]);
    expect([...out.data]).toEqual([1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12]);
  });
});

describe('reduce', () => {
  // x = [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]], shape [2, 2, 3].
  const x = hostTensor('f32', [2, 2, 3], iota(12));
  const red = (kind: 'sum' | 'max' | 'min' | 'mean', axes: number[]) => {
    const g = new Builder();
    return run(g.reduce(kind, g.input('x', 'f32', sh(2, 2, 3)), axes), { x });
  };
  it('sum over the last axis and over two axes', () => {
    expect([...red('sum', [2]).data]).toEqual([3, 12, 21, 30]);
    const s = red('sum', [0, 2]);
    expect(s.shape).toEqual([2]);
    expect([...s.data]).toEqual([0 + 1 + 2 + 6 + 7 + 8, 3 + 4 + 5 + 9 + 10 + 11]);
  });
  it('max, min, mean over the middle axis', () => {
    expect([...red('max', [1]).data]).toEqual([3, 4, 5, 9, 10, 11]);
    expect([...red('min', [1]).data]).toEqual([0, 1, 2, 6, 7, 8]);
    expect([...red('mean', [1]).data]).toEqual([1.5, 2.5, 3.5, 7.5, 8.5, 9.5]);
  });
  it('int sum wraps; u32 max compares unsigned', () => {
    const g = new Builder();
    const i = run(g.reduce('sum', g.input('x', 'i32', sh(2)), [0]), { x: hostTensor('i32', [2], [2147483647, 2]) });
    expect([...i.data]).toEqual([-2147483647]);
    const u = run(g.reduce('max', g.input('u', 'u32', sh(3)), [0]), { u: hostTensor('u32', [3], [5, -2, 7]) });
    expect([...u.data]).toEqual([-2]); // 0xFFFFFFFE is the largest
  });
  it('sums accumulate in f64 (1 + many tiny terms is not lost)', () => {
    const g = new Builder();
    const n = 4096, data = new Array<number>(n).fill(2 ** -24);
    data[0] = 1;
    const out = run(g.reduce('sum', g.input('x', 'f32', sh(n)), [0]), { x: hostTensor('f32', [n], data) });
    // Exact sum 1 + 4095 * 2^-24; a naive f32 loop would stay at 1.
    expect(out.data[0]).toBe(Math.fround(1 + 4095 * 2 ** -24));
  });
});

describe('gather', () => {
  it('gathers rows and clamps ids into [0, V - 1]', () => {
    const g = new Builder();
    const n = g.gather(g.input('t', 'f32', sh(3, 2)), g.input('ids', 'i32', sh(2, 2)));
    const out = run(n, { t: hostTensor('f32', [3, 2], [0, 1, 10, 11, 20, 21]), ids: hostTensor('i32', [2, 2], [2, -5, 1, 99]) });
    expect(out.shape).toEqual([2, 2, 2]);
    expect([...out.data]).toEqual([20, 21, 0, 1, 10, 11, 20, 21]);
  });
});

describe('inputs and params', () => {
  it('reads params by name and binds symbolic shapes', () => {
    const g = new Builder();
    const n = g.binary('mul', g.input('x', 'f32', sh('B', 2)), g.param('w', 'f32', sh(2), { kind: 'ones' }));
    const [out] = interpret([n], {
      inputs: new Map([['x', hostTensor('f32', [3, 2], [1, 2, 3, 4, 5, 6])]]),
      params: new Map([['w', hostTensor('f32', [2], [10, -1])]]),
      dims: { B: 3 },
    });
    expect([...out!.data]).toEqual([10, -2, 30, -4, 50, -6]);
  });
  it('a missing input, a missing param, or a wrong shape is a clear one-line error', () => {
    const g = new Builder();
    const n = g.binary('mul', g.input('x', 'f32', sh('B', 2)), g.param('w', 'f32', sh(2), { kind: 'ones' }));
    const x = hostTensor('f32', [3, 2]);
    const w = hostTensor('f32', [2]);
    const go = (inputs: [string, HostTensor][], params: [string, HostTensor][], dims: Record<string, number>) =>
      () => interpret([n], { inputs: new Map(inputs), params: new Map(params), dims });
    expect(go([], [['w', w]], { B: 3 })).toThrow(/missing input 'x'/);
    expect(go([['x', x]], [], { B: 3 })).toThrow(/missing param 'w'/);
    expect(go([['x', x]], [['w', w]], { B: 4 })).toThrow(/input 'x' has shape \[3, 2\], expected \[B, 2\] = \[4, 2\]/);
    expect(go([['x', x]], [['w', w]], {})).toThrow(/unbound dimension symbol 'B'/);
    expect(go([['x', hostTensor('i32', [3, 2])]], [['w', w]], { B: 3 })).toThrow(/given as i32/);
  });
});
