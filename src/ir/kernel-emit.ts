/**
 * The target-agnostic walk shared by the WGSL and CUDA renderers: prints a KExpr through a target's op table,
 * naming repeated subexpressions with local constants so index math and loads are computed once.
 * Every binary operation is parenthesized; no precedence printer.
 */
import type { DType } from '../core/dtype.js';
import type { BinaryOp, UnaryOp } from './graph.js';
import type { KExpr } from './kernel.js';

/** What a target must provide; declared per target with `satisfies` so a missing op is a type error. */
export interface TargetTable {
  readonly unary: Record<UnaryOp, (a: string, t: DType) => string>;
  readonly binary: Record<BinaryOp, (a: string, b: string, t: DType, operand: DType) => string>;
  readonly where: (c: string, a: string, b: string) => string;
  readonly cast: (a: string, from: DType, to: DType) => string;
  readonly literal: (v: number, t: DType) => string;
  readonly type: (t: DType) => string;
  readonly letDecl: (name: string, t: DType, value: string) => string;
  readonly load: (buf: number, at: string, t: DType) => string;
  readonly sym: (i: number) => string;
}

function key(e: KExpr, memo: Map<KExpr, string>): string {
  const hit = memo.get(e);
  if (hit) return hit;
  let s: string;
  switch (e.k) {
    case 'var': s = `v:${e.name}`; break;
    case 'const': s = `c:${e.v}:${e.dtype}`; break;
    case 'sym': s = `s:${e.i}`; break;
    case 'load': s = `L${e.buf}(${key(e.at, memo)})`; break;
    case 'un': s = `${e.op}(${key(e.a, memo)}):${e.dtype}`; break;
    case 'bin': s = `${e.op}(${key(e.a, memo)},${key(e.b, memo)}):${e.dtype}`; break;
    case 'where': s = `?(${key(e.c, memo)},${key(e.a, memo)},${key(e.b, memo)})`; break;
    case 'cast': s = `cast(${key(e.a, memo)}):${e.dtype}`; break;
  }
  memo.set(e, s);
  return s;
}

const trivial = (e: KExpr) => e.k === 'var' || e.k === 'const' || e.k === 'sym';

/** Prints expressions into `lines`, hoisting shared subexpressions into numbered locals. */
export class ExprPrinter {
  private counter = 0;
  constructor(private readonly t: TargetTable, private readonly prefix = 't') {}

  /** Print `roots` (in order) as local declarations in `lines`; returns the printed text of each root. */
  print(roots: readonly KExpr[], lines: string[], indent: string): string[] {
    const memo = new Map<KExpr, string>();
    const uses = new Map<string, number>();
    const count = (e: KExpr) => {
      const k = key(e, memo);
      const n = (uses.get(k) ?? 0) + 1;
      uses.set(k, n);
      if (n > 1) return;
      switch (e.k) {
        case 'load': count(e.at); break;
        case 'un': case 'cast': count(e.a); break;
        case 'bin': count(e.a); count(e.b); break;
        case 'where': count(e.c); count(e.a); count(e.b); break;
      }
    };
    roots.forEach(count);
    const named = new Map<string, string>();
    const emit = (e: KExpr): string => {
      const k = key(e, memo);
      const have = named.get(k);
      if (have) return have;
      const text = this.render(e, emit);
      if (!trivial(e) && ((uses.get(k) ?? 0) > 1 || e.k === 'load')) {
        const name = `${this.prefix}${this.counter++}`;
        lines.push(`${indent}${this.t.letDecl(name, e.dtype, text)}`);
        named.set(k, name);
        return name;
      }
      return text;
    };
    return roots.map(emit);
  }

  private render(e: KExpr, emit: (e: KExpr) => string): string {
    const t = this.t;
    switch (e.k) {
      case 'var': return e.name;
      case 'const': return t.literal(e.v, e.dtype);
      case 'sym': return t.sym(e.i);
      case 'load': return t.load(e.buf, emit(e.at), e.dtype);
      case 'un': return t.unary[e.op](emit(e.a), e.dtype);
      case 'bin': return t.binary[e.op](emit(e.a), emit(e.b), e.dtype, e.a.dtype);
      case 'where': return t.where(emit(e.c), emit(e.a), emit(e.b));
      case 'cast': return t.cast(emit(e.a), e.a.dtype, e.dtype);
    }
  }
}

/** True if the expression reads memory (for choosing a safe integer division). */
export function hasLoad(e: KExpr): boolean {
  switch (e.k) {
    case 'load': return true;
    case 'un': case 'cast': return hasLoad(e.a);
    case 'bin': return hasLoad(e.a) || hasLoad(e.b);
    case 'where': return hasLoad(e.c) || hasLoad(e.a) || hasLoad(e.b);
    default: return false;
  }
}
