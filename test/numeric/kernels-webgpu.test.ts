/**
 * Every kernel kind and variant of the WebGPU backend on small hand-built graphs, against the interpreter.
 * Related cases share one entry (several outputs) so one run compiles them together.
 *
 * Tolerances (max |gpu - ref| <= rel * max(1, max |ref|); ints and bools exact):
 * - REL = 1e-4 for f32 arithmetic, reductions, norms, matmul (K <= 70) and attention;
 * - TRANS = 2e-4 for exp/log/pow/sin/cos/tanh chains: WGSL's transcendental builtins are only required to be
 *   accurate to a few ulp (and sin/cos to an absolute 2^-11 on [-pi, pi]); inputs stay within [-3, 3];
 * - TRIG = 1e-3 for sin/cos (WGSL allows an absolute error of 2^-11 = 4.9e-4) and for rope, which uses them.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import { UNARY_OPS, type IExpr, type Node } from '../../src/ir/graph.js';
import { lowerGraph, type LowerOptions } from '../../src/ir/lower.js';
import type { MatmulSchedule } from '../../src/ir/kernel.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import {
  causalMask, checkProgram, expectClose, int, intOp, ix, loadF, loadI, programOf, randTensor, REL, boolOp,
} from './helpers.js';

const TRANS = 2e-4;
const TRIG = 1e-3;
const c = (...n: number[]): Dim[] => n.map(dimConst);
const inputsOf = (o: Record<string, HostTensor>) => new Map(Object.entries(o));

afterAll(async () => { await closeGpu(); });

describe('the comparison itself', () => {
  it('expectClose rejects an error above tolerance, NaN for a number, and any int difference', () => {
    const f = (d: number[]) => hostTensor('f32', [d.length], d);
    expect(() => expectClose(f([1, 200]), f([1, 200.03]), 'x')).toThrow(/element \[1\]/);   // tol 200 * 1e-4 = 0.02
    expect(() => expectClose(f([1, 200]), f([1, 200.01]), 'x')).not.toThrow();
    expect(() => expectClose(f([NaN]), f([0]), 'x')).toThrow();
    expect(() => expectClose(hostTensor('i32', [1], [3]), hostTensor('i32', [1], [4]), 'x')).toThrow();
  });
});

describe('elementwise', () => {
  it('every unary op, float binary ops, comparisons, where, logic, casts, with a symbolic batch dim', async () => {
    const g = new Builder();
    const B = dimSym('B');
    const x = g.input('x', 'f32', [B, dimConst(7)]);
    const y = g.input('y', 'f32', [B, dimConst(7)]);
    const p = g.input('p', 'f32', [B, dimConst(7)]);         // positive, for log/sqrt/rsqrt/recip/pow
    const big = g.input('big', 'f32', [B, dimConst(7)]);     // includes values past the i32 range
    const out: Record<string, Node> = {};
    const rel: Record<string, number> = {};
    for (const op of UNARY_OPS) {
      if (op === 'not') continue;
      const positive = ['log', 'sqrt', 'rsqrt', 'recip'].includes(op);
      out[`u_${op}`] = g.unary(op, positive ? p : x);
      if (['exp', 'log', 'tanh', 'sigmoid', 'silu', 'gelu'].includes(op)) rel[`u_${op}`] = TRANS;
      if (op === 'sin' || op === 'cos') rel[`u_${op}`] = TRIG;
    }
    for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min', 'mod'] as const) out[`b_${op}`] = g.binary(op, x, y);
    out.b_pow = g.binary('pow', p, y); rel.b_pow = TRANS;
    for (const op of ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const) out[`cmp_${op}`] = g.binary(op, x, g.binary('mul', y, g.const(0)));
    out.cmp_eq_self = g.binary('eq', x, x);
    const xb = g.binary('gt', x, y), yb = g.binary('lt', x, g.const(0));
    out.l_and = g.binary('and', xb, yb);
    out.l_or = g.binary('or', xb, yb);
    out.l_not = g.unary('not', xb);
    out.where = g.where(xb, x, g.binary('mul', y, g.const(3)));
    out.cast_f2i = g.cast(big, 'i32');                      // truncation toward zero, saturating
    out.cast_i2f = g.cast(g.binary('add', g.cast(big, 'i32'), g.const(1, 'i32')), 'f32');
    out.cast_b2f = g.cast(xb, 'f32');
    out.cast_f2b = g.cast(g.unary('floor', x), 'bool');
    // A long fused chain: one map kernel evaluating a tree with shared subexpressions.
    const s = g.unary('sin', x);
    out.chain = g.binary('add', g.binary('mul', g.unary('exp', g.binary('mul', s, y)), s), g.unary('tanh', g.binary('sub', s, p)));
    rel.chain = TRIG;
    // Broadcasting: [B, 7] + [7] + [B, 1] + scalar, and an expand to a new leading axis.
    const row = g.input('row', 'f32', c(7)), col = g.input('col', 'f32', [B, dimConst(1)]);
    out.bcast = g.binary('add', g.binary('add', g.binary('mul', x, row), col), g.const(0.5));
    out.expand = g.expand(g.binary('mul', row, g.const(2)), [dimConst(3), B, dimConst(7)]);

    const b = 5, sh = [b, 7];
    const bigT = randTensor('f32', sh, 9, -3e9, 3e9);
    const inputs = inputsOf({
      x: randTensor('f32', sh, 1, -3, 3), y: randTensor('f32', sh, 2, -2, 2), p: randTensor('f32', sh, 3, 0.1, 3),
      big: hostTensor('f32', sh, bigT.data.map((v, i) => (i % 3 === 0 ? v : i % 3 === 1 ? v / 1e6 : -v / 1e8))),
      row: randTensor('f32', [7], 4), col: randTensor('f32', [b, 1], 5),
    });
    const r = await checkProgram(programOf(out), inputs, new Map(), {}, rel);
    // The comparison against x * 0 must have seen both outcomes (the inputs are not degenerate).
    const lt = r.outputs.get('cmp_lt')!.ref.data;
    expect(lt.some((v) => v === 1) && lt.some((v) => v === 0)).toBe(true);
    expect(r.run.dims.B).toBe(b);
  });

  it('int arithmetic: div/mod truncate with negative operands, x / 0 = x % 0 = 0, INT_MIN / -1, int pow', async () => {
    const g = new Builder();
    const a = g.input('a', 'i32', c(12)), b = g.input('b', 'i32', c(12));
    const out: Record<string, Node> = {};
    for (const op of ['add', 'sub', 'mul', 'div', 'mod', 'max', 'min', 'lt', 'ge', 'eq', 'ne'] as const) out[op] = g.binary(op, a, b);
    out.neg = g.unary('neg', a); out.abs = g.unary('abs', a);
    out.floor_int = g.unary('floor', a);
    out.pow = g.binary('pow', g.binary('mod', a, g.const(4, 'i32')), g.const(2, 'i32'));
    // Constant divisors: the renderer prints plain `/` and `%` for literals.
    out.div_cm3 = g.binary('div', a, g.const(-3, 'i32'));
    out.mod_cm3 = g.binary('mod', a, g.const(-3, 'i32'));
    out.mix = g.binary('mul', a, g.const(0.5));              // int * float promotes to f32
    const inputs = inputsOf({
      a: hostTensor('i32', [12], [-2147483648, 7, -7, 7, -7, 0, 13, -13, 2147483647, 5, -1, 100]),
      b: hostTensor('i32', [12], [-1, 2, 2, -2, -2, 0, 0, 5, 2, -5, 3, 0]),
    });
    await checkProgram(programOf(out), inputs);
  });
  it('int division and modulo by a constant zero give 0, like a zero read from memory', async () => {
    // Tint rejects `x / 0i` (a literal zero divisor) at shader creation, so the renderer must not print it.
    const g = new Builder();
    const a = g.input('a', 'i32', c(4));
    const out = { div_c0: g.binary('div', a, g.const(0, 'i32')), mod_c0: g.binary('mod', a, g.const(0, 'i32')) };
    await checkProgram(programOf(out), inputsOf({ a: hostTensor('i32', [4], [7, -7, 0, -2147483648]) }));
  });
});

describe('movement and compute', () => {
  it('reshape, permute, slice, concat, gather with clamped ids, compute with clamped data-dependent loads', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', c(2, 3, 4, 5));
    const tbl = g.input('tbl', 'f32', c(6, 3));
    const ids = g.input('ids', 'i32', c(2, 4));
    const col = g.input('col', 'i32', c(4, 5));
    const out: Record<string, Node> = {};
    out.reshape = g.reshape(g.binary('add', x, g.const(1)), c(6, 20));
    out.permute = g.permute(g.binary('mul', x, g.const(2)), [2, 0, 3, 1]);
    out.perm_reshape = g.reshape(g.permute(x, [0, 2, 1, 3]), c(8, 15));
    out.slice = g.slice(g.unary('neg', x), 2, dimConst(1), dimConst(2));
    out.slice_last = g.slice(x, 3, dimConst(3), dimConst(2));
    out.concat = g.concat([g.slice(x, 1, dimConst(0), dimConst(1)), g.unary('abs', x), g.slice(x, 1, dimConst(2), dimConst(1))], 1);
    out.concat_last = g.concat([x, g.binary('mul', x, x)], 3);
    out.gather = g.gather(tbl, ids);                                  // ids include -3 and 9: clamped to 0 and 5
    out.gather_i = g.gather(g.cast(g.binary('mul', tbl, g.const(10)), 'i32'), ids);
    // out[i, j] = x[1, 2, i, col[i, j]] + x[0, i - 1, j + 1, i * 2]: data-dependent column, shifted rows, all clamped.
    const body: IExpr = { k: 'bin', op: 'add', dtype: 'f32',
      a: loadF(0, int(1), int(2), ix(0), loadI(1, ix(0), ix(1))),
      b: loadF(0, int(0), intOp('sub', ix(0), int(1)), intOp('add', ix(1), int(1)), intOp('mul', ix(0), int(2))) };
    out.compute = g.compute('f32', c(4, 5), [x, col], body);
    // An int compute body with where and a comparison: out[i] = i < 3 ? col[i, i] : -i.
    out.compute_i = g.compute('i32', c(6), [col], { k: 'where', dtype: 'i32', c: boolOp('lt', ix(0), int(3)),
      a: loadI(0, ix(0), ix(0)), b: intOp('sub', int(0), ix(0)) });
    const inputs = inputsOf({
      x: randTensor('f32', [2, 3, 4, 5], 11), tbl: randTensor('f32', [6, 3], 12),
      ids: hostTensor('i32', [2, 4], [0, 5, -3, 9, 2, 1, 6, 4]),
      col: hostTensor('i32', [4, 5], [0, 1, 2, 3, 4, -1, 5, 99, -7, 2, 4, 4, 0, 1, 1, 3, 3, 3, -2, 6]),
    });
    await checkProgram(programOf(out), inputs);
  });
});

describe('reductions and row kernels', () => {
  it('sum/max/min/mean over last, non-last and several axes; int reductions; rows longer than the workgroup', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', c(3, 4, 5, 6));
    const xi = g.input('xi', 'i32', c(3, 70));
    const long = g.input('long', 'f32', c(2, 200));
    const out: Record<string, Node> = {};
    for (const kind of ['sum', 'max', 'min', 'mean'] as const) {
      for (const axes of [[3], [1], [0, 2], [1, 2, 3], [0, 1, 2, 3]]) out[`${kind}_${axes.join('')}`] = g.reduce(kind, x, axes);
      out[`${kind}_i`] = g.reduce(kind, xi, [1]);
      out[`${kind}_long`] = g.reduce(kind, long, [1]);
    }
    out.sum_i_axis0 = g.reduce('sum', xi, [0]);
    out.count_bool = g.reduce('sum', g.binary('gt', long, g.const(0)), [1]);   // bool reduces as i32
    out.sum_prologue = g.reduce('sum', g.binary('mul', g.unary('exp', x), x), [2]);  // fused elementwise prologue
    const inputs = inputsOf({
      x: randTensor('f32', [3, 4, 5, 6], 21, -2, 2), xi: randTensor('i32', [3, 70], 22, -50, 50), long: randTensor('f32', [2, 200], 23),
    });
    await checkProgram(programOf(out), inputs, new Map(), {}, { sum_prologue: TRANS });
  });

  it('softmax / log_softmax over non-last and last axes; rmsnorm, layernorm; rope', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', c(3, 5, 70));
    const w = g.input('w', 'f32', c(70)), bias = g.input('bias', 'f32', c(70));
    const q = g.input('q', 'f32', c(2, 3, 5, 24));
    const pos = g.input('pos', 'i32', c(2, 5));
    const out: Record<string, Node> = {};
    for (const axis of [0, 1, 2]) {
      out[`softmax_${axis}`] = g.softmax(x, axis);
      out[`log_softmax_${axis}`] = g.softmax(x, axis, true);
    }
    out.softmax_of_chain = g.softmax(g.binary('mul', x, g.const(4)), 1);
    out.rmsnorm = g.rmsnorm(x, w, 1e-5);
    out.layernorm = g.layernorm(g.binary('add', x, g.const(3)), w, bias, 1e-5);
    out.rope = g.rope(q, pos, 10000);
    out.rope_theta = g.rope(g.binary('mul', q, g.const(2)), pos, 500);
    const inputs = inputsOf({
      x: randTensor('f32', [3, 5, 70], 31, -3, 3), w: randTensor('f32', [70], 32, 0.5, 1.5), bias: randTensor('f32', [70], 33),
      q: randTensor('f32', [2, 3, 5, 24], 34), pos: hostTensor('i32', [2, 5], [0, 1, 2, 3, 4, 100, 7, 0, 4095, 33]),
    });
    await checkProgram(programOf(out), inputs, new Map(), {}, { rope: TRIG, rope_theta: TRIG, ...Object.fromEntries([0, 1, 2].flatMap((a) => [[`softmax_${a}`, TRANS], [`log_softmax_${a}`, TRANS]])), softmax_of_chain: TRANS });
  });
});

/** Matmul cases shared across schedules: batch broadcast, ragged sizes, dims of 1, an epilogue, params. */
function matmulProgram() {
  const g = new Builder();
  const a = g.input('a', 'f32', c(2, 1, 37, 19)), b = g.input('b', 'f32', c(3, 19, 29));
  const v = g.input('v', 'f32', c(1, 19)), u = g.input('u', 'f32', c(19, 1)), s = g.input('s', 'f32', c(1, 1));
  const x = g.input('x', 'f32', c(5, 70)), wt = g.param('w', 'f32', c(70, 33), { kind: 'zeros' }), bias = g.param('bias', 'f32', c(33), { kind: 'zeros' });
  const res = g.input('res', 'f32', c(5, 33));
  const out: Record<string, Node> = {};
  out.batch_bcast = g.matmul(a, b);                    // [2, 1, 37, 19] x [3, 19, 29] -> [2, 3, 37, 29]
  out.m1 = g.matmul(v, g.slice(b, 0, dimConst(1), dimConst(1)));     // M = 1
  out.n1 = g.matmul(g.reshape(g.slice(a, 0, dimConst(0), dimConst(1)), c(37, 19)), u);  // N = 1
  out.k1 = g.matmul(u, v);                             // K = 1: outer product [19, 19]
  out.all1 = g.matmul(s, s);
  out.transposed = g.matmul(g.permute(b, [0, 2, 1]), g.permute(b, [0, 1, 2]));   // operands read through a permute
  // Epilogue: silu(x @ w + bias) + res, fused into the matmul's store.
  out.epilogue = g.binary('add', g.unary('silu', g.binary('add', g.matmul(x, wt), bias)), res);
  return { program: programOf(out), g };
}
function matmulInputs() {
  return {
    inputs: inputsOf({
      a: randTensor('f32', [2, 1, 37, 19], 41), b: randTensor('f32', [3, 19, 29], 42), v: randTensor('f32', [1, 19], 43),
      u: randTensor('f32', [19, 1], 44), s: hostTensor('f32', [1, 1], [1.5]), x: randTensor('f32', [5, 70], 45), res: randTensor('f32', [5, 33], 46),
    }),
    params: inputsOf({ w: randTensor('f32', [70, 33], 47, -0.3, 0.3), bias: randTensor('f32', [33], 48) }),
  };
}

