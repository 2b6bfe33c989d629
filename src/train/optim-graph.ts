/**
 * The optimizer step as a graph entry, compiled through the same pipeline as the model (fusion into map
 * kernels, both renderers): clipping by global norm and AdamW, the semantics of optim.ts (adamwStep,
 * clipByGlobalNorm), which stays the oracle. Per parameter X:
 *
 *   inputs   grad.X (the gradient entry's output), adam.m.X and adam.v.X (states, written), and the scalars
 *            lr, c1 = 1 - beta1^t, c2 = 1 - beta2^t, clip (inputs, so the kernels compile once per run)
 *   params   X (the resident parameter)
 *   outputs  norm (the global norm before clipping), adam.m.X, adam.v.X, new.X (the updated parameter; a session
 *            stores it into X with RunOptions.assign)
 *
 * Each updated tensor is one elementwise kernel reading its old value only at the element it writes, so the
 * session stores m, v and X in place (src/ir/in-place.ts). The update of X reads the new m and v.
 */
import { dimConst } from '../core/dim.js';
import { Builder } from '../ir/builder.js';
import type { Graph, Node, ParamInfo } from '../ir/graph.js';
import { decaysByDefault, type AdamWConfig } from './optim.js';

export const OPTIMIZER_ENTRY = 'adamw';
export const gradName = (p: string) => `grad.${p}`;
export const mName = (p: string) => `adam.m.${p}`;
export const vName = (p: string) => `adam.v.${p}`;
export const newName = (p: string) => `new.${p}`;
/** Scalar inputs of the optimizer entry, each f32 of shape []. */
export const OPTIMIZER_SCALARS = ['lr', 'c1', 'c2', 'clip'] as const;

export function optimizerGraph(params: readonly ParamInfo[], cfg: AdamWConfig): Graph {
  const b = new Builder();
  const c = (v: number) => b.const(v);
  const op = (o: 'mul' | 'add' | 'sub' | 'div') => (x: Node, y: Node) => b.binary(o, x, y);
  const mul = op('mul'), add = op('add'), sub = op('sub'), div = op('div');
  const [lr, c1, c2, clip] = OPTIMIZER_SCALARS.map((n) => b.input(n, 'f32', [])) as [Node<'input'>, Node<'input'>, Node<'input'>, Node<'input'>];
  const shapeOf = (p: ParamInfo) => p.shape.map(dimConst);
  const grads = params.map((p) => b.input(gradName(p.name), 'f32', shapeOf(p)));
  // Global norm in f32: one running sum of squares carried through a reduction per gradient (the previous total
  // is the last element of the next one's operand), so no kernel binds more than two of these buffers.
  let sq: Node | undefined;
  for (const [i, g] of grads.entries()) {
    const flat = b.reshape(mul(g, g), [dimConst(params[i]!.shape.reduce((n, d) => n * d, 1))]);
    sq = b.reduce('sum', sq ? b.concat([flat, b.reshape(sq, [dimConst(1)])], 0) : flat, [0]);
  }
  const norm = b.unary('sqrt', sq ?? c(0));
  const scale = b.where(b.binary('gt', norm, clip), div(clip, add(norm, c(1e-6))), c(1));
  // m <- b1 m + (1 - b1) g s; v <- b2 v + (1 - b2) (g s)^2, written with scalar factors so that g * g (the norm's
  // operand) is not shared with v's kernel, which would make it a buffer of its own.
  const km = mul(c(1 - cfg.beta1), scale);
  const kv = mul(mul(c(1 - cfg.beta2), scale), scale);
  const shrink = sub(c(1), mul(lr, c(cfg.weightDecay)));
  const decays = cfg.decays ?? decaysByDefault;
  const inputs: Node<'input'>[] = [lr, c1, c2, clip];
  const outputs: { name: string; node: Node }[] = [{ name: 'norm', node: norm }];
  const states: { name: string; written: boolean }[] = [];
  params.forEach((p, i) => {
    const g = grads[i]!;
    const m = b.input(mName(p.name), 'f32', shapeOf(p)), v = b.input(vName(p.name), 'f32', shapeOf(p));
    const x = b.param(p.name, p.dtype, shapeOf(p), p.init);
    const m2 = add(mul(c(cfg.beta1), m), mul(km, g));
    const v2 = add(mul(c(cfg.beta2), v), mul(g, mul(g, kv)));
    const step = div(mul(lr, div(m2, c1)), add(b.unary('sqrt', div(v2, c2)), c(cfg.eps)));
    const x2 = sub(decays(p.name, p.shape) ? mul(b.cast(x, 'f32'), shrink) : b.cast(x, 'f32'), step);
    inputs.push(g as Node<'input'>, m as Node<'input'>, v as Node<'input'>);
    outputs.push({ name: mName(p.name), node: m2 }, { name: vName(p.name), node: v2 }, { name: newName(p.name), node: b.cast(x2, p.dtype) });
    states.push({ name: mName(p.name), written: true }, { name: vName(p.name), written: true });
  });
  return { entry: OPTIMIZER_ENTRY, inputs, outputs, states };
}
