/**
 * Standalone benchmark cases (one op as a graph, with inputs) and their reference outputs from the
 * interpreter. Large cases are checked on sampled rows: the interpreter runs the same op on a sub-problem
 * (a subset of matmul rows; for attention, a subset of queries with the mask's q rewritten to their positions).
 */
import { dimConst } from '../src/core/dim.js';
import { hostTensor, type HostTensor } from '../src/core/tensor.js';
import { Builder } from '../src/ir/builder.js';
import type { BinaryOp, Graph, IExpr, Node } from '../src/ir/graph.js';
import { interpret } from '../src/ir/interpreter.js';
import { Rng } from '../src/runtime/rng.js';

const sh = (...n: number[]) => n.map(dimConst);
const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const int = (v: number): IExpr => ({ k: 'const', v, dtype: 'i32' });
const load = (src: number, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });

/** The Transfusion mask (models/transfusion.tfx): k < len[b] && (k <= q || (img[b,q] >= 0 && img[b,q] == img[b,k])). */
export const TRANSFUSION_MASK: IExpr = bool('and',
  bool('lt', idx(2), load(0, idx(0))),
  bool('or', bool('le', idx(2), idx(1)),
    bool('and', bool('ge', load(1, idx(0), idx(1)), int(0)), bool('eq', load(1, idx(0), idx(1)), load(1, idx(0), idx(2))))));

export interface BenchCase {
  readonly op: 'matmul' | 'attention';
  readonly shape: string;
  readonly graph: Graph;
  readonly inputs: Map<string, HostTensor>;
  readonly dims: Record<string, number>;
  /** Dense-equivalent flops and the bytes of operands + result (for GFLOP/s and GB/s). */
  readonly flops: number;
  readonly bytes: number;
  /** Max abs error and pass/fail of one output against the interpreter (all of it, or sampled rows). */
  readonly check: (out: HostTensor) => { maxErr: number; correct: boolean; sampled: boolean };
  readonly meta: Record<string, unknown>;
}

export function uniform(rng: Rng, n: number): Float32Array {
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = rng.uniform(-1, 1);
  return f;
}

/** f32 tolerance: |got - want| <= 1e-3 (1 + |want|) everywhere. */
function compare(got: ArrayLike<number>, want: ArrayLike<number>, at: (i: number) => number): { maxErr: number; ok: boolean } {
  let maxErr = 0, ok = true;
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!, g = got[at(i)]!;
    const e = Math.abs(g - w);
    if (!(e <= 1e-3 * (1 + Math.abs(w)))) ok = false;   // NaN fails too
    maxErr = Math.max(maxErr, Number.isNaN(e) ? Infinity : e);
  }
  return { maxErr, ok };
}

function sampleRows(rng: Rng, n: number, count: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const s = new Set<number>([0, n - 1]);
  while (s.size < count) s.add(rng.int(0, n));
  return [...s].sort((a, b) => a - b);
}

/** C = A B, square f32 n x n (or m x k x n). Checked in full when small, else on 16 sampled rows. */
export function matmulCase(m: number, k: number, n: number, seed = 1): BenchCase {
  const g = new Builder();
  const A = g.input('a', 'f32', sh(m, k)), B = g.input('b', 'f32', sh(k, n));
  const graph: Graph = { entry: 'matmul', inputs: [A, B] as Node<'input'>[], outputs: [{ name: 'c', node: g.matmul(A, B) }] };
  const rng = Rng.seeded(seed);
  const a = uniform(rng, m * k), b = uniform(rng, k * n);
  const inputs = new Map([['a', hostTensor('f32', [m, k], a)], ['b', hostTensor('f32', [k, n], b)]]);
  const rows = sampleRows(rng, m, m * k * n <= 2 ** 25 ? m : 16);
  let want: Float32Array | undefined;
  const check = (out: HostTensor) => {
    if (!want) {
      const gs = new Builder();
      const As = gs.input('a', 'f32', sh(rows.length, k)), Bs = gs.input('b', 'f32', sh(k, n));
      const sub = new Float32Array(rows.length * k);
      rows.forEach((r, i) => sub.set(a.subarray(r * k, (r + 1) * k), i * k));
      want = interpret([gs.matmul(As, Bs)], { inputs: new Map([['a', hostTensor('f32', [rows.length, k], sub)], ['b', inputs.get('b')!]]), params: new Map(), dims: {} })[0]!.data as Float32Array;
    }
    const r = compare(out.data, want, (i) => rows[Math.floor(i / n)]! * n + (i % n));
    return { maxErr: r.maxErr, correct: r.ok, sampled: rows.length < m };
  };
  return { op: 'matmul', shape: `${m}x${k}x${n}`, graph, inputs, dims: {}, flops: 2 * m * n * k, bytes: 4 * (m * k + k * n + m * n), check, meta: { m, k, n } };
}