describe('matmul', () => {
  it('the epilogue (bias + silu + residual) is fused: one kernel, no separate elementwise pass', () => {
    const { program } = matmulProgram();
    const plan = lowerGraph(program.entries[0]!, program.symbols, {});
    const epi = plan.kernels.filter((k) => plan.outputs.find((o) => o.name === 'epilogue')!.buf === k.out);
    expect(epi).toHaveLength(1);
    expect(epi[0]!.kind).toBe('matmul');
    expect(plan.kernels.filter((k) => k.kind === 'map' && k.label.includes('silu'))).toHaveLength(0);
  });

  const schedules: [string, MatmulSchedule][] = [
    ['default 8x8, 4x4', { wgX: 8, wgY: 8, tm: 4, tn: 4, tk: 8, shared: false }],
    ['4x4, 1x1', { wgX: 4, wgY: 4, tm: 1, tn: 1, tk: 4, shared: false }],
    ['16x4, 2x8', { wgX: 16, wgY: 4, tm: 2, tn: 8, tk: 8, shared: false }],
    ['8x16, 8x2', { wgX: 8, wgY: 16, tm: 8, tn: 2, tk: 16, shared: false }],
    ['16x16, 4x1, shared', { wgX: 16, wgY: 16, tm: 4, tn: 1, tk: 16, shared: true }],
  ];
  for (const [name, sched] of schedules) {
    it(`schedule ${name}: batch broadcast, ragged sizes, dims of 1, fused epilogue`, async () => {
      const { program } = matmulProgram();
      const { inputs, params } = matmulInputs();
      await checkProgram(program, inputs, params, { matmulSchedule: sched }, { epilogue: TRANS });
    });
  }
  it('fuse: false gives the same numbers', async () => {
    const { program } = matmulProgram();
    const { inputs, params } = matmulInputs();
    await checkProgram(program, inputs, params, { fuse: false }, { epilogue: TRANS });
  });
});

