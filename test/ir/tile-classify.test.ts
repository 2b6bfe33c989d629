import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/core/dtype.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import type { BinaryOp, IExpr, UnaryOp } from '../../src/ir/graph.js';
import { evalMaskElement } from '../../src/ir/interpreter.js';
import { EMPTY, FULL, PARTIAL, classifyTiles, type ClassifyOptions } from '../../src/ir/tile-classify.js';

// IExpr constructors, written out so the test does not depend on the front end.
const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const int = (v: number): IExpr => ({ k: 'const', v, dtype: 'i32' });
const load = (src: number, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });
const bin = (op: BinaryOp, a: IExpr, b: IExpr, dtype: DType = 'i32'): IExpr => ({ k: 'bin', op, a, b, dtype });
const [B_, Q_, K_] = [idx(0), idx(1), idx(2)];

const causal = bool('le', K_, Q_);
const padding = bool('lt', K_, load(0, B_)); // src 0 = len [B]
const sliding = (w: number) => bool('and', bool('lt', bin('sub', Q_, K_), int(w)), causal);
const prefixLm = bool('or', causal, bool('lt', K_, load(0, B_))); // src 0 = prefix [B]
const documents = bool('and', bool('eq', load(0, B_, Q_), load(0, B_, K_)), causal); // src 0 = doc [B, S]
/** k < len[b] && (k <= q || (img[b,q] >= 0 && img[b,q] == img[b,k])); src 0 = len [B], 1 = img [B, S]. */
const transfusion = bool('and', bool('lt', K_, load(0, B_)), bool('or', causal,
  bool('and', bool('ge', load(1, B_, Q_), int(0)), bool('eq', load(1, B_, Q_), load(1, B_, K_)))));

type Opts = Omit<ClassifyOptions, 'dims'>;
/** The exact classes, from every real element evaluated with the interpreter. */
function bruteForce(mask: IExpr, inputs: readonly HostTensor[], o: Opts): Int32Array {
  const nQT = Math.ceil(o.Sq / o.bq), nKT = Math.ceil(o.Sk / o.bk);
  const allowed = new Int32Array(o.B * nQT * nKT), total = new Int32Array(allowed.length);
  for (let b = 0; b < o.B; b++) for (let q = 0; q < o.Sq; q++) for (let k = 0; k < o.Sk; k++) {
    const t = (b * nQT + Math.floor(q / o.bq)) * nKT + Math.floor(k / o.bk);
    total[t]!++;
    if (evalMaskElement(mask, b, q, k, inputs)) allowed[t]!++;
  }
  return allowed.map((n, t) => (n === 0 ? EMPTY : n === total[t] ? FULL : PARTIAL));
}

interface Gap { tiles: number; exactPartial: number; partial: number }
const newGap = (): Gap => ({ tiles: 0, exactPartial: 0, partial: 0 });
const pct = (g: Gap) => `${g.tiles} tiles: PARTIAL ${(100 * g.partial / g.tiles).toFixed(1)}% (exact ${(100 * g.exactPartial / g.tiles).toFixed(1)}%)`;

/** Classify, check soundness against brute force (and exactness if asked), and add to `gap`. */
function check(mask: IExpr, inputs: readonly HostTensor[], o: Opts, exact: boolean, gap = newGap(), want = bruteForce(mask, inputs, o)): Gap {
  const got = classifyTiles(mask, inputs, { ...o, dims: {} }).classes;
  const unsound = [...got.keys()].filter((t) => got[t] !== PARTIAL && got[t] !== want[t]);
  expect(unsound.map((t) => ({ tile: t, got: got[t], want: want[t] }))).toEqual([]);
  if (exact) expect([...got]).toEqual([...want]);
  gap.tiles += got.length;
  gap.partial += got.filter((c) => c === PARTIAL).length;
  gap.exactPartial += want.filter((c) => c === PARTIAL).length;
  return gap;
}

