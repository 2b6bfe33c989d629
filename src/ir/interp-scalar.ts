/**
 * Scalar semantics of the reference interpreter: how one element of each dtype is rounded, cast, and combined.
 * Tensor ops (interpreter.ts) and IExpr bodies (interp-iexpr.ts) both call these functions, so a `compute`
 * node and the equivalent op node agree by construction. The rules are documented in interpreter.ts.
 *
 * A scalar value is a JS number in its dtype's canonical form: floats are values exactly representable in the
 * dtype (f32, f16 or bf16); every int type and bool is the signed 32-bit pattern an Int32Array holds
 * (u32 3e9 is held as 3e9 - 2^32 and read unsigned where the difference matters); bool is 0 or 1.
 */
import { isFloat, type DType } from '../core/dtype.js';
import type { BinaryOp, UnaryOp } from './graph.js';
import { FLOAT_BINARY, FLOAT_UNARY, intDiv, intMod, roundBf16, roundF16 } from './semantics.js';

export { roundBf16, roundF16 };

/** Thrown for mistakes a caller can make (missing inputs, wrong shapes); the message is one line. */
export class InterpError extends Error {}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;

export type Kind = 'float' | 'int' | 'uint' | 'bool';
/** i64 is held in an Int32Array by HostTensor, so it is computed exactly like i32. */
export function kindOf(t: DType): Kind {
  if (isFloat(t)) return 'float';
  if (t === 'bool') return 'bool';
  return t === 'u32' ? 'uint' : 'int';
}

/**
 * Float64 evaluation (gradient checks by finite differences need it): while `withFloat64` runs, float results
 * are kept exactly as computed in f64 (no rounding to f32/f16/bf16) and float tensors are Float64Array. The
 * interpreter is synchronous, so the mode cannot leak into other work; it is restored even on a throw.
 */
let exactFloats = false;
export const float64Mode = (): boolean => exactFloats;
export function withFloat64<T>(f: () => T): T {
  const prev = exactFloats;
  exactFloats = true;
  try { return f(); } finally { exactFloats = prev; }
}

/**
 * Canonical form of an arithmetic result in dtype t. Floats: computed in f64, rounded to f32 (one correct
 * rounding), then to f16/bf16 for those dtypes, as a GPU storing an f32 result to a half buffer would.
 * Ints wrap to 32 bits; bool is 0/1.
 */
export function canon(x: number, t: DType): number {
  if (exactFloats && isFloat(t)) return x;
  switch (t) {
    case 'f32': return Math.fround(x);
    case 'f16': return roundF16(Math.fround(x));
    case 'bf16': return roundBf16(x);
    case 'bool': return x !== 0 ? 1 : 0;
    default: return x | 0;
  }
}

/** The numeric value a canonical scalar stands for (u32 read unsigned). */
export const numericValue = (x: number, t: DType): number => (t === 'u32' ? x >>> 0 : x);

/** Float to int: truncate toward zero, saturate at the type's range, NaN gives 0 (GPUs differ; we define it). */
function floatToInt(x: number, to: DType): number {
  if (Number.isNaN(x)) return 0;
  const v = Math.trunc(x);
  if (to === 'u32') return (v <= 0 ? 0 : v >= UINT_MAX ? UINT_MAX : v) | 0;
  return v <= INT_MIN ? INT_MIN : v >= INT_MAX ? INT_MAX : v;
}

/** Convert a canonical scalar of dtype `from` to canonical `to`. Int to int reinterprets the 32-bit pattern. */
export function castScalar(x: number, from: DType, to: DType): number {
  if (from === to) return x;
  if (to === 'bool') return x !== 0 ? 1 : 0; // NaN counts as true, like bool(NaN) in C and WGSL
  if (isFloat(to)) return canon(numericValue(x, from), to);
  if (isFloat(from)) return floatToInt(x, to);
  return x | 0;
}

const floatUnary = (op: UnaryOp, x: number): number => FLOAT_UNARY[op](x);

/**
 * Unary op on a canonical scalar of dtype t; the result is canonical in t ('not' always gives bool 0/1).
 * On ints, neg/abs wrap (abs(INT_MIN) = INT_MIN) and floor/ceil are the identity; a float-only function on an
 * int (the builder never makes one) is computed in float and converted back with cast semantics.
 */
export function unaryScalar(op: UnaryOp, x: number, t: DType): number {
  if (op === 'not') return x === 0 ? 1 : 0;
  const k = kindOf(t);
  if (k === 'float') return canon(floatUnary(op, x), t);
  switch (op) {
    case 'neg': return canon(-x, t);
    case 'abs': return k === 'uint' ? x : canon(Math.abs(x), t);
    case 'floor': case 'ceil': return x;
    default: return castScalar(floatUnary(op, numericValue(x, t)), 'f32', t);
  }
}

function compare(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'lt': return a < b ? 1 : 0;
    case 'le': return a <= b ? 1 : 0;
    case 'gt': return a > b ? 1 : 0;
    case 'ge': return a >= b ? 1 : 0;
    case 'eq': return a === b ? 1 : 0;
    default: return a !== b ? 1 : 0; // 'ne'
  }
}

/**
 * Binary op on two canonical scalars of the operand dtype t. Comparisons and and/or give bool 0/1; everything
 * else is canonical in t. Ints: wrap-around add/sub/mul; div truncates toward zero and mod takes the sign of
 * the dividend (C / WGSL `%`); x / 0 = x % 0 = 0 (defined here because GPUs differ); INT_MIN / -1 = INT_MIN.
 * u32 compares, divides and takes min/max unsigned. Floats: mod is fmod (sign of the dividend); max/min
 * propagate NaN.
 */
export function binaryScalar(op: BinaryOp, a: number, b: number, t: DType): number {
  if (op === 'and') return a !== 0 && b !== 0 ? 1 : 0;
  if (op === 'or') return a !== 0 || b !== 0 ? 1 : 0;
  const k = kindOf(t);
  const x = numericValue(a, t), y = numericValue(b, t);
  switch (op) {
    case 'lt': case 'le': case 'gt': case 'ge': case 'eq': case 'ne': return compare(op, x, y);
    case 'max': case 'min': return canon(FLOAT_BINARY[op](x, y), t);
    default: break;
  }
  if (k === 'float') {
    return canon(FLOAT_BINARY[op](x, y), t);
  }
  switch (op) {
    case 'add': case 'sub': return canon(FLOAT_BINARY[op](x, y), t);
    case 'mul': return canon(Math.imul(a, b), t); // f64 products of 32-bit ints lose low bits
    case 'div': return canon(intDiv(x, y), t);
    case 'pow': return castScalar(Math.pow(x, y), 'f32', t);
    default: return canon(intMod(x, y), t); // 'mod'
  }
}
