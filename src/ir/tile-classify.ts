/**
 * Block sparsity for attention masks (FlexAttention's BlockMask): every bq x bk tile of the (q, k) plane is
 * EMPTY (skip it), FULL (no per-element test) or PARTIAL, found without evaluating the S x S elements.
 *
 * Method: abstract interpretation of the mask IExpr over one tile, with b exact and q, k as intervals of the
 * tile's real positions (q < Sq, k < Sk). Every value is an interval of numeric values (u32 read unsigned;
 * bool [0,0] false, [1,1] true, [0,1] unknown) or null (unknown, may be NaN), computed with the interpreter's
 * operand casts (interp-iexpr.ts). Sound: EMPTY only if no element is allowed, FULL only if all are.
 *
 * Intervals alone lose holes (a k-tile holding image ids {-1, 1} hulls to [-1, 1], which "may equal" image 0)
 * and correlation (the two reads of img[b,q] in `img[b,q] >= 0 && img[b,q] == img[b,k]` are treated as
 * independent). So "row loads" (one index exactly q or k, the others b, constants or dims) are split by case:
 * per tile, the distinct values of the row with the hull of the positions holding each, and the predicate is
 * evaluated once per combination with q (k) narrowed to that hull. For per-position loads compared for
 * equality and half-planes in q, k (k <= q, k < len[b], q - k < w), whether a combination is all true or all
 * false depends only on the extremes of its position sets, which the hulls keep. That is why causal, padding,
 * sliding window, prefix-LM, document and Transfusion masks come out exact (tested), as long as a tile range
 * holds at most GROUP_CAP distinct values and the combinations stay within maxCombos; past that a row load
 * falls back to its [min, max] (sound, looser).
 *
 * Conservative elsewhere: a load with another index form (img[b, q - 1], x[b, q, k]) gets the whole tensor's
 * [min, max] unless its indices are single values; mod, pow and float functions (exp, ...) are unknown; int
 * arithmetic that may wrap is unknown; float add/sub/mul/div with an infinite bound is unknown.
 *
 * Cost: one O(Sq) or O(Sk) scan per row load and batch row, one O(size) scan per tensor read generically, and
 * at most maxCombos predicate evaluations per tile: O(B (nQT nKT maxCombos |mask| + Sq + Sk)) overall.
 */
import { dimEval } from '../core/dim.js';
import { isFloat, promote, type DType } from '../core/dtype.js';
import type { HostTensor } from '../core/tensor.js';
import { COMPARE_OPS, type BinaryOp, type IExpr, type UnaryOp } from './graph.js';
import { canon, castScalar, numericValue } from './interp-scalar.js';

export const EMPTY = 0, FULL = 1, PARTIAL = 2;
/** Most distinct values a row load may hold in one tile range and still be split by case. */
export const GROUP_CAP = 8;

export interface ClassifyOptions {
  readonly B: number; readonly Sq: number; readonly Sk: number; readonly bq: number; readonly bk: number;
  readonly dims: Readonly<Record<string, number>>;
  /** Most predicate evaluations (case combinations) per tile; 1 turns case splitting off. Default 64. */
  readonly maxCombos?: number;
  /** Incremented if given: `evals` abstract evaluations of the predicate, `reads` elements scanned up front. */
  readonly counter?: { evals: number; reads: number };
}
export interface TileClasses {
  /** classes[(b * nQT + qt) * nKT + kt] is EMPTY, FULL or PARTIAL. */
  readonly classes: Int32Array;
  readonly counts: { empty: number; full: number; partial: number };
}

type Iv = { readonly lo: number; readonly hi: number } | null;
const iv = (lo: number, hi: number): Iv => ({ lo, hi });
const F = iv(0, 0), T = iv(1, 1), U = iv(0, 1);
const RANGE: Partial<Record<DType, readonly [number, number]>> = {
  i32: [-(2 ** 31), 2 ** 31 - 1], i64: [-(2 ** 31), 2 ** 31 - 1], u32: [0, 2 ** 32 - 1], bool: [0, 1],
};

