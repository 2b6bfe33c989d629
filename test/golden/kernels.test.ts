/**
 * Golden snapshots of the rendered WGSL and CUDA for one kernel of each kind and schedule (map, row reductions,
 * matmul register / shared, attention loop / unrolled head dim / rows per invocation / split-K decode / image block). A renderer
 * change shows up here as a diff to review; `UPDATE_GOLDEN=1` rewrites the files. Numerics are checked
 * elsewhere (test/numeric, test/cuda): these pin the text.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { CUDA_LIMITS, renderCuda } from '../../src/codegen-cuda/cuda.js';
import { WEBGPU_LIMITS, renderWgsl } from '../../src/codegen-wgsl/wgsl.js';
import { scheduleForTarget } from '../../src/ir/schedule.js';
import { Builder } from '../../src/ir/builder.js';
import type { BinaryOp, Graph, IExpr, Node } from '../../src/ir/graph.js';
import type { AttentionSchedule, Kernel, KernelPlan, MatmulSchedule } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/ir/lower.js';

const DIR = join(import.meta.dirname, 'kernels');
const S = dimSym('S');
const c = dimConst;
const ix = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const iload = (src: number, ...i: IExpr[]): IExpr => ({ k: 'load', src, idx: i, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });

function plan(build: (g: Builder) => { inputs: Node[]; out: Node }, opts: { attentionSchedule?: AttentionSchedule; matmulSchedule?: MatmulSchedule } = {}): KernelPlan {
  const g = new Builder();
  const { inputs, out } = build(g);
  const graph: Graph = { entry: 'e', inputs, outputs: [{ name: 'y', node: out }] } as unknown as Graph;
  return lowerGraph(graph, ['S'], opts);
}

function attention(Sq: number | 'S', Sk: number | 'S', D: number) {
  return (g: Builder) => {
    const dq = Sq === 'S' ? S : c(Sq), dk = Sk === 'S' ? S : c(Sk);
    const q = g.input('q', 'f32', [c(2), c(4), dq, c(D)]), k = g.input('k', 'f32', [c(2), c(2), dk, c(D)]), v = g.input('v', 'f32', [c(2), c(2), dk, c(D)]);
    const len = g.input('len', 'i32', [c(2)]), qpos = g.input('qpos', 'i32', [c(2), dq]);
    const mask = bool('and', bool('lt', ix(2), iload(0, ix(0))), bool('le', ix(2), iload(1, ix(0), ix(1))));
    return { inputs: [q, k, v, len, qpos], out: g.attention(q, k, v, [len, qpos], mask, 'm', 0.125) };
  };
}

const cases: Record<string, () => Kernel & { plan: KernelPlan }> = {};
function add(name: string, p: () => KernelPlan, kind: Kernel['kind']) {
  cases[name] = () => { const pl = p(); const k = pl.kernels.find((x) => x.kind === kind)!; return { ...k, plan: pl }; };
}
add('map', () => plan((g) => { const x = g.input('x', 'f32', [S, c(8)]); const i = g.input('i', 'i32', [S]); return { inputs: [x, i], out: g.binary('add', g.unary('gelu', x), g.cast(g.expand(g.reshape(i, [S, c(1)]), [S, c(8)]), 'f32')) }; }), 'map');
add('row-softmax', () => plan((g) => { const x = g.input('x', 'f32', [S, c(32)]); return { inputs: [x], out: g.softmax(x, 1) }; }), 'row');
add('row-reduce-max-i32', () => plan((g) => { const x = g.input('x', 'i32', [S, c(5), c(7)]); return { inputs: [x], out: g.reduce('max', x, [0, 2]) }; }), 'row');
add('matmul-register', () => plan((g) => { const x = g.input('x', 'f32', [S, c(24)]), w = g.input('w', 'f32', [c(24), c(40)]), b = g.input('b', 'f32', [c(40)]); return { inputs: [x, w, b], out: g.unary('silu', g.binary('add', g.matmul(x, w), b)) }; }), 'matmul');
add('matmul-shared', () => plan((g) => { const x = g.input('x', 'f32', [c(3), S, c(24)]), w = g.input('w', 'f32', [c(3), c(24), c(40)]); return { inputs: [x, w], out: g.matmul(x, w) }; }, { matmulSchedule: { wgX: 8, wgY: 4, tm: 2, tn: 2, tk: 8, shared: true } }), 'matmul');
add('attention-unrolled', () => plan(attention('S', 'S', 16), { attentionSchedule: { bq: 16, bk: 16, sparse: true } }), 'attention');
add('attention-rows', () => plan(attention('S', 'S', 16)), 'attention');
add('attention-loop', () => plan(attention('S', 'S', 16), { attentionSchedule: { bq: 8, bk: 64, sparse: true } }), 'attention');
add('attention-dense-loop', () => plan(attention('S', 'S', 160), { attentionSchedule: { bq: 16, bk: 16, sparse: false } }), 'attention');
add('attention-decode-splitk', () => plan(attention(1, 'S', 16)), 'attention');
add('attention-image-block', () => plan(attention(12, 'S', 16), { attentionSchedule: { bq: 8, bk: 16, sparse: true } }), 'attention');

function check(file: string, got: string) {
  const snap = join(DIR, file);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(snap, got);
  expect(existsSync(snap), `${snap} is missing; run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(got).toBe(readFileSync(snap, 'utf8'));
}

describe('golden kernel sources', () => {
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const k = make();
      // The scheduling stage fits each target (the dense D = 160 case shrinks its key tile for WebGPU only).
      const i = k.plan.kernels.findIndex((x) => x.name === k.name);
      const forW = scheduleForTarget(k.plan, WEBGPU_LIMITS), forC = scheduleForTarget(k.plan, CUDA_LIMITS);
      const w = renderWgsl(forW.kernels[i]!, forW.buffers, forW.symbols);
      const cu = renderCuda(forC.kernels[i]!, forC.buffers, forC.symbols);
      check(`${name}.wgsl`, `// dispatch ${w.dispatchText}\n${w.code}`);
      check(`${name}.cu`, `// launch ${cu.dispatchText}\n${cu.code}`);
    });
  }
});