const tiling = { B: fc.integer({ min: 1, max: 3 }), bq: fc.integer({ min: 1, max: 32 }), bk: fc.integer({ min: 1, max: 32 }) };
const sizes = fc.record({ ...tiling, Sq: fc.integer({ min: 1, max: 200 }), Sk: fc.integer({ min: 1, max: 200 }) });
const perBatch = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: 3, maxLength: 3 });
const rowI32 = (rows: number[][]) => hostTensor('i32', [rows.length, rows[0]!.length], rows.flat());

/** Runs laid out left to right and cut at S; value(i) for the i-th marked run, -1 elsewhere. */
function layout(S: number, spans: readonly { gap: number; size: number }[]): number[] {
  const row: number[] = [];
  spans.forEach(({ gap, size }, i) => { for (let j = 0; j < gap; j++) row.push(-1); for (let j = 0; j < size; j++) row.push(i); });
  while (row.length < S) row.push(-1);
  return row.slice(0, S);
}
const images = (maxSize: number, max = 4) => fc.array(fc.record({ gap: fc.nat(60), size: fc.integer({ min: 1, max: maxSize }) }), { maxLength: max });

describe('classifyTiles: standard masks are sound and exact (brute force, random layouts)', () => {
  it('causal, including Sq != Sk and sizes not divisible by the tile', () => {
    fc.assert(fc.property(sizes, (o) => { check(causal, [], o, true); }), { numRuns: 60 });
  });
  it('padding k < len[b]', () => {
    fc.assert(fc.property(sizes, perBatch(fc.nat(220)), (o, lens) => {
      check(padding, [hostTensor('i32', [o.B], lens.slice(0, o.B))], o, true);
    }), { numRuns: 60 });
  });
  it('sliding window q - k < w && k <= q', () => {
    fc.assert(fc.property(sizes, fc.integer({ min: 1, max: 40 }), (o, w) => { check(sliding(w), [], o, true); }), { numRuns: 60 });
  });
  it('prefix-LM k <= q || k < prefix[b]', () => {
    fc.assert(fc.property(sizes, perBatch(fc.nat(220)), (o, pre) => {
      check(prefixLm, [hostTensor('i32', [o.B], pre.slice(0, o.B))], o, true);
    }), { numRuns: 60 });
  });
  it('packed documents doc[b,q] == doc[b,k] && k <= q', () => {
    const docs = fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 6 });
    fc.assert(fc.property(fc.record({ ...tiling, S: fc.integer({ min: 1, max: 200 }) }), perBatch(docs), (o, lens) => {
      const doc = lens.slice(0, o.B).map((ls) => {
        const row = ls.flatMap((n, d) => new Array<number>(n).fill(d));
        while (row.length < o.S) row.push(ls.length); // the tail is one more document
        return row.slice(0, o.S);
      });
      check(documents, [rowI32(doc)], { ...o, Sq: o.S, Sk: o.S }, true);
    }), { numRuns: 40 });
  });
  it('key padding as a bool tensor keep[b,k] && k <= q (any nonzero keep is true)', () => {
    const mask = bool('and', { k: 'load', src: 0, idx: [B_, K_], dtype: 'bool' }, causal);
    fc.assert(fc.property(sizes, fc.array(fc.constantFrom(0, 0, 1, 1, 1, 5), { minLength: 600, maxLength: 600 }), (o, keep) => {
      check(mask, [hostTensor('bool', [o.B, o.Sk], keep.slice(0, o.B * o.Sk))], o, true);
    }), { numRuns: 40 });
  });
  it('hand-checked: the last tile is classified over real positions only', () => {
    const o = { B: 1, Sq: 5, Sk: 5, bq: 4, bk: 4, dims: {} };
    // (q 0-3, k 0-3) mixed; (q 0-3, k 4) all k > q; (q 4, k 0-3) all k <= q; (q 4, k 4) the one element (4, 4).
    expect([...classifyTiles(causal, [], o).classes]).toEqual([PARTIAL, EMPTY, FULL, FULL]);
    expect([...classifyTiles(null, [], o).classes]).toEqual([FULL, FULL, FULL, FULL]);
  });
});

