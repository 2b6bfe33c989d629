/**
 * Builders: each kernel kind, with its schedule, written once as a structured kernel body (kernel-ir.ts).
 * Both renderers print what these return, so WGSL and CUDA run the same algorithm.
 *
 * How to add a kernel kind (scatter-add, attention backward, decode sampling ...):
 * 1. declare its algorithm-level interface and schedule in kernel.ts (what it computes: KExprs over named
 *    variables, buffers by id) and add it to the `Kernel` union;
 * 2. create it in lower.ts from the graph nodes it implements (and list its reads in fixReads);
 * 3. write `build<Kind>` here from statements (loop, unrolled, if_, barrier, aset, store ...) and add it to
 *    buildKernel's switch. Bind the algorithm's variables with `substitute`, not by shadowing names; keep
 *    barriers in uniform control flow; clamp or guard every load and store index.
 * Nothing in the renderers changes, unless the kernel needs a new expression or statement (then add one entry
 * to each target's table; a missing entry is a type error). Test it against the interpreter on both targets.
 */
import { dimAsConst, type Dim } from '../core/dim.js';
import { dimExpr, delinearize, kbin, kcast, kclamp, kconst, kload, kun, kvar, kwhere, type AttentionKernel, type KBuffer, type KExpr, type Kernel, type MapKernel, type MatmulKernel, type RowKernel, type KSpecial } from './kernel.js';
import { buildAttentionBwd } from './kernel-build-attn-bwd.js';
import { accumBlocks, blockRegisters, dotBlocks, eachPair, maskPairs, zigzag } from './kernel-build-rows.js';
import { buildScatter } from './kernel-build-scatter.js';
import { BARRIER, BREAK, CONTINUE, RETURN, VEC, aset, array, if_, let_, loop, set, store, substitute, substituteStmts, unrolled, var_, vload, vstore, type KBody, type KStmt } from './kernel-ir.js';
import { divisible, guardAll, vecIndex, vecRead, type Guard, type VecAccess } from './kernel-vec.js';

const F32_MAX = 3.4028234663852886e38;
const NEG = kconst(-F32_MAX, 'f32');
const f = (v: number) => kconst(v, 'f32');
const i = (v: number) => kconst(v);
const v = (name: string, dtype: 'i32' | 'f32' | 'bool' = 'i32') => kvar(name, dtype);
const sp = (name: KSpecial): KExpr => ({ k: 'special', name, dtype: 'i32' });
const al = (arr: string, at: KExpr, dtype: 'f32' | 'i32' = 'f32'): KExpr => ({ k: 'aload', arr, at, dtype });
const fma = (a: KExpr, b: KExpr, c: KExpr): KExpr => ({ k: 'fma', a, b, c, dtype: 'f32' });
const add = (a: KExpr, b: KExpr) => kbin('add', a, b), sub = (a: KExpr, b: KExpr) => kbin('sub', a, b);
const mul = (a: KExpr, b: KExpr) => kbin('mul', a, b), div = (a: KExpr, b: KExpr) => kbin('div', a, b), mod = (a: KExpr, b: KExpr) => kbin('mod', a, b);
const lt = (a: KExpr, b: KExpr) => kbin('lt', a, b), and = (a: KExpr, b: KExpr) => kbin('and', a, b);
const fadd = (a: KExpr, b: KExpr) => kbin('add', a, b, 'f32'), fmul = (a: KExpr, b: KExpr) => kbin('mul', a, b, 'f32');
const fsub = (a: KExpr, b: KExpr) => kbin('sub', a, b, 'f32');
const ceilDiv = (a: KExpr, b: number) => div(add(a, i(b - 1)), i(b));
const product = (ds: readonly KExpr[]) => ds.reduce((a, d) => mul(a, d), i(1));

interface Ctx { readonly buffers: readonly KBuffer[]; readonly symbols: readonly string[] }
const ld = (c: Ctx, buf: number, at: KExpr): KExpr => kload(buf, at, c.buffers[buf]!.dtype);

/** The kernel body of any kernel kind under its schedule. */
export function buildKernel(k: Kernel, buffers: readonly KBuffer[], symbols: readonly string[]): KBody {
  const c = { buffers, symbols };
  switch (k.kind) {
    case 'map': return buildMap(k, c);
    case 'row': return buildRow(k, c);
    case 'matmul': return k.schedule.vec ? buildMatmulVec(k, c) : k.schedule.shared ? buildMatmulShared(k, c) : buildMatmul(k, c);
    case 'attention': return k.schedule.splitk ? buildAttentionSplitK(k, c) : (k.schedule.rows ?? 1) > 1 || (k.schedule.lanes ?? 1) > 1 ? buildAttentionRows(k, c) : buildAttention(k, c);
    case 'attention_bwd': return buildAttentionBwd(k, c);
    case 'scatter': return buildScatter(k, c);
  }
}

const lets = (names: string, values: readonly KExpr[]): KStmt[] => values.map((e, j) => let_(`${names}${j}`, e));

/** Element-wise: `perThread` consecutive elements per invocation, one linear grid. */
function buildMap(k: MapKernel, c: Ctx): KBody {
  const { wg, perThread } = k.schedule;
  const total = product(k.shape.map((d) => dimExpr(d, c.symbols)));
  const base = mul(add(mul(sp('wlin'), i(wg)), sp('lix')), i(perThread));
  const body: KStmt[] = [
    let_('base', base),
    unrolled('e', perThread, [if_(lt(add(v('base'), v('e')), total), [
      let_('gid', add(v('base'), v('e'))),
      ...lets('i', delinearize(v('gid'), k.shape, c.symbols)),
      store(k.out, v('gid'), k.value),
    ])]),
  ];
  return { name: k.name, label: k.label, out: k.out, workgroup: [wg, 1, 1], shared: [], grid: { linear: ceilDiv(total, wg * perThread) }, body };
}

/**
 * Rows of a workgroup (RowSchedule): `rows` per workgroup, L = wg / rows lanes each. Each reduction is a strided
 * pass per lane, then a tree over the row's L slots of workgroup memory; L = 1 needs neither (a serial pass per
 * invocation). With several rows and L > 1 the barriers stay in uniform control flow: a row past the end
 * reduces nothing (its pass is empty) and stores nothing.
 */
