/**
 * Parameter sets on the host: deterministic initialization from a spec's init rules, validation of a loaded
 * set against the spec, and the f16/bf16 bit conversions shared by the loader and the runtimes.
 */
import { isFloat, isInt, type DType } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import type { InitRule, ParamInfo } from '../ir/graph.js';
import { fillNormal, rngFor } from './rng.js';
import { TfxError, type UserCode } from '../errors.js';

/** A problem with a weights file or parameter set that the user caused; the message is one line. */
export class WeightsError extends TfxError {
  override readonly name = 'WeightsError';
  constructor(message: string, code: UserCode = 'TFX4001') { super(code, message); }
}

// ---------------------------------------------------------------------------------------------------------
// f16 / bf16. Encoders round to nearest even. The work is integer operations on the f32 bits; for a double
// that is not an f32, rounding to f32 first is still exact unless it landed on a tie between two neighbours
// that the double itself was not on, and only that rare case takes the slower exact path from the double.

const scratch = new DataView(new ArrayBuffer(8));
/** Flag bit returned next to the 16 result bits: the f32 sat exactly halfway between two neighbours. */
const TIE = 0x10000;

function f16FromF32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return mant ? 0x7e00 : sign | 0x7c00;
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  // Subnormal results shift the full 24-bit significand; 25 or more bits of shift always round to zero.
  const m = e > 0 ? mant : mant | 0x800000;
  const shift = e > 0 ? 13 : 14 - e;
  if (shift > 24) return sign;
  const h = (e > 0 ? e << 10 : 0) | (m >>> shift);
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  // A carry out of the mantissa bumps the exponent, and past 65504 gives exactly inf: both correct.
  if (rem === half) return (sign | (h + (h & 1))) | TIE;
  return sign | (rem > half ? h + 1 : h);
}

function bf16FromF32Bits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  const r = ((b + 0x7fff + ((b >>> 16) & 1)) / 65536) & 0xffff;
  return (b & 0xffff) === 0x8000 ? r | TIE : r;
}

function roundHalfEven(q: number): number {
  const f = Math.floor(q);
  const d = q - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f + (f % 2);
}

/** Exact encoder from a double for a format with `eBits` exponent and `mBits` mantissa bits (finite, non-NaN x). */
function exactEncoder(eBits: number, mBits: number): (x: number) => number {
  const expMax = (1 << eBits) - 1;
  const bias = expMax >> 1;
  const inf = expMax << mBits;
  const signBit = 1 << (eBits + mBits);
  const minNormal = 2 ** (1 - bias);
  const subnormalScale = 2 ** (mBits + bias - 1); // value / smallest subnormal
  return (x) => {
    const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
    const a = Math.abs(x);
    // A carry out of the subnormal mantissa lands on the smallest normal's encoding, which is what we want.
    if (a < minNormal) return sign | roundHalfEven(a * subnormalScale);
    if (a >= 2 ** (bias + 1)) return sign | inf;
    scratch.setFloat64(0, a);
    const e = ((scratch.getUint32(0) >>> 20) & 0x7ff) - 1023;
    const r = roundHalfEven(a * 2 ** (mBits - e)); // in [2^mBits, 2^(mBits+1)]
    return Math.min(sign | (((e + bias) << mBits) + r - (1 << mBits)), sign | inf);
  };
}
const exactF16 = exactEncoder(5, 10);
const exactBf16 = exactEncoder(8, 7);

/** f16 bits (u16) of any number, rounded to nearest even; overflow gives ±inf, NaN gives 0x7E00. */
export function f32ToF16Bits(x: number): number {
  scratch.setFloat32(0, x);
  const r = f16FromF32Bits(scratch.getUint32(0));
  if (r & TIE && Math.fround(x) !== x) return exactF16(x);
  return r & 0xffff;
}

/** bf16 bits (u16) of any number, rounded to nearest even; NaN gives 0x7FC0. */
export function f32ToBf16Bits(x: number): number {
  scratch.setFloat32(0, x);
  const r = bf16FromF32Bits(scratch.getUint32(0));
  if (r & TIE && Math.fround(x) !== x) return exactBf16(x);
  return r & 0xffff;
}

