/**
 * A Transfusion-shaped tiny model (B = 2, S = 64, d = 64, 2 layers, GQA 4/2 heads, vocab 259) built by hand
 * with the Builder: the interpreter must run it in seconds, and the mask's structure must show in the logits
 * (causal for text, bidirectional inside an image, padding invisible).
 */
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym, type Dim } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { BinaryOp, IExpr, Node } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';

const [V, D, H, HKV, DH, FF, LAYERS] = [259, 64, 4, 2, 16, 192, 2];
const [B, S] = [2, 64];
const c = (n: number) => dimConst(n);
const Bd = dimSym('B'), Sd = dimSym('S');

const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
const load = (src: number, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype: 'i32' });
const bool = (op: BinaryOp, a: IExpr, b: IExpr): IExpr => ({ k: 'bin', op, a, b, dtype: 'bool' });
const mask: IExpr = bool('and', bool('lt', idx(2), load(0, idx(0))),
  bool('or', bool('le', idx(2), idx(1)),
    bool('and', bool('ge', load(1, idx(0), idx(1)), { k: 'const', v: 0, dtype: 'i32' }), bool('eq', load(1, idx(0), idx(1)), load(1, idx(0), idx(2))))));

function rand(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s / 2 ** 31 - 1) * scale; });
}

function buildModel(): { logp: Node; params: Map<string, HostTensor> } {
  const g = new Builder();
  const params = new Map<string, HostTensor>();
  let seed = 1;
  const param = (name: string, shape: number[], ones = false) => {
    const n = shape.reduce((a, b) => a * b, 1);
    params.set(name, hostTensor('f32', shape, ones ? new Float32Array(n).fill(1) : rand(n, seed++, 1 / Math.sqrt(shape[0]!))));
    return g.param(name, 'f32', shape.map(c), ones ? { kind: 'ones' } : { kind: 'normal', mean: 0, std: 0.02 });
  };
  const tokens = g.input('tokens', 'i32', [Bd, Sd]), pos = g.input('pos', 'i32', [Bd, Sd]);
  const len = g.input('len', 'i32', [Bd]), img = g.input('img', 'i32', [Bd, Sd]);
  const heads = (x: Node, h: number): Node => g.permute(g.reshape(x, [Bd, Sd, c(h), c(DH)]), [0, 2, 1, 3]);
  let x = g.gather(param('embed', [V, D]), tokens);
  for (let l = 0; l < LAYERS; l++) {
    const h = g.rmsnorm(x, param(`l${l}.attn_norm`, [D], true), 1e-5);
    const q = g.rope(heads(g.matmul(h, param(`l${l}.wq`, [D, H * DH])), H), pos, 10000);
    const k = g.rope(heads(g.matmul(h, param(`l${l}.wk`, [D, HKV * DH])), HKV), pos, 10000);
    const v = heads(g.matmul(h, param(`l${l}.wv`, [D, HKV * DH])), HKV);
    const a = g.attention(q, k, v, [len, img], mask, 'transfusion', 1 / Math.sqrt(DH));
    const merged = g.reshape(g.permute(a, [0, 2, 1, 3]), [Bd, Sd, c(D)]);
    x = g.binary('add', x, g.matmul(merged, param(`l${l}.wo`, [D, D])));
    const h2 = g.rmsnorm(x, param(`l${l}.ffn_norm`, [D], true), 1e-5);
    const gate = g.unary('silu', g.matmul(h2, param(`l${l}.wg`, [D, FF])));
    const ff = g.matmul(g.binary('mul', gate, g.matmul(h2, param(`l${l}.wu`, [D, FF]))), param(`l${l}.wd`, [FF, D]));
    x = g.binary('add', x, ff);
  }
  const logits = g.matmul(g.rmsnorm(x, param('norm', [D], true), 1e-5), param('head', [D, V]));
  return { logp: g.softmax(logits, -1, true), params };
}

// Batch 0: all text, full length. Batch 1: text, an image at [10, 30), text, padding from 50.
const imgLayout = Array.from({ length: B * S }, (_, i) => (i >= S && i % S >= 10 && i % S < 30 ? 0 : -1));
const lens = [S, 50];
function run(model: ReturnType<typeof buildModel>, tokens: number[]): Float32Array {
  const inputs = new Map<string, HostTensor>([
    ['tokens', hostTensor('i32', [B, S], tokens)],
    ['pos', hostTensor('i32', [B, S], Array.from({ length: B * S }, (_, i) => i % S))],
    ['len', hostTensor('i32', [B], lens)],
    ['img', hostTensor('i32', [B, S], imgLayout)],
  ]);
  return interpret([model.logp], { inputs, params: model.params, dims: { B, S } })[0]!.data as Float32Array;
}
/** Largest |difference| of the log-probs at position (b, s). */
function diffAt(a: Float32Array, b: Float32Array, bi: number, s: number): number {
  let m = 0;
  for (let v = 0; v < V; v++) m = Math.max(m, Math.abs(a[(bi * S + s) * V + v]! - b[(bi * S + s) * V + v]!));
  return m;
}

describe('tiny Transfusion-shaped model', () => {
  const model = buildModel();
  const tokens = Array.from({ length: B * S }, (_, i) => (i * 37 + 11) % 256);
  let base: Float32Array;

  it('runs forward in seconds and gives normalised log-probs', () => {
    const t0 = performance.now();
    base = run(model, tokens);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000);
    expect(base.length).toBe(B * S * V);
    expect(base.every((x) => Number.isFinite(x))).toBe(true);
    for (let r = 0; r < B * S; r++) {
      let z = 0;
      for (let v = 0; v < V; v++) z += Math.exp(base[r * V + v]!);
      expect(Math.abs(z - 1)).toBeLessThan(1e-4);
    }
  });

  it('text is causal: changing the last token changes only the last position', () => {
    const t2 = [...tokens];
    t2[S - 1] = (t2[S - 1]! + 1) % 256;
    const out = run(model, t2);
    for (let s = 0; s < S - 1; s++) expect(diffAt(base, out, 0, s)).toBe(0);
    expect(diffAt(base, out, 0, S - 1)).toBeGreaterThan(1e-4);
  });

  it('an image is bidirectional: a later patch changes an earlier one, but not the text before it', () => {
    const t2 = [...tokens];
    t2[S + 25] = (t2[S + 25]! + 1) % 256;
    const out = run(model, t2);
    expect(diffAt(base, out, 1, 12)).toBeGreaterThan(1e-4); // patch 12 sees patch 25
    expect(diffAt(base, out, 1, 9)).toBe(0); // text before the image does not
    expect(diffAt(base, out, 0, 40)).toBe(0); // the other sequence is untouched
  });

  it('padding is invisible to valid positions', () => {
    const t2 = [...tokens];
    for (let s = 50; s < S; s++) t2[S + s] = 3;
    const out = run(model, t2);
    for (let s = 0; s < 50; s++) expect(diffAt(base, out, 1, s)).toBe(0);
  });
});