function buildRow(k: RowKernel, c: Ctx): KBody {
  const { wg } = k.schedule, R = k.schedule.rows ?? 1, L = wg / R;
  if ((wg & (wg - 1)) !== 0 || !Number.isInteger(L) || (R & (R - 1)) !== 0) throw new Error(`internal error: ${k.name}: row schedule ${JSON.stringify(k.schedule)} is not powers of two with rows dividing wg`);
  const nrows = product(k.rows.map((d) => dimExpr(d, c.symbols)));
  const types = L === 1 ? [] : [...new Set(k.reds.map((r) => (r.value.dtype === 'f32' ? 'f32' : 'i32')))];
  // Early exit only where no barrier follows: one row per workgroup (uniform) or one per invocation.
  const exits = R === 1 || L === 1;
  // One row per workgroup prints as before: the lane is the invocation, the pass ends at the length.
  const lane = R === 1 ? sp('lix') : v('lane'), end = exits ? v('len') : v('rend');
  const body: KStmt[] = [
    let_('row', R === 1 ? sp('wlin') : add(mul(sp('wlin'), i(R)), div(sp('lix'), i(L)))),
    ...(exits ? [if_(kbin('ge', v('row'), nrows), [RETURN])] : []),
    ...lets('i', delinearize(v('row'), k.rows, c.symbols)),
    let_('len', dimExpr(k.len, c.symbols)),
    ...(R === 1 ? [] : [let_('lane', kbin('mod', sp('lix'), i(L)))]),
    // The pass's end for several rows per workgroup with barriers: 0 for a row past the end.
    ...(exits ? [] : [let_('rend', kwhere(lt(v('row'), nrows), v('len'), i(0)))]),
  ];
  k.reds.forEach((r, j) => {
    const t = r.value.dtype === 'f32' ? 'f32' : 'i32';
    const sh = `sh_${t}`;
    const comb = (a: KExpr, b: KExpr) => (r.op === 'sum' ? kbin('add', a, b, t) : kbin(r.op, a, b, t));
    const init = r.op === 'sum' ? kconst(0, t) : t === 'f32' ? f(r.op === 'max' ? -F32_MAX : F32_MAX) : i(r.op === 'max' ? -2147483648 : 2147483647);
    body.push(var_(`a${j}`, t, init), loop('r', lane, end, [set(`a${j}`, comb(v(`a${j}`, t), r.value))], L));
    if (L === 1) { body.push(let_(`red${j}`, v(`a${j}`, t))); return; }
    body.push(aset(sh, sp('lix'), v(`a${j}`, t)), BARRIER);
    for (let s = L / 2; s >= 1; s /= 2) {
      body.push(if_(lt(lane, i(s)), [aset(sh, sp('lix'), comb(al(sh, sp('lix'), t), al(sh, add(sp('lix'), i(s)), t)))]), BARRIER);
    }
    body.push(let_(`red${j}`, al(sh, R === 1 ? i(0) : sub(sp('lix'), lane), t)), BARRIER);
  });
  const st = store(k.out, k.store.at, k.store.value);
  const first = kbin('eq', lane, i(0));
  body.push(k.store.perElement ? loop('r', lane, end, [st], L) : if_(exits ? first : and(first, lt(v('row'), nrows)), [st]));
  return {
    name: k.name, label: k.label, out: k.out, workgroup: [wg, 1, 1],
    shared: types.map((t) => ({ name: `sh_${t}`, dtype: t, size: wg })), grid: { linear: R === 1 ? nrows : ceilDiv(nrows, R) }, body,
  };
}

/** Batch index (wid.z) split into b0.. and the sizes, shared by both matmul schedules. */
function matmulHead(k: MatmulKernel, c: Ctx) {
  const M = dimExpr(k.M, c.symbols), N = dimExpr(k.N, c.symbols), K = dimExpr(k.K, c.symbols);
  const nb = product(k.batch.map((d) => dimExpr(d, c.symbols)));
  const { wgX, wgY, tm, tn } = k.schedule;
  const grid = { xyz: [ceilDiv(N, wgX * tn), ceilDiv(M, wgY * tm), nb] as [KExpr, KExpr, KExpr] };
  return { M, N, K, grid, head: lets('b', delinearize(sp('wid.z'), k.batch, c.symbols)) };
}

/** The tm x tn tile of C each invocation owns: rows m0 + i*wgY, columns n0 + j*wgX, epilogue fused. */
function matmulStores(k: MatmulKernel, M: KExpr, N: KExpr, m0: KExpr, n0: KExpr): KStmt {
  const { wgX, wgY, tn } = k.schedule;
  const m = add(m0, mul(v('i'), i(wgY))), n = add(n0, mul(v('j'), i(wgX)));
  const env = { m, n, acc: al('c', add(mul(v('i'), i(tn)), v('j'))) };
  return unrolled('i', k.schedule.tm, [unrolled('j', tn, [
    if_(and(lt(m, M), lt(n, N)), [store(k.out, substitute(k.at, env), substitute(k.epilogue, env))]),
  ])]);
}

const tileFma = (tm: number, tn: number): KStmt => unrolled('i', tm, [unrolled('j', tn, [
  aset('c', add(mul(v('i'), i(tn)), v('j')), fma(al('av', v('i')), al('bv', v('j')), al('c', add(mul(v('i'), i(tn)), v('j'))))),
])]);

/**
 * for (k = from; k < to; k++) body, its body repeated `u` times per iteration (u > 1) for the first
 * (to - from) - (to - from) mod u values, then a plain loop for the rest: in bounds for every K.
 */
function unrolledLoop(k: string, from: KExpr, to: KExpr, u: number, body: readonly KStmt[]): KStmt[] {
  if (u <= 1) return [loop(k, from, to, body)];
  const main = `${k}_end`, base = `${k}_u`;
  const unroll = (end: KExpr) => loop(base, from, end, [unrolled(`${k}_j`, u, substituteStmts(body, { [k]: add(v(base), v(`${k}_j`)) }))], u);
  // A constant trip count that u divides needs no remainder loop (the workgroup-memory tile: tk).
  if (from.k === 'const' && to.k === 'const' && (to.v - from.v) % u === 0) return [unroll(to)];
  return [
    let_(main, sub(to, mod(sub(to, from), i(u)))),
    unroll(v(main)),
    loop(k, v(main), to, body),
  ];
}

/**
 * lid.y of a register-tiled matmul; a constant 0 in a workgroup one invocation tall, so that A's rows are visibly
 * the same for the whole workgroup (a driver that knows it, like llvmpipe, loads them once for all its lanes).
 */
const lidY = (wgY: number): KExpr => (wgY > 1 ? sp('lid.y') : i(0));

/**
 * Register tiling: neighbouring invocations own neighbouring columns, so loads and stores of B and C are
 * contiguous across a SIMD group; operands (and fused prologues) are evaluated per k, clamped to the matrix.
 */
