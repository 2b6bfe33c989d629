/**
 * fast-check: random small graphs of elementwise ops, constants, reductions, reshapes, permutes and computes,
 * built through the Builder with random (partly symbolic) shapes, must compute the same values before and
 * after the pipeline, with and without shape specialization. Every pass is meant to be exact, so values are
 * compared exactly (NaN equals NaN; -0 equals 0, the one liberty `x+0 -> x` takes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym, numel, shapeEval, shapeProduct, type Dim } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder, ShapeError } from '../../src/ir/builder.js';
import type { BinaryOp, IExpr, Node, UnaryOp } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';
import { runGraphPipeline } from '../../src/ir/pipeline.js';
import { printGraph } from '../../src/ir/print.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { bin, graph, idx, k, load } from './cases/graph-helpers.js';

const UNARY: UnaryOp[] = ['neg', 'abs', 'tanh', 'sigmoid', 'floor', 'exp'];
const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min']; // the first four also with a constant on the left
const CONSTS = [0, 1, 2, 0.5, -1, 1]; // weighted towards the identities simplify knows

type Step = { kind: number; a: number; b: number; c: number };
const step = fc.record({ kind: fc.nat(13), a: fc.nat(), b: fc.nat(), c: fc.nat() });

/** A permutation of `r` axes from a seed (Lehmer code). */
function perm(r: number, seed: number): number[] {
  const left = Array.from({ length: r }, (_, i) => i), out: number[] = [];
  for (let n = r; n > 0; n--) { out.push(left.splice(seed % n, 1)[0]!); seed = Math.floor(seed / n); }
  return out;
}

/** Build a graph from a recipe: each step adds one node made from earlier ones (index picks modulo the pool). */
function build(dims: Dim[], steps: Step[], outs: number[]) {
  const b = new Builder();
  const x = b.input('x', 'f32', dims), y = b.input('y', 'f32', dims);
  const pool: Node[] = [x, y];
  const pick = (i: number) => pool[i % pool.length]!;
  const cst = (i: number) => b.const(CONSTS[i % CONSTS.length]!);
  for (const s of steps) {
    const p = pick(s.a);
    const n = p.dtype === 'f32' ? p : b.cast(p, 'f32');
    let made: Node;
    try {
      switch (s.kind) {
        case 0: made = b.unary(UNARY[s.b % UNARY.length]!, n); break;
        case 1: made = b.binary(BINARY[s.b % BINARY.length]!, n, pick(s.c)); break;          // may not broadcast
        case 2: made = b.binary(BINARY[s.b % BINARY.length]!, n, cst(s.c)); break;           // x op c (x*1, x-0, x/1 ...)
        case 3: made = b.binary(BINARY[s.b % 4]!, cst(s.c), n); break;                       // c op x (1*x, 0+x ...)
        case 4: made = b.binary('add', n, b.binary(BINARY[s.b % BINARY.length]!, cst(s.c), cst(s.c >> 3))); break; // foldable
        case 5: made = b.unary('neg', b.unary('neg', n)); break;
        case 6: made = b.where(b.binary('lt', n, pick(s.c)), n, pick(s.c)); break;
        case 7: made = b.where(b.const(s.c % 2, 'bool'), n, b.unary('abs', n)); break;
        case 8: made = n.shape.length ? b.reduce((['sum', 'max', 'min', 'mean'] as const)[s.b % 4]!, n, [s.c % n.shape.length]) : n; break;
        case 9: made = b.reshape(b.reshape(n, [shapeProduct(n.shape)]), s.b % 2 ? n.shape : [shapeProduct(n.shape), dimConst(1)]); break;
        case 10: made = b.permute(b.permute(n, perm(n.shape.length, s.b)), perm(n.shape.length, s.c)); break;
        case 11: made = b.cast(b.cast(n, 'i32'), 'f32'); break;
        case 12: {
          const ix = n.shape.map((_, i) => idx(i));
          // A repeated source, or n after / before an unread source: cse and dce renumber the loads.
          const srcs = [[n, n], [pick(s.c), n], [n, pick(s.c)]][s.b % 3]!;
          const at = srcs[1] === n ? 1 : 0;
          const s0 = srcs[0]!;
          const first: IExpr = { k: 'cast', a: load(0, s0.dtype, ...s0.shape.map((_, i) => (i < ix.length ? idx(i) : k(0)))), dtype: 'f32' };
          made = b.compute('f32', n.shape, srcs, bin('mul', load(at, 'f32', ...ix), bin('add', first, k(0.5, 'f32'))));
          break;
        }
        default: made = b.unary('not', b.unary('not', b.binary('gt', n, cst(s.c)))); break;
      }
    } catch (e) {
      if (e instanceof ShapeError) continue; // an operand pair that does not broadcast: skip the step
      throw e;
    }
    pool.push(made);
  }
  const outputs: Record<string, Node> = {};
  outputs.last = pool[pool.length - 1]!;
  outs.forEach((o, i) => { outputs[`o${i}`] = pick(o); });
  return graph([x, y], outputs);
}

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

describe('pipeline preserves values (property)', () => {
  it('interpret(pipeline(g)) equals interpret(g) on random graphs and inputs', () => {
    let runs = 0, changed = 0;
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(),
      fc.array(step, { minLength: 1, maxLength: 16 }), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.integer(),
      (rest, bVal, symbolic, specialize, steps, outs, seed) => {
        const dims = [symbolic ? dimSym('B') : dimConst(bVal), ...rest.map(dimConst)];
        const g = build(dims, steps, outs);
        expect(verifyGraph(g)).toEqual([]);
        const bind = { B: bVal };
        const shape = shapeEval(dims, bind);
        let s = seed >>> 0 || 1;
        const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.round((s / 2 ** 32 - 0.5) * 16) / 4; };
        const inputs = new Map<string, HostTensor>(['x', 'y'].map((n) => [n, hostTensor('f32', shape, Float32Array.from({ length: numel(shape) }, rnd))]));
        const env = { inputs, params: new Map(), dims: bind };
        const want = interpret(g.outputs.map((o) => o.node), env);
        const after = runGraphPipeline(g, { dims: specialize ? bind : undefined });
        runs++;
        if (printGraph(after) !== printGraph(g)) changed++;
        const got = interpret(after.outputs.map((o) => o.node), env);
        got.forEach((t, i) => {
          const w = want[i]!;
          expect(t.dtype).toBe(w.dtype);
          expect(t.shape).toEqual(w.shape);
          const bad = Array.from(t.data).findIndex((v, j) => !same(v, w.data[j]!));
          expect(bad, `output o${i} differs at ${bad}: ${t.data[bad]} vs ${w.data[bad]}`).toBe(-1);
        });
      }), { numRuns: 300 });
    // The property is only worth something if the passes actually rewrite most of these graphs.
    expect(changed / runs).toBeGreaterThan(0.5);
  });
});