/**
 * Hkv: KV heads (default H; fewer: grouped-query attention, H / Hkv query heads per KV head); mask: another mask
 * over the same inputs (len[b], img[b, s]; default the Transfusion mask), named by maskName in the shape.
 */
export interface AttentionOptions {
  readonly S: number; readonly H?: number; readonly Hkv?: number; readonly D?: number; readonly masked?: boolean; readonly patches?: number; readonly seed?: number;
  readonly mask?: IExpr; readonly maskName?: string;
}

/** img[q] of a Transfusion sequence: -1 for text, j for the patches of image j (up to two, BOI/EOI around each) at random offsets. */
export function transfusionLayout(rng: Rng, S: number, patches: number, maxImages = 2): { img: Int32Array; nImg: number } {
  const nImg = Math.min(maxImages, Math.floor(S / (patches + 3)));
  const img = new Int32Array(S).fill(-1);
  const free = S - nImg * (patches + 2);
  const cuts = Array.from({ length: nImg }, () => rng.int(0, free + 1)).sort((x, y) => x - y);
  let pos = 0, used = 0;
  for (let j = 0; j < nImg; j++) {
    pos += cuts[j]! - used; used = cuts[j]!;
    pos++;                                            // BOI
    for (let p = 0; p < patches; p++) img[pos++] = j;
    pos++;                                            // EOI
  }
  return { img, nImg };
}

/**
 * Self-attention B=1, H heads, head dim D over a Transfusion layout: text with up to two images of `patches`
 * patches (BOI, patches, EOI), as many as fit in S, at random offsets. masked: false drops the mask.
 */
export function attentionCase(o: AttentionOptions): BenchCase {
  const { S, H = 8, Hkv = H, D = 64, masked = true, patches = 256, seed = 7, mask = TRANSFUSION_MASK } = o;
  const rng = Rng.seeded(seed);
  const { img, nImg } = transfusionLayout(rng, S, patches);

  const g = new Builder();
  const q = g.input('q', 'f32', sh(1, H, S, D)), k = g.input('k', 'f32', sh(1, Hkv, S, D)), v = g.input('v', 'f32', sh(1, Hkv, S, D));
  const len = g.input('len', 'i32', sh(1)), imgIn = g.input('img', 'i32', sh(1, S));
  const scale = 1 / Math.sqrt(D);
  const att = g.attention(q, k, v, masked ? [len, imgIn] : [], masked ? mask : null, masked ? o.maskName ?? 'transfusion' : 'none', scale);
  const graphInputs = (masked ? [q, k, v, len, imgIn] : [q, k, v]) as Node<'input'>[];
  const graph: Graph = { entry: 'attention', inputs: graphInputs, outputs: [{ name: 'out', node: att }] };
  const n = H * S * D, nkv = Hkv * S * D;
  const qd = uniform(rng, n), kd = uniform(rng, nkv), vd = uniform(rng, nkv);
  const inputs = new Map<string, HostTensor>([['q', hostTensor('f32', [1, H, S, D], qd)], ['k', hostTensor('f32', [1, Hkv, S, D], kd)], ['v', hostTensor('f32', [1, Hkv, S, D], vd)]]);
  if (masked) { inputs.set('len', hostTensor('i32', [1], [S])); inputs.set('img', hostTensor('i32', [1, S], img)); }
  const rows = sampleRows(rng, S, S <= 512 ? S : 48);
  let want: Float32Array | undefined;
  const check = (out: HostTensor) => {
    want ??= sampledAttention(rows, { S, H, Hkv, D, scale, masked, mask, qd, kd, vd, img });
    const r = compare(out.data, want, (i) => {
      const d = i % D, row = Math.floor(i / D), qi = row % rows.length, h = Math.floor(row / rows.length);
      return (h * S + rows[qi]!) * D + d;
    });
    return { maxErr: r.maxErr, correct: r.ok, sampled: rows.length < S };
  };
  const p = Math.max(0, nImg) * patches;
  return {
    op: 'attention', shape: `B1 H${H}${Hkv !== H ? `/${Hkv}` : ''} S${S} D${D}${masked ? o.maskName ? ` ${o.maskName}` : '' : ' nomask'}`, graph, inputs, dims: {}, flops: 4 * H * S * S * D, bytes: 4 * 2 * (n + nkv), check,
    meta: { S, H, Hkv, D, masked, images: nImg, patches_per_image: patches, image_positions: p, img },
  };
}