function buildMatmul(k: MatmulKernel, c: Ctx): KBody {
  const { wgX, wgY, tm, tn } = k.schedule;
  const { M, N, K, grid, head } = matmulHead(k, c);
  const m0 = add(mul(sp('wid.y'), i(wgY * tm)), lidY(wgY)), n0 = add(mul(sp('wid.x'), i(wgX * tn)), sp('lid.x'));
  const row = kbin('min', add(v('m0'), mul(v('i'), i(wgY))), sub(M, i(1)));
  const bLoads = (kk: KExpr) => unrolled('j', tn, [aset('bv', v('j'), substitute(k.b, { k: kk, n: kbin('min', add(v('n0'), mul(v('j'), i(wgX))), sub(N, i(1))) }))]);
  const step = [unrolled('i', tm, [aset('av', v('i'), substitute(k.a, { m: row }))]), bLoads(v('k')), tileFma(tm, tn)];
  const sg = k.schedule.sg ?? 0;
  const body: KStmt[] = [
    ...head, let_('m0', m0), let_('n0', n0),
    array('c', tm * tn, true), array('av', tm, true), array('bv', tn, true),
    ...(sg > 0 ? subgroupSteps(k, K, sg, row, bLoads, step) : unrolledLoop('k', i(0), K, k.schedule.ku ?? 1, step)),
    matmulStores(k, M, N, v('m0'), v('n0')),
  ];
  return { name: k.name, label: k.label, out: k.out, workgroup: [wgX, wgY, 1], shared: [], grid, body };
}

/**
 * The K loop of the subgroup-broadcast schedule (wgY 1: every invocation of the workgroup needs the same tm rows
 * of A). K goes in chunks of `sg`: lane l of each subgroup loads A[row][k0 + l mod sg] for its tm rows, and each
 * of the sg k-values reaches every lane by subgroup broadcast from lane kk (sg <= the smallest subgroup size, so
 * lanes 0..sg-1 exist in every subgroup, whatever the size or how invocations map to subgroups). One load of A
 * per sg k-steps instead of one per step; the K mod sg tail runs the plain step. Uniform control flow throughout.
 */
function subgroupSteps(k: MatmulKernel, K: KExpr, sg: number, row: KExpr, bLoads: (kk: KExpr) => KStmt, step: readonly KStmt[]): KStmt[] {
  const { tm, tn } = k.schedule;
  const chunk: KStmt[] = [unrolled('i', tm, [aset('ar', v('i'), substitute(k.a, { m: row, k: add(v('k0'), v('lane')) }))])];
  for (let kk = 0; kk < sg; kk++) {
    chunk.push(
      ...Array.from({ length: tm }, (_, r) => aset('av', i(r), { k: 'bcast', a: al('ar', i(r)), lane: kk, dtype: 'f32' } as KExpr)),
      bLoads(add(v('k0'), i(kk))), tileFma(tm, tn),
    );
  }
  return [
    array('ar', tm, true), let_('lane', mod(sp('sgid'), i(sg))), let_('k_end', sub(K, mod(K, i(sg)))),
    loop('k0', i(0), v('k_end'), chunk, sg),
    loop('k', v('k_end'), K, step),
  ];
}

/**
 * Workgroup-memory tiling: the workgroup stages a (wgY*tm) x tk tile of A and a tk x (wgX*tn) tile of B (operand
 * expressions evaluated once per staged element, zero outside the matrix), then accumulates from the tiles.
 */
function buildMatmulShared(k: MatmulKernel, c: Ctx): KBody {
  const { wgX, wgY, tm, tn, tk } = k.schedule;
  const BM = wgY * tm, BN = wgX * tn, T = wgX * wgY;
  const { M, N, K, grid, head } = matmulHead(k, c);
  const lix = add(mul(sp('lid.y'), i(wgX)), sp('lid.x'));
  const stage = (tile: string, n: number, env: Record<string, KExpr>, inside: KExpr, value: KExpr): KStmt =>
    loop('e', lix, n, [
      var_('x', 'f32', f(0)), if_(inside, [set('x', substitute(value, env))]), aset(tile, v('e'), v('x', 'f32')),
    ], T);
  const am = add(v('bm0'), div(v('e'), i(tk))), ak = add(v('k0'), mod(v('e'), i(tk)));
  const bk = add(v('k0'), div(v('e'), i(BN))), bn = add(v('bn0'), mod(v('e'), i(BN)));
  const body: KStmt[] = [
    ...head, let_('bm0', mul(sp('wid.y'), i(BM))), let_('bn0', mul(sp('wid.x'), i(BN))),
    array('c', tm * tn, true), array('av', tm, true), array('bv', tn, true),
    loop('k0', 0, K, [
      stage('ta', BM * tk, { m: am, k: ak }, and(lt(am, M), lt(ak, K)), k.a),
      stage('tb', tk * BN, { k: bk, n: bn }, and(lt(bn, N), lt(bk, K)), k.b),
      BARRIER,
      ...unrolledLoop('kk', i(0), i(tk), k.schedule.ku ?? 1, [
        unrolled('i', tm, [aset('av', v('i'), al('ta', add(mul(add(sp('lid.y'), mul(v('i'), i(wgY))), i(tk)), v('kk'))))]),
        unrolled('j', tn, [aset('bv', v('j'), al('tb', add(add(mul(v('kk'), i(BN)), sp('lid.x')), mul(v('j'), i(wgX)))))]),
        tileFma(tm, tn),
      ]),
      BARRIER,
    ], tk),
    matmulStores(k, M, N, add(v('bm0'), sp('lid.y')), add(v('bn0'), sp('lid.x'))),
  ];
  return {
    name: k.name, label: k.label, out: k.out, workgroup: [wgX, wgY, 1], grid, body,
    shared: [{ name: 'ta', dtype: 'f32', size: BM * tk }, { name: 'tb', dtype: 'f32', size: tk * BN }],
  };
}

/**
 * The vec4 family (schedule `vec`): each invocation owns tm rows (m0 + i*wgY) and tn / 4 groups of 4 consecutive
 * columns (nb + g*4*wgX + l), so a row of B and of C is read / written as one vector per group. Per 4-step of
 * K: A's tm rows are read along K (a vector per row where A is K-contiguous), B's 4 rows along N (or its tn
 * columns along K where B is K-contiguous, e.g. q k^T), then 4 x tm x tn FMAs; a scalar tail takes K mod 4.
 * Operands that are not plain f32 loads of a contiguous layout (fused prologues, strided views) stay scalar.
 * Alignment the dims decide is tested once per invocation (uniform): the kernel then holds the vector path
 * and, after it, the scalar schedule as the fallback. With `shared`, the workgroup-memory tiles are staged
 * four elements at a time. Loads are clamped into the matrix as in the scalar kinds; every vector access is a
 * whole aligned group inside its buffer (N % 4 == 0 wherever groups run along N, K % 4 == 0 along K).
 */
