import type { DType } from './dtype.js';

/**
 * A host tensor. Floats (f32/f16/bf16) are held as Float32Array, ints (i32/u32/i64) and bool as Int32Array;
 * `dtype` records the logical element type. Row-major, contiguous.
 */
export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

export function hostTensor(dtype: DType, shape: readonly number[], data?: Float32Array | Int32Array | number[]): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const isF = dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
  let d: Float32Array | Int32Array;
  if (data === undefined) d = isF ? new Float32Array(n) : new Int32Array(n);
  else if (Array.isArray(data)) d = isF ? Float32Array.from(data) : Int32Array.from(data);
  else d = data;
  if (d.length !== n) throw new Error(`tensor data has ${d.length} elements, shape [${shape.join(', ')}] needs ${n}`);
  return Object.freeze({ dtype, shape: Object.freeze([...shape]), data: d });
}
