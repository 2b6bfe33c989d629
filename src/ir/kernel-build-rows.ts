/**
 * Register-blocked pieces of the rows kind of flash attention (schedule.rows > 1), shared by the forward
 * (kernel-build.ts) and the backward (kernel-build-attn-bwd.ts): an invocation owns R rows (query rows, or key
 * rows in dK / dV), kept in private arrays walked by loops, and combines them with rows read as broadcasts (the
 * same address for every invocation of the workgroup: on a CPU rasterizer one scalar load, no workgroup memory,
 * no barrier). Each piece is a small matmul with an R x 4 register block, so each broadcast element feeds R FMAs
 * and each private element up to 4. Code stays small (loops, not unrolled sequences): lavapipe's shader compiler
 * takes minutes over a few thousand unrolled statements.
 *
 * Register arrays used (declare with `blockRegisters`): ba (R x 4 accumulators), bx (R), by (4).
 */
import { kbin, kconst, kun, kwhere, type KExpr } from './kernel.js';
import { aset, array, if_, loop, set, type KStmt } from './kernel-ir.js';

const i = (x: number) => kconst(x);
const add = (a: KExpr, b: KExpr) => kbin('add', a, b), mul = (a: KExpr, b: KExpr) => kbin('mul', a, b);
const al = (arr: string, at: KExpr): KExpr => ({ k: 'aload', arr, at, dtype: 'f32' });
const fma = (a: KExpr, b: KExpr, c: KExpr): KExpr => ({ k: 'fma', a, b, c, dtype: 'f32' });
const range = (n: number) => Array.from({ length: n }, (_, x) => x);

/** The largest of 4, 2, 1 dividing n: the register block along a tile side. */
export const block = (n: number) => (n % 4 === 0 ? 4 : n % 2 === 0 ? 2 : 1);

export const blockRegisters = (R: number): KStmt[] => [array('ba', R * 4, true), array('bx', R, true), array('by', 4, true)];

/**
 * For every j < n: emit(r, j, dot_r_j) for r < R, where dot_r_j = sum_{d < depth} own(r, d) * other(j, d);
 * j walked in blocks of J (loop variable `jc`: j = jc * J + x), d by a loop (variable `d`).
 */
export function dotBlocks(R: number, n: number, depth: number, own: (r: number, d: KExpr) => KExpr, other: (j: KExpr, d: KExpr) => KExpr,
  emit: (r: number, j: KExpr, dot: KExpr) => KStmt[]): KStmt {
  const J = block(n), rs = range(R), js = range(J);
  const jc = { k: 'var', name: 'jc', dtype: 'i32' } as const;
  const jOf = (x: number) => add(mul(jc, i(J)), i(x));
  const acc = (r: number, x: number) => al('ba', i(r * J + x));
  const d = { k: 'var', name: 'd', dtype: 'i32' } as const;
  return loop('jc', 0, n / J, [
    ...rs.flatMap((r) => js.map((x) => aset('ba', i(r * J + x), kconst(0, 'f32')))),
    loop('d', 0, depth, [
      ...rs.map((r) => aset('bx', i(r), own(r, d))),
      ...js.map((x) => aset('by', i(x), other(jOf(x), d))),
      ...rs.flatMap((r) => js.map((x) => aset('ba', i(r * J + x), fma(al('bx', i(r)), al('by', i(x)), acc(r, x))))),
    ]),
    ...rs.flatMap((r) => js.flatMap((x) => emit(r, jOf(x), acc(r, x)))),
  ]);
}

/**
 * body(r, j) for every row r < R and j < n, both by loops (variables `r`, `j`): one copy of the body, not R x n
 * (a mask predicate inlined per pair made lavapipe's compiler take minutes).
 */
export function eachPair(R: number, n: number, body: (r: KExpr, j: KExpr) => KStmt[]): KStmt {
  const r = { k: 'var', name: 'r', dtype: 'i32' } as const, j = { k: 'var', name: 'j', dtype: 'i32' } as const;
  return loop('r', 0, R, [loop('j', 0, n, body(r, j))]);
}