function buildMatmulVec(k: MatmulKernel, c: Ctx): KBody {
  const { wgX, wgY, tm, tn, shared } = k.schedule;
  const scalar = shared ? buildMatmulShared(k, c) : buildMatmul(k, c);
  const { M, N, K, head } = matmulHead(k, c);
  const A = vecRead(k.a, 'k', c.buffers);
  const Bn = vecRead(k.b, 'n', c.buffers), Bk = Bn || shared ? null : vecRead(k.b, 'k', c.buffers);
  // C is written as vectors only where no run-time test decides it: the scalar fallback would otherwise store
  // single lanes of a vec4-typed binding, and WGSL lets a component store write the whole vector (a race between
  // neighbouring invocations). Reads are not affected: A and B keep their run-time tests.
  const Cv = c.buffers[k.out]!.dtype === 'f32' && k.epilogue.dtype === 'f32' ? vecIndex(k.out, k.at, 'n') : null;
  const C = Cv && guardAll([Cv.guard, divisible(N)]) === true ? Cv : null;
  if (!A && !Bn && !Bk && !C) return scalar;
  const pos = (d: KExpr): Guard => (d.k === 'const' ? d.v > 0 : kbin('gt', d, i(0)));
  const guard = guardAll([
    pos(M), pos(N),
    ...A ? [A.guard, divisible(K)] : [], ...Bk ? [Bk.guard, divisible(K)] : [],
    ...Bn ? [Bn.guard, divisible(N)] : [], ...C ? [C.guard, divisible(N)] : [],
  ]);
  if (guard === false) return scalar;
  const G = wgX * VEC;                                  // columns between an invocation's groups
  const col = (j: KExpr) => add(add(v('nb'), mul(div(j, i(VEC)), i(G))), mod(j, i(VEC)));
  const body = shared ? matmulSharedVec(k, c, M, N, K, A, Bn) : matmulRegisterVec(k, M, N, K, A, Bn, Bk, col);
  // Stores: a vector per group where C is N-contiguous (N % 4 == 0: a group is inside or outside), else per column.
  const m = add(v('m0'), mul(v('i'), i(wgY))), n = add(v('nb'), mul(v('g'), i(G)));
  const env = (l: number) => ({ m, n: add(n, i(l)), acc: al('c', add(mul(v('i'), i(tn)), add(mul(v('g'), i(VEC)), i(l)))) });
  const epi = (l: number) => substitute(k.epilogue, env(l));
  const stores = unrolled('i', tm, [unrolled('g', tn / VEC, C
    ? [if_(and(lt(m, M), lt(n, N)), [vstore(k.out, substitute(k.at, { m, n }), [0, 1, 2, 3].map(epi))])]
    : [0, 1, 2, 3].map((l) => if_(and(lt(m, M), lt(add(n, i(l)), N)), [store(k.out, substitute(k.at, env(l)), epi(l))])))]);
  const vecBody = [...head, ...body, stores];
  const all = guard === true ? vecBody : [if_(guard, [...vecBody, RETURN]), ...scalar.body];
  return { ...scalar, body: all };
}

/** The register-tiled vec4 K loop (see buildMatmulVec); leaves the tm x tn sums in `c`, columns `col(j)`. */
function matmulRegisterVec(k: MatmulKernel, M: KExpr, N: KExpr, K: KExpr, A: VecAccess | null, Bn: VecAccess | null, Bk: VecAccess | null, col: (j: KExpr) => KExpr): KStmt[] {
  const { wgX, wgY, tm, tn } = k.schedule;
  const row = kbin('min', add(v('m0'), mul(v('i'), i(wgY))), sub(M, i(1)));
  const colClamped = kbin('min', col(v('j')), sub(N, i(1)));
  const k4 = add(v('k0'), v('kk'));
  const aLoads = A
    ? unrolled('i', tm, [vload('a4', mul(v('i'), i(VEC)), A.buf, substitute(A.at, { m: row, k: v('k0') }))])
    : unrolled('i', tm, [unrolled('kk', VEC, [aset('a4', add(mul(v('i'), i(VEC)), v('kk')), substitute(k.a, { m: row, k: k4 }))])]);
  const bLoads = Bn
    // row k0 + kk of B, group g: columns clamped as a group (N % 4 == 0, so N - 4 starts the last whole group)
    ? unrolled('kk', VEC, [unrolled('g', tn / VEC, [vload('b4', add(mul(v('kk'), i(tn)), mul(v('g'), i(VEC))), Bn.buf,
      substitute(Bn.at, { k: k4, n: kbin('min', add(v('nb'), mul(v('g'), i(wgX * VEC))), sub(N, i(VEC))) }))])])
    : Bk
      ? unrolled('j', tn, [{ s: 'vload', buf: Bk.buf, at: substitute(Bk.at, { k: v('k0'), n: colClamped }), dst: [0, 1, 2, 3].map((kk) => ({ arr: 'b4', at: add(i(kk * tn), v('j')) })) }])
      : unrolled('kk', VEC, [unrolled('j', tn, [aset('b4', add(mul(v('kk'), i(tn)), v('j')), substitute(k.b, { k: k4, n: colClamped }))])]);
  const cij = add(mul(v('i'), i(tn)), v('j'));
  const fmas = unrolled('kk', VEC, [unrolled('i', tm, [unrolled('j', tn, [
    aset('c', cij, fma(al('a4', add(mul(v('i'), i(VEC)), v('kk'))), al('b4', add(mul(v('kk'), i(tn)), v('j'))), al('c', cij))),
  ])])]);
  // K mod 4 tail, scalar: lane 0 of each register row.
  const tail = [
    unrolled('i', tm, [aset('a4', mul(v('i'), i(VEC)), substitute(k.a, { m: row, k: v('k') }))]),
    unrolled('j', tn, [aset('b4', v('j'), substitute(k.b, { k: v('k'), n: colClamped }))]),
    unrolled('i', tm, [unrolled('j', tn, [aset('c', cij, fma(al('a4', mul(v('i'), i(VEC))), al('b4', v('j')), al('c', cij)))])]),
  ];
  return [
    let_('m0', add(mul(sp('wid.y'), i(wgY * tm)), lidY(wgY))), let_('nb', add(mul(sp('wid.x'), i(wgX * tn)), mul(sp('lid.x'), i(VEC)))),
    array('c', tm * tn, true), array('a4', tm * VEC, true), array('b4', VEC * tn, true),
    let_('k_end', sub(K, mod(K, i(VEC)))),
    loop('k0', i(0), v('k_end'), [aLoads, bLoads, fmas], VEC),
    // (no tail where K is a known multiple of 4)
    ...(K.k === 'const' && K.v % VEC === 0 ? [] : [loop('k', v('k_end'), K, tail)]),
  ];
}

