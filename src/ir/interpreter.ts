/**
 * The reference interpreter of the graph IR: the numerical oracle every GPU backend is checked against.
 * Written to be obviously correct, not fast. Semantics (the contract backends must meet, within tolerance):
 *
 * Values. Floats (f32/f16/bf16) live in Float32Array, ints (i32/u32/i64) and bool in Int32Array (bool 0/1).
 * - Floats: each op computes in f64 from its f32 inputs and rounds the result once to f32; f16/bf16 nodes then
 *   round that to f16/bf16 (nearest, ties to even) on store. Reductions, matmul dot products, softmax sums,
 *   norm statistics and attention accumulate in f64; rope angles and sin/cos are f64.
 * - Ints wrap at 32 bits (`| 0`, `Math.imul`). i64 is computed as i32 (HostTensor holds it in an Int32Array).
 *   u32 is the same bit pattern, read unsigned for compare, div, mod, max, min and conversion to float.
 *   div truncates toward zero; mod takes the sign of the dividend (C / WGSL `%`); x / 0 = x % 0 = 0 for ints
 *   (GPUs differ, so we define it); INT_MIN / -1 = INT_MIN. Float mod is fmod; float max/min propagate NaN.
 * - cast: float -> int truncates toward zero and saturates (NaN -> 0); int <-> int reinterprets the 32 bits;
 *   anything -> bool is `!= 0` (NaN -> true); bool -> number is 0/1.
 *
 * The scalar formulas are stated once in semantics.ts (shared with constant folding, config arithmetic and the
 * renderers' constants).
 *
 * Ops. unary: gelu is the tanh approximation 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3))), silu x*sigmoid(x),
 * rsqrt 1/sqrt, recip 1/x, `not` on bool; on ints neg/abs wrap and floor/ceil are the identity. binary on
 * equal shapes (the builder inserts expand); comparisons give bool; and/or on bool; pow is float.
 * expand: right-aligned numpy broadcast. reduce sum/max/min/mean removes `axes` (empty: the identity, mean NaN).
 * reshape: row-major reinterpretation. permute: out.shape[i] = in.shape[perm[i]]. slice(axis, start):
 * length node.shape[axis], start evaluated with the dim bindings. concat. matmul with (equal) batch dims.
 * gather(table [V, ...], ids): ids clamped into [0, V - 1]. softmax / log_softmax: max-subtracted.
 * rmsnorm: x * rsqrt(mean(x^2) + eps) * w over the last axis. layernorm: (x - mean) * rsqrt(var + eps) * w + b,
 * biased variance. rope on [B, H, S, D] with pos [B, S]: for i < D/2, angle = pos * theta^(-2i/D),
 * out[i] = x[i]cos - x[i + D/2]sin, out[i + D/2] = x[i + D/2]cos + x[i]sin (rotate-half, Llama/HF).
 * attention: query head h uses KV head floor(h / (Hq / Hkv)); scores = scale * q.k; the mask IExpr sees
 * idx 0 = b, 1 = q, 2 = k and loads from the mask inputs (src[3 + i]); masked keys are excluded from the
 * softmax; a row with no allowed key outputs zeros, never NaN; mask null allows all.
 * compute: body IExpr over the output index; every load index clamped into [0, dim - 1] (interp-iexpr.ts).
 * scatter_add and attention_grad (the ops autodiff adds): interp-backward.ts.
 * input / param: looked up by name; missing names or shapes that differ from the node's are errors.
 * `interpretF64` evaluates every float in f64 without rounding (float64 mode, for gradient checks).
 */
import { dimEval, shapeEval, shapeStr } from '../core/dim.js';
import type { HostTensor } from '../core/tensor.js';
import { topoSort, type IExpr, type Node } from './graph.js';
import { evalIExpr } from './interp-iexpr.js';
import { attentionGrad, scatterAdd } from './interp-backward.js';
import * as K from './interp-ops.js';
import { InterpError, binaryScalar, canon, castScalar, kindOf, unaryScalar, withFloat64 } from './interp-scalar.js';

export type { Tensor } from './interp-ops.js';

export { evalIExpr, evalMaskElement } from './interp-iexpr.js';
export { InterpError, roundF16, roundBf16 } from './interp-scalar.js';

