/**
 * Scalar semantics, stated once: the real-valued formula of every unary and binary op, the constants the
 * renderers spell (gelu's tanh approximation, tanh's clamp), half-precision rounding and integer x / 0.
 * The interpreter (interp-scalar.ts), constant folding (through the interpreter) and the elaborator's config
 * arithmetic evaluate these functions; the WGSL and CUDA tables are keyed by the same op unions (a missing op is
 * a type error) and take their constants from here.
 *
 * Float rule: every op is computed in f64 and rounded to f32 (then to f16/bf16 for those dtypes) — one rounding
 * per op, as an f32 kernel computes it. Config arithmetic follows the same rule (see f32Op), so a folded
 * constant equals the value the interpreter computes for the same expression on tensors.
 */
import type { BinaryOp, UnaryOp } from './graph.js';

/** gelu(x) = 0.5 x (1 + tanh(GELU_K (x + GELU_C x^3))), the tanh approximation. */
export const GELU_K = Math.sqrt(2 / Math.PI);
export const GELU_C = 0.044715;
/** tanh's argument is clamped to +-TANH_CLAMP in kernels (exp overflow in some drivers' tanh); f32 tanh(15) = 1. */
export const TANH_CLAMP = 15;

const clamp = (x: number) => Math.max(-TANH_CLAMP, Math.min(TANH_CLAMP, x));

/** Float formulas of the unary ops (f64 in, f64 out; the caller rounds). */
export const FLOAT_UNARY = {
  neg: (x) => -x, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, rsqrt: (x) => 1 / Math.sqrt(x),
  tanh: (x) => Math.tanh(clamp(x)),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)), silu: (x) => x / (1 + Math.exp(-x)),
  gelu: (x) => 0.5 * x * (1 + Math.tanh(clamp(GELU_K * (x + GELU_C * x * x * x)))),
  sin: Math.sin, cos: Math.cos, abs: Math.abs, recip: (x) => 1 / x, not: (x) => (x === 0 ? 1 : 0),
  floor: Math.floor, ceil: Math.ceil,
} satisfies Record<UnaryOp, (x: number) => number>;

/** Float formulas of the arithmetic binary ops: mod is fmod (sign of the dividend); max/min propagate NaN. */
export const FLOAT_BINARY = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, mod: (a, b) => a % b,
  pow: Math.pow,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b)),
} satisfies Record<Exclude<BinaryOp, 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or'>, (a: number, b: number) => number>;

/** Integer division truncates toward zero; x / 0 = 0 (defined here because GPUs differ). Wrapping is the caller's. */
export const intDiv = (a: number, b: number): number => (b === 0 ? 0 : Math.trunc(a / b));
/** Integer remainder takes the dividend's sign (C / WGSL `%`); x % 0 = 0. */
export const intMod = (a: number, b: number): number => (b === 0 ? 0 : a % b);

/** A float op on f32 values rounded to f32: the elaborator's config arithmetic, same as an f32 kernel. */
export const f32Unary = (op: UnaryOp, x: number): number => Math.fround(FLOAT_UNARY[op](Math.fround(x)));
export const f32Binary = (op: keyof typeof FLOAT_BINARY, a: number, b: number): number =>
  Math.fround(FLOAT_BINARY[op](Math.fround(a), Math.fround(b)));

const f32Box = new Float32Array(1);
const u32Box = new Uint32Array(f32Box.buffer);

/** Round to the nearest bf16 (ties to even) via the f32 bit pattern; NaN stays NaN, overflow becomes Inf. */
export function roundBf16(x: number): number {
  f32Box[0] = x;
  if (Number.isNaN(f32Box[0])) return NaN;
  const bits = u32Box[0]!;
  u32Box[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32Box[0];
}

/** Round to the nearest f16 (ties to even), subnormals included; |x| >= 65520 overflows to Inf. */
export function roundF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  // Binade of a, floored at f16's smallest normal exponent so subnormals share the 2^-24 spacing.
  let e = Math.max(Math.floor(Math.log2(a)), -14);
  while (e > -14 && 2 ** e > a) e--;
  while (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (e - 10);
  const q = a / ulp; // exact: scaling by a power of two
  let r = Math.floor(q);
  const frac = q - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 === 1)) r++;
  return Math.sign(x) * r * ulp;
}