/** The interpreter's attention on the query rows `rows` only: q sliced, and the mask's q index read from a qpos input. */
function sampledAttention(rows: number[], c: { S: number; H: number; Hkv: number; D: number; scale: number; masked: boolean; mask: IExpr; qd: Float32Array; kd: Float32Array; vd: Float32Array; img: Int32Array }): Float32Array {
  const { S, H, Hkv, D } = c, r = rows.length;
  const g = new Builder();
  const q = g.input('q', 'f32', sh(1, H, r, D)), k = g.input('k', 'f32', sh(1, Hkv, S, D)), v = g.input('v', 'f32', sh(1, Hkv, S, D));
  const len = g.input('len', 'i32', sh(1)), img = g.input('img', 'i32', sh(1, S)), qpos = g.input('qpos', 'i32', sh(r));
  // Every q index of the mask becomes qpos[q] (src 2): the real position of sampled row q.
  const subst = (e: IExpr): IExpr => {
    switch (e.k) {
      case 'idx': return e.i === 1 ? load(2, e) : e;
      case 'load': return { ...e, idx: e.idx.map(subst) };
      case 'un': case 'cast': return { ...e, a: subst(e.a) };
      case 'bin': return { ...e, a: subst(e.a), b: subst(e.b) };
      case 'where': return { ...e, c: subst(e.c), a: subst(e.a), b: subst(e.b) };
      default: return e;
    }
  };
  const att = g.attention(q, k, v, c.masked ? [len, img, qpos] : [], c.masked ? subst(c.mask) : null, 'sampled', c.scale);
  const qs = new Float32Array(H * r * D);
  for (let h = 0; h < H; h++) rows.forEach((row, i) => qs.set(c.qd.subarray((h * S + row) * D, (h * S + row + 1) * D), (h * r + i) * D));
  const inputs = new Map<string, HostTensor>([
    ['q', hostTensor('f32', [1, H, r, D], qs)], ['k', hostTensor('f32', [1, Hkv, S, D], c.kd)], ['v', hostTensor('f32', [1, Hkv, S, D], c.vd)],
    ['len', hostTensor('i32', [1], [S])], ['img', hostTensor('i32', [1, S], c.img)], ['qpos', hostTensor('i32', [r], rows)],
  ]);
  return interpret([att], { inputs, params: new Map(), dims: {} })[0]!.data as Float32Array;
}

/** A dense [S, S] 0/1 mask (1 = allowed) of the Transfusion layout, for peers that take a bias. */
export function denseMask(S: number, img: Int32Array): Uint8Array {
  const m = new Uint8Array(S * S);
  for (let q = 0; q < S; q++) for (let k = 0; k < S; k++) m[q * S + k] = k <= q || (img[q]! >= 0 && img[q] === img[k]) ? 1 : 0;
  return m;
}
