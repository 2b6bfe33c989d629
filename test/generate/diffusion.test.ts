/**
 * Image generation against hand computations: one DDIM step is the update computed by hand from the model's
 * noise on the same inputs (a separate, fresh run of `denoise`), CFG equals two separate runs combined, and a
 * seed gives the same text and images run to run.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/runtime/rng.js';
import { generate, type GenerateOptions, type StepInfo } from '../../src/generate/generate.js';
import { GREEDY } from '../../src/generate/sampling.js';
import { cpuEngine, epsAfter, forwardOver, randomTokens, relErr, tinyModel } from './helpers.js';

const m = tinyModel(2);
const c = m.program.config;
const base: GenerateOptions = { maxTokens: 1, sampling: GREEDY, seed: 9, steps: 3, guidance: 1, scheduler: 'ddim', maxImages: 1 };

async function steps(prompt: number[], o: Partial<GenerateOptions>): Promise<StepInfo[]> {
  const infos: StepInfo[] = [];
  await generate(cpuEngine(m), [{ tokens: prompt, forceImage: true }], { ...base, ...o, onStep: (i) => infos.push(i) });
  return infos;
}

// The spec's cosine schedule, written out independently: alpha_bar(t) = f(t) / f(0).
const f = (t: number) => Math.cos(((t / c.T! + c.s_cos!) / (1 + c.s_cos!)) * Math.PI / 2) ** 2;
const abar = (t: number) => f(t) / f(0);

describe('denoising', () => {
  const prompt = randomTokens(Rng.seeded(21), 5);

  it('one DDIM step is the hand-computed update from the model noise', async () => {
    const infos = await steps(prompt, {});
    expect(infos.map((i) => [i.t, i.tPrev])).toEqual([[1000, 667], [667, 333], [333, 0]]);
    for (const info of infos.slice(1)) {
      const row = info.rows[0]!;
      const eps = await epsAfter(m, [...prompt, c.boi!], row.x, info.t);
      expect(relErr(row.eps, eps)).toBeLessThan(1e-5);
      const aT = abar(info.t), aP = abar(info.tPrev);
      const want = row.x.map((x, i) => {
        const x0 = (x - Math.sqrt(1 - aT) * eps[i]!) / Math.sqrt(aT);
        return Math.sqrt(aP) * x0 + Math.sqrt(1 - aP) * eps[i]!;
      });
      expect(relErr(row.next, want), `step t=${info.t}`).toBeLessThan(1e-5);
    }
  });

  it('a DDPM step is the posterior mean plus noise of the posterior variance; the last step lands on x0', async () => {
    const infos = await steps(prompt, { scheduler: 'ddpm', steps: 2 });
    const [mid, last] = [infos[0]!, infos[1]!];
    // Step t=1000 -> 500 (alpha_bar(1000) uses the clipped beta; only the ratio of the two enters via beta).
    {
      const row = last.rows[0]!;
      const aT = abar(last.t);
      const x0 = row.x.map((x, i) => (x - Math.sqrt(1 - aT) * row.eps[i]!) / Math.sqrt(aT));
      expect(relErr(row.next, x0)).toBeLessThan(1e-5);
    }
    {
      const row = mid.rows[0]!;
      expect([mid.t, mid.tPrev]).toEqual([1000, 500]);
      const aP = abar(500);
      // alpha_bar at T from the clipped betas: abar(999) * (1 - 0.999).
      const aT = abar(999) * (1 - Math.min(1 - f(1000) / f(999), 0.999));
      const beta = 1 - aT / aP;
      const z = row.x.map((x, i) => {
        const x0 = (x - Math.sqrt(1 - aT) * row.eps[i]!) / Math.sqrt(aT);
        const mean = (Math.sqrt(aP) * beta / (1 - aT)) * x0 + (Math.sqrt(1 - beta) * (1 - aP) / (1 - aT)) * x;
        return (row.next[i]! - mean) / Math.sqrt(beta * (1 - aP) / (1 - aT));
      });
      const mu = z.reduce((a, b) => a + b, 0) / z.length;
      const sd = Math.sqrt(z.reduce((a, b) => a + (b - mu) ** 2, 0) / z.length);
      expect(Math.abs(mu)).toBeLessThan(0.3);
      expect(Math.abs(sd - 1)).toBeLessThan(0.3);
    }
  });

  it('the denoise entry predicts the noise forward predicts for the same sequence (image at t, prefix cached)', async () => {
    const x = Float32Array.from({ length: c.latent_c! * c.latent_hw! * c.latent_hw! }, (_, i) => Math.sin(i * 0.7));
    const tokens = [...prompt, c.boi!, ...new Array<number>(c.n_patches!).fill(0)];
    for (const t of [900, 250]) {
      const full = forwardOver(m, { tokens, promptLength: tokens.length, images: [], spans: [{ start: prompt.length + 1, latent: x }] }, t);
      expect(relErr(await epsAfter(m, [...prompt, c.boi!], x, t), full.noise), `t=${t}`).toBeLessThan(1e-5);
    }
  });

  it('classifier-free guidance equals the conditional and unconditional runs combined', async () => {
    const w = 3;
    // Clipping x0 to [-1, 1] keeps the latent in range after the first step from t = T (random weights).
    const infos = await steps(prompt, { guidance: w, steps: 2, clip: true });
    for (const info of infos) {
      const row = info.rows[0]!;
      const ec = await epsAfter(m, [...prompt, c.boi!], row.x, info.t);
      const eu = await epsAfter(m, [c.boi!], row.x, info.t);
      expect(relErr(row.eps, ec.map((v, i) => eu[i]! + w * (v - eu[i]!)))).toBeLessThan(1e-5);
      // Guidance matters here: the unconditional noise differs from the conditional one.
      expect(relErr(eu, ec)).toBeGreaterThan(1e-3);
    }
  });
});

describe('seeded generation', () => {
  const run = (seed: number) => generate(cpuEngine(m), [{ tokens: [104, 105] }, { tokens: [97], forceImage: true }], {
    ...base, seed, maxTokens: 4, steps: 2, guidance: 2, scheduler: 'ddpm', sampling: { temperature: 1, topK: 40, topP: 0.95 },
  });

  it('is reproducible run to run, and a different seed changes it', async () => {
    const [a, b, other] = [await run(4), await run(4), await run(5)];
    expect(a.map((s) => s.tokens)).toEqual(b.map((s) => s.tokens));
    expect(a[1]!.images.length).toBe(1);
    expect([...a[1]!.images[0]!]).toEqual([...b[1]!.images[0]!]);
    expect([...a[1]!.images[0]!]).not.toEqual([...other[1]!.images[0]!]);
    expect(a.map((s) => s.tokens)).not.toEqual(other.map((s) => s.tokens));
  });
});

describe('device choice of tokens', () => {
  it('greedy through decode_choose makes the tokens and images host greedy makes (batch, forced image)', async () => {
    const { compileFile } = await import('../../src/driver.js');
    const { CpuEngine } = await import('../../src/generate/engine.js');
    const { generationEntries } = await import('../../src/generate/generate.js');
    const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny' });
    const mk = () => new CpuEngine(program, m.weights, generationEntries(program));
    const prompts = [{ tokens: [104, 105, 32], forceImage: true }, { tokens: [120] }];
    const o = { ...base, maxTokens: 4, steps: 1 };
    const host = await generate(mk(), prompts, o);
    const engine = mk();
    const calls: string[] = [];
    const run = engine.run.bind(engine);
    engine.run = (entry, inputs, want) => { calls.push(entry); return run(entry, inputs, want); };
    const dev = await generate(engine, prompts, { ...o, deviceChoice: true });
    expect(calls.filter((c) => c === 'decode_choose').length).toBeGreaterThanOrEqual(3);
    expect(calls).not.toContain('decode');
    expect(dev.map((s) => s.tokens)).toEqual(host.map((s) => s.tokens));
    expect([...dev[0]!.images[0]!]).toEqual([...host[0]!.images[0]!]);
  });
});