/** Reserved for future knobs (e.g. tracing); nothing is required now. */
export interface InterpOptions {}

export interface InterpEnv {
  readonly inputs: ReadonlyMap<string, HostTensor>;
  readonly params: ReadonlyMap<string, HostTensor>;
  readonly dims: Readonly<Record<string, number>>;
}

/** Evaluate `roots` given values for input and param nodes (by name) and symbol bindings. */
export function interpret(roots: readonly Node[], env: InterpEnv, _opts: InterpOptions = {}): HostTensor[] {
  return run(roots, env) as HostTensor[]; // outside float64 mode every float tensor is a Float32Array
}

/** Values and params of float64 mode: float data may be Float64Array (e.g. parameters perturbed by 1e-6). */
export interface InterpEnv64 {
  readonly inputs: ReadonlyMap<string, K.Tensor>;
  readonly params: ReadonlyMap<string, K.Tensor>;
  readonly dims: Readonly<Record<string, number>>;
}

/** `interpret` in float64 mode: every float op computed and stored in f64 (results hold Float64Array data). */
export function interpretF64(roots: readonly Node[], env: InterpEnv64): K.Tensor[] {
  return withFloat64(() => run(roots, env));
}

function run(roots: readonly Node[], env: InterpEnv64): K.Tensor[] {
  const vals = new Map<number, K.Tensor>();
  for (const n of topoSort(roots)) {
    const srcs = n.src.map((s) => vals.get(s.id)!);
    vals.set(n.id, evalNode(n, srcs, env));
  }
  return roots.map((r) => vals.get(r.id)!);
}

function evalShape(n: Node, env: InterpEnv64): number[] {
  const shape = shapeEval(n.shape, env.dims);
  const bad = shape.find((d) => d < 0 || !Number.isInteger(d));
  if (bad !== undefined) throw new InterpError(`${n.op} node has shape ${shapeStr(n.shape)} = [${shape.join(', ')}], which is not a valid shape`);
  return shape;
}

/** An input or param tensor, checked against the node and converted to its dtype if they share storage. */
function bound(n: Node<'input'> | Node<'param'>, given: K.Tensor | undefined, shape: number[]): K.Tensor {
  const what = `${n.op} '${n.arg.name}'`;
  if (!given) throw new InterpError(`missing ${what} (${n.dtype}${shapeStr(n.shape)})`);
  if (given.shape.length !== shape.length || given.shape.some((d, i) => d !== shape[i]))
    throw new InterpError(`${what} has shape [${given.shape.join(', ')}], expected ${shapeStr(n.shape)} = [${shape.join(', ')}]`);
  const wantFloat = kindOf(n.dtype) === 'float';
  if ((given.data instanceof Float32Array || given.data instanceof Float64Array) !== wantFloat)
    throw new InterpError(`${what} was given as ${given.dtype} data, expected ${n.dtype}`);
  // f16/bf16/bool are re-canonicalised even when the dtype matches: the storage can hold values the type cannot.
  if (given.dtype === n.dtype && n.dtype !== 'f16' && n.dtype !== 'bf16' && n.dtype !== 'bool') return given;
  const data = K.alloc(n.dtype, given.data.length);
  const from = given.dtype === n.dtype ? 'f32' : given.dtype;
  for (let i = 0; i < data.length; i++) data[i] = castScalar(given.data[i]!, from, n.dtype);
  return { dtype: n.dtype, shape, data };
}