describe('classifyTiles: Transfusion', () => {
  const tf = fc.record({ ...tiling, S: fc.integer({ min: 1, max: 200 }) });
  const inputsOf = (S: number, lens: number[], imgs: number[][]) => [hostTensor('i32', [lens.length], lens), rowI32(imgs.map((r) => r.slice(0, S)))];

  it('random images (0-4 per sequence) and padding: exact with case splitting, sound with intervals only', () => {
    const split = newGap(), intervals = newGap();
    fc.assert(fc.property(tf, perBatch(images(60)), perBatch(fc.nat(200)), (o, spans, lens) => {
      const p = { ...o, Sq: o.S, Sk: o.S };
      const inputs = inputsOf(o.S, lens.slice(0, o.B).map((l) => Math.min(l, o.S)), spans.slice(0, o.B).map((s) => layout(o.S, s)));
      const want = bruteForce(transfusion, inputs, p);
      check(transfusion, inputs, p, true, split, want);
      check(transfusion, inputs, { ...p, maxCombos: 1 }, false, intervals, want);
    }), { numRuns: 60 });
    console.log(`Transfusion, random layouts: split ${pct(split)}; intervals only ${pct(intervals)}`);
    expect(split.partial).toBe(split.exactPartial);
  });

  it('tiles aligned to image boundaries: even intervals alone are exact; unaligned they are not', () => {
    const o = { B: 1, Sq: 512, Sk: 512, bq: 32, bk: 32 };
    const aligned = inputsOf(512, [480], [layout(512, [{ gap: 64, size: 64 }, { gap: 64, size: 128 }])]);
    const a1 = check(transfusion, aligned, { ...o, maxCombos: 1 }, true);
    const unaligned = inputsOf(512, [470], [layout(512, [{ gap: 50, size: 50 }, { gap: 30, size: 170 }, { gap: 0, size: 20 }])]);
    const u1 = check(transfusion, unaligned, { ...o, maxCombos: 1 }, false), uSplit = check(transfusion, unaligned, o, true);
    console.log(`Transfusion aligned, intervals only: ${pct(a1)}; unaligned: intervals only ${pct(u1)}, split ${pct(uSplit)}`);
    expect(u1.partial).toBeGreaterThan(u1.exactPartial); // why the case split exists
  });

  it('more distinct images per tile than GROUP_CAP: hulls, sound, looser only on tiles wholly above the diagonal', () => {
    const o = { B: 2, Sq: 200, Sk: 200, bq: 32, bk: 32 }, nT = 7;
    const tiny = (seed: number) => layout(200, Array.from({ length: 60 }, (_, i) => ({ gap: (i * seed) % 3, size: 1 + ((i + seed) % 2) })));
    const inputs = inputsOf(200, [200, 170], [tiny(1), tiny(2)]);
    const want = bruteForce(transfusion, inputs, o), g = check(transfusion, inputs, o, false, newGap(), want);
    console.log(`Transfusion, 60 tiny images per sequence: ${pct(g)}`);
    // The hull of image ids only decides where k > q on the whole tile; elsewhere k <= q and k < len[b] decide,
    // exactly (with bq = bk a tile is below, on or above the diagonal; on it, FULL needs a single image).
    const got = classifyTiles(transfusion, inputs, { ...o, dims: {} }).classes;
    const loose = [...got.keys()].filter((t) => got[t] !== want[t]);
    expect(loose.length).toBeGreaterThan(0); // the fallback did happen here
    expect(loose.filter((t) => t % nT <= Math.floor(t / nT) % nT)).toEqual([]);
  });

  it('S = 8192, bq = bk = 64: counted work is O(tiles + S), never S x S; sampled tiles match brute force', () => {
    const S = 8192, B = 2, o = { B, Sq: S, Sk: S, bq: 64, bk: 64, dims: {} };
    const spans = [[{ gap: 300, size: 1024 }, { gap: 77, size: 1000 }, { gap: 5, size: 256 }], [{ gap: 4000, size: 2500 }]];
    const inputs = inputsOf(S, [S, 7000], spans.map((s) => layout(S, s)));
    const counter = { evals: 0, reads: 0 };
    const t0 = performance.now();
    const { classes, counts } = classifyTiles(transfusion, inputs, { ...o, counter });
    console.log(`S=8192: ${(performance.now() - t0).toFixed(0)} ms, ${counter.evals} evaluations, ${counter.reads} reads, ${JSON.stringify(counts)}`);
    const tiles = B * (S / 64) ** 2;
    expect(counts.empty + counts.full + counts.partial).toBe(tiles);
    expect(counter.evals).toBeLessThanOrEqual(2 * tiles); // most 64-ranges hold a single image id here
    expect(counter.reads).toBeLessThanOrEqual(B * 2 * S);
    for (let i = 0; i < 40; i++) {
      const t = (i * 7919) % tiles, b = Math.floor(t / 128 ** 2), qt = Math.floor(t / 128) % 128, kt = t % 128;
      let n = 0;
      for (let q = qt * 64; q < qt * 64 + 64; q++) for (let k = kt * 64; k < kt * 64 + 64; k++) n += evalMaskElement(transfusion, b, q, k, inputs) ? 1 : 0;
      expect(classes[t]).toBe(n === 0 ? EMPTY : n === 64 * 64 ? FULL : PARTIAL);
    }
  });
});

