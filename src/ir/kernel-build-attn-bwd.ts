/**
 * Flash-attention backward as kernel-IR bodies, written once for WGSL and CUDA (kernel-build.ts header: how to
 * add a kernel kind). Three parts per attention_grad, no float atomics (every output element has one owner):
 *
 * - `stats`: per query row (invocation), scores recomputed over the key tiles with an online max / sum, then
 *   stats[row] = [log-sum-exp (0 for a fully masked row: never read), delta = dO . O];
 * - `dq`: per query tile, walking the key tiles (K and V staged in workgroup memory):
 *   P = exp(s - lse), dS = P (dO . v - delta), dQ = scale sum_j dS k_j;
 * - `dk` / `dv`: per key tile (invocation = key row, k and v in registers), walking the query tiles of every query
 *   head of the KV head's group (q and dO staged): dV = sum_i P dO_i, dK = scale sum_i dS q_i.
 *
 * The mask predicate and the EMPTY/FULL/PARTIAL tile-class map are the forward's (tile index (b, qtile, ktile)):
 * EMPTY tiles are skipped uniformly for the workgroup, FULL tiles skip the mask test. Masked pairs contribute
 * nothing, so fully masked rows give zero gradients. Every load index is clamped or guarded.
 *
 * schedule.rows > 1 selects the rows kind (buildAttentionBwdRows: R query rows, or R key rows in dk / dv, per
 * invocation, register blocks, no workgroup memory); otherwise one row per invocation with staged tiles.
 */
import { dimExpr, kbin, kcast, kclamp, kconst, kload, kun, kvar, kwhere, type AttentionBwdKernel, type KBuffer, type KExpr, type KSpecial } from './kernel.js';
import { BARRIER, CONTINUE, aset, array, if_, let_, loop, set, store, substitute, unrolled, var_, type KBody, type KStmt } from './kernel-ir.js';
import { accumBlocks, blockRegisters, dotBlocks, eachPair, maskPairs, zigzag } from './kernel-build-rows.js';

const F32_MAX = 3.4028234663852886e38;
const NEG = kconst(-F32_MAX, 'f32');
const f = (x: number) => kconst(x, 'f32');
const i = (x: number) => kconst(x);
const v = (name: string, dtype: 'i32' | 'f32' | 'bool' = 'i32') => kvar(name, dtype);
const fv = (name: string) => kvar(name, 'f32');
const sp = (name: KSpecial): KExpr => ({ k: 'special', name, dtype: 'i32' });
const al = (arr: string, at: KExpr): KExpr => ({ k: 'aload', arr, at, dtype: 'f32' });
const fma = (a: KExpr, b: KExpr, c: KExpr): KExpr => ({ k: 'fma', a, b, c, dtype: 'f32' });
const add = (a: KExpr, b: KExpr) => kbin('add', a, b), mul = (a: KExpr, b: KExpr) => kbin('mul', a, b);
const div = (a: KExpr, b: KExpr) => kbin('div', a, b), mod = (a: KExpr, b: KExpr) => kbin('mod', a, b);
const lt = (a: KExpr, b: KExpr) => kbin('lt', a, b), and = (a: KExpr, b: KExpr) => kbin('and', a, b);
const fmul = (a: KExpr, b: KExpr) => kbin('mul', a, b, 'f32'), fsub = (a: KExpr, b: KExpr) => kbin('sub', a, b, 'f32');
const fadd = (a: KExpr, b: KExpr) => kbin('add', a, b, 'f32');
const ceilDiv = (a: KExpr, b: number) => div(add(a, i(b - 1)), i(b));

interface Ctx { readonly buffers: readonly KBuffer[]; readonly symbols: readonly string[] }

