/** Element types of tensors. Names are the spec's keywords. */
export const DTYPES = ['f32', 'f16', 'bf16', 'i32', 'u32', 'i64', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export const isDType = (s: string): s is DType => (DTYPES as readonly string[]).includes(s);
export const isFloat = (d: DType): boolean => d === 'f32' || d === 'f16' || d === 'bf16';
export const isInt = (d: DType): boolean => d === 'i32' || d === 'u32' || d === 'i64';

/** Bytes per element as stored in a device buffer (bool is stored as u32). */
export function byteSize(d: DType): number {
  switch (d) {
    case 'f16': case 'bf16': return 2;
    case 'i64': return 8;
    default: return 4;
  }
}

/** Result type of arithmetic between two dtypes: float wins, then the wider int. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (isFloat(a) && !isFloat(b)) return a;
  if (isFloat(b) && !isFloat(a)) return b;
  if (isFloat(a) && isFloat(b)) return 'f32';
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  return 'i32';
}
