/**
 * A mask whose argument is computed in the entry (not an entry input) used to pass `check` and fail on WebGPU
 * (the block-sparse tile map is classified on the host from input values). Now every tile is PARTIAL and the
 * result equals the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { compileSource } from '../../src/driver.js';
import { randTensor, runBoth } from '../numeric/helpers.js';

const SPEC = `
model m
config { H = 1  D = 8 }
dim B, S
mask padding(b, q, k; len) = k < len[b] && k <= q
entry main(q: f32[B, H, S, D], k: f32[B, H, S, D], v: f32[B, H, S, D], len: i32[B]) {
  let shorter = for (b: B) => len[b] - 3
  out y = attention(q, k, v, padding(shorter))
}
`;

describe('computed mask argument', () => {
  it('runs block-sparse on WebGPU and equals the interpreter', async () => {
    const { program } = compileSource(SPEC, 'm.tfx');
    const B = 2, S = 20, D = 8;
    const inp = new Map([
      ['q', randTensor('f32', [B, 1, S, D], 1)], ['k', randTensor('f32', [B, 1, S, D], 2)], ['v', randTensor('f32', [B, 1, S, D], 3)],
      ['len', hostTensor('i32', [B], [20, 11])],
    ]);
    const r = await runBoth(program, inp, new Map(), { attentionSchedule: { bq: 8, bk: 8, sparse: true } });
    const y = r.outputs.get('y')!;
    expect(y.maxErr).toBeLessThanOrEqual(1e-4 * Math.max(1, y.maxRef));
    expect(r.run.tileCounts.every((t) => t.empty === 0 && t.full === 0 && t.partial > 0)).toBe(true);
  });
});