export function buildAttentionBwd(k: AttentionBwdKernel, c: Ctx): KBody {
  if ((k.schedule.rows ?? 1) > 1) return buildAttentionBwdRows(k, c);
  const ld = (buf: number, at: KExpr): KExpr => kcast(kload(buf, at, c.buffers[buf]!.dtype), 'f32');
  const [B, Hq, Hkv, Sq, Sk] = [k.B, k.Hq, k.Hkv, k.Sq, k.Sk].map((d) => dimExpr(d, c.symbols)) as [KExpr, KExpr, KExpr, KExpr, KExpr];
  const { bq, bk } = k.schedule;
  const D = k.D, Dv = k.Dv;
  // Head dims in registers when small enough (as the forward): private arrays are scratch memory on lavapipe.
  const reg = D <= 128 && Dv <= 128;
  const dloop = (n: number, body: KStmt[]) => (reg ? unrolled('d', n, body) : loop('d', 0, n, body));
  const tileClass = (qt: KExpr, kt: KExpr): KStmt[] => k.tiles !== null
    ? [let_('cls', kload(k.tiles, add(mul(add(mul(v('b0'), v('nqt')), qt), v('nkt')), kt), 'i32')), if_(kbin('eq', v('cls'), i(0)), [CONTINUE])]
    : [];
  /** ok = in range, then (PARTIAL tiles only, when sparse) the mask at (b0, q, kv): evaluated only in range. */
  const okStmts = (inRange: KExpr, q: KExpr, kv: KExpr): KStmt[] => {
    const mask = k.mask ? substitute(k.mask, { q, kv }) : null;
    const gate = k.tiles !== null ? and(kbin('eq', v('cls'), i(2)), v('ok', 'bool')) : v('ok', 'bool');
    return [var_('ok', 'bool', inRange), ...mask ? [if_(gate, [set('ok', mask)])] : []];
  };
  /** Stage row jj, column dd of two tiles with rows of D and Dv (columns past a tile's width skipped). */
  type Tile = [string, number, (r: KExpr, d: KExpr) => KExpr];
  const stage = (rows: number, rowOf: (jj: KExpr) => KExpr, tiles: Tile[], wg: number): KStmt => {
    const w = Math.max(...tiles.map((t) => t[1]));
    return loop('e', sp('lix'), rows * w, [
      let_('jj', div(v('e'), i(w))), let_('dd', mod(v('e'), i(w))), let_('rw', rowOf(v('jj'))),
      ...tiles.map(([tile, n, at]) => {
        const st = aset(tile, add(mul(v('jj'), i(n)), v('dd')), at(v('rw'), v('dd')));
        return n === w ? st : if_(lt(v('dd'), i(n)), [st]);
      }),
    ], wg);
  };
  const qAt = (bh: KExpr, row: KExpr, d: KExpr) => add(mul(add(mul(bh, Sq), row), i(D)), d);
  const oAt = (bh: KExpr, row: KExpr, d: KExpr) => add(mul(add(mul(bh, Sq), row), i(Dv)), d);
  const kAt = (row: KExpr, d: KExpr) => add(mul(add(v('kvbase'), row), i(D)), d);
  const vAt = (row: KExpr, d: KExpr) => add(mul(add(v('kvbase'), row), i(Dv)), d);
  const statAt = (bh: KExpr, row: KExpr, j: number) => add(mul(add(mul(bh, Sq), row), i(2)), i(j));
  const dot = (name: string, n: number, a: (d: KExpr) => KExpr, b: (d: KExpr) => KExpr): KStmt[] =>
    [var_(name, 'f32', f(0)), dloop(n, [set(name, fma(a(v('d')), b(v('d')), fv(name)))])];

  if (k.part === 'stats' || k.part === 'dq') {
    // One workgroup per (query tile, batch * query head); invocation = query row qi.
    const head: KStmt[] = [
      let_('qt', sp('wid.x')), let_('qi', add(mul(v('qt'), i(bq)), sp('lix'))), let_('qc', kclamp(v('qi'), Sq)),
      let_('bh', sp('wid.y')), let_('b0', div(v('bh'), Hq)), let_('hk', div(mod(v('bh'), Hq), div(Hq, Hkv))),
      let_('nkt', ceilDiv(Sk, bk)), let_('nqt', ceilDiv(Sq, bq)), let_('kvbase', mul(add(mul(v('b0'), Hkv), v('hk')), Sk)),
      array('qr', D, reg),
      dloop(D, [aset('qr', v('d'), fmul(ld(k.q, qAt(v('bh'), v('qc'), v('d'))), f(k.scale)))]),
    ];
    const keyTile = (perKey: KStmt[]): KStmt => loop('t', 0, v('nkt'), [
      ...tileClass(v('qt'), v('t')),
      stage(bk, (jj) => kclamp(add(mul(v('t'), i(bk)), jj), Sk), [['kt', D, (r, d) => ld(k.kbuf, kAt(r, d))], ...k.part === 'dq' ? [['vt', Dv, (r: KExpr, d: KExpr) => ld(k.v, vAt(r, d))] as Tile] : []], bq),
      BARRIER,
      loop('j', 0, bk, [
        let_('kv', add(mul(v('t'), i(bk)), v('j'))),
        ...okStmts(and(lt(v('kv'), Sk), lt(v('qi'), Sq)), v('qc'), v('kv')),
        if_(v('ok', 'bool'), [...dot('s', D, (d) => al('qr', d), (d) => al('kt', add(mul(v('j'), i(D)), d))), ...perKey]),
      ]),
      BARRIER,
    ]);
    const grid = { xyz: [ceilDiv(Sq, bq), mul(B, Hq), i(1)] as [KExpr, KExpr, KExpr] };
    const shared = [{ name: 'kt', dtype: 'f32' as const, size: bk * D }, ...k.part === 'dq' ? [{ name: 'vt', dtype: 'f32' as const, size: bk * Dv }] : []];
    if (k.part === 'stats') {
      const body: KStmt[] = [
        ...head, var_('mx', 'f32', NEG), var_('l', 'f32', f(0)),
        keyTile([
          if_(kbin('gt', fv('s'), fv('mx')), [set('l', fmul(fv('l'), kun('exp', fsub(fv('mx'), fv('s'))))), set('mx', fv('s'))]),
          set('l', fadd(fv('l'), kun('exp', fsub(fv('s'), fv('mx'))))),
        ]),
        ...dot('delta', Dv, (d) => ld(k.dO, oAt(v('bh'), v('qc'), d)), (d) => ld(k.o, oAt(v('bh'), v('qc'), d))),
        if_(lt(v('qi'), Sq), [
          store(k.out, statAt(v('bh'), v('qi'), 0), kwhere(kbin('gt', fv('l'), f(0)), fadd(fv('mx'), kun('log', fv('l'))), f(0))),
          store(k.out, statAt(v('bh'), v('qi'), 1), fv('delta')),
        ]),
      ];
      return { name: k.name, label: k.label, out: k.out, workgroup: [bq, 1, 1], grid, shared, body };
    }
    const body: KStmt[] = [
      ...head, array('dor', Dv, reg), array('acc', D, reg),
      dloop(Dv, [aset('dor', v('d'), ld(k.dO, oAt(v('bh'), v('qc'), v('d'))))]),
      let_('lse', kload(k.stats, statAt(v('bh'), v('qc'), 0), 'f32')), let_('delta', kload(k.stats, statAt(v('bh'), v('qc'), 1), 'f32')),
      keyTile([
        let_('p', kun('exp', fsub(fv('s'), fv('lse')))),
        ...dot('dp', Dv, (d) => al('dor', d), (d) => al('vt', add(mul(v('j'), i(Dv)), d))),
        let_('ds', fmul(fv('p'), fsub(fv('dp'), fv('delta')))),
        dloop(D, [aset('acc', v('d'), fma(fv('ds'), al('kt', add(mul(v('j'), i(D)), v('d'))), al('acc', v('d'))))]),
      ]),
      if_(lt(v('qi'), Sq), [dloop(D, [store(k.out, qAt(v('bh'), v('qi'), v('d')), fmul(al('acc', v('d')), f(k.scale)))])]),
    ];
    return { name: k.name, label: k.label, out: k.out, workgroup: [bq, 1, 1], grid, shared, body };
  }

  // dk / dv: one workgroup per (key tile, batch * KV head); invocation = key row kj.
  const isK = k.part === 'dk';
  const N = isK ? D : Dv;
  const body: KStmt[] = [
    let_('kt0', sp('wid.x')), let_('kj', add(mul(v('kt0'), i(bk)), sp('lix'))), let_('kc', kclamp(v('kj'), Sk)),
    let_('bh', sp('wid.y')), let_('b0', div(v('bh'), Hkv)), let_('hk', mod(v('bh'), Hkv)), let_('grp', div(Hq, Hkv)),
    let_('nkt', ceilDiv(Sk, bk)), let_('nqt', ceilDiv(Sq, bq)), let_('kvbase', mul(v('bh'), Sk)),
    array('kr', D, reg), array('vr', Dv, reg), array('acc', N, reg),
    dloop(D, [aset('kr', v('d'), ld(k.kbuf, kAt(v('kc'), v('d'))))]),
    ...isK ? [dloop(Dv, [aset('vr', v('d'), ld(k.v, vAt(v('kc'), v('d'))))])] : [],
    loop('g', 0, v('grp'), [
      let_('qbh', add(mul(v('b0'), Hq), add(mul(v('hk'), v('grp')), v('g')))),
      loop('qt', 0, v('nqt'), [
        ...tileClass(v('qt'), v('kt0')),
        stage(bq, (jj) => kclamp(add(mul(v('qt'), i(bq)), jj), Sq), [['qs', D, (r, d) => ld(k.q, qAt(v('qbh'), r, d))], ['gt', Dv, (r, d) => ld(k.dO, oAt(v('qbh'), r, d))]], bk),
        BARRIER,
        loop('ii', 0, bq, [
          let_('qi', add(mul(v('qt'), i(bq)), v('ii'))),
          ...okStmts(and(lt(v('kj'), Sk), lt(v('qi'), Sq)), v('qi'), v('kj')),
          if_(v('ok', 'bool'), [
            ...dot('s', D, (d) => al('qs', add(mul(v('ii'), i(D)), d)), (d) => al('kr', d)),
            let_('p', kun('exp', fsub(fmul(fv('s'), f(k.scale)), kload(k.stats, statAt(v('qbh'), v('qi'), 0), 'f32')))),
            ...isK
              ? [
                ...dot('dp', Dv, (d) => al('gt', add(mul(v('ii'), i(Dv)), d)), (d) => al('vr', d)),
                let_('dsc', fmul(fv('p'), fsub(fv('dp'), kload(k.stats, statAt(v('qbh'), v('qi'), 1), 'f32')))),
                dloop(D, [aset('acc', v('d'), fma(fv('dsc'), al('qs', add(mul(v('ii'), i(D)), v('d'))), al('acc', v('d'))))]),
              ]
              : [dloop(Dv, [aset('acc', v('d'), fma(fv('p'), al('gt', add(mul(v('ii'), i(Dv)), v('d'))), al('acc', v('d'))))])],
          ]),
        ]),
        BARRIER,
      ]),
    ]),
    if_(lt(v('kj'), Sk), [dloop(N, [store(k.out, (isK ? kAt : vAt)(v('kj'), v('d')), isK ? fmul(al('acc', v('d')), f(k.scale)) : al('acc', v('d')))])]),
  ];
  return {
    name: k.name, label: k.label, out: k.out, workgroup: [bk, 1, 1], body,
    grid: { xyz: [ceilDiv(Sk, bk), mul(B, Hkv), i(1)] },
    shared: [{ name: 'qs', dtype: 'f32', size: bq * D }, { name: 'gt', dtype: 'f32', size: bq * Dv }],
  };
}

