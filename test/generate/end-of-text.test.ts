/**
 * Generation stops a sequence at the spec's end of text (config `eos`): the token is kept as the sequence's
 * last, nothing is sampled or fed after it, and the other rows of the batch run on to maxTokens. The model's
 * decode logits are steered by wrapping the CPU engine, so the test does not depend on what random weights say.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { generate } from '../../src/generate/generate.js';
import type { Engine } from '../../src/generate/engine.js';
import { GREEDY } from '../../src/generate/sampling.js';
import { cpuEngine, tinyModel } from './helpers.js';

const m = tinyModel();
const eos = m.program.config.eos!;

/** Row 0's logits put end of text first from its `after`-th decode call on; every other row's ban it. */
function steered(inner: Engine, after: number): Engine & { fed: number[][] } {
  let calls = 0;
  const fed: number[][] = [];
  return {
    program: inner.program, backend: inner.backend, fed,
    reset: (d) => inner.reset(d), states: () => inner.states(),
    async run(entry: string, inputs: ReadonlyMap<string, HostTensor>, want?: readonly string[]) {
      const out = await inner.run(entry, inputs, want);
      if (entry !== 'decode') return out;
      fed.push([...inputs.get('tokens')!.data]);
      calls++;
      const l = out.get('logits')!, V = l.shape[2]!, d = Float32Array.from(l.data);
      for (let r = 0; r < l.shape[0]!; r++) d[r * V + eos] = r === 0 && calls >= after ? 1e9 : -1e9;
      return new Map([...out, ['logits', hostTensor('f32', l.shape, d)]]);
    },
  };
}

describe('end of text', () => {
  it('the spec names it (the tiny PAD id; Llama-2 </s> in the paper presets)', () => {
    expect(eos).toBe(258);
    expect(m.program.config.vocab).toBe(259);
  });

  it('ends the row that produces it; the other rows run on to maxTokens', async () => {
    const engine = steered(cpuEngine(m), 2);
    const seqs = await generate(engine, [{ tokens: [104, 105] }, { tokens: [120] }], {
      maxTokens: 6, sampling: GREEDY, seed: 1, steps: 1, guidance: 1, scheduler: 'ddim', maxImages: 0,
    });
    // Row 0: one token from prefill, one from the first decode, then end of text from the second decode.
    const gen0 = seqs[0]!.tokens.slice(seqs[0]!.promptLength);
    expect(gen0).toHaveLength(3);
    expect(gen0[2]).toBe(eos);
    expect(gen0.slice(0, 2).every((t) => t < 256)).toBe(true);
    const gen1 = seqs[1]!.tokens.slice(seqs[1]!.promptLength);
    expect(gen1).toHaveLength(6);
    expect(gen1.includes(eos)).toBe(false);
    // Feeds after row 0 ended carry a dummy (0) for it: its end of text is never fed.
    expect(engine.fed.map((f) => f[0]).includes(eos)).toBe(false);
  });
});