/** q, k, v for one attention shape, plus outputs for no mask and causal (same inputs). */
function attentionCase(p: { B: number; Hq: number; Hkv: number; Sq: number; Sk: number; D: number; Dv: number }, seed: number) {
  const g = new Builder();
  const q = g.input('q', 'f32', c(p.B, p.Hq, p.Sq, p.D));
  const k = g.input('k', 'f32', c(p.B, p.Hkv, p.Sk, p.D));
  const v = g.input('v', 'f32', c(p.B, p.Hkv, p.Sk, p.Dv));
  const scale = 1 / Math.sqrt(p.D);
  const out = {
    nomask: g.attention(q, k, v, [], null, 'none', scale),
    causal: g.attention(q, k, v, [], causalMask, 'causal', scale),
    // Causal with the key range shifted: query i sees keys <= i - 5, so rows 0..4 are fully masked (zeros).
    shifted: g.attention(q, k, v, [], boolOp('le', ix(2), intOp('sub', ix(1), int(5))), 'shifted', scale),
  };
  const inputs = inputsOf({
    q: randTensor('f32', [p.B, p.Hq, p.Sq, p.D], seed, -2, 2), k: randTensor('f32', [p.B, p.Hkv, p.Sk, p.D], seed + 1, -2, 2),
    v: randTensor('f32', [p.B, p.Hkv, p.Sk, p.Dv], seed + 2),
  });
  return { program: programOf(out), inputs };
}

