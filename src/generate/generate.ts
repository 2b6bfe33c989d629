/**
 * Transfusion generation over an Engine (the spec's entries prefill / decode / denoise / commit and their KV
 * cache), following the paper's inference procedure (shared/transfusion.md, Inference):
 *  - text: autoregressive decoding with a preallocated cache of C positions per sequence, batched, sampled per
 *    sequence from its own seeded stream;
 *  - images: when a sequence has BOI (sampled, or forced at the end of the prompt) n noise patches are appended
 *    and the image block is denoised against the cached prefix for `steps` steps (DDIM or DDPM, the spec's
 *    cosine schedule) with classifier-free guidance eps = eps_u + w (eps_c - eps_u), computed as one batch:
 *    rows B..2B-1 are the unconditional twins, holding only BOI; then the clean latent is run once at t = 0
 *    (commit) to fill the cache for the image span, EOI is fed, and text resumes;
 *  - captioning: a clean image (t = 0) in the prompt, BOI image EOI, then the prompt's text, then decoding;
 *  - a sequence whose sampled token is the spec's end of text (config `eos`, when it has one) is finished.
 * All rows run in lock step; a row with nothing to do in a call is fed at its first free position, which
 * writes past its valid length (len) and is overwritten before it is ever read.
 */
import { hostTensor, type HostTensor } from '../core/tensor.js';
import { TfxError } from '../errors.js';
import { rngFor } from '../runtime/rng.js';
import { alphaBars, ddimStep, ddpmStep, guide, timesteps, type Scheduler } from './diffusion.js';
import type { Engine } from './engine.js';
import { sampleToken, type SamplingOptions } from './sampling.js';

export const GENERATION_ENTRIES = ['prefill', 'decode', 'denoise', 'commit'] as const;
/** Entries generation uses when the spec has them. */
export const OPTIONAL_ENTRIES = ['decode_choose'] as const;

/** The generation entries of a program; a coded error naming what is missing. */
export function generationEntries(program: { readonly entries: readonly { readonly entry: string }[] }): string[] {
  const have = new Set(program.entries.map((e) => e.entry));
  const missing = GENERATION_ENTRIES.filter((e) => !have.has(e));
  if (missing.length) throw new TfxError('TFX5001', `generation needs the entries ${GENERATION_ENTRIES.join(', ')}; this spec lacks ${missing.join(', ')} (see docs/language.md section 12)`);
  return [...GENERATION_ENTRIES, ...OPTIONAL_ENTRIES.filter((e) => have.has(e))];
}

export interface Prompt {
  /** Text token ids after the image (if any). */
  readonly tokens: readonly number[];
  /** A clean image latent [latent_c, latent_hw, latent_hw] placed first (captioning): BOI image EOI tokens. */
  readonly image?: Float32Array;
  /** End the prompt with BOI, so the sequence starts with an image. */
  readonly forceImage?: boolean;
}

export interface GenerateOptions {
  readonly maxTokens: number;
  readonly sampling: SamplingOptions;
  readonly seed: number;
  readonly steps: number;
  /** Guidance weight w; 1 means no guidance (no unconditional rows are run). */
  readonly guidance: number;
  readonly scheduler: Scheduler;
  /** Images a sequence may generate (BOI is not sampled beyond this). */
  readonly maxImages: number;
  /** Clip the predicted clean latent to [-1, 1] (pixel-space presets). */
  readonly clip?: boolean;
  readonly onToken?: (row: number, token: number) => void;
  readonly onStep?: (info: StepInfo) => void;
  readonly onImage?: (row: number, index: number, latent: Float32Array) => void;
  /**
   * Choose tokens on the device (entry `decode_choose`: argmax of logits / T + Gumbel noise) so that only the
   * ids are read back; applies when the spec has the entry and sampling uses neither top-k nor top-p. The first
   * token after the prompt is still chosen on the host (prefill returns logits). Draws differ from host
   * sampling (one uniform per vocabulary entry instead of one per token), greedy is the same.
   */
  readonly deviceChoice?: boolean;
  /** The logits computed at `position` of a sequence (its prediction for position + 1); not in device choice. */
  readonly onLogits?: (row: number, position: number, logits: Float32Array) => void;
}