/** [lo, hi] as a value of t: floats rounded (rounding is monotone), ints only where nothing wraps. */
function fit(t: DType, lo: number, hi: number): Iv {
  if (Number.isNaN(lo) || Number.isNaN(hi)) return null;
  if (isFloat(t)) return iv(canon(lo, t), canon(hi, t));
  const r = RANGE[t]!;
  return lo >= r[0] && hi <= r[1] ? iv(lo + 0, hi + 0) : null; // + 0 turns -0 into 0
}
function toBool(v: Iv): Iv {
  if (v === null) return U;
  if (v.lo === 0 && v.hi === 0) return F;
  return v.lo > 0 || v.hi < 0 ? T : U;
}
const not = (v: Iv): Iv => (v === T ? F : v === F ? T : U);

/** castScalar on intervals: every conversion it makes is monotone, except int -> int reinterpreting bits. */
function cast(v: Iv, from: DType, to: DType): Iv {
  if (from === to) return v;
  if (to === 'bool') return toBool(v);
  if (v === null) return null;
  if (isFloat(to)) return iv(canon(v.lo, to), canon(v.hi, to));
  if (isFloat(from)) return iv(numericValue(castScalar(v.lo, from, to), to), numericValue(castScalar(v.hi, from, to), to));
  return fit(to, v.lo, v.hi);
}

function compare(op: BinaryOp, a: Iv, b: Iv): Iv {
  if (a === null || b === null) return U;
  switch (op) {
    case 'lt': return a.hi < b.lo ? T : a.lo >= b.hi ? F : U;
    case 'le': return a.hi <= b.lo ? T : a.lo > b.hi ? F : U;
    case 'gt': return compare('lt', b, a);
    case 'ge': return compare('le', b, a);
    case 'eq': return a.lo === a.hi && b.lo === b.hi && a.lo === b.lo ? T : a.hi < b.lo || b.hi < a.lo ? F : U;
    default: return not(compare('eq', a, b)); // 'ne'
  }
}

const mul = (x: number, y: number): number => x * y;
const fdiv = (x: number, y: number): number => x / y;
const idiv = (x: number, y: number): number => Math.trunc(x / y);

function arith(op: BinaryOp, t: DType, a: Iv, b: Iv): Iv {
  if (a === null || b === null) return null;
  if (op === 'max' || op === 'min') { const f = Math[op]; return iv(f(a.lo, b.lo), f(a.hi, b.hi)); }
  if (isFloat(t) && ![a.lo, a.hi, b.lo, b.hi].every(Number.isFinite)) return null; // Inf - Inf, 0 * Inf
  if (op === 'add') return fit(t, a.lo + b.lo, a.hi + b.hi);
  if (op === 'sub') return fit(t, a.lo - b.hi, a.hi - b.lo);
  // mul, and div by a divisor of one sign, are monotone in each operand: the extremes sit at the corners.
  const f = op === 'mul' ? mul : op === 'div' && (b.lo > 0 || b.hi < 0) ? (isFloat(t) ? fdiv : idiv) : null;
  if (f === null) return null;
  const c = [f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo), f(a.hi, b.hi)];
  return fit(t, Math.min(...c), Math.max(...c));
}

function unary(op: UnaryOp, t: DType, a: Iv): Iv {
  if (op === 'not') return not(toBool(a));
  if (a === null) return null;
  switch (op) {
    case 'neg': return fit(t, -a.hi, -a.lo);
    case 'abs': return t === 'u32' || a.lo >= 0 ? a : a.hi <= 0 ? fit(t, -a.hi, -a.lo) : fit(t, 0, Math.max(-a.lo, a.hi));
    case 'floor': case 'ceil': return isFloat(t) ? iv(Math[op](a.lo), Math[op](a.hi)) : a;
    default: return null;
  }
}

