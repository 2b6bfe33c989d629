/**
 * Scalar index expressions (IExpr) evaluated one element at a time: the bodies of `compute` nodes and
 * attention masks. Same scalar rules as the tensor ops (interp-scalar.ts): an operator's operands are cast to
 * the type it computes in (its own dtype; for comparisons the promoted operand type; bool for and/or/where's
 * condition), then the op is applied. Every load index is clamped into [0, dim - 1] of the source it reads.
 */
import { dimEval, type Bindings } from '../core/dim.js';
import { promote, type DType } from '../core/dtype.js';
import { COMPARE_OPS, type IExpr } from './graph.js';
import type { Tensor } from './interp-ops.js';
import { InterpError, binaryScalar, canon, castScalar, numericValue, unaryScalar } from './interp-scalar.js';

const NO_DIMS: Bindings = {};

/** The dtype a `bin` node computes in (its operands are cast to it). */
function operandType(e: Extract<IExpr, { k: 'bin' }>): DType {
  if (e.op === 'and' || e.op === 'or') return 'bool';
  if (COMPARE_OPS.includes(e.op)) return promote(e.a.dtype, e.b.dtype);
  return e.dtype;
}

function evalAs(e: IExpr, t: DType, idx: ArrayLike<number>, srcs: readonly Tensor[], dims: Bindings): number {
  return castScalar(evalIExpr(e, idx, srcs, dims), e.dtype, t);
}

function load(e: Extract<IExpr, { k: 'load' }>, idx: ArrayLike<number>, srcs: readonly Tensor[], dims: Bindings): number {
  const s = srcs[e.src];
  if (!s) throw new InterpError(`load reads source ${e.src}, but only ${srcs.length} sources were given`);
  if (e.idx.length !== s.shape.length)
    throw new InterpError(`load from source ${e.src} uses ${e.idx.length} indices, its shape [${s.shape.join(', ')}] has rank ${s.shape.length}`);
  let flat = 0;
  for (let d = 0; d < s.shape.length; d++) {
    const n = s.shape[d]!;
    if (n === 0) throw new InterpError(`load from source ${e.src} of empty shape [${s.shape.join(', ')}]`);
    const ie = e.idx[d]!;
    const raw = Math.trunc(numericValue(evalIExpr(ie, idx, srcs, dims), ie.dtype));
    flat = flat * n + (raw < 0 ? 0 : raw > n - 1 ? n - 1 : raw);
  }
  return castScalar(s.data[flat]!, s.dtype, e.dtype);
}

/**
 * Value of `e` (canonical in e.dtype) with index variables `idx`, loads from `srcs` (clamped), and `dim`
 * nodes evaluated with `dims`.
 */
export function evalIExpr(e: IExpr, idx: ArrayLike<number>, srcs: readonly Tensor[], dims: Bindings = NO_DIMS): number {
  switch (e.k) {
    case 'idx': {
      if (e.i < 0 || e.i >= idx.length) throw new InterpError(`index variable ${e.i} is not bound (${idx.length} are)`);
      return idx[e.i]!;
    }
    case 'const': return canon(e.v, e.dtype);
    case 'dim': return canon(dimEval(e.d, dims), 'i32');
    case 'load': return load(e, idx, srcs, dims);
    case 'un': {
      const t = e.op === 'not' ? e.a.dtype : e.dtype;
      return castScalar(unaryScalar(e.op, evalAs(e.a, t, idx, srcs, dims), t), e.op === 'not' ? 'bool' : t, e.dtype);
    }
    case 'bin': {
      const t = operandType(e);
      const r = binaryScalar(e.op, evalAs(e.a, t, idx, srcs, dims), evalAs(e.b, t, idx, srcs, dims), t);
      const rt: DType = e.op === 'and' || e.op === 'or' || COMPARE_OPS.includes(e.op) ? 'bool' : t;
      return castScalar(r, rt, e.dtype);
    }
    case 'where':
      return evalAs(e.c, 'bool', idx, srcs, dims) !== 0 ? evalAs(e.a, e.dtype, idx, srcs, dims) : evalAs(e.b, e.dtype, idx, srcs, dims);
    case 'cast': return castScalar(evalIExpr(e.a, idx, srcs, dims), e.a.dtype, e.dtype);
  }
}

/**
 * Whether attention may look from query q to key k in batch b: `mask` evaluated with idx 0 = b, 1 = q, 2 = k
 * and load source i = maskInputs[i] (the attention node's src[3 + i]). A null mask allows everything.
 */
export function evalMaskElement(
  mask: IExpr | null, b: number, q: number, k: number, maskInputs: readonly Tensor[], dims: Bindings = NO_DIMS,
): boolean {
  if (mask === null) return true;
  return castScalar(evalIExpr(mask, [b, q, k], maskInputs, dims), mask.dtype, 'bool') !== 0;
}