export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

export function bf16BitsToF32(b: number): number {
  scratch.setUint32(0, (b & 0xffff) << 16);
  return scratch.getFloat32(0);
}

export const roundToF16 = (x: number): number => f16ToF32Table()[f32ToF16Bits(x)]!;
export const roundToBf16 = (x: number): number => bf16BitsToF32(f32ToBf16Bits(x));

let f16Table: Float32Array | undefined;

/** f16 bits -> value for all 65536 patterns, built on first use (bulk decoding is then one lookup each). */
export function f16ToF32Table(): Float32Array {
  f16Table ??= Float32Array.from({ length: 65536 }, (_, h) => f16BitsToF32(h));
  return f16Table;
}

/** f16 bits of every element (same results as `f32ToF16Bits`: the inputs are already f32). */
export function f32ArrayToF16Bits(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16FromF32Bits(bits[i]!) & 0xffff;
  return out;
}

/** bf16 bits of every element (same results as `f32ToBf16Bits`). */
export function f32ArrayToBf16Bits(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = bf16FromF32Bits(bits[i]!) & 0xffff;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Initialization.

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

function checkRule(p: ParamInfo): void {
  const r = p.init;
  const bad = (why: string): WeightsError => new WeightsError(`parameter ${p.name}: ${why}`, 'TFX4003');
  if (r.kind === 'normal' && !(Number.isFinite(r.mean) && Number.isFinite(r.std) && r.std >= 0)) {
    throw bad(`init normal(mean ${r.mean}, std ${r.std}) needs a finite mean and a finite std >= 0`);
  }
  if (r.kind === 'uniform' && !(Number.isFinite(r.lo) && Number.isFinite(r.hi) && r.lo <= r.hi)) {
    throw bad(`init uniform(${r.lo}, ${r.hi}) needs finite bounds with lo <= hi`);
  }
  if ((r.kind === 'normal' || r.kind === 'uniform') && !isFloat(p.dtype)) {
    throw bad(`init ${r.kind} needs a float dtype, the parameter is ${p.dtype}`);
  }
  if (!p.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`shape ${shapeStr(p.shape)} is not all non-negative integers`);
  // Typed arrays stop somewhere past 2^31 elements; say so rather than fail with a RangeError.
  if (p.shape.reduce((a, b) => a * b, 1) > 2 ** 31 - 1) throw bad(`shape ${shapeStr(p.shape)} has too many elements to initialize on the host`);
}

function sampler(rule: InitRule, seed: number, name: string): () => number {
  switch (rule.kind) {
    case 'zeros': return () => 0;
    case 'ones': return () => 1;
    case 'normal': { const g = rngFor(seed, name); return () => g.normal(rule.mean, rule.std); }
    case 'uniform': { const g = rngFor(seed, name); return () => g.uniform(rule.lo, rule.hi); }
  }
}

/**
 * One parameter from its init rule, drawn from its own stream derived from (seed, name), so adding, removing
 * or reordering parameters leaves the others' values unchanged. Values are rounded to `dtype` (default: the
 * parameter's own), held as f32 as HostTensor requires. `dtype` may only change a float to another float.
 */
export function initParam(p: ParamInfo, seed: number, dtype: DType = p.dtype): HostTensor {
  if (!Number.isSafeInteger(seed)) throw new WeightsError(`seed must be an integer, got ${seed}`, 'TFX4003');
  checkRule(p);
  if (dtype !== p.dtype && !(isFloat(dtype) && isFloat(p.dtype))) {
    throw new WeightsError(`parameter ${p.name}: cannot store ${p.dtype} as ${dtype} (only float parameters change precision)`, 'TFX4003');
  }
  const n = p.shape.reduce((a, b) => a * b, 1);
  const data = isFloat(dtype) ? new Float32Array(n) : new Int32Array(n);
  const r = p.init;
  if (r.kind === 'ones') data.fill(1);
  else if (r.kind !== 'zeros' && dtype === p.dtype && (dtype === 'f16' || dtype === 'bf16')) {
    // The parameter's own low precision rounds from the double, as the interpreter does.
    const round = dtype === 'f16' ? roundToF16 : roundToBf16;
    const draw = sampler(r, seed, p.name);
    for (let i = 0; i < n; i++) data[i] = round(draw());
  } else {
    // Tight loops per rule (the 7b preset draws 6.7e9 values); a --dtype override rounds the f32 afterwards,
    // which is what converting an f32 checkpoint would give.
    const g = rngFor(seed, p.name);
    if (r.kind === 'normal') fillNormal(g, data, r.mean, r.std);
    else if (r.kind === 'uniform') for (let i = 0; i < n; i++) data[i] = g.uniform(r.lo, r.hi);
    if (dtype !== p.dtype && (dtype === 'f16' || dtype === 'bf16')) roundInPlace(data as Float32Array, dtype);
  }
  return hostTensor(dtype, p.shape, data);
}

/** Rounds f32 values to f16 or bf16 (round to nearest even), in place. */
export function roundInPlace(f: Float32Array, dtype: 'f16' | 'bf16'): void {
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  const CH = 1 << 20; // convert in pieces: no second full-size array
  for (let at = 0; at < f.length; at += CH) {
    const part = f.subarray(at, Math.min(f.length, at + CH));
    if (dtype === 'f16') {
      const bits = f32ArrayToF16Bits(part), dec = f16ToF32Table();
      for (let i = 0; i < bits.length; i++) part[i] = dec[bits[i]!]!;
    } else {
      const bits = f32ArrayToBf16Bits(part);
      for (let i = 0; i < bits.length; i++) u[at + i] = bits[i]! << 16;
    }
  }
}

/** Every parameter from its init rule (see initParam); `dtype` overrides the stored precision of float parameters. */
export function initParams(params: readonly ParamInfo[], seed: number, dtype?: DType): Map<string, HostTensor> {
  if (!Number.isSafeInteger(seed)) throw new WeightsError(`seed must be an integer, got ${seed}`, 'TFX4003');
  const out = new Map<string, HostTensor>();
  for (const p of params) {
    if (out.has(p.name)) throw new WeightsError(`parameter ${p.name} is declared twice`, 'TFX4003');
    out.set(p.name, initParam(p, seed, dtype && isFloat(p.dtype) ? dtype : p.dtype));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Validation.

type Kind = 'float' | 'int' | 'bool';
const kindOf = (d: DType): Kind => (isFloat(d) ? 'float' : isInt(d) ? 'int' : 'bool');

/**
 * Everything wrong with `weights` as values for `params`, one line each: parameters declared twice, missing
 * or mismatched tensors in spec order, then tensors the spec does not know, by name. Empty means usable.
 * A dtype is usable when it is of the same kind (float, int, bool): the runtime converts within a kind.
 */
export function checkParams(params: readonly ParamInfo[], weights: ReadonlyMap<string, { readonly dtype: DType; readonly shape: readonly number[] }>): string[] {
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const p of params) {
    if (declared.has(p.name)) { problems.push(`${p.name}: declared twice in the spec`); continue; }
    declared.add(p.name);
    const t = weights.get(p.name);
    if (t === undefined) {
      problems.push(`${p.name}: missing from the file (the spec wants ${p.dtype} ${shapeStr(p.shape)})`);
      continue;
    }
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      problems.push(`${p.name}: shape ${shapeStr(t.shape)} in the file, the spec wants ${shapeStr(p.shape)}`);
    }
    if (kindOf(t.dtype) !== kindOf(p.dtype)) {
      problems.push(`${p.name}: dtype ${t.dtype} in the file cannot be converted to the spec's ${p.dtype} (${kindOf(t.dtype)} vs ${kindOf(p.dtype)})`);
    }
  }
  const extra = [...weights.keys()].filter((k) => !declared.has(k)).sort();
  for (const k of extra) {
    const t = weights.get(k)!;
    problems.push(`${k}: in the file (${t.dtype} ${shapeStr(t.shape)}) but not in the spec`);
  }
  return problems;
}