/** The positions of one tile range (hull p0..p1) where a row holds value v. */
interface Group { readonly v: number; p0: number; p1: number }
/** A row load over one tile range: its [min, max], and its groups unless over GROUP_CAP values or NaN. */
interface Summary { readonly hull: Iv; readonly groups: readonly Group[] | null }
/** A load whose index is exactly q (v = 1) or k (v = 2) on `axis`, every other index b, a const or a dim. */
interface Site { readonly e: Extract<IExpr, { k: 'load' }>; readonly axis: number; readonly v: 1 | 2 }

const COMPARE = new Set<BinaryOp>(COMPARE_OPS);
const isFixed = (x: IExpr): boolean => x.k === 'const' || x.k === 'dim' || (x.k === 'idx' && x.i === 0);
const isVar = (x: IExpr): boolean => x.k === 'idx' && (x.i === 1 || x.i === 2);
/** Site identity ignores the load's dtype, so reads of one row at two dtypes still share a case split. */
function siteKey(e: Extract<IExpr, { k: 'load' }>): string {
  return `${e.src}[${e.idx.map((x) => (x.k === 'idx' ? `i${x.i}` : x.k === 'const' ? `c${x.v}${x.dtype}` : x.k === 'dim' ? `d${x.d.key}` : '?')).join(',')}]`;
}