describe('classifyTiles: random expressions are sound', () => {
  const f32 = (e: IExpr): IExpr => ({ ...e, dtype: 'f32' }) as IExpr;
  const f32c = (v: number): IExpr => ({ k: 'const', v, dtype: 'f32' });
  const un = (op: UnaryOp, a: IExpr, dtype: DType): IExpr => ({ k: 'un', op, a, dtype });
  const cast = (a: IExpr, dtype: DType): IExpr => ({ k: 'cast', a, dtype });
  const arithOps = fc.constantFrom<BinaryOp>('add', 'sub', 'mul', 'div', 'mod', 'max', 'min');
  const cmpOps = fc.constantFrom<BinaryOp>('lt', 'le', 'gt', 'ge', 'eq', 'ne');
  const depth = { depthSize: 'small', maxDepth: 4 } as const;
  const { bool: boolE, int: intE } = fc.letrec<{ int: IExpr; flt: IExpr; bool: IExpr }>((tie) => ({
    int: fc.oneof(depth,
      fc.constantFrom(B_, Q_, K_, load(0, B_, Q_), load(0, B_, K_), load(0, int(1), K_), load(2, Q_, int(1)), load(2, K_, B_)), fc.integer({ min: -3, max: 20 }).map(int),
      tie('int').map((i) => load(0, B_, i)),
      fc.tuple(arithOps, tie('int'), tie('int')).map(([op, a, b]) => bin(op, a, b)),
      fc.tuple(tie('bool'), tie('int'), tie('int')).map(([c, a, b]): IExpr => ({ k: 'where', c, a, b, dtype: 'i32' })),
      fc.tuple(fc.constantFrom<UnaryOp>('neg', 'abs', 'floor'), tie('int')).map(([op, a]) => un(op, a, 'i32')),
      tie('flt').map((a) => cast(a, 'i32'))),
    flt: fc.oneof(depth,
      fc.constantFrom(f32(load(1, B_, Q_)), f32(load(1, B_, K_))), fc.constantFrom(0, 1.5, 3e38, Infinity, -Infinity).map(f32c),
      fc.tuple(arithOps, tie('flt'), tie('flt')).map(([op, a, b]) => bin(op, a, b, 'f32')),
      fc.tuple(fc.constantFrom<UnaryOp>('neg', 'abs', 'floor', 'exp'), tie('flt')).map(([op, a]) => un(op, a, 'f32')),
      tie('int').map((a) => cast(a, 'f32'))),
    bool: fc.oneof(depth,
      fc.tuple(cmpOps, tie('int'), tie('int')).map(([op, a, b]) => bool(op, a, b)),
      fc.tuple(cmpOps, tie('flt'), tie('flt')).map(([op, a, b]) => bool(op, a, b)),
      fc.tuple(cmpOps, tie('int'), tie('int')).map(([op, a, b]) => bool(op, cast(a, 'u32'), cast(b, 'u32'))),
      fc.tuple(fc.constantFrom<BinaryOp>('and', 'or'), tie('bool'), tie('bool')).map(([op, a, b]) => bool(op, a, b)),
      tie('bool').map((a) => un('not', a, 'bool')),
      tie('int').map((a) => cast(a, 'bool')), fc.constantFrom<IExpr>({ k: 'load', src: 3, idx: [B_, K_], dtype: 'bool' })),
  }));

  it('every EMPTY / FULL tile agrees with brute force (ints, u32, floats with NaN and Inf, where, casts)', () => {
    // Tensors are [Bt, W] with Bt, W independent of B, Sq, Sk, so loads clamp in every dimension.
    const dim = (max: number) => fc.integer({ min: 1, max });
    const small = fc.record({ B: dim(2), Sq: dim(12), Sk: dim(12), bq: dim(5), bk: dim(5), Bt: dim(2), W: dim(12) });
    const floats = fc.oneof({ arbitrary: fc.constantFrom(0, 1.5, -2, 7, 3e38), weight: 6 },
      { arbitrary: fc.constantFrom(Infinity, -Infinity), weight: 2 }, { arbitrary: fc.constant(NaN), weight: 1 });
    fc.assert(fc.property(small, fc.oneof(boolE, intE), fc.array(fc.integer({ min: -3, max: 12 }), { minLength: 24, maxLength: 24 }),
      fc.array(floats, { minLength: 24, maxLength: 24 }), fc.constantFrom(1, 64), (o, mask, ints, fl, maxCombos) => {
        const inputs = [hostTensor('i32', [o.Bt, o.W], ints.slice(0, o.Bt * o.W)), hostTensor('f32', [o.Bt, o.W], fl.slice(0, o.Bt * o.W)),
          hostTensor('i32', [o.W, 2], ints.slice(0, 2 * o.W)), // src 2 is read along its first axis
          hostTensor('bool', [o.Bt, o.W], ints.slice(0, o.Bt * o.W))]; // non-canonical bools (-3..12) on purpose
        check(mask, inputs, { B: o.B, Sq: o.Sq, Sk: o.Sk, bq: o.bq, bk: o.bk, maxCombos }, false);
      }), { numRuns: 600 });
  });

  it('float corners: Inf + -Inf and 0 * Inf are NaN, which no bound may hide', () => {
    const fq = f32(load(0, B_, Q_)), fk = f32(load(1, B_, K_));
    const inputs = [hostTensor('f32', [1, 4], [-Infinity, 0, 0, 1]), hostTensor('f32', [1, 4], [Infinity, 0, 2, 3])];
    for (const mask of [bool('ge', bin('add', fq, fk, 'f32'), f32c(-Infinity)), bool('lt', bin('mul', fq, fk, 'f32'), f32c(Infinity)),
      bool('ne', bin('sub', fk, fk, 'f32'), f32c(1))])
      check(mask, inputs, { B: 1, Sq: 4, Sk: 4, bq: 2, bk: 2, maxCombos: 1 }, false); // hulls, not cases
  });

  it('rejects bad options and loads with one-line messages', () => {
    expect(() => classifyTiles(causal, [], { B: 1, Sq: 4, Sk: 4, bq: 0, bk: 4, dims: {} })).toThrow('bq must be an integer >= 1, got 0');
    expect(() => classifyTiles(padding, [], { B: 1, Sq: 4, Sk: 4, bq: 2, bk: 2, dims: {} })).toThrow('mask loads input 0, but 0 mask inputs were given');
    expect(() => classifyTiles(padding, [hostTensor('i32', [1, 1], [3])], { B: 1, Sq: 4, Sk: 4, bq: 2, bk: 2, dims: {} })).toThrow('loaded with 1 indices');
  });
});
