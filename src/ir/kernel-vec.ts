/**
 * When an access can be a vector access (kernel-ir.ts: vload / vstore, VEC lanes): its index steps by exactly
 * 1 along a variable, and its value where that variable is 0 is a multiple of VEC, known from the expression
 * or testable at run time from the dims alone (a uniform guard). The matmul builders use it to read operands
 * and write results four at a time where the layout allows, and keep the rest scalar.
 */
import { kbin, kconst, walkK, type KBuffer, type KExpr } from './kernel.js';
import { VEC, substitute } from './kernel-ir.js';

/** A uniform condition: true / false when known when the kernel is built, else an expression over dims. */
export type Guard = KExpr | boolean;

export function guardAnd(a: Guard, b: Guard): Guard {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  return kbin('and', a, b);
}
function guardOr(a: Guard, b: Guard): Guard {
  if (a === true || b === true) return true;
  if (a === false) return b;
  if (b === false) return a;
  return kbin('or', a, b);
}
export const guardAll = (gs: readonly Guard[]): Guard => gs.reduce(guardAnd, true);

const mentions = (e: KExpr, pred: (x: KExpr) => boolean): boolean => { let hit = false; walkK(e, (x) => { if (pred(x)) hit = true; }); return hit; };

/** The coefficient of variable `x` in an i32 index that is affine in x with a constant coefficient; null otherwise. */
export function coefficientOf(e: KExpr, x: string): number | null {
  const has = (y: KExpr) => mentions(y, (z) => z.k === 'var' && z.name === x);
  const go = (y: KExpr): number | null => {
    if (!has(y)) return 0;
    if (y.k === 'var') return 1;
    if (y.k !== 'bin' || y.dtype !== 'i32') return null;
    if (y.op === 'add' || y.op === 'sub') {
      const a = go(y.a), b = go(y.b);
      return a === null || b === null ? null : y.op === 'add' ? a + b : a - b;
    }
    if (y.op === 'mul' && y.a.k === 'const') { const b = go(y.b); return b === null ? null : b * y.a.v; }
    if (y.op === 'mul' && y.b.k === 'const') { const a = go(y.a); return a === null ? null : a * y.b.v; }
    return null;
  };
  return go(e);
}

/** A guard under which the i32 index `e` (non-negative) is a multiple of VEC. */
export function multipleOfVec(e: KExpr): Guard {
  if (e.k === 'const') return e.v % VEC === 0;
  if (e.k === 'bin' && e.dtype === 'i32') {
    if (e.op === 'mul') return guardOr(multipleOfVec(e.a), multipleOfVec(e.b));
    if (e.op === 'add' || e.op === 'sub') return guardAnd(multipleOfVec(e.a), multipleOfVec(e.b));
  }
  // Anything of the dims alone (uniform): tested at run time; per-invocation values (m, n, ...) are unknown.
  const uniform = !mentions(e, (x) => x.k !== 'const' && x.k !== 'sym' && x.k !== 'bin');
  return uniform ? divisible(e) : false;
}

/** e % VEC == 0 as a run-time test. */
export const divisible = (e: KExpr): Guard => (e.k === 'const' ? e.v % VEC === 0 : kbin('eq', kbin('mod', e, kconst(VEC)), kconst(0)));

/** An operand `load(buf, at)` of an f32 buffer, `at` stepping by 1 along `along`: vector-readable under `guard`. */
export interface VecAccess { readonly buf: number; readonly at: KExpr; readonly guard: Guard }

/** How `e` can be read VEC elements at a time along variable `along`, starting where `along` is a multiple of VEC; null: scalar. */
export function vecRead(e: KExpr, along: string, buffers: readonly KBuffer[]): VecAccess | null {
  if (e.k !== 'load' || buffers[e.buf]!.dtype !== 'f32') return null;
  return vecIndex(e.buf, e.at, along);
}

/** The same for an index `at` into buffer `buf` (a store's). */
export function vecIndex(buf: number, at: KExpr, along: string): VecAccess | null {
  if (coefficientOf(at, along) !== 1) return null;
  const guard = multipleOfVec(substitute(at, { [along]: kconst(0) }));
  return guard === false ? null : { buf, at, guard };
}
