/**
 * Every mask family a user writes as a one-line predicate in a .tfx spec — causal, padding, document (packed
 * sequences), prefix-LM, sliding window, bidirectional within an image, Transfusion — compiled into the fused
 * block-sparse attention kernel, on WebGPU and in the CUDA CPU emulation, against the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { compileSource } from '../../src/driver.js';
import { compileCudaEntry, runCudaEntryOnCpu } from '../../src/runtime/cuda/program.js';
import { interpret } from '../../src/ir/interpreter.js';
import { randTensor, runBoth } from './helpers.js';

const SPEC = `
model masks
config { H = 2  D = 16  window = 5 }
dim B, S
mask causal(b, q, k) = k <= q
mask padding(b, q, k; len) = k < len[b]
mask document(b, q, k; doc) = doc[b, q] == doc[b, k] && k <= q
mask prefix_lm(b, q, k; prefix) = k <= q || k < prefix[b]
mask sliding(b, q, k) = k <= q && q - k < window
mask image(b, q, k; img) = k <= q || (img[b, q] >= 0 && img[b, q] == img[b, k])
mask transfusion(b, q, k; len, img) = k < len[b] && (k <= q || (img[b, q] >= 0 && img[b, q] == img[b, k]))
entry main(q: f32[B, H, S, D], k: f32[B, H, S, D], v: f32[B, H, S, D], len: i32[B], doc: i32[B, S], prefix: i32[B], img: i32[B, S]) {
  out causal = attention(q, k, v, causal)
  out padding = attention(q, k, v, padding(len))
  out document = attention(q, k, v, document(doc))
  out prefix_lm = attention(q, k, v, prefix_lm(prefix))
  out sliding = attention(q, k, v, sliding)
  out image = attention(q, k, v, image(img))
  out transfusion = attention(q, k, v, transfusion(len, img))
}
`;

function inputs(): Map<string, HostTensor> {
  const B = 2, H = 2, S = 45, D = 16;
  // Sequence 0: two documents (0..19, 20..44), an image at 10..25; sequence 1: padded at 30, an image at 3..20.
  const doc = [...Array.from({ length: S }, (_, i) => (i < 20 ? 0 : 1)), ...Array.from({ length: S }, (_, i) => (i < 12 ? 0 : i < 30 ? 1 : 2))];
  const img = [...Array.from({ length: S }, (_, i) => (i >= 10 && i < 26 ? 0 : -1)), ...Array.from({ length: S }, (_, i) => (i >= 3 && i < 21 ? 0 : -1))];
  return new Map([
    ['q', randTensor('f32', [B, H, S, D], 11)], ['k', randTensor('f32', [B, H, S, D], 12)], ['v', randTensor('f32', [B, H, S, D], 13)],
    ['len', hostTensor('i32', [B], [S, 30])], ['doc', hostTensor('i32', [B, S], doc)], ['prefix', hostTensor('i32', [B], [7, 0])],
    ['img', hostTensor('i32', [B, S], img)],
  ]);
}

describe('one-line mask predicates through the fused attention kernel', () => {
  const { program } = compileSource(SPEC, 'masks.tfx');
  const inp = inputs();

  it('WebGPU (sparse and dense) equals the interpreter for every mask', async () => {
    for (const sparse of [true, false]) {
      const r = await runBoth(program, inp, new Map(), { attentionSchedule: { bq: 8, bk: 8, sparse } });
      for (const [name, o] of r.outputs) expect(o.maxErr, `${name} sparse=${sparse}`).toBeLessThanOrEqual(1e-4 * Math.max(1, o.maxRef));
      if (sparse) for (const t of r.run.tileCounts) expect(t.empty + t.full + t.partial).toBeGreaterThan(0);
    }
  });

  it('the CUDA emulation equals the interpreter for every mask', async () => {
    const c = compileCudaEntry(program, 'main', { attentionSchedule: { bq: 8, bk: 8, sparse: true } });
    const run = await runCudaEntryOnCpu(c, program, new Map(), inp);
    const ref = interpret(c.graph.outputs.map((o) => o.node), { inputs: inp, params: new Map(), dims: run.dims });
    c.graph.outputs.forEach((o, i) => {
      const got = run.outputs.get(o.name)!.data, want = ref[i]!.data;
      let err = 0, scale = 1;
      for (let j = 0; j < want.length; j++) { err = Math.max(err, Math.abs(got[j]! - want[j]!)); scale = Math.max(scale, Math.abs(want[j]!)); }
      expect(err, o.name).toBeLessThanOrEqual(1e-4 * scale);
    });
  }, 300_000);
});
