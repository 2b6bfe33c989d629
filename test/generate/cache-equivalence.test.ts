/**
 * Decoding with the KV cache equals recomputing the whole sequence with `forward` at every step (CPU
 * reference), for random prompts with and without an image in the prefix and with an image generated midway;
 * and the cache itself, after generation, equals what one prefill over the final sequence writes.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/runtime/rng.js';
import { generate, type Prompt } from '../../src/generate/generate.js';
import { GREEDY } from '../../src/generate/sampling.js';
import { cpuEngine, forwardOver, prefillCache, randomLatent, randomTokens, relErr, tinyModel } from './helpers.js';

const m = tinyModel();
const c = m.program.config;
const imgSize = c.latent_c! * c.latent_hw! * c.latent_hw!;

async function checkAgainstForward(prompts: Prompt[], opts: { maxTokens: number; forced?: boolean; temperature?: number }) {
  const seen: { row: number; pos: number; logits: Float32Array }[] = [];
  const engine = cpuEngine(m);
  const seqs = await generate(engine, prompts, {
    maxTokens: opts.maxTokens, sampling: opts.temperature ? { temperature: opts.temperature, topK: 0, topP: 1 } : GREEDY,
    seed: 5, steps: 2, guidance: 1, scheduler: 'ddim', maxImages: 1,
    onLogits: (row, pos, logits) => seen.push({ row, pos, logits }),
  });
  expect(seen.length).toBeGreaterThan(prompts.length);
  for (const [row, seq] of seqs.entries()) {
    const full = forwardOver(m, seq);
    const mine = seen.filter((s) => s.row === row);
    expect(mine.length).toBeGreaterThan(0);
    for (const s of mine) {
      const ref = full.logits.slice(s.pos * full.V, (s.pos + 1) * full.V);
      expect(relErr(s.logits, ref), `row ${row} position ${s.pos}`).toBeLessThan(1e-4);
    }
    // The sampled tokens are the ones the full recompute predicts (greedy).
    if (!opts.temperature) for (const s of mine) {
      const next = seq.tokens[s.pos + 1];
      if (next === undefined || next === c.eoi || seq.spans.some((sp) => s.pos + 1 >= sp.start && s.pos + 1 <= sp.start + c.n_patches!)) continue;
      const ref = full.logits.slice(s.pos * full.V, (s.pos + 1) * full.V);
      const banned = new Set([c.eoi!]);
      let best = -1;
      for (let v = 0; v < full.V; v++) if (!banned.has(v) && (best < 0 || ref[v]! > ref[best]!)) best = v;
      if (next !== c.boi) expect(next, `row ${row} token at ${s.pos + 1}`).toBe(best);
    }
  }
  return { seqs, engine };
}

describe('KV-cache decoding (cpu)', () => {
  it('matches a full forward at every step for random text prompts of different lengths (batch of 3)', async () => {
    const rng = Rng.seeded(11);
    await checkAgainstForward([{ tokens: randomTokens(rng, 5) }, { tokens: randomTokens(rng, 2) }, { tokens: randomTokens(rng, 7) }], { maxTokens: 5 });
  });

  it('matches with a clean image in the prefix (captioning), sampled at temperature 1', async () => {
    const rng = Rng.seeded(12);
    await checkAgainstForward([{ tokens: randomTokens(rng, 3), image: randomLatent(rng, imgSize) }, { tokens: randomTokens(rng, 1) }], { maxTokens: 4, temperature: 1 });
  });

  it('matches after an image is generated and committed midway, and the cache equals one prefill of the final sequence', async () => {
    const rng = Rng.seeded(13);
    const { seqs, engine } = await checkAgainstForward([{ tokens: randomTokens(rng, 4), forceImage: true }], { maxTokens: 3 });
    const seq = seqs[0]!;
    expect(seq.images.length).toBe(1);
    expect(seq.tokens.length).toBe(4 + 1 + c.n_patches! + 1 + 3);
    // The last token was sampled but never fed, so the cache holds positions 0 ..< L - 1.
    const got = await engine.states();
    const [, H, C, D] = got.get('layers.0.attn.k_cache')!.shape as [number, number, number, number];
    const L = seq.tokens.length - 1;
    const want = await prefillCache(m, seq, L, C);
    expect(got.size).toBe(2 * c.n_layers!);
    for (const [name, t] of got) {
      const w = want.get(name)!;
      for (let h = 0; h < H; h++) {
        const a = t.data.slice(h * C * D, (h * C + L) * D) as Float32Array, b = w.data.slice(h * C * D, (h * C + L) * D) as Float32Array;
        expect(relErr(a, b), `${name} head ${h}`).toBeLessThan(1e-4);
        // The image span specifically (the commit at t = 0 wrote it, after the noisy denoising steps).
        const sp = seq.spans[0]!.start;
        expect(relErr(a.slice(sp * D, (sp + c.n_patches!) * D), b.slice(sp * D, (sp + c.n_patches!) * D)), `${name} head ${h} image span`).toBeLessThan(1e-4);
      }
    }
  });
});