/**
 * The workgroup-memory vec4 K loop: A's (wgY*tm) x tk tile and B's tk x (wgX*tn) tile staged four consecutive
 * elements per step (a vector load where the operand allows it, zeros outside the matrix), then the same
 * accumulation as buildMatmulShared with this family's column groups. Leaves the sums in `c`.
 */
function matmulSharedVec(k: MatmulKernel, c: Ctx, M: KExpr, N: KExpr, K: KExpr, A: VecAccess | null, Bn: VecAccess | null): KStmt[] {
  const { wgX, wgY, tm, tn, tk } = k.schedule;
  const BM = wgY * tm, BN = wgX * tn, T = wgX * wgY;
  const lix = add(mul(sp('lid.y'), i(wgX)), sp('lid.x'));
  const e4 = mul(v('e'), i(VEC));
  // Four consecutive tile elements from element (r, q) of the operand: a vector, or four clamped scalar reads.
  const stage = (tile: string, n: number, r: KExpr, q: KExpr, inside: (l: number) => KExpr, vecAt: KExpr | null, buf: number, value: (l: number) => KExpr): KStmt =>
    loop('e', lix, n / VEC, [
      let_('r', r), let_('q', q),
      ...vecAt
        ? [if_(inside(0), [vload(tile, e4, buf, vecAt)]), if_(kun('not', inside(0)), [0, 1, 2, 3].map((l) => aset(tile, add(e4, i(l)), f(0))))].flat()
        : [0, 1, 2, 3].flatMap((l) => [var_(`x${l}`, 'f32', f(0)), if_(inside(l), [set(`x${l}`, value(l))]), aset(tile, add(e4, i(l)), v(`x${l}`, 'f32'))]),
    ].flat(), T);
  const am = add(v('bm0'), v('r')), ak = (l: number) => add(add(v('k0'), v('q')), i(l));
  const bk = add(v('k0'), v('r')), bn = (l: number) => add(add(v('bn0'), v('q')), i(l));
  const gcol = add(add(mul(div(v('j'), i(VEC)), i(wgX * VEC)), mul(sp('lid.x'), i(VEC))), mod(v('j'), i(VEC)));
  return [
    let_('bm0', mul(sp('wid.y'), i(BM))), let_('bn0', mul(sp('wid.x'), i(BN))),
    let_('m0', add(v('bm0'), sp('lid.y'))), let_('nb', add(v('bn0'), mul(sp('lid.x'), i(VEC)))),
    array('c', tm * tn, true), array('av', tm, true), array('bv', tn, true),
    loop('k0', 0, K, [
      stage('ta', BM * tk, div(e4, i(tk)), mod(e4, i(tk)), (l) => and(lt(am, M), lt(ak(l), K)), A ? substitute(A.at, { m: am, k: ak(0) }) : null, A?.buf ?? -1,
        (l) => substitute(k.a, { m: am, k: ak(l) })),
      stage('tb', tk * BN, div(e4, i(BN)), mod(e4, i(BN)), (l) => and(lt(bn(l), N), lt(bk, K)), Bn ? substitute(Bn.at, { k: bk, n: bn(0) }) : null, Bn?.buf ?? -1,
        (l) => substitute(k.b, { k: bk, n: bn(l) })),
      BARRIER,
      ...unrolledLoop('kk', i(0), i(tk), k.schedule.ku ?? 1, [
        unrolled('i', tm, [aset('av', v('i'), al('ta', add(mul(add(sp('lid.y'), mul(v('i'), i(wgY))), i(tk)), v('kk'))))]),
        unrolled('j', tn, [aset('bv', v('j'), al('tb', add(mul(v('kk'), i(BN)), gcol)))]),
        tileFma(tm, tn),
      ]),
      BARRIER,
    ], tk),
  ];
}

/**
 * The head dimension lives in registers (unrolled) when it is small enough: private arrays are scratch memory
 * on some devices (lavapipe). A schedule property derived from the shapes, the same on every target.
 */
const unrollHead = (k: AttentionKernel) => k.D <= 128 && k.Dv <= 128 && (k.schedule.splitk !== undefined || k.schedule.bk <= 32);

/** Sizes, the (batch, head) of this workgroup, the query row in registers and the online-softmax state (unless qrow is null). */
function attentionHead(k: AttentionKernel, c: Ctx, qrow: KExpr | null, rows: number, gqa = false) {
  const [B, Hq, Hkv, Sq, Sk] = [k.B, k.Hq, k.Hkv, k.Sq, k.Sk].map((d) => dimExpr(d, c.symbols)) as [KExpr, KExpr, KExpr, KExpr, KExpr];
  const reg = unrollHead(k);
  const dloop = (n: number, body: KStmt[]) => (reg ? unrolled('d', n, body) : loop('d', 0, n, body));
  const { bq, bk } = k.schedule;
  const head: KStmt[] = [
    // wid.y: batch * query head, or (gqa) batch * KV head
    ...gqa ? [let_('b0', div(sp('wid.y'), Hkv)), let_('hk', mod(sp('wid.y'), Hkv))]
      : [let_('bh', sp('wid.y')), let_('b0', div(v('bh'), Hq)), let_('hk', div(mod(v('bh'), Hq), div(Hq, Hkv)))],
    ...qrow === null ? [] : [
      array('qr', k.D, reg), array('o', k.Dv, reg),
      dloop(k.D, [aset('qr', v('d'), fmul(kcast(ld(c, k.q, add(mul(add(mul(v('bh'), Sq), qrow), i(k.D)), v('d'))), 'f32'), f(k.scale)))]),
      var_('mx', 'f32', NEG), var_('l', 'f32', f(0)),
    ],
    let_('nkt', ceilDiv(Sk, bk)), let_('nqt', ceilDiv(Sq, bq)), let_('kvbase', mul(add(mul(v('b0'), Hkv), v('hk')), Sk)),
  ];
  const grid = { xyz: [rows === 1 ? Sq : ceilDiv(Sq, rows), mul(B, gqa ? Hkv : Hq), i(1)] as [KExpr, KExpr, KExpr] };
  /** EMPTY tiles are skipped (uniformly for the workgroup), FULL tiles skip the mask test. */
  const tileClass: KStmt[] = k.tiles !== null
    ? [let_('cls', kload(k.tiles, add(mul(add(mul(v('b0'), v('nqt')), v('qt')), v('nkt')), v('t')), 'i32')), if_(kbin('eq', v('cls'), i(0)), [CONTINUE])]
    : [];
  const partial = (e: KExpr) => (k.tiles !== null ? and(kbin('eq', v('cls'), i(2)), e) : e);
  const kAt = (kv: KExpr, d: KExpr) => add(mul(add(v('kvbase'), kv), i(k.D)), d);
  const vAt = (kv: KExpr, d: KExpr) => add(mul(add(v('kvbase'), kv), i(k.Dv)), d);
  const finish = (q: KExpr, l: KExpr, o: (d: KExpr) => KExpr): KStmt[] => [
    let_('inv', kwhere(kbin('gt', l, f(0)), kbin('div', f(1), l, 'f32'), f(0))),
    let_('obase', mul(add(mul(v('bh'), Sq), q), i(k.Dv))),
    dloop(k.Dv, [store(k.out, add(v('obase'), v('d')), fmul(o(v('d')), v('inv', 'f32')))]),
  ];
  return { Sq, Sk, head, grid, tileClass, partial, kAt, vAt, dloop, finish, reg };
}