export interface StepInfo {
  readonly step: number;
  readonly steps: number;
  readonly t: number;
  readonly tPrev: number;
  readonly ms: number;
  /** Per generating row: the latent before this step, the (guided) noise used, and the latent after it. */
  readonly rows: readonly { readonly row: number; readonly x: Float32Array; readonly eps: Float32Array; readonly next: Float32Array }[];
}

export interface SequenceOut {
  /** Every token of the sequence (prompt included); image spans are BOI, n_patches zeros, EOI. */
  readonly tokens: number[];
  /** Where the prompt ends in `tokens`. */
  readonly promptLength: number;
  /** The generated images' latents (not the prompt's), in order. */
  readonly images: Float32Array[];
  /** Every image of the sequence (the prompt's included): first patch position and clean latent. */
  readonly spans: { readonly start: number; readonly latent: Float32Array }[];
}

interface Cfg { vocab: number; boi: number; eoi: number; eos: number | undefined; nPatches: number; c: number; hw: number; T: number; s: number }

function configOf(e: Engine): Cfg {
  const k = e.program.config;
  const need = (n: string) => {
    const v = k[n];
    if (v === undefined) throw new TfxError('TFX5001', `generation needs the config value '${n}' in the spec`);
    return v;
  };
  return { vocab: need('vocab'), boi: need('boi'), eoi: need('eoi'), eos: k.eos, nPatches: need('n_patches'), c: need('latent_c'), hw: need('latent_hw'), T: need('T'), s: need('s_cos') };
}

/** Positions one sequence needs at most: its prompt, the generated tokens, and each image's span. */
export function capacityFor(cfg: { nPatches: number }, promptLen: number, o: Pick<GenerateOptions, 'maxTokens' | 'maxImages'>): number {
  return promptLen + o.maxTokens + o.maxImages * (cfg.nPatches + 2) + 1;
}

export function promptTokens(p: Prompt, cfg: Pick<Cfg, 'boi' | 'eoi' | 'nPatches'>): { tokens: number[]; imgStart: number } {
  const tokens: number[] = [];
  let imgStart = -1;
  if (p.image) { tokens.push(cfg.boi); imgStart = 1; for (let i = 0; i < cfg.nPatches; i++) tokens.push(0); tokens.push(cfg.eoi); }
  tokens.push(...p.tokens);
  if (p.forceImage) tokens.push(cfg.boi);
  return { tokens, imgStart };
}

