/**
 * Generation figures for `tfx bench --op generate`: decode tokens/s, ms per denoising step without and with
 * classifier-free guidance (a batch of one vs two), prefill and commit, and each entry's share of GPU time by
 * kernel kind. Measured through a WebGPU session (weights resident, the cache kept on the device, only the
 * outputs generation asks for read back: logits, or the chosen ids with decode_choose). The first call of each
 * entry (shader compilation) is left out.
 */
import type { HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import { SessionEngine } from './engine-session.js';
import { generate, generationEntries } from './generate.js';
import { GREEDY } from './sampling.js';

export interface GenerationFigures {
  readonly preset: string;
  readonly device: string;
  readonly promptTokens: number;
  readonly decodeTokensPerS: number;
  readonly decodeMs: number;
  /** decode_choose: the token picked on the device, only its id read back (NaN when the spec lacks the entry). */
  readonly decodeChooseMs: number;
  readonly denoiseMs: number;
  readonly denoiseCfgMs: number;
  readonly prefillMs: number;
  readonly commitMs: number;
  /** Per entry: GPU ms by kernel kind in one profiled warm call. */
  readonly kernelShare: Record<string, Record<string, number>>;
}

const median = (xs: readonly number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)]! : NaN; };

export async function benchGeneration(program: Program, weights: ReadonlyMap<string, HostTensor>, device: string,
  o: { tokens: number; steps: number; log?: (s: string) => void }): Promise<GenerationFigures> {
  const prompt = { tokens: Array.from({ length: 8 }, (_, i) => 97 + i), forceImage: true };
  const base = { maxTokens: o.tokens, sampling: GREEDY, seed: 0, steps: o.steps, scheduler: 'ddim' as const, maxImages: 1, clip: true };
  const plain = await SessionEngine.open(program, weights, generationEntries(program), 'webgpu');
  o.log?.(`generation bench (${program.preset}): no guidance, ${o.steps} steps, ${o.tokens} tokens`);
  await generate(plain, [prompt], { ...base, guidance: 1 });
  o.log?.(`generation bench (${program.preset}): tokens chosen on the device`);
  await generate(plain, [{ tokens: prompt.tokens }], { ...base, guidance: 1, deviceChoice: true, sampling: { temperature: 1, topK: 0, topP: 1 } });
  const cfg = await SessionEngine.open(program, weights, generationEntries(program), 'webgpu');
  o.log?.(`generation bench (${program.preset}): guidance (batch of two)`);
  await generate(cfg, [prompt], { ...base, guidance: 3, maxTokens: 0 });
  // One profiled warm call per entry (the engine's last run of each).
  plain.profile = new Map();
  o.log?.(`generation bench (${program.preset}): profiled run`);
  await generate(plain, [prompt], { ...base, guidance: 1, steps: 1, maxTokens: 1 });
  plain.dispose(); cfg.dispose();
  const warm = (e: SessionEngine, k: string) => median((e.timings.get(k) ?? []).slice(1));
  const share: Record<string, Record<string, number>> = {};
  for (const [entry, ts] of plain.profile) {
    const by: Record<string, number> = {};
    for (const t of ts) by[t.kind] = (by[t.kind] ?? 0) + t.ms;
    share[entry] = by;
  }
  const decodeMs = warm(plain, 'decode');
  return {
    preset: program.preset, device, promptTokens: prompt.tokens.length + 1,
    decodeTokensPerS: 1000 / decodeMs, decodeMs, decodeChooseMs: warm(plain, 'decode_choose'), denoiseMs: warm(plain, 'denoise'), denoiseCfgMs: warm(cfg, 'denoise'),
    prefillMs: median(plain.timings.get('prefill') ?? []), commitMs: median(plain.timings.get('commit') ?? []), kernelShare: share,
  };
}

export function generationTable(f: GenerationFigures): string {
  const pct = (by: Record<string, number>) => {
    const tot = Object.values(by).reduce((a, b) => a + b, 0);
    return Object.entries(by).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${((100 * v) / tot).toFixed(0)}%`).join(', ');
  };
  return [
    `generation, preset ${f.preset}, ${f.device} (session: weights and KV cache resident; logits read back per decode step)`,
    `  decode          ${f.decodeMs.toFixed(1)} ms/token  (${f.decodeTokensPerS.toFixed(2)} tokens/s)   GPU time: ${pct(f.kernelShare.decode ?? {})}`,
    `  decode_choose   ${f.decodeChooseMs.toFixed(1)} ms/token  (temperature 1 chosen on the device; only ids read back)`,
    `  denoise step    ${f.denoiseMs.toFixed(1)} ms without guidance, ${f.denoiseCfgMs.toFixed(1)} ms with (batch of two)   GPU time: ${pct(f.kernelShare.denoise ?? {})}`,
    `  prefill         ${f.prefillMs.toFixed(1)} ms for ${f.promptTokens} tokens (median of 3 calls, the first compiling shaders)`,
    `  commit          ${f.commitMs.toFixed(1)} ms (median of 3 calls, the first compiling shaders)`,
    '',
  ].join('\n');
}
