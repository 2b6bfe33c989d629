/**
 * The target-agnostic walk shared by the WGSL and CUDA renderers: prints kernel bodies (kernel-ir.ts) through a
 * target's statement and op tables, naming repeated subexpressions with local constants so index math and
 * loads are computed once. Every binary operation is parenthesized; no precedence printer.
 */
import type { DType } from '../core/dtype.js';
import type { BinaryOp, UnaryOp } from './graph.js';
import { kconst, type KExpr, type KSpecial } from './kernel.js';
import type { KBody, KStmt } from './kernel-ir.js';

/** What a target must provide; declared per target with `satisfies` so a missing op is a type error. */
export interface TargetTable {
  readonly unary: Record<UnaryOp, (a: string, t: DType) => string>;
  readonly binary: Record<BinaryOp, (a: string, b: string, t: DType, operand: DType) => string>;
  readonly where: (c: string, a: string, b: string) => string;
  readonly cast: (a: string, from: DType, to: DType) => string;
  readonly literal: (v: number, t: DType) => string;
  readonly type: (t: DType) => string;
  readonly letDecl: (name: string, t: DType, value: string) => string;
  /** `vec`: the buffer is declared as vectors (a kernel touches it with vload / vstore). */
  readonly load: (buf: number, at: string, t: DType, vec: boolean) => string;
  readonly sym: (i: number) => string;
  readonly special: (name: KSpecial, workgroup: readonly [number, number, number]) => string;
  readonly aload: (arr: string, at: string) => string;
  readonly fma: (a: string, b: string, c: string) => string;
  /** Subgroup broadcast of an f32 from a constant lane. */
  readonly bcast: (a: string, lane: number) => string;
}

/** Statements of a target: one entry per KStmt kind (blocks close with `}` on both targets). */
export interface StmtTable {
  readonly let: (name: string, t: DType, value: string) => string;
  readonly var: (name: string, t: DType, value: string) => string;
  readonly set: (name: string, value: string) => string;
  readonly array: (name: string, t: DType, size: number) => string;
  readonly aset: (arr: string, at: string, value: string) => string;
  /** value is an f32 (or i32) register value; `storage` the buffer's element type. */
  readonly store: (buf: number, at: string, value: string, storage: DType) => string;
  /** Declares the vector local `tmp` = the VEC elements of buffer `buf` from element `at` (a multiple of VEC). */
  readonly vload: (tmp: string, buf: number, at: string) => string;
  /** Lane `l` of the vector local `tmp`. */
  readonly lane: (tmp: string, l: number) => string;
  readonly vstore: (buf: number, at: string, values: readonly string[]) => string;
  readonly for: (v: string, from: string, to: string, step: number) => string;
  readonly if: (cond: string) => string;
  readonly break: string; readonly continue: string; readonly return: string; readonly barrier: string;
}