export async function generate(engine: Engine, prompts: readonly Prompt[], o: GenerateOptions): Promise<SequenceOut[]> {
  const cfg = configOf(engine);
  const B = prompts.length;
  if (B === 0) throw new TfxError('TFX5001', 'no prompts');
  const cfgOn = o.guidance !== 1;
  const R = cfgOn ? 2 * B : B;
  const imgSize = cfg.c * cfg.hw * cfg.hw;
  const built = prompts.map((p) => {
    if (p.image && p.image.length !== imgSize) throw new TfxError('TFX5001', `the prompt image has ${p.image.length} values; this preset's latents are ${cfg.c} x ${cfg.hw} x ${cfg.hw}`);
    for (const t of p.tokens) if (!Number.isInteger(t) || t < 0 || t >= cfg.vocab) throw new TfxError('TFX5001', `token id ${t} is outside the vocabulary (0 ..< ${cfg.vocab})`);
    return promptTokens(p, cfg);
  });
  for (const b of built) if (b.tokens.length === 0) throw new TfxError('TFX5001', 'the prompt is empty: give text, an image, or force an image');
  const S = Math.max(...built.map((b) => b.tokens.length));
  const C = capacityFor(cfg, S, o);
  engine.reset({ B: R, C });

  const rngs = prompts.map((_, b) => rngFor(o.seed, `sequence ${b}`));
  const noiseRngs = prompts.map((_, b) => rngFor(o.seed, `noise ${b}`));
  const len = new Int32Array(R);
  const seqImg = new Int32Array(R * C).fill(-1);
  const nImages = new Int32Array(B);
  const seqs: SequenceOut[] = built.map((b, r) => ({
    tokens: [...b.tokens], promptLength: b.tokens.length, images: [],
    spans: b.imgStart >= 0 ? [{ start: b.imgStart, latent: prompts[r]!.image! }] : [],
  }));

  // ---- prefill: every prompt (padded to S); the unconditional twins hold only BOI.
  let logits: Float32Array[];
  {
    const tokens = new Int32Array(R * S), img = new Int32Array(R * S).fill(-1), imgPos = new Int32Array(R * S).fill(-1);
    const imgStart = new Int32Array(R).fill(-1), lens = new Int32Array(R), pos = new Int32Array(R * S);
    const latents = new Float32Array(R * imgSize);
    for (let r = 0; r < R; r++) {
      const toks = r < B ? built[r]!.tokens : [cfg.boi];
      toks.forEach((t, i) => { tokens[r * S + i] = t; });
      for (let i = 0; i < S; i++) pos[r * S + i] = i;
      lens[r] = toks.length; len[r] = toks.length;
      if (r < B && built[r]!.imgStart >= 0) {
        const st = built[r]!.imgStart;
        imgStart[r] = st;
        for (let p = 0; p < cfg.nPatches; p++) { img[r * S + st + p] = 0; imgPos[r * S + st + p] = p; seqImg[r * C + st + p] = 0; }
        latents.set(prompts[r]!.image!, r * imgSize);
      }
    }
    const out = await engine.run('prefill', new Map([
      ['tokens', hostTensor('i32', [R, S], tokens)], ['img', hostTensor('i32', [R, S], img)], ['img_pos', hostTensor('i32', [R, S], imgPos)],
      ['img_start', hostTensor('i32', [R, 1], imgStart)], ['len', hostTensor('i32', [R], lens)],
      ['latents', hostTensor('f32', [R, 1, cfg.c, cfg.hw, cfg.hw], latents)], ['t', hostTensor('i32', [R, 1])],
      ['pos', hostTensor('i32', [R, S], pos)], ['seq_img', hostTensor('i32', [R, C], seqImg.slice())],
    ]));
    logits = rowsAt(out.get('logits')!, (r) => len[r]! - 1, R);
    for (let b = 0; b < B; b++) o.onLogits?.(b, len[b]! - 1, logits[b]!);
  }
  // Images already in prompts count toward the image index, not toward maxImages.
  const imageIndex = new Int32Array(B);
  built.forEach((b, r) => { if (b.imgStart >= 0) imageIndex[r] = 1; });

  const lastFed = built.map((b) => b.tokens[b.tokens.length - 1]!);
  // Rows that have produced end of text: nothing more is sampled or fed for them.
  const ended = new Array<boolean>(B).fill(false);
  // A forced image counts toward maxImages like a sampled one.
  lastFed.forEach((t, b) => { if (t === cfg.boi) nImages[b] = 1; });
  const onDevice = !!o.deviceChoice && o.sampling.topK === 0 && o.sampling.topP === 1 && engine.program.entries.some((g) => g.entry === 'decode_choose');
  // Device choice: the token chosen by the last decode call of each row (undefined: choose from logits).
  const chosen: (number | undefined)[] = new Array(B).fill(undefined);
  const bansAfter = (b: number, lenAfter: number): Set<number> => {
    const banned = new Set<number>([cfg.eoi]);
    if (nImages[b]! >= o.maxImages || lenAfter + 1 + cfg.nPatches + 1 > C) banned.add(cfg.boi);
    return banned;
  };
  let produced = 0;
  for (;;) {
    // Rows that have just fed BOI make an image, then feed EOI.
    const imgRows = [...Array(B).keys()].filter((b) => lastFed[b] === cfg.boi && len[b]! + cfg.nPatches + 1 <= C);
    if (imgRows.length) {
      const images = await makeImage(imgRows);
      const feed: (number | null)[] = new Array(R).fill(null);
      for (const b of imgRows) {
        seqs[b]!.tokens.push(...new Array<number>(cfg.nPatches).fill(0), cfg.eoi);
        seqs[b]!.images.push(images.get(b)!);
        seqs[b]!.spans.push({ start: len[b]! - cfg.nPatches, latent: images.get(b)! });
        o.onImage?.(b, seqs[b]!.images.length - 1, images.get(b)!);
        feed[b] = cfg.eoi; lastFed[b] = cfg.eoi;
      }
      await decodeStep(feed);
      continue;
    }
    if (produced >= o.maxTokens) break;
    const feed: (number | null)[] = new Array(R).fill(null);
    for (let b = 0; b < B; b++) {
      if (ended[b] || len[b]! + 1 > C) continue;
      const tok = chosen[b] ?? sampleToken(logits[b]!, 0, cfg.vocab, o.sampling, rngs[b]!, bansAfter(b, len[b]!));
      chosen[b] = undefined;
      seqs[b]!.tokens.push(tok);
      o.onToken?.(b, tok);
      if (tok === cfg.eos) { ended[b] = true; continue; }
      feed[b] = tok; lastFed[b] = tok;
      if (tok === cfg.boi) nImages[b]!++;
    }
    produced++;
    if (feed.every((f) => f === null)) break;
    // The last token is fed only when it starts an image (its key/value is needed); otherwise generation is done.
    if (produced >= o.maxTokens && !feed.some((f) => f === cfg.boi)) break;
    await decodeStep(feed);
  }
  return seqs;

  /**
   * Feed one token per row (null: an idle row, fed a dummy past its valid length); afterwards each fed row has
   * its next-token logits (host choice) or its chosen next token (device choice).
   */
  async function decodeStep(feed: readonly (number | null)[]): Promise<void> {
    const tokens = new Int32Array(R), pos = new Int32Array(R);
    for (let r = 0; r < R; r++) { tokens[r] = feed[r] ?? 0; pos[r] = Math.min(len[r]!, C - 1); }
    const inputs = new Map([
      ['tokens', hostTensor('i32', [R, 1], tokens)], ['pos', hostTensor('i32', [R, 1], pos)],
      ['len', hostTensor('i32', [R], pos.map((p) => p + 1))], ['seq_img', hostTensor('i32', [R, C], seqImg.slice())],
    ]);
    if (onDevice) {
      const V = cfg.vocab, T = o.sampling.temperature;
      const noise = new Float32Array(R * V), temp = new Float32Array(R).fill(T);
      for (let b = 0; b < B; b++) {
        if (feed[b] === null) continue;
        const banned = bansAfter(b, len[b]! + 1);
        for (let v = 0; v < V; v++) {
          // Gumbel(0, 1) = -log(-log u), u in (0, 1); banned ids get a noise no logit can overcome.
          const g = T > 0 ? -Math.log(-Math.log(Math.max(rngs[b]!.uniform(), 1e-300))) : 0;
          noise[b * V + v] = banned.has(v) ? -1e30 : g;
        }
      }
      inputs.set('noise', hostTensor('f32', [R, 1, V], noise));
      inputs.set('temp', hostTensor('f32', [R], temp));
      const next = (await engine.run('decode_choose', inputs, ['next'])).get('next')!.data;
      for (let b = 0; b < B; b++) if (feed[b] !== null) chosen[b] = next[b]!;
    } else {
      const l = rowsAt((await engine.run('decode', inputs, ['logits'])).get('logits')!, () => 0, R);
      for (let b = 0; b < B; b++) if (feed[b] !== null) { logits[b] = l[b]!; o.onLogits?.(b, len[b]!, l[b]!); }
    }
    for (let r = 0; r < R; r++) if (feed[r] !== null && feed[r] !== undefined) len[r]!++;
  }

  /** Denoise one image for each row in `rows` (their BOI is in the cache), commit it, return the latents. */
  async function makeImage(rows: readonly number[]): Promise<Map<number, Float32Array>> {
    const n = cfg.nPatches;
    const ab = alphaBars(cfg.T, cfg.s);
    const ts = timesteps(cfg.T, o.steps);
    const start = new Int32Array(R);
    for (let r = 0; r < R; r++) start[r] = Math.min(len[r]!, C - n);
    const x = new Map<number, Float32Array>();
    for (const b of rows) {
      const j = imageIndex[b]!++;
      for (let p = 0; p < n; p++) seqImg[b * C + start[b]! + p] = j;
      const z = new Float32Array(imgSize);
      for (let i = 0; i < imgSize; i++) z[i] = noiseRngs[b]!.normal();
      x.set(b, z);
      if (cfgOn) { const u = b + B; start[u] = 1; for (let p = 0; p < n; p++) seqImg[u * C + 1 + p] = 0; }
    }
    const pos = new Int32Array(R * n);
    for (let r = 0; r < R; r++) for (let p = 0; p < n; p++) pos[r * n + p] = start[r]! + p;
    const common = (lat: Float32Array) => new Map([
      ['latents', hostTensor('f32', [R, 1, cfg.c, cfg.hw, cfg.hw], lat)], ['pos', hostTensor('i32', [R, n], pos)],
      ['len', hostTensor('i32', [R], start.map((s) => s + n))], ['seq_img', hostTensor('i32', [R, C], seqImg.slice())],
    ]);
    const batchOf = () => {
      const lat = new Float32Array(R * imgSize);
      for (const b of rows) { lat.set(x.get(b)!, b * imgSize); if (cfgOn) lat.set(x.get(b)!, (b + B) * imgSize); }
      return lat;
    };
    for (let i = 0; i < o.steps; i++) {
      const t0 = performance.now();
      const t = ts[i]!, tPrev = ts[i + 1]!;
      const inputs = common(batchOf());
      inputs.set('t', hostTensor('i32', [R, 1], new Int32Array(R).fill(t)));
      const eps = (await engine.run('denoise', inputs)).get('eps')!.data as Float32Array;
      const info: StepInfo['rows'][number][] = [];
      for (const b of rows) {
        const ec = eps.slice(b * imgSize, (b + 1) * imgSize);
        const e = cfgOn ? guide(ec, eps.slice((b + B) * imgSize, (b + B + 1) * imgSize), o.guidance) : ec;
        const xs = x.get(b)!;
        const next = o.scheduler === 'ddim' ? ddimStep(xs, e, ab[t]!, ab[tPrev]!, o.clip) : ddpmStep(xs, e, ab[t]!, ab[tPrev]!, noiseRngs[b]!, o.clip);
        x.set(b, next);
        info.push({ row: b, x: xs, eps: e, next });
      }
      o.onStep?.({ step: i, steps: o.steps, t, tPrev, ms: performance.now() - t0, rows: info });
    }
    await engine.run('commit', common(batchOf()));
    for (const b of rows) len[b] = start[b]! + n;
    return x;
  }
}

/** Row r's logits at position at(r) of a [R, S, V] tensor. */
function rowsAt(t: HostTensor, at: (r: number) => number, R: number): Float32Array[] {
  const [, S, V] = t.shape as [number, number, number];
  const d = t.data as Float32Array;
  return Array.from({ length: R }, (_, r) => d.slice((r * S + at(r)) * V, (r * S + at(r) + 1) * V));
}