/**
 * The rows kind: an invocation owns R rows (query rows for stats / dq, key rows for dk / dv; row x + r * T of its
 * tile, T = tile / R invocations) in private arrays, and reads the other side as broadcasts (kernel-build-rows.ts):
 * - stats: scores of each key tile as blocks, an online max / sum per row; then lse and delta = dO . O;
 * - dq: scores and dO . v as blocks, dS = exp(s - lse) (dO . v - delta) in place, dQ += dS K as blocks;
 * - dv: P = exp(scale k . q - lse) as blocks over each query tile, dV += P dO; dk: also dO . v, dS in place,
 *   dK += dS Q. Masked or out-of-range pairs give P = dS = 0.
 */
function buildAttentionBwdRows(k: AttentionBwdKernel, c: Ctx): KBody {
  const ld = (buf: number, at: KExpr): KExpr => kcast(kload(buf, at, c.buffers[buf]!.dtype), 'f32');
  const [B, Hq, Hkv, Sq, Sk] = [k.B, k.Hq, k.Hkv, k.Sq, k.Sk].map((d) => dimExpr(d, c.symbols)) as [KExpr, KExpr, KExpr, KExpr, KExpr];
  const { bq, bk } = k.schedule;
  const R = k.schedule.rows!, D = k.D, Dv = k.Dv;
  const byQuery = k.part === 'stats' || k.part === 'dq';
  const tile = byQuery ? bq : bk, other = byQuery ? bk : bq, T = tile / R;
  if (!Number.isInteger(T)) throw new Error(`internal error: ${k.name}: rows ${R} do not divide the tile ${tile}`);
  const rs = Array.from({ length: R }, (_, r) => r);
  const r_ = (arr: string, at: number) => al(arr, i(at));
  const sAt = (r: number, j: KExpr) => add(i(r * other), j);
  const qAt = (bh: KExpr, row: KExpr, d: KExpr) => add(mul(add(mul(bh, Sq), row), i(D)), d);
  const oAt = (bh: KExpr, row: KExpr, d: KExpr) => add(mul(add(mul(bh, Sq), row), i(Dv)), d);
  const kAt = (row: KExpr, d: KExpr) => add(mul(add(v('kvbase'), row), i(D)), d);
  const vAt = (row: KExpr, d: KExpr) => add(mul(add(v('kvbase'), row), i(Dv)), d);
  const statAt = (bh: KExpr, row: KExpr, j: number) => add(mul(add(mul(bh, Sq), row), i(2)), i(j));
  const tileClass = (qt: KExpr, kt: KExpr): KStmt[] => k.tiles !== null
    ? [let_('cls', kload(k.tiles, add(mul(add(mul(v('b0'), v('nqt')), qt), v('nkt')), kt), 'i32')), if_(kbin('eq', v('cls'), i(0)), [CONTINUE])]
    : [];
  /** s = NEG where a pair is out of range or masked (the mask at (b0, q, kv); only PARTIAL tiles when sparse; kernel-build-rows.ts). */
  const maskScores = (n: number, edge: KExpr, inRange: (r: KExpr, j: KExpr) => KExpr, q: (r: KExpr, j: KExpr) => KExpr, kv: (r: KExpr, j: KExpr) => KExpr) =>
    maskPairs(R, n, edge, k.tiles !== null ? kbin('eq', v('cls'), i(2)) : null, inRange, k.mask ? (r, j) => substitute(k.mask!, { q: q(r, j), kv: kv(r, j) }) : null,
      (r, j) => [aset('s', add(mul(r, i(n)), j), NEG)]);
  /** Row r (a constant or a loop variable) of this invocation within its tile `tix` (tiles in zigzag order: kernel-build-rows.ts). */
  const own = (r: number | KExpr) => add(add(mul(v('tix'), i(tile)), typeof r === 'number' ? i(r * T) : mul(r, i(T))), sp('lix'));
  const gt = (a: KExpr, b: KExpr) => kbin('gt', a, b), or = (a: KExpr, b: KExpr) => kbin('or', a, b);
  const common: KStmt[] = [array('s', R * other), ...blockRegisters(R), var_('ok', 'bool', kconst(0, 'bool'))];
  const out = (body: KStmt[], grid: [KExpr, KExpr, KExpr]): KBody => ({ name: k.name, label: k.label, out: k.out, workgroup: [T, 1, 1], grid: { xyz: grid }, shared: [], body });

  if (byQuery) {
    // Query rows qi<r>; walking the key tiles t.
    const kvOf = (j: KExpr) => add(mul(v('t'), i(bk)), j), kvl = (j: KExpr) => kclamp(kvOf(j), Sk);
    const head: KStmt[] = [
      let_('nkt', ceilDiv(Sk, bk)), let_('nqt', ceilDiv(Sq, bq)), let_('tix', zigzag(sp('wid.x'), v('nqt'))), let_('qt', v('tix')),
      let_('bh', sp('wid.y')), let_('b0', div(v('bh'), Hq)), let_('hk', div(mod(v('bh'), Hq), div(Hq, Hkv))), let_('kvbase', mul(add(mul(v('b0'), Hkv), v('hk')), Sk)),
      array('qr', R * D), ...common,
      ...rs.flatMap((r) => [
        let_(`qi${r}`, own(r)), let_(`qc${r}`, kclamp(v(`qi${r}`), Sq)),
        loop('d', 0, D, [aset('qr', add(i(r * D), v('d')), fmul(ld(k.q, qAt(v('bh'), v(`qc${r}`), v('d'))), f(k.scale)))]),
      ]),
    ];
    const scores: KStmt[] = [
      dotBlocks(R, bk, D, (r, d) => al('qr', add(i(r * D), d)), (j, d) => ld(k.kbuf, kAt(kvl(j), d)), (r, j, dot) => [aset('s', sAt(r, j), dot)]),
      ...maskScores(bk, or(gt(mul(add(v('t'), i(1)), i(bk)), Sk), gt(mul(add(v('qt'), i(1)), i(bq)), Sq)),
        (r, j) => and(lt(kvOf(j), Sk), lt(own(r), Sq)), (r) => kclamp(own(r), Sq), (_, j) => kvOf(j)),
    ];
    const grid: [KExpr, KExpr, KExpr] = [ceilDiv(Sq, bq), mul(B, Hq), i(1)];
    if (k.part === 'stats') {
      const body: KStmt[] = [
        ...head, array('mx', R, true), array('l', R, true), ...rs.map((r) => aset('mx', i(r), NEG)), var_('nm', 'f32', NEG),
        loop('t', 0, v('nkt'), [...tileClass(v('qt'), v('t')), ...scores, ...rs.flatMap((r) => [
          set('nm', r_('mx', r)), loop('j', 0, bk, [set('nm', kbin('max', fv('nm'), al('s', sAt(r, v('j'))), 'f32'))]),
          aset('l', i(r), fmul(r_('l', r), kun('exp', fsub(r_('mx', r), fv('nm'))))),
          loop('j', 0, bk, [if_(kbin('gt', al('s', sAt(r, v('j'))), NEG), [aset('l', i(r), fadd(r_('l', r), kun('exp', fsub(al('s', sAt(r, v('j'))), fv('nm')))))])]),
          aset('mx', i(r), fv('nm')),
        ])]),
        ...rs.flatMap((r) => [if_(lt(v(`qi${r}`), Sq), [
          var_('delta', 'f32', f(0)),
          loop('d', 0, Dv, [set('delta', fma(ld(k.dO, oAt(v('bh'), v(`qi${r}`), v('d'))), ld(k.o, oAt(v('bh'), v(`qi${r}`), v('d'))), fv('delta')))]),
          store(k.out, statAt(v('bh'), v(`qi${r}`), 0), kwhere(kbin('gt', r_('l', r), f(0)), fadd(r_('mx', r), kun('log', r_('l', r))), f(0))),
          store(k.out, statAt(v('bh'), v(`qi${r}`), 1), fv('delta')),
        ])]),
      ];
      return out(body, grid);
    }
    // dq
    const body: KStmt[] = [
      ...head, array('dor', R * Dv), array('acc', R * D), array('lse', R, true), array('dl', R, true),
      ...rs.flatMap((r) => [
        loop('d', 0, Dv, [aset('dor', add(i(r * Dv), v('d')), ld(k.dO, oAt(v('bh'), v(`qc${r}`), v('d'))))]),
        aset('lse', i(r), kload(k.stats, statAt(v('bh'), v(`qc${r}`), 0), 'f32')), aset('dl', i(r), kload(k.stats, statAt(v('bh'), v(`qc${r}`), 1), 'f32')),
      ]),
      loop('t', 0, v('nkt'), [
        ...tileClass(v('qt'), v('t')), ...scores,
        dotBlocks(R, bk, Dv, (r, d) => al('dor', add(i(r * Dv), d)), (j, d) => ld(k.v, vAt(kvl(j), d)), (r, j, dot) => [
          aset('s', sAt(r, j), kwhere(kbin('gt', al('s', sAt(r, j)), NEG), fmul(kun('exp', fsub(al('s', sAt(r, j)), r_('lse', r))), fsub(dot, r_('dl', r))), f(0))),
        ]),
        accumBlocks(R, D, bk, 'acc', null, (r, j) => al('s', sAt(r, j)), (j, d) => ld(k.kbuf, kAt(kvl(j), d))),
      ]),
      ...rs.map((r) => if_(lt(v(`qi${r}`), Sq), [loop('d', 0, D, [store(k.out, qAt(v('bh'), v(`qi${r}`), v('d')), fmul(al('acc', add(i(r * D), v('d'))), f(k.scale)))])])),
    ];
    return out(body, grid);
  }

  // dk / dv: key rows kj<r>; walking the query tiles qt of every query head g of the KV head's group.
  const isK = k.part === 'dk', N = isK ? D : Dv;
  const qOf = (j: KExpr) => add(mul(v('qt'), i(bq)), j), ql = (j: KExpr) => kclamp(qOf(j), Sq);
  const p: KStmt[] = [
    dotBlocks(R, bq, D, (r, d) => al('kr', add(i(r * D), d)), (j, d) => ld(k.q, qAt(v('qbh'), ql(j), d)), (r, j, dot) => [aset('s', sAt(r, j), dot)]),
    ...maskScores(bq, or(gt(mul(add(v('kt0'), i(1)), i(bk)), Sk), gt(mul(add(v('qt'), i(1)), i(bq)), Sq)),
      (r, j) => and(lt(own(r), Sk), lt(qOf(j), Sq)), (_, j) => qOf(j), (r) => own(r)),
    eachPair(R, bq, (r, j) => [aset('s', add(mul(r, i(bq)), j), kwhere(gt(al('s', add(mul(r, i(bq)), j)), NEG),
      kun('exp', fsub(fmul(al('s', add(mul(r, i(bq)), j)), f(k.scale)), kload(k.stats, statAt(v('qbh'), ql(j), 0), 'f32'))), f(0)))]),
  ];
  const dsc = dotBlocks(R, bq, Dv, (r, d) => al('vr', add(i(r * Dv), d)), (j, d) => ld(k.dO, oAt(v('qbh'), ql(j), d)), (r, j, dot) => [
    aset('s', sAt(r, j), fmul(al('s', sAt(r, j)), fsub(dot, kload(k.stats, statAt(v('qbh'), ql(j), 1), 'f32')))),
  ]);
  const body: KStmt[] = [
    let_('nkt', ceilDiv(Sk, bk)), let_('nqt', ceilDiv(Sq, bq)), let_('tix', zigzag(sp('wid.x'), v('nkt'))), let_('kt0', v('tix')),
    let_('bh', sp('wid.y')), let_('b0', div(v('bh'), Hkv)), let_('hk', mod(v('bh'), Hkv)), let_('grp', div(Hq, Hkv)), let_('kvbase', mul(v('bh'), Sk)),
    array('kr', R * D), ...isK ? [array('vr', R * Dv)] : [], array('acc', R * N), ...common,
    ...rs.flatMap((r) => [
      let_(`kj${r}`, own(r)), let_(`kc${r}`, kclamp(v(`kj${r}`), Sk)),
      loop('d', 0, D, [aset('kr', add(i(r * D), v('d')), ld(k.kbuf, kAt(v(`kc${r}`), v('d'))))]),
      ...isK ? [loop('d', 0, Dv, [aset('vr', add(i(r * Dv), v('d')), ld(k.v, vAt(v(`kc${r}`), v('d'))))])] : [],
    ]),
    loop('g', 0, v('grp'), [
      let_('qbh', add(mul(v('b0'), Hq), add(mul(v('hk'), v('grp')), v('g')))),
      loop('qt', 0, v('nqt'), [
        ...tileClass(v('qt'), v('kt0')), ...p,
        ...isK
          ? [dsc, accumBlocks(R, D, bq, 'acc', null, (r, j) => al('s', sAt(r, j)), (j, d) => ld(k.q, qAt(v('qbh'), ql(j), d)))]
          : [accumBlocks(R, Dv, bq, 'acc', null, (r, j) => al('s', sAt(r, j)), (j, d) => ld(k.dO, oAt(v('qbh'), ql(j), d)))],
      ]),
    ]),
    ...rs.map((r) => if_(lt(v(`kj${r}`), Sk), [loop('d', 0, N, [
      store(k.out, (isK ? kAt : vAt)(v(`kj${r}`), v('d')), isK ? fmul(al('acc', add(i(r * N), v('d'))), f(k.scale)) : al('acc', add(i(r * N), v('d')))),
    ])])),
  ];
  return out(body, [ceilDiv(Sk, bk), mul(B, Hkv), i(1)]);
}