describe('attention', () => {
  const cases: [string, Parameters<typeof attentionCase>[0], LowerOptions][] = [
    ['D 64, bq 16 bk 16, Sq 37 (ragged), sparse', { B: 2, Hq: 2, Hkv: 2, Sq: 37, Sk: 37, D: 64, Dv: 64 }, { attentionSchedule: { bq: 16, bk: 16, sparse: true } }],
    ['D 128, bq 8 bk 32, GQA 4/2, sparse', { B: 1, Hq: 4, Hkv: 2, Sq: 37, Sk: 37, D: 128, Dv: 128 }, { attentionSchedule: { bq: 8, bk: 32, sparse: true } }],
    ['D 24, bq 32 bk 8, dense', { B: 2, Hq: 2, Hkv: 1, Sq: 37, Sk: 37, D: 24, Dv: 24 }, { attentionSchedule: { bq: 32, bk: 8, sparse: false } }],
    ['D 64, bq 32 bk 32, GQA 4/2, dense', { B: 1, Hq: 4, Hkv: 2, Sq: 45, Sk: 45, D: 64, Dv: 64 }, { attentionSchedule: { bq: 32, bk: 32, sparse: false } }],
    ['cross attention Sq 20 Sk 45, D 24 Dv 64, bq 8 bk 16, sparse', { B: 2, Hq: 2, Hkv: 2, Sq: 20, Sk: 45, D: 24, Dv: 64 }, { attentionSchedule: { bq: 8, bk: 16, sparse: true } }],
    ['cross attention Dv 16 < D 64, bq 16 bk 8, dense', { B: 1, Hq: 2, Hkv: 2, Sq: 20, Sk: 33, D: 64, Dv: 16 }, { attentionSchedule: { bq: 16, bk: 8, sparse: false } }],
    ['unfused, D 64, GQA 4/2', { B: 1, Hq: 4, Hkv: 2, Sq: 37, Sk: 37, D: 64, Dv: 64 }, { attention: 'unfused' }],
    ['unfused, cross attention D 24 Dv 16', { B: 2, Hq: 2, Hkv: 1, Sq: 20, Sk: 45, D: 24, Dv: 16 }, { attention: 'unfused' }],
  ];
  cases.forEach(([name, p, opts], i) => {
    it(`${name}: no mask, causal, and fully masked rows give zeros`, async () => {
      const { program, inputs } = attentionCase(p, 100 + 10 * i);
      const plan = lowerGraph(program.entries[0]!, program.symbols, opts);
      expect(plan.kernels.filter((k) => k.kind === 'attention')).toHaveLength(opts.attention === 'unfused' ? 0 : 3);
      const r = await checkProgram(program, inputs, new Map(), opts);
      const sh = r.outputs.get('shifted')!.gpu;
      const row = p.Dv * p.Sq;
      for (let bh = 0; bh < p.B * p.Hq; bh++) for (let j = 0; j < 5 * p.Dv; j++) expect(sh.data[bh * row + j]).toBe(0);
      if (opts.attentionSchedule?.sparse) {
        // Causal tiles above the diagonal are skipped; the shifted mask leaves some tiles partial.
        expect(r.run.tileCounts.some((t) => t.empty > 0)).toBe(true);
      }
    });
  });
});
