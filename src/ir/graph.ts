/**
 * The tensor-graph IR: one immutable node shape, created only through `Builder`, which interns nodes
 * (structurally equal nodes are the same object, so CSE is free) and infers shapes and dtypes.
 */
import type { DType } from '../core/dtype.js';
import type { Dim, Shape } from '../core/dim.js';
import type { SpecDirectives } from '../dsl/directives.js';

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'sigmoid' | 'silu' | 'gelu' | 'sin' | 'cos' | 'abs'
  | 'recip' | 'not' | 'floor' | 'ceil';
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'mod'
  | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or';
export const UNARY_OPS: readonly UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'sigmoid', 'silu', 'gelu', 'sin', 'cos', 'abs', 'recip', 'not', 'floor', 'ceil'];
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or'];
export const COMPARE_OPS: readonly BinaryOp[] = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'];

/**
 * Scalar index expressions: the body of `compute` nodes and of attention masks. Evaluated once per output
 * element with index variables bound. `load` reads source `src` of the owning node; every load index is
 * clamped to [0, dim-1] (the language's documented semantics), so no expression can read out of bounds.
 */
export type IExpr =
  | { readonly k: 'idx'; readonly i: number; readonly dtype: 'i32' }
  | { readonly k: 'const'; readonly v: number; readonly dtype: DType }
  | { readonly k: 'dim'; readonly d: Dim; readonly dtype: 'i32' }
  | { readonly k: 'load'; readonly src: number; readonly idx: readonly IExpr[]; readonly dtype: DType }
  | { readonly k: 'un'; readonly op: UnaryOp; readonly a: IExpr; readonly dtype: DType }
  | { readonly k: 'bin'; readonly op: BinaryOp; readonly a: IExpr; readonly b: IExpr; readonly dtype: DType }
  | { readonly k: 'where'; readonly c: IExpr; readonly a: IExpr; readonly b: IExpr; readonly dtype: DType }
  | { readonly k: 'cast'; readonly a: IExpr; readonly dtype: DType };

export type InitRule =
  | { readonly kind: 'normal'; readonly mean: number; readonly std: number }
  | { readonly kind: 'uniform'; readonly lo: number; readonly hi: number }
  | { readonly kind: 'zeros' }
  | { readonly kind: 'ones' };

/** Operation name -> its typed argument. String literal names keep IR dumps readable. */
export interface OpArgs {
  input: { readonly name: string };
  param: { readonly name: string; readonly init: InitRule };
  const: { readonly value: number };               // a scalar (shape []); broadcast with `expand`
  unary: { readonly op: UnaryOp };
  binary: { readonly op: BinaryOp };                // operands have equal shapes (the builder inserts `expand`)
  where: null;                                      // (cond: bool, a, b), equal shapes
  cast: null;                                       // to node.dtype
  expand: null;                                     // right-aligned numpy broadcast of src[0] to node.shape
  reduce: { readonly kind: 'sum' | 'max' | 'min' | 'mean'; readonly axes: readonly number[] }; // axes removed
  reshape: null;                                    // to node.shape, same element count
  permute: { readonly perm: readonly number[] };    // out.shape[i] = in.shape[perm[i]]
  slice: { readonly axis: number; readonly start: Dim }; // length = node.shape[axis]
  concat: { readonly axis: number };
  matmul: null;                                     // [..., M, K] x [..., K, N] -> [..., M, N], batch dims broadcast
  gather: null;                                     // (table [V, ...rest], ids int[...]) -> [...ids, ...rest]; ids clamped
  softmax: { readonly axis: number };
  log_softmax: { readonly axis: number };
  rmsnorm: { readonly eps: number };                // (x [..., D], w [D]) over the last axis
  layernorm: { readonly eps: number };              // (x [..., D], w [D], b [D]) over the last axis
  rope: { readonly theta: number };                 // (x [B, H, S, D], pos int [B, S]); rotate-half pairs (i, i + D/2)
  /**
   * (q [B, Hq, Sq, D], k [B, Hkv, Sk, D], v [B, Hkv, Sk, Dv], ...maskInputs) -> [B, Hq, Sq, Dv].
   * Hq % Hkv == 0 (grouped KV heads). `mask` is a bool IExpr over idx 0 = b, 1 = q, 2 = k whose loads refer to
   * the mask inputs (src index 0 = src[3]). `scale` multiplies scores; fully masked rows give zeros.
   */
  attention: { readonly mask: IExpr | null; readonly maskName: string; readonly scale: number };
  /** out[i0, i1, ...] = body, body over idx 0..rank-1 with loads from src. */
  compute: { readonly body: IExpr };
  /**
   * (values [...I], ...idxSrcs) -> node.shape, zeros plus, for every index i of values in row-major order,
   * out[clamp(idx(i))] += values[i]. `idx` has one i32 IExpr per output axis, over idx 0..rank(values)-1, whose
   * loads refer to the index sources (load source j = src[1 + j]). Accumulation in a fixed order: deterministic,
   * exact for repeated indices. The gradient of `gather` and of data-dependent `compute` loads.
   */
  scatter_add: { readonly idx: readonly IExpr[] };
  /**
   * Gradient of `attention` with respect to one of q, k, v (`wrt`): sources (q, k, v, out, dOut, ...maskInputs),
   * shape of the `wrt` source. Same mask (load source j = src[5 + j]), scale and KV-head grouping as the forward;
   * probabilities are recomputed from q and k; rows with no allowed key contribute nothing.
   */
  attention_grad: { readonly mask: IExpr | null; readonly maskName: string; readonly scale: number; readonly wrt: 'q' | 'k' | 'v' };
}
export type Op = keyof OpArgs;
export type ArgOf<O extends Op> = OpArgs[O];