/** Row jj, column dd of a staged tile with rows of n (< W when D != Dv: skip the columns past n). */
function tileLoad(n: number, W: number, tile: string, value: KExpr): KStmt {
  const st = aset(tile, add(mul(v('jj'), i(n)), v('dd')), value);
  return n === W ? st : if_(lt(v('dd'), i(n)), [st]);
}

/**
 * Flash attention (prefill, image block): one workgroup per (query tile, batch * head); invocation i owns query
 * row qt*bq + i. Key/value tiles are staged in workgroup memory; each key updates the online softmax (register
 * form: rescale only when the running max moves) or a tile's scores are computed first, then one rescale.
 */
function buildAttention(k: AttentionKernel, c: Ctx): KBody {
  const { bq, bk } = k.schedule;
  const D = k.D, Dv = k.Dv, W = Math.max(D, Dv);
  const a = attentionHead(k, c, v('qc'), bq);
  const mask = k.mask ? substitute(k.mask, { q: v('qc'), kv: v('kv') }) : null;
  const okInit: KStmt[] = [
    let_('kv', add(mul(v('t'), i(bk)), v('j'))),
    var_('ok', 'bool', and(lt(v('kv'), a.Sk), lt(v('qi'), a.Sq))),
    ...mask ? [if_(a.partial(v('ok', 'bool')), [set('ok', mask)])] : [],
  ];
  const dot: KStmt[] = [var_('dot', 'f32', f(0)), a.dloop(D, [set('dot', fma(al('qr', v('d')), al('kt', add(mul(v('j'), i(D)), v('d'))), v('dot', 'f32')))])];
  const mx = v('mx', 'f32'), l = v('l', 'f32');
  const keys: KStmt[] = a.reg
    ? [loop('j', 0, bk, [...okInit, if_(v('ok', 'bool'), [
      ...dot,
      if_(kbin('gt', v('dot', 'f32'), mx), [
        let_('corr', kun('exp', fsub(mx, v('dot', 'f32')))), set('l', fmul(l, v('corr', 'f32'))),
        a.dloop(Dv, [aset('o', v('d'), fmul(al('o', v('d')), v('corr', 'f32')))]), set('mx', v('dot', 'f32')),
      ]),
      let_('p', kun('exp', fsub(v('dot', 'f32'), mx))), set('l', fadd(l, v('p', 'f32'))),
      a.dloop(Dv, [aset('o', v('d'), fma(v('p', 'f32'), al('vt', add(mul(v('j'), i(Dv)), v('d'))), al('o', v('d'))))]),
    ])])]
    : [
      array('s', bk), var_('tmax', 'f32', NEG),
      loop('j', 0, bk, [...okInit, ...dot,
        aset('s', v('j'), kwhere(v('ok', 'bool'), v('dot', 'f32'), NEG)),
        if_(v('ok', 'bool'), [set('tmax', kbin('max', v('tmax', 'f32'), v('dot', 'f32'), 'f32'))])]),
      if_(kbin('gt', v('tmax', 'f32'), NEG), [
        let_('nm', kbin('max', mx, v('tmax', 'f32'), 'f32')), let_('corr', kun('exp', fsub(mx, v('nm', 'f32')))), set('l', fmul(l, v('corr', 'f32'))),
        a.dloop(Dv, [aset('o', v('d'), fmul(al('o', v('d')), v('corr', 'f32')))]),
        loop('j', 0, bk, [if_(kbin('gt', al('s', v('j')), NEG), [
          let_('p', kun('exp', fsub(al('s', v('j')), v('nm', 'f32')))), set('l', fadd(l, v('p', 'f32'))),
          loop('d', 0, Dv, [aset('o', v('d'), fma(v('p', 'f32'), al('vt', add(mul(v('j'), i(Dv)), v('d'))), al('o', v('d'))))]),
        ])]),
        set('mx', v('nm', 'f32')),
      ]),
    ];
  const body: KStmt[] = [
    let_('qt', sp('wid.x')), let_('qi', add(mul(v('qt'), i(bq)), sp('lix'))), let_('qc', kclamp(v('qi'), a.Sq)),
    ...a.head,
    loop('t', 0, v('nkt'), [
      ...a.tileClass,
      stageKV(k, c, a, bq),
      BARRIER,
      ...keys,
      BARRIER,
    ]),
    if_(lt(v('qi'), a.Sq), a.finish(v('qi'), l, (d) => al('o', d))),
  ];
  return {
    name: k.name, label: k.label, out: k.out, workgroup: [bq, 1, 1], grid: a.grid, body,
    shared: [{ name: 'kt', dtype: 'f32', size: bk * D }, { name: 'vt', dtype: 'f32', size: bk * Dv }],
  };
}

/** K and V tile t staged in workgroup memory by `wg` invocations (rows past Sk repeat the last row, masked later). */
function stageKV(k: AttentionKernel, c: Ctx, a: ReturnType<typeof attentionHead>, wg: number): KStmt {
  const W = Math.max(k.D, k.Dv);
  return loop('e', sp('lix'), k.schedule.bk * W, [
    let_('jj', div(v('e'), i(W))), let_('dd', mod(v('e'), i(W))), let_('kvl', kclamp(add(mul(v('t'), i(k.schedule.bk)), v('jj')), a.Sk)),
    tileLoad(k.D, W, 'kt', kcast(ld(c, k.kbuf, a.kAt(v('kvl'), v('dd'))), 'f32')),
    tileLoad(k.Dv, W, 'vt', kcast(ld(c, k.v, a.vAt(v('kvl'), v('dd'))), 'f32')),
  ], wg);
}

/** Query heads per KV head of an attention whose head counts are constants (the gqa schedule needs it). */
export function attentionGroup(k: { readonly Hq: Dim; readonly Hkv: Dim }): number {
  const hq = dimAsConst(k.Hq), hkv = dimAsConst(k.Hkv);
  if (hq === undefined || hkv === undefined || hkv === 0 || hq % hkv !== 0) throw new Error('internal error: gqa attention schedule needs constant head counts');
  return hq / hkv;
}