/** Print a lowered body's statements (no unrolled loops or register arrays left) into lines. */
export function printStmts(b: KBody, t: TargetTable, st: StmtTable, storage: (buf: number) => DType, indent = '  ', vectors: ReadonlySet<number> = new Set()): string[] {
  const lines: string[] = [];
  const p = new ExprPrinter(t, 't', b.workgroup, vectors);
  let nv = 0;
  const one = (e: KExpr, ind: string) => p.print([e], lines, ind)[0]!;
  const walk = (ss: readonly KStmt[], ind: string) => {
    for (const s of ss) {
      switch (s.s) {
        case 'let': lines.push(ind + st.let(s.name, s.value.dtype, one(s.value, ind))); break;
        case 'var': lines.push(ind + st.var(s.name, s.dtype, one(s.init, ind))); break;
        case 'set': lines.push(ind + st.set(s.name, one(s.value, ind))); break;
        case 'array': lines.push(ind + st.array(s.name, s.dtype, s.size)); break;
        case 'aset': { const [at, v] = p.print([s.at, s.value], lines, ind) as [string, string]; lines.push(ind + st.aset(s.arr, at, v)); break; }
        case 'store': { const [at, v] = p.print([s.at, s.value], lines, ind) as [string, string]; lines.push(ind + st.store(s.buf, at, v, storage(s.buf))); break; }  // never a vector buffer: bodyResources
        case 'vload': {
          const tmp = `v${nv++}`;
          const [at, ...dst] = p.print([s.at, ...s.dst.map((d) => ('arr' in d ? d.at : kconst(0)))], lines, ind);
          lines.push(ind + st.vload(tmp, s.buf, at!));
          s.dst.forEach((d, l) => lines.push(ind + ('arr' in d ? st.aset(d.arr, dst[l]!, st.lane(tmp, l)) : st.set(d.name, st.lane(tmp, l)))));
          break;
        }
        case 'vstore': { const [at, ...vs] = p.print([s.at, ...s.values], lines, ind); lines.push(ind + st.vstore(s.buf, at!, vs)); break; }
        case 'for': {
          if (s.unroll) throw new Error('internal error: unrolled loop reached a renderer (run lowerBody)');
          const [from, to] = p.print([s.from, s.to], lines, ind) as [string, string];
          lines.push(ind + st.for(s.v, from, to, s.step));
          walk(s.body, ind + '  ');
          lines.push(`${ind}}`);
          break;
        }
        case 'if': lines.push(ind + st.if(one(s.cond, ind))); walk(s.then, ind + '  '); lines.push(`${ind}}`); break;
        default: lines.push(ind + st[s.s]);
      }
    }
  };
  walk(b.body, indent);
  return lines;
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
    case 'special': s = `@${e.name}`; break;
    case 'aload': s = `A${e.arr}(${key(e.at, memo)})`; break;
    case 'fma': s = `fma(${key(e.a, memo)},${key(e.b, memo)},${key(e.c, memo)})`; break;
    case 'bcast': s = `bcast(${key(e.a, memo)},${e.lane})`; break;
  }
  memo.set(e, s);
  return s;
}

const trivial = (e: KExpr) => e.k === 'var' || e.k === 'const' || e.k === 'sym' || e.k === 'special';

/** Prints expressions into `lines`, hoisting shared subexpressions into numbered locals. */
export class ExprPrinter {
  private counter = 0;
  constructor(private readonly t: TargetTable, private readonly prefix = 't', private readonly wg: readonly [number, number, number] = [1, 1, 1], private readonly vectors: ReadonlySet<number> = new Set()) {}

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
        case 'load': case 'aload': count(e.at); break;
        case 'un': case 'cast': case 'bcast': count(e.a); break;
        case 'fma': count(e.a); count(e.b); count(e.c); break;
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
    const text = this.renderOp(e, emit);
    // bf16 values live in f32 registers; every bf16-typed result rounds to bf16, as the interpreter's nodes do.
    return e.dtype === 'bf16' && (e.k === 'un' || e.k === 'bin' || e.k === 'const') ? this.t.cast(text, 'f32', 'bf16') : text;
  }

  private renderOp(e: KExpr, emit: (e: KExpr) => string): string {
    const t = this.t;
    switch (e.k) {
      case 'var': return e.name;
      case 'const': return t.literal(e.v, e.dtype);
      case 'sym': return t.sym(e.i);
      case 'load': return t.load(e.buf, emit(e.at), e.dtype, this.vectors.has(e.buf));
      case 'un': return t.unary[e.op](emit(e.a), e.dtype);
      case 'bin': return t.binary[e.op](emit(e.a), emit(e.b), e.dtype, e.a.dtype);
      case 'where': return t.where(emit(e.c), emit(e.a), emit(e.b));
      case 'cast': return t.cast(emit(e.a), e.a.dtype, e.dtype);
      case 'special': return t.special(e.name, this.wg);
      case 'aload': return t.aload(e.arr, emit(e.at));
      case 'fma': return t.fma(emit(e.a), emit(e.b), emit(e.c));
      case 'bcast': return t.bcast(emit(e.a), e.lane);
    }
  }
}

/** True if the expression reads memory (for choosing a safe integer division). */
export function hasLoad(e: KExpr): boolean {
  switch (e.k) {
    case 'load': return true;
    case 'aload': return hasLoad(e.at);
    case 'fma': return hasLoad(e.a) || hasLoad(e.b) || hasLoad(e.c);
    case 'un': case 'cast': case 'bcast': return hasLoad(e.a);
    case 'bin': return hasLoad(e.a) || hasLoad(e.b);
    case 'where': return hasLoad(e.c) || hasLoad(e.a) || hasLoad(e.b);
    default: return false;
  }
}
