/**
 * Symbolic dimensions: integer polynomials over named symbols (B, S, ...).
 * Canonical form (sorted terms, merged coefficients) makes structural equality a string compare.
 */
export interface Term { readonly c: number; readonly syms: readonly string[] }
export interface Dim { readonly terms: readonly Term[]; readonly key: string }
export type Shape = readonly Dim[];

function make(terms: Term[]): Dim {
  const acc = new Map<string, { c: number; syms: string[] }>();
  for (const t of terms) {
    const syms = [...t.syms].sort();
    const k = syms.join('*');
    const e = acc.get(k);
    if (e) e.c += t.c; else acc.set(k, { c: t.c, syms });
  }
  const out = [...acc.entries()].filter(([, v]) => v.c !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const ts = out.map(([, v]) => Object.freeze({ c: v.c, syms: Object.freeze(v.syms) }));
  const key = ts.length === 0 ? '0' : ts.map((t) => termStr(t)).join(' + ').replace(/\+ -/g, '- ');
  return Object.freeze({ terms: Object.freeze(ts), key });
}
function termStr(t: Term): string {
  if (t.syms.length === 0) return String(t.c);
  const s = t.syms.join('*');
  return t.c === 1 ? s : t.c === -1 ? `-${s}` : `${t.c}*${s}`;
}

export const dimConst = (n: number): Dim => make([{ c: n, syms: [] }]);
export const dimSym = (name: string): Dim => make([{ c: 1, syms: [name] }]);
export const dimAdd = (a: Dim, b: Dim): Dim => make([...a.terms, ...b.terms]);
export const dimSub = (a: Dim, b: Dim): Dim => make([...a.terms, ...b.terms.map((t) => ({ c: -t.c, syms: t.syms }))]);
export function dimMul(a: Dim, b: Dim): Dim {
  const out: Term[] = [];
  for (const x of a.terms) for (const y of b.terms) out.push({ c: x.c * y.c, syms: [...x.syms, ...y.syms] });
  return make(out);
}
/** Exact division by a constant; undefined when some coefficient is not divisible. */
export function dimDivConst(a: Dim, k: number): Dim | undefined {
  if (k === 0 || !a.terms.every((t) => t.c % k === 0)) return undefined;
  return make(a.terms.map((t) => ({ c: t.c / k, syms: t.syms })));
}
/** Exact division of polynomials for the common case: b is a single term dividing every term of a. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  const k = dimAsConst(b);
  if (k !== undefined) return dimDivConst(a, k);
  if (b.terms.length !== 1) return undefined;
  const bt = b.terms[0]!;
  const out: Term[] = [];
  for (const t of a.terms) {
    if (t.c % bt.c !== 0) return undefined;
    const rest = [...t.syms];
    for (const s of bt.syms) {
      const i = rest.indexOf(s);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
    out.push({ c: t.c / bt.c, syms: rest });
  }
  return make(out);
}
export const dimEq = (a: Dim, b: Dim): boolean => a.key === b.key;
export function dimAsConst(d: Dim): number | undefined {
  if (d.terms.length === 0) return 0;
  if (d.terms.length === 1 && d.terms[0]!.syms.length === 0) return d.terms[0]!.c;
  return undefined;
}
export const dimSymbols = (d: Dim): string[] => [...new Set(d.terms.flatMap((t) => t.syms))];
export const dimStr = (d: Dim): string => d.key;
export const shapeStr = (s: Shape): string => `[${s.map(dimStr).join(', ')}]`;
export const shapeEq = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => dimEq(d, b[i]!));

export type Bindings = ReadonlyMap<string, number> | Readonly<Record<string, number>>;
function lookup(b: Bindings, s: string): number | undefined {
  return b instanceof Map ? b.get(s) : (b as Record<string, number>)[s];
}
/** Evaluate with symbols bound; throws if a symbol is unbound (a caller bug: bind from inputs first). */
export function dimEval(d: Dim, b: Bindings): number {
  let v = 0;
  for (const t of d.terms) {
    let p = t.c;
    for (const s of t.syms) {
      const x = lookup(b, s);
      if (x === undefined) throw new Error(`unbound dimension symbol '${s}'`);
      p *= x;
    }
    v += p;
  }
  return v;
}
export const shapeEval = (s: Shape, b: Bindings): number[] => s.map((d) => dimEval(d, b));
export const shapeProduct = (s: Shape): Dim => s.reduce((a, d) => dimMul(a, d), dimConst(1));
export const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * The sign of `d` over every binding of its symbols to integers >= 1 (dimensions are never empty: a 0 is
 * refused when they are bound). 'nonneg' and 'neg' are proofs; 'unknown' means it depends on the sizes.
 * Substituting s = 1 + e (e >= 0) and expanding: all coefficients >= 0 proves d >= 0; all <= 0 with a negative
 * constant proves d < 0.
 */
export function dimSign(d: Dim): 'nonneg' | 'neg' | 'unknown' {
  const c = dimAsConst(d);
  if (c !== undefined) return c >= 0 ? 'nonneg' : 'neg';
  const acc = new Map<string, number>();
  for (const t of d.terms) {
    const k = t.syms.length;
    if (k > 12) return 'unknown';
    for (let mask = 0; mask < 1 << k; mask++) {
      const key = t.syms.filter((_, i) => mask & (1 << i)).join('*');
      acc.set(key, (acc.get(key) ?? 0) + t.c);
    }
  }
  const coeffs = [...acc.values()];
  if (coeffs.every((x) => x >= 0)) return 'nonneg';
  if (coeffs.every((x) => x <= 0) && (acc.get('') ?? 0) < 0) return 'neg';
  return 'unknown';
}