/**
 * acc[r * width + c] = acc[r * width + c] * keep(r) + sum_{j < n} w(r, j) * other(j, c) for r < R, c < width
 * (`acc` a private array; keep null: 1): columns walked in blocks of C (loop variable `cc`), j by a loop (`j`).
 */
export function accumBlocks(R: number, width: number, n: number, acc: string, keep: ((r: number) => KExpr) | null,
  w: (r: number, j: KExpr) => KExpr, other: (j: KExpr, c: KExpr) => KExpr): KStmt {
  const C = block(width), rs = range(R), cs = range(C);
  const cc = { k: 'var', name: 'cc', dtype: 'i32' } as const, j = { k: 'var', name: 'j', dtype: 'i32' } as const;
  const at = (r: number, x: number) => add(i(r * width + x), mul(cc, i(C)));
  const reg = (r: number, x: number) => al('ba', i(r * C + x));
  return loop('cc', 0, width / C, [
    ...rs.flatMap((r) => cs.map((x) => aset('ba', i(r * C + x), keep ? kbin('mul', al(acc, at(r, x)), keep(r), 'f32') : al(acc, at(r, x))))),
    loop('j', 0, n, [
      ...rs.map((r) => aset('bx', i(r), w(r, j))),
      ...cs.map((x) => aset('by', i(x), other(j, add(mul(cc, i(C)), i(x))))),
      ...rs.flatMap((r) => cs.map((x) => aset('ba', i(r * C + x), fma(al('bx', i(r)), al('by', i(x)), reg(r, x))))),
    ]),
    ...rs.flatMap((r) => cs.map((x) => aset(acc, at(r, x), reg(r, x)))),
  ]);
}

/**
 * Tile x of n in zigzag order (0, n-1, 1, n-2, ...). lavapipe hands each of its threads one contiguous block of
 * workgroups (Mesa's lp_cs_tpool: num_workgroups / threads each, no stealing), so under a causal-like mask, where
 * the work of a tile grows with its index, linear order gives the last thread the heavy tiles (1.47x a fair split
 * for the Transfusion mask at S 2048, bench/attention-cost.ts); zigzag pairs light with heavy (1.00x there).
 */
export const zigzag = (x: KExpr, n: KExpr): KExpr =>
  kwhere(kbin('eq', kbin('mod', x, kconst(2)), kconst(0)), kbin('div', x, kconst(2)), kbin('sub', kbin('sub', n, kconst(1)), kbin('div', x, kconst(2))));

/**
 * Masking of a tile's R x n scores: `onMasked(r, j)` for the pairs out of range or refused by the mask. The pair
 * loop runs only where it can find something: out-of-range pairs only in a tile crossing the end (`edge`, uniform
 * for the workgroup), the mask only in PARTIAL tiles (`partial`: cls == 2) or in every tile when there is no tile
 * map (partial null). A FULL tile inside the bounds runs no per-pair code at all: that loop made FULL tiles of a
 * masked kernel 1.4x the cost of an unmasked one (64 x 16, rows 8, S 2048; bench/results/README.md).
 */
export function maskPairs(R: number, n: number, edge: KExpr, partial: KExpr | null, inRange: (r: KExpr, j: KExpr) => KExpr,
  mask: ((r: KExpr, j: KExpr) => KExpr) | null, onMasked: (r: KExpr, j: KExpr) => KStmt[]): KStmt[] {
  const ok = { k: 'var', name: 'ok', dtype: 'bool' } as const;
  const test = (masked: boolean) => eachPair(R, n, (r, j) => [
    set('ok', inRange(r, j)),
    ...masked && mask ? [if_(ok, [set('ok', mask(r, j))])] : [],
    if_(kun('not', ok), onMasked(r, j)),
  ]);
  if (!mask) return [if_(edge, [test(false)])];
  if (!partial) return [test(true)];
  return [if_(edge, [test(false)]), if_(partial, [test(true)])];
}
