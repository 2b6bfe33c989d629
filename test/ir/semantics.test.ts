/**
 * Semantics stated once (src/ir/semantics.ts): config arithmetic and constant folding compute each op in f32,
 * as the interpreter and the f32 kernels do, so a folded expression equals the one computed on tensors.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { interpret } from '../../src/ir/interpreter.js';
import { foldConstants } from '../../src/ir/passes/fold-constants.js';
import { Builder } from '../../src/ir/builder.js';
import { binaryScalar, unaryScalar } from '../../src/ir/interp-scalar.js';
import { alphaBarProgram } from './cases/alpha-bar-spec.js';

const T = 1000, S_COS = 0.008;

describe('one scalar semantics for folding and computing', () => {
  const p = alphaBarProgram();
  const g = p.entries[0]!;
  const inputs = new Map([
    ['t', hostTensor('i32', [4], [0, 1, 500, 999])],
    ['s', hostTensor('f32', [4], [S_COS, S_COS, S_COS, S_COS])],
  ]);
  const out = (name: string, gr = g) => {
    const r = interpret(gr.outputs.map((o) => o.node), { inputs, params: new Map(), dims: { N: 4 } });
    return r[gr.outputs.findIndex((o) => o.name === name)]!.data;
  };

  it('1 - alpha_bar(0) of models/transfusion.tfx is exactly 0 on the interpreter, before and after folding', () => {
    for (const gr of [g, foldConstants(g, {})]) {
      expect(out('one_minus', gr)[0]).toBe(0);
      expect(out('ab', gr)[0]).toBe(1);
      // Away from 0 the schedule is the cosine one (f64 reference, f32 tolerance).
      const f = (t: number) => Math.cos(((t / T + S_COS) / (1 + S_COS) * Math.PI) / 2) ** 2;
      for (const [i, t] of [[1, 1], [2, 500], [3, 999]] as const) expect(Math.abs(out('ab', gr)[i]! - f(t) / f(0))).toBeLessThan(1e-6);
    }
  });

  it('a config expression folded by the elaborator equals the same expression computed on tensors', () => {
    const folded = out('folded')[0]!, computed = out('computed');
    expect(Math.fround(folded)).toBe(folded);
    for (const c of computed) expect(c).toBe(folded);
    // ... and it is the value of the expression (f64 reference, f32 tolerance).
    const f64 = Math.cos(S_COS / (1 + S_COS) * Math.PI / 2) * Math.exp(-Math.log(10000) / 7) + Math.sqrt(S_COS) / 3;
    expect(Math.abs(folded - f64)).toBeLessThan(1e-6);
  });

  it('constant folding of graph nodes gives the interpreter value of every op', () => {
    const b = new Builder();
    const x = b.input('x', 'f32', []);
    const ops = ['exp', 'log', 'tanh', 'gelu', 'sigmoid', 'silu', 'cos', 'rsqrt'] as const;
    const vals = [0.3, 1.7, 20];
    const outputs = ops.flatMap((op) => vals.map((v) => ({ name: `${op}${v}`, node: b.unary(op, b.const(v)) })));
    const outputsX = ops.flatMap((op) => vals.map((v) => ({ name: `${op}${v}x`, node: b.unary(op, b.binary('mul', x, b.const(v))) })));
    const gr = { entry: 'm', inputs: [x], outputs: [...outputs, ...outputsX] };
    const folded = foldConstants(gr, {});
    expect(folded.outputs.slice(0, outputs.length).every((o) => o.node.op === 'const' || o.node.op === 'expand')).toBe(true);
    const r = interpret(folded.outputs.map((o) => o.node), { inputs: new Map([['x', hostTensor('f32', [], [1])]]), params: new Map(), dims: {} });
    for (let i = 0; i < outputs.length; i++) expect(r[i]!.data[0], outputs[i]!.name).toBe(r[i + outputs.length]!.data[0]);
    // Integer division and modulo by zero are 0 in folding and computing alike.
    expect(binaryScalar('div', 7, 0, 'i32')).toBe(0);
    expect(binaryScalar('mod', -7, 0, 'i32')).toBe(0);
    expect(binaryScalar('mod', -7, 2, 'i32')).toBe(-1);
    expect(unaryScalar('tanh', 40, 'f32')).toBe(1);
  });
});
