/**
 * Interpreter semantics the autodiff pass relies on: float64 mode (no rounding, scoped to the call, restored on
 * a throw) and scatter_add (clamped indices, repeated indices summed, deterministic).
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import { interpret, interpretF64 } from '../../src/ir/interpreter.js';
import { idx, load, sh } from '../ir/cases/graph-helpers.js';

describe('float64 mode', () => {
  const b = new Builder();
  const x = b.input('x', 'f32', sh(2));
  const y = b.binary('div', x, b.const(3));
  const env = { inputs: new Map([['x', hostTensor('f32', [2], [1, 2])]]), params: new Map(), dims: {} };

  it('keeps f64 results unrounded; the default mode still rounds to f32, even after a throw in f64 mode', () => {
    expect(interpretF64([y], env)[0]!.data[0]).toBe(1 / 3);
    expect(interpret([y], env)[0]!.data[0]).toBe(Math.fround(1 / 3));
    const missing = b.input('nope', 'f32', sh(1));
    expect(() => interpretF64([missing], env)).toThrow(/missing/);
    expect(interpret([y], env)[0]!.data).toBeInstanceOf(Float32Array);
  });
  it('accepts Float64Array parameters', () => {
    const w = b.param('w', 'f32', sh(1), { kind: 'zeros' });
    const out = interpretF64([b.binary('add', w, b.const(1e-12))], { ...env, params: new Map([['w', { dtype: 'f32' as const, shape: [1], data: Float64Array.of(1) }]]) });
    expect(out[0]!.data[0]).toBe(1 + 1e-12);
  });
});

describe('scatter_add', () => {
  it('sums repeated indices in order and clamps out-of-range ones', () => {
    const b = new Builder();
    const v = b.input('v', 'f32', sh(5, 2)), ids = b.input('ids', 'i32', sh(5));
    const s = b.scatterAdd(v, sh(3, 2), [ids], [load(0, 'i32', idx(0)), idx(1)]);
    const env = {
      inputs: new Map([['v', hostTensor('f32', [5, 2], [1, 10, 2, 20, 3, 30, 4, 40, 5, 50])], ['ids', hostTensor('i32', [5], [2, 0, 2, -7, 99])]]),
      params: new Map(), dims: {},
    };
    // rows: 0 <- v1 + v3 (clamped -7); 2 <- v0 + v2 + v4 (clamped 99); 1 <- nothing
    expect([...interpret([s], env)[0]!.data]).toEqual([2 + 4, 20 + 40, 0, 0, 1 + 3 + 5, 10 + 30 + 50]);
  });
});