function evalNode(n: Node, s: K.Tensor[], env: InterpEnv64): K.Tensor {
  const shape = evalShape(n, env);
  if (n.op === 'input') return bound(n as Node<'input'>, env.inputs.get((n as Node<'input'>).arg.name), shape);
  if (n.op === 'param') return bound(n as Node<'param'>, env.params.get((n as Node<'param'>).arg.name), shape);
  const t = n.dtype;
  const out = K.alloc(t, shape.reduce((a, b) => a * b, 1));
  const a = s[0]!, A = a?.data as K.Data;
  switch (n.op) {
    case 'const': out[0] = canon((n as Node<'const'>).arg.value, t); break;
    case 'unary': {
      const op = (n as Node<'unary'>).arg.op;
      for (let i = 0; i < out.length; i++) out[i] = unaryScalar(op, A[i]!, a.dtype);
      break;
    }
    case 'binary': {
      const op = (n as Node<'binary'>).arg.op, B = s[1]!.data;
      for (let i = 0; i < out.length; i++) out[i] = binaryScalar(op, A[i]!, B[i]!, a.dtype);
      break;
    }
    case 'where': {
      const x = s[1]!.data, y = s[2]!.data;
      for (let i = 0; i < out.length; i++) out[i] = A[i] !== 0 ? x[i]! : y[i]!;
      break;
    }
    case 'cast': for (let i = 0; i < out.length; i++) out[i] = castScalar(A[i]!, a.dtype, t); break;
    case 'expand': K.expand(a, shape, out); break;
    case 'reduce': { const r = (n as Node<'reduce'>).arg; K.reduce(a, r.kind, r.axes, t, out); break; }
    case 'reshape': out.set(A!); break;
    case 'permute': K.permute(a, (n as Node<'permute'>).arg.perm, shape, out); break;
    case 'slice': {
      const r = (n as Node<'slice'>).arg;
      K.slice(a, r.axis, dimEval(r.start, env.dims), shape, out);
      break;
    }
    case 'concat': K.concat(s, (n as Node<'concat'>).arg.axis, shape, out); break;
    case 'matmul': K.matmul(a, s[1]!, t, out); break;
    case 'gather': K.gather(a, s[1]!, out); break;
    case 'softmax': K.softmax(a, (n as Node<'softmax'>).arg.axis, false, t, out); break;
    case 'log_softmax': K.softmax(a, (n as Node<'log_softmax'>).arg.axis, true, t, out); break;
    case 'rmsnorm': K.rmsnorm(a, s[1]!, (n as Node<'rmsnorm'>).arg.eps, t, out); break;
    case 'layernorm': K.layernorm(a, s[1]!, s[2]!, (n as Node<'layernorm'>).arg.eps, t, out); break;
    case 'rope': K.rope(a, s[1]!, (n as Node<'rope'>).arg.theta, t, out); break;
    case 'attention': {
      const arg = (n as Node<'attention'>).arg;
      K.attention(a, s[1]!, s[2]!, arg.scale, maskOf(arg.mask, s.slice(3), shape[2]!, s[1]!.shape[2]!, env), t, out);
      break;
    }
    case 'attention_grad': {
      const arg = (n as Node<'attention_grad'>).arg;
      attentionGrad(arg.wrt, a, s[1]!, s[2]!, s[3]!, s[4]!, arg.scale, maskOf(arg.mask, s.slice(5), a.shape[2]!, s[1]!.shape[2]!, env), t, out);
      break;
    }
    case 'scatter_add': scatterAdd(a, s.slice(1), (n as Node<'scatter_add'>).arg.idx, shape, env.dims, t, out); break;
    case 'compute': {
      const body = (n as Node<'compute'>).arg.body;
      const r = shape.length, idx = new Int32Array(r);
      for (let i = 0; i < out.length; i++) {
        out[i] = castScalar(evalIExpr(body, idx, s, env.dims), body.dtype, t);
        for (let d = r - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
      }
      break;
    }
    default: {
      const missing: never = n.op; // a new op in graph.ts must get a case here
      throw new Error(`internal error: the interpreter has no rule for op '${String(missing)}'`);
    }
  }
  return { dtype: t, shape, data: out };
}

/** The [Sq * Sk] allowed-mask of batch b: the mask IExpr with idx 0 = b, 1 = q, 2 = k (null: all allowed). */
function maskOf(mask: IExpr | null, maskInputs: readonly K.Tensor[], Sq: number, Sk: number, env: InterpEnv64): (b: number) => Uint8Array {
  return (b) => {
    const m = new Uint8Array(Sq * Sk);
    if (mask === null) return m.fill(1);
    const idx = new Int32Array(3);
    idx[0] = b;
    for (let i = 0; i < Sq; i++) for (let j = 0; j < Sk; j++) {
      idx[1] = i; idx[2] = j;
      m[i * Sk + j] = castScalar(evalIExpr(mask, idx, maskInputs, env.dims), mask.dtype, 'bool');
    }
    return m;
  };
}