export interface Node<O extends Op = Op> {
  readonly id: number;
  readonly op: O;
  readonly dtype: DType;
  readonly shape: Shape;
  readonly src: readonly Node[];
  readonly arg: ArgOf<O>;
}

export interface ParamInfo { readonly name: string; readonly dtype: DType; readonly shape: readonly number[]; readonly init: InitRule }
export interface InputInfo { readonly name: string; readonly dtype: DType; readonly shape: Shape }

/**
 * State that lives across calls (`state NAME: [...]` in the language, e.g. a KV cache). Each is an input of
 * the same name (its value before the call) and, if `written`, an output of that name (its value after), which
 * a runtime may store into the input's buffer in place.
 */
export interface StateInfo { readonly name: string; readonly written: boolean }

/** One entry point: inputs (by name), named outputs, the params it reads. Shapes of inputs may be symbolic. */
export interface Graph {
  readonly entry: string;
  readonly inputs: readonly Node<'input'>[];
  readonly outputs: readonly { readonly name: string; readonly node: Node }[];
  /** The states among `inputs` (and `outputs`), absent when the entry declares none. */
  readonly states?: readonly StateInfo[];
  /** Conditions on the dimensions that `check` could not prove; checked when they are bound (src/runtime/bind.ts). */
  readonly requires?: readonly DimRequirement[];
}

/** `dim` must lie in [min, max] once the symbols are bound; `what` and `line:col` say where the spec needs it. */
export interface DimRequirement {
  readonly dim: Dim;
  readonly min: number;
  readonly max: number;
  readonly what: string;
  readonly line: number;
  readonly col: number;
}

/** A compiled spec: config values of the chosen preset, every parameter, every entry graph. */
export interface Program {
  readonly model: string;
  readonly preset: string;
  readonly config: Readonly<Record<string, number>>;
  readonly symbols: readonly string[];
  readonly params: readonly ParamInfo[];
  readonly entries: readonly Graph[];
  /** `# @...` directive comments of the spec (input generator, value ranges); attached by the driver. */
  readonly directives?: SpecDirectives;
}

/** Nodes reachable from the outputs, sources before users. */
export function topoSort(roots: readonly Node[]): Node[] {
  const seen = new Set<number>();
  const out: Node[] = [];
  const stack: [Node, number][] = roots.map((r) => [r, 0]);
  // Iterative DFS: graphs of big presets are deep enough to overflow recursion.
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [n, i] = top;
    if (seen.has(n.id)) { stack.pop(); continue; }
    if (i < n.src.length) { top[1] = i + 1; const s = n.src[i]!; if (!seen.has(s.id)) stack.push([s, 0]); }
    else { seen.add(n.id); out.push(n); stack.pop(); }
  }
  return out;
}
export const graphNodes = (g: Graph): Node[] => topoSort(g.outputs.map((o) => o.node));