/**
 * Flash attention with R = schedule.rows query rows per invocation, for CPU-like devices (lavapipe): a workgroup
 * of bq / R invocations owns query tile qt, invocation x the rows qt*bq + r*(bq/R) + x (r < R). Per key tile, as
 * register blocks (kernel-build-rows.ts): the R x bk scores over d, masked (PARTIAL tiles only); one online-softmax
 * update per row; O = O * corr + P V over the tile's keys. The scaled query rows, the scores and the output rows
 * are the invocation's private arrays; keys and values are read as broadcasts: no workgroup memory, no barrier.
 * With schedule.gqa the workgroup serves the G query heads of one KV head (grid y = B * Hkv) and an invocation's
 * rows span them, so every key / value read feeds all G heads.
 * With schedule.lanes = L > 1 the head dim is split across L invocations (lanes) sharing the same rows: lane l
 * holds columns l*D/L .. (l+1)*D/L of its rows' Q and O and reads only those of K and V. Each lane writes its
 * partial dot products to workgroup memory; after a barrier every lane sums the L partials of all its scores in
 * the same order (so all lanes hold bit-identical scores, and the same softmax max and sum, without exchanging
 * them), and a second barrier frees the memory for the next tile. Both barriers are in uniform control flow: the
 * tile loop and its EMPTY-tile skip are the workgroup's. More invocations per row, fewer registers each.
 */
function buildAttentionRows(k: AttentionKernel, c: Ctx): KBody {
  const { bq, bk } = k.schedule;
  // G query heads per invocation (gqa), Rp positions of each: row r is head hk * G + r / Rp, position r % Rp.
  const G = k.schedule.gqa ? attentionGroup(k) : 1;
  const R = k.schedule.rows ?? 1, Rp = R / G, T = bq / Rp, L = k.schedule.lanes ?? 1, D = k.D / L, Dv = k.Dv / L;
  if (!Number.isInteger(Rp) || !Number.isInteger(T)) throw new Error(`internal error: ${k.name}: rows ${R} / heads ${G} do not divide bq ${bq}`);
  if (!Number.isInteger(D) || !Number.isInteger(Dv)) throw new Error(`internal error: ${k.name}: ${L} lanes do not divide head dims ${k.D} / ${k.Dv}`);
  const a = attentionHead(k, c, null, bq, G > 1);
  // The invocation's row group (what lix is without lanes) and its lane: columns lane * D .. of each head-dim slice.
  const grp = L > 1 ? v('grp') : sp('lix'), lane = v('lane');
  const kCol = (d: KExpr) => (L > 1 ? add(mul(lane, i(D)), d) : d), vCol = (d: KExpr) => (L > 1 ? add(mul(lane, i(Dv)), d) : d);
  const rs = Array.from({ length: R }, (_, r) => r);
  const fv = (name: string) => v(name, 'f32'), r_ = (arr: string, at: number) => al(arr, i(at));
  const kvOf = (j: KExpr) => add(mul(v('t'), i(bk)), j), kvl = (j: KExpr) => kclamp(kvOf(j), a.Sk);
  const sAt = (r: number, j: KExpr) => add(i(r * bk), j);
  const Hq = dimExpr(k.Hq, c.symbols);
  const bhOf = (r: number) => (G > 1 ? add(mul(v('b0'), Hq), add(mul(v('hk'), i(G)), i(Math.floor(r / Rp)))) : v('bh'));
  const rowsHead: KStmt[] = rs.flatMap((r) => [
    let_(`qi${r}`, add(add(mul(v('qt'), i(bq)), i((r % Rp) * T)), grp)), let_(`qc${r}`, kclamp(v(`qi${r}`), a.Sq)), let_(`bh${r}`, bhOf(r)),
    loop('d', 0, D, [aset('qr', add(i(r * D), v('d')), fmul(kcast(ld(c, k.q, add(mul(add(mul(v(`bh${r}`), a.Sq), v(`qc${r}`)), i(k.D)), kCol(v('d')))), 'f32'), f(k.scale)))]),
  ]);
  // Scores s[r][j], then NEG where the pair is out of range or (PARTIAL tiles) masked. With lanes: partial dots
  // part[((grp * L + lane) * R + r) * bk + j], summed over the L lanes of the group after a barrier.
  const qiOf = (r: KExpr) => add(add(mul(v('qt'), i(bq)), mul(G > 1 ? mod(r, i(Rp)) : r, i(T))), grp);
  const partAt = (l: KExpr, r: KExpr, j: KExpr) => add(mul(add(mul(add(mul(grp, i(L)), l), i(R)), r), i(bk)), j);
  const dots = dotBlocks(R, bk, D, (r, d) => al('qr', add(i(r * D), d)), (j, d) => kcast(ld(c, k.kbuf, a.kAt(kvl(j), kCol(d))), 'f32'),
    (r, j, dot) => [L > 1 ? aset('part', partAt(lane, i(r), j), dot) : aset('s', sAt(r, j), dot)]);
  // NEG where the pair is out of range or (every tile when dense, PARTIAL tiles when sparse) masked.
  const edge = kbin('or', kbin('gt', mul(add(v('t'), i(1)), i(bk)), a.Sk), kbin('gt', mul(add(v('qt'), i(1)), i(bq)), a.Sq));
  const maskScores = maskPairs(R, bk, edge, k.tiles !== null ? kbin('eq', v('cls'), i(2)) : null, (r, j) => and(lt(kvOf(j), a.Sk), lt(qiOf(r), a.Sq)),
    k.mask ? (r, j) => substitute(k.mask!, { q: kclamp(qiOf(r), a.Sq), kv: kvOf(j) }) : null, (r, j) => [aset('s', add(mul(r, i(bk)), j), NEG)]);
  const scores: KStmt[] = [
    ...L > 1 ? [dots, BARRIER, eachPair(R, bk, (r, j) => [
      set('ls', f(0)), loop('u', 0, L, [set('ls', fadd(fv('ls'), al('part', partAt(v('u'), r, j))))]), aset('s', add(mul(r, i(bk)), j), fv('ls')),
    ]), BARRIER] : [dots],
    ...maskScores,
  ];
  // Per row: the tile's max, the rescale factor of what came before, P = exp(s - max) in place of the scores.
  const softmax: KStmt[] = rs.flatMap((r) => [
    set('nm', r_('mx', r)), loop('j', 0, bk, [set('nm', kbin('max', fv('nm'), al('s', sAt(r, v('j'))), 'f32'))]),
    aset('cr', i(r), kun('exp', fsub(r_('mx', r), fv('nm')))), set('ls', f(0)),
    loop('j', 0, bk, [
      let_('p', kwhere(kbin('gt', al('s', sAt(r, v('j'))), NEG), kun('exp', fsub(al('s', sAt(r, v('j'))), fv('nm'))), f(0))),
      aset('s', sAt(r, v('j')), fv('p')), set('ls', fadd(fv('ls'), fv('p'))),
    ]),
    aset('l', i(r), fadd(fmul(r_('l', r), r_('cr', r)), fv('ls'))), aset('mx', i(r), fv('nm')),
  ]);
  const pv = accumBlocks(R, Dv, bk, 'o', (r) => r_('cr', r), (r, j) => al('s', sAt(r, j)), (j, d) => kcast(ld(c, k.v, a.vAt(kvl(j), vCol(d))), 'f32'));
  const body: KStmt[] = [
    // Workgroups 0, 1, 2, 3 ... take query tiles 0, n-1, 1, n-2 ... (zigzag: lavapipe's threads each take one
    // contiguous block of workgroups).
    ...a.head, let_('qt', zigzag(sp('wid.x'), v('nqt'))),
    ...L > 1 ? [let_('grp', div(sp('lix'), i(L))), let_('lane', mod(sp('lix'), i(L)))] : [],
    array('qr', R * D), array('o', R * Dv), array('s', R * bk), array('mx', R, true), array('l', R, true), array('cr', R, true), ...blockRegisters(R),
    ...rowsHead, ...rs.map((r) => aset('mx', i(r), NEG)),
    var_('ok', 'bool', kconst(0, 'bool')), var_('nm', 'f32', NEG), var_('ls', 'f32', f(0)),
    loop('t', 0, v('nkt'), [...a.tileClass, ...scores, ...softmax, pv]),
    ...rs.map((r) => if_(lt(v(`qi${r}`), a.Sq), [
      let_('inv', kwhere(kbin('gt', r_('l', r), f(0)), kbin('div', f(1), r_('l', r), 'f32'), f(0))),
      let_('obase', mul(add(mul(v(`bh${r}`), a.Sq), v(`qi${r}`)), i(k.Dv))),
      loop('d', 0, Dv, [store(k.out, add(v('obase'), vCol(v('d'))), fmul(al('o', add(i(r * Dv), v('d'))), v('inv', 'f32')))]),
    ])),
  ];
  return {
    name: k.name, label: k.label, out: k.out, workgroup: [T * L, 1, 1], grid: a.grid, body,
    shared: L > 1 ? [{ name: 'part', dtype: 'f32', size: T * L * R * bk }] : [],
  };
}

