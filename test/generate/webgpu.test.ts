/**
 * Generation on WebGPU (lavapipe in CI) through a device session (weights resident, KV cache on the device,
 * only wanted outputs read back): decoding with the KV cache equals the CPU reference's full forward
 * over the sequence at every step, for a prompt with a clean image in the prefix and one whose image is
 * generated and committed midway, and the generated image equals the CPU engine's. Kept small: one sequence,
 * few tokens, one denoising step (each entry's shaders compile once).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { Rng } from '../../src/runtime/rng.js';
import { SessionEngine } from '../../src/generate/engine-session.js';
import { GENERATION_ENTRIES, generate, type GenerateOptions, type Prompt } from '../../src/generate/generate.js';
import { GREEDY } from '../../src/generate/sampling.js';
import { cpuEngine, forwardOver, randomLatent, randomTokens, relErr, tinyModel } from './helpers.js';

const m = tinyModel(3);
const c = m.program.config;
afterAll(async () => { await closeGpu(); });

describe('generation on WebGPU', () => {
  it('decodes with the cache as a full forward does, and makes the image the CPU engine makes', async () => {
    const rng = Rng.seeded(31);
    const prompts: Prompt[] = [
      { tokens: randomTokens(rng, 3), image: randomLatent(rng, c.latent_c! * c.latent_hw! * c.latent_hw!) },
      { tokens: randomTokens(rng, 2), forceImage: true },
    ];
    const gpu = await SessionEngine.open(m.program, m.weights, GENERATION_ENTRIES, 'webgpu');
    const seen: { row: number; pos: number; logits: Float32Array }[] = [];
    const o: GenerateOptions = { maxTokens: 2, sampling: GREEDY, seed: 1, steps: 1, guidance: 2, scheduler: 'ddim', maxImages: 1, clip: true };
    const seqs = await generate(gpu, prompts, { ...o, onLogits: (row, pos, logits) => seen.push({ row, pos, logits }) });
    gpu.dispose();
    const ref = await generate(cpuEngine(m), prompts, o);
    expect(seqs.map((s) => s.tokens)).toEqual(ref.map((s) => s.tokens));
    expect(seqs[1]!.images.length).toBe(1);
    expect(relErr(seqs[1]!.images[0]!, ref[1]!.images[0]!)).toBeLessThan(1e-4);
    for (const [row, seq] of seqs.entries()) {
      const full = forwardOver(m, seq);
      const mine = seen.filter((s) => s.row === row);
      expect(mine.length).toBeGreaterThan(1);
      for (const s of mine) expect(relErr(s.logits, full.logits.slice(s.pos * full.V, (s.pos + 1) * full.V)), `row ${row} position ${s.pos}`).toBeLessThan(1e-4);
    }
  }, 300_000);

  it('chooses tokens on the device (decode_choose) as host greedy does', async () => {
    const { compileFile } = await import('../../src/driver.js');
    const { generationEntries } = await import('../../src/generate/generate.js');
    const { CpuEngine } = await import('../../src/generate/engine.js');
    const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny' });
    const entries = generationEntries(program);
    expect(entries).toContain('decode_choose');
    const prompts: Prompt[] = [{ tokens: [72, 105] }, { tokens: [65] }];
    const o: GenerateOptions = { maxTokens: 4, sampling: GREEDY, seed: 1, steps: 1, guidance: 1, scheduler: 'ddim', maxImages: 0 };
    const gpu = await SessionEngine.open(program, m.weights, entries, 'webgpu');
    const dev = await generate(gpu, prompts, { ...o, deviceChoice: true });
    expect(gpu.timings.get('decode_choose')?.length).toBe(3);
    gpu.dispose();
    const host = await generate(new CpuEngine(program, m.weights, entries), prompts, o);
    expect(dev.map((s) => s.tokens)).toEqual(host.map((s) => s.tokens));
  }, 300_000);
});