/** Classify every tile of `mask` (null allows everything) over batch rows 0..B-1. See the file comment. */
export function classifyTiles(mask: IExpr | null, inputs: readonly HostTensor[], o: ClassifyOptions): TileClasses {
  const { B, Sq, Sk, bq, bk, dims } = o;
  const maxCombos = o.maxCombos ?? 64;
  for (const [name, v, min] of [['B', B, 0], ['Sq', Sq, 0], ['Sk', Sk, 0], ['bq', bq, 1], ['bk', bk, 1], ['maxCombos', maxCombos, 1]] as const)
    if (!Number.isInteger(v) || v < min) throw new Error(`classifyTiles: ${name} must be an integer >= ${min}, got ${v}`);
  const nQT = Math.ceil(Sq / bq), nKT = Math.ceil(Sk / bk);
  const classes = new Int32Array(B * nQT * nKT);
  const counts = { empty: 0, full: 0, partial: 0 };
  if (mask === null) { classes.fill(FULL); counts.full = classes.length; return { classes, counts }; }
  const counter = o.counter ?? { evals: 0, reads: 0 };

  // Check every load once, and find the row-load sites.
  const sites: Site[] = [];
  const siteOf = new Map<IExpr, number>();
  const keys = new Map<string, number>();
  const walk = (e: IExpr): void => {
    if (e.k === 'idx' && (e.i < 0 || e.i > 2)) throw new Error(`classifyTiles: mask uses index variable ${e.i}; masks bind only b, q, k (0, 1, 2)`);
    if (e.k === 'load') {
      const s = inputs[e.src];
      if (!s) throw new Error(`classifyTiles: mask loads input ${e.src}, but ${inputs.length} mask inputs were given`);
      if (s.shape.length !== e.idx.length) throw new Error(`classifyTiles: mask input ${e.src} has shape [${s.shape.join(', ')}], loaded with ${e.idx.length} indices`);
      if (s.shape.includes(0)) throw new Error(`classifyTiles: mask input ${e.src} has empty shape [${s.shape.join(', ')}]`);
      const axis = e.idx.findIndex(isVar);
      if (axis >= 0 && e.idx.every((x, d) => d === axis || isFixed(x))) {
        const key = siteKey(e);
        if (!keys.has(key)) { keys.set(key, sites.length); sites.push({ e, axis, v: (e.idx[axis] as { i: 1 | 2 }).i }); }
        siteOf.set(e, keys.get(key)!);
      }
    }
    if (e.k === 'load') e.idx.forEach(walk);
    else if (e.k === 'un' || e.k === 'cast') walk(e.a);
    else if (e.k === 'bin') { walk(e.a); walk(e.b); }
    else if (e.k === 'where') { walk(e.c); walk(e.a); walk(e.b); }
  };
  walk(mask);

  const clamp = (x: number, n: number): number => Math.min(Math.max(Math.trunc(x), 0), n - 1);
  const clampIv = (v: Iv, n: number): readonly [number, number] => (v === null ? [0, n - 1] : [clamp(v.lo, n), clamp(v.hi, n)]);
  const value = (s: HostTensor, flat: number): Iv => { const x = numericValue(s.data[flat]!, s.dtype); return Number.isNaN(x) ? null : iv(x, x); };
  const wholeHull = new Map<number, Iv>();
  const hullOf = (src: number): Iv => {
    const n = inputs[src]!.data.length;
    if (!wholeHull.has(src)) wholeHull.set(src, summarize(inputs[src]!, 0, 1, n, n, n)[0]!.hull);
    return wholeHull.get(src)!;
  };
  /** Per tile range [p0, p0 + bs) of positions p < S: the row's values at base + min(p, n - 1) * stride. */
  function summarize(s: HostTensor, base: number, stride: number, n: number, bs: number, S: number): Summary[] {
    const out: Summary[] = [];
    for (let p0 = 0; p0 < S; p0 += bs) {
      let lo = Infinity, hi = -Infinity, nan = false, groups: Group[] | null = [];
      for (let p = p0; p < Math.min(p0 + bs, S) && !nan; p++) {
        counter.reads++;
        const v = numericValue(s.data[base + Math.min(p, n - 1) * stride]!, s.dtype);
        nan = Number.isNaN(v);
        lo = Math.min(lo, v); hi = Math.max(hi, v);
        const g = groups?.find((x) => x.v === v);
        if (g) g.p1 = p;
        else if (groups) groups = groups.length < GROUP_CAP ? [...groups, { v, p0: p, p1: p }] : null;
      }
      out.push(nan ? { hull: null, groups: null } : { hull: iv(lo, hi), groups });
    }
    return out;
  }
  const rows = new Map<string, Summary[]>();
  /** The summaries of site i's row in batch b, one per q-tile (or k-tile). */
  function rowOf(i: number, b: number): Summary[] {
    const { e, axis, v } = sites[i]!, s = inputs[e.src]!;
    let base = 0, stride = 1;
    for (let d = 0; d < s.shape.length; d++) {
      const n = s.shape[d]!;
      base *= n; stride = d > axis ? stride * n : stride;
      if (d !== axis) base += clampIv(ev(e.idx[d]!, { b: iv(b, b), q: null, k: null, site: [] }), n)[0];
    }
    const key = `${i}:${base}`;
    if (!rows.has(key)) rows.set(key, summarize(s, base, stride, s.shape[axis]!, v === 1 ? bq : bk, v === 1 ? Sq : Sk));
    return rows.get(key)!;
  }

  interface Ctx { readonly b: Iv; readonly q: Iv; readonly k: Iv; readonly site: readonly Iv[] }
  const evAs = (e: IExpr, t: DType, c: Ctx): Iv => cast(ev(e, c), e.dtype, t);
  function ev(e: IExpr, c: Ctx): Iv {
    switch (e.k) {
      case 'idx': return e.i === 0 ? c.b : e.i === 1 ? c.q : c.k;
      case 'const': { const x = numericValue(canon(e.v, e.dtype), e.dtype); return Number.isNaN(x) ? null : iv(x, x); }
      case 'dim': { const x = canon(dimEval(e.d, dims), 'i32'); return iv(x, x); }
      case 'load': {
        const s = inputs[e.src]!, i = siteOf.get(e);
        if (i !== undefined && c.site[i] !== undefined) return cast(c.site[i]!, s.dtype, e.dtype);
        const r = e.idx.map((x, d) => clampIv(ev(x, c), s.shape[d]!));
        if (r.some(([lo, hi]) => lo !== hi)) return cast(hullOf(e.src), s.dtype, e.dtype);
        return cast(value(s, r.reduce((f, [x], d) => f * s.shape[d]! + x, 0)), s.dtype, e.dtype);
      }
      case 'un': {
        const t = e.op === 'not' ? e.a.dtype : e.dtype;
        return cast(unary(e.op, t, evAs(e.a, t, c)), e.op === 'not' ? 'bool' : t, e.dtype);
      }
      case 'bin': {
        const logic = e.op === 'and' || e.op === 'or', cmp = COMPARE.has(e.op);
        const t = logic ? 'bool' : cmp ? promote(e.a.dtype, e.b.dtype) : e.dtype;
        let a = evAs(e.a, t, c), b = evAs(e.b, t, c);
        if (logic) { a = toBool(a); b = toBool(b); } // a bool input may hold any nonzero int; F, T, U are shared
        if (e.op === 'and') return cast(a === F || b === F ? F : a === T && b === T ? T : U, 'bool', e.dtype);
        if (e.op === 'or') return cast(a === T || b === T ? T : a === F && b === F ? F : U, 'bool', e.dtype);
        return cmp ? cast(compare(e.op, a, b), 'bool', e.dtype) : cast(arith(e.op, t, a, b), t, e.dtype);
      }
      case 'where': {
        const cond = toBool(evAs(e.c, 'bool', c)), a = evAs(e.a, e.dtype, c), b = evAs(e.b, e.dtype, c);
        if (cond === T) return a;
        if (cond === F) return b;
        return a === null || b === null ? null : iv(Math.min(a.lo, b.lo), Math.max(a.hi, b.hi));
      }
      case 'cast': return evAs(e.a, e.dtype, c);
    }
  }

  // Per-tile state, kept outside the functions below so that the tile loop allocates little.
  const root = mask, sum: Summary[] = [], site: Iv[] = [], split: number[] = [];
  let b = 0, bIv = iv(0, 0), sawT = false, sawF = false;
  /** Evaluate every combination of the split sites' groups from split[j] on; true once both outcomes were seen. */
  function visit(j: number, q: Iv, k: Iv): boolean {
    if (j === split.length) {
      counter.evals++;
      const r = toBool(cast(ev(root, { b: bIv, q, k, site }), root.dtype, 'bool'));
      if (r !== F) sawT = true;
      if (r !== T) sawF = true;
      return sawT && sawF;
    }
    const i = split[j]!, onQ = sites[i]!.v === 1, r = onQ ? q! : k!;
    for (const g of sum[i]!.groups!) {
      const lo = Math.max(r.lo, g.p0), hi = Math.min(r.hi, g.p1);
      if (lo > hi) continue; // no position in range holds this combination of values
      site[i] = iv(g.v, g.v);
      if (visit(j + 1, onQ ? iv(lo, hi) : q, onQ ? k : iv(lo, hi))) return true;
    }
    return false;
  }
  function classify(q: Iv, k: Iv): number {
    // Split the sites with the fewest groups first, while the product of group counts stays within maxCombos.
    split.length = 0;
    let combos = 1;
    for (let i = 0; i < sum.length; i++) site[i] = sum[i]!.hull;
    for (let n = 1; n <= GROUP_CAP; n++) for (let i = 0; i < sum.length; i++)
      if (sum[i]!.groups?.length === n && combos * n <= maxCombos) { combos *= n; split.push(i); }
    sawT = sawF = false;
    visit(0, q, k);
    return sawT && !sawF ? FULL : sawF && !sawT ? EMPTY : PARTIAL;
  }

  for (b = 0; b < B; b++) {
    const rowsB = sites.map((_, i) => rowOf(i, b));
    bIv = iv(b, b);
    for (let qt = 0; qt < nQT; qt++) for (let kt = 0; kt < nKT; kt++) {
      for (let i = 0; i < sites.length; i++) sum[i] = rowsB[i]![sites[i]!.v === 1 ? qt : kt]!;
      const cls = classify(iv(qt * bq, Math.min(Sq, (qt + 1) * bq) - 1), iv(kt * bk, Math.min(Sk, (kt + 1) * bk) - 1));
      classes[(b * nQT + qt) * nKT + kt] = cls;
      if (cls === EMPTY) counts.empty++; else if (cls === FULL) counts.full++; else counts.partial++;
    }
  }
  return { classes, counts };
}