/**
 * Decode (split-K): one workgroup per (query row, batch * head). Invocation t takes key tiles t, t + W, ...
 * with its own running max, sum and output, read straight from memory (a single row has no reuse to stage);
 * the W partial states are merged through workgroup memory at the end.
 */
function buildAttentionSplitK(k: AttentionKernel, c: Ctx): KBody {
  const { bq, bk } = k.schedule;
  const W = k.schedule.splitk!;
  const Dv = k.Dv;
  const a = attentionHead(k, c, v('qi'), 1);
  const mask = k.mask ? substitute(k.mask, { q: v('qi'), kv: v('kv') }) : null;
  const mx = v('mx', 'f32'), l = v('l', 'f32');
  const pm = (t: KExpr) => al('pm', t), pl = (t: KExpr) => al('pl', t);
  const gm = v('gm', 'f32');
  const body: KStmt[] = [
    let_('qi', sp('wid.x')), let_('qt', div(v('qi'), i(bq))),
    ...a.head,
    loop('t', sp('lix'), v('nkt'), [
      ...a.tileClass,
      loop('j', 0, bk, [
        let_('kv', add(mul(v('t'), i(bk)), v('j'))),
        if_(kbin('ge', v('kv'), a.Sk), [BREAK]),
        ...mask ? [if_(a.partial(kun('not', mask)), [CONTINUE])] : [],
        var_('dot', 'f32', f(0)),
        a.dloop(k.D, [set('dot', fma(al('qr', v('d')), kcast(ld(c, k.kbuf, a.kAt(v('kv'), v('d'))), 'f32'), v('dot', 'f32')))]),
        let_('nm', kbin('max', mx, v('dot', 'f32'), 'f32')), let_('corr', kun('exp', fsub(mx, v('nm', 'f32')))),
        let_('p', kun('exp', fsub(v('dot', 'f32'), v('nm', 'f32')))),
        set('l', fadd(fmul(l, v('corr', 'f32')), v('p', 'f32'))),
        a.dloop(Dv, [aset('o', v('d'), fma(v('p', 'f32'), kcast(ld(c, k.v, a.vAt(v('kv'), v('d'))), 'f32'), fmul(al('o', v('d')), v('corr', 'f32'))))]),
        set('mx', v('nm', 'f32')),
      ]),
    ], W),
    aset('pm', sp('lix'), mx), aset('pl', sp('lix'), l),
    a.dloop(Dv, [aset('po', add(mul(sp('lix'), i(Dv)), v('d')), al('o', v('d')))]),
    BARRIER,
    if_(kbin('eq', sp('lix'), i(0)), [
      var_('gm', 'f32', NEG), loop('u', 0, W, [set('gm', kbin('max', gm, pm(v('u')), 'f32'))]),
      var_('gl', 'f32', f(0)),
      loop('u', 0, W, [if_(kbin('gt', pl(v('u')), f(0)), [set('gl', fadd(v('gl', 'f32'), fmul(pl(v('u')), kun('exp', fsub(pm(v('u')), gm)))))])]),
      let_('inv', kwhere(kbin('gt', v('gl', 'f32'), f(0)), kbin('div', f(1), v('gl', 'f32'), 'f32'), f(0))),
      let_('obase', mul(add(mul(v('bh'), a.Sq), v('qi')), i(Dv))),
      loop('d', 0, Dv, [
        var_('acc', 'f32', f(0)),
        loop('u', 0, W, [if_(kbin('gt', pl(v('u')), f(0)), [set('acc', fma(al('po', add(mul(v('u'), i(Dv)), v('d'))), kun('exp', fsub(pm(v('u')), gm)), v('acc', 'f32')))])]),
        store(k.out, add(v('obase'), v('d')), fmul(v('acc', 'f32'), v('inv', 'f32'))),
      ]),
    ]),
  ];
  return {
    name: k.name, label: k.label, out: k.out, workgroup: [W, 1, 1], grid: a.grid, body,
    shared: [{ name: 'pm', dtype: 'f32', size: W }, { name: 'pl', dtype: 'f32', size: W }, { name: 'po', dtype: 'f32', size: W * Dv }],
  };
}
