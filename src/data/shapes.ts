/**
 * The captioned-shapes data set (shared/shapes.md): procedural 16 x 16 RGB images of one coloured shape with a
 * byte-level caption, every example a function of (seed, index); batches in the layout of the Transfusion `loss`
 * entry; and the judging functions used to evaluate generated images and captions.
 *
 * Example i of a data set with seed s draws, from its own stream rngFor(s, `shapes/i`): shape, colour, r, cx, cy,
 * direction (caption -> image with probability 0.8), caption dropout (0.1, caption -> image only), the diffusion
 * timestep (caption -> image: uniform in 1..T, T = 1000, so that t = T, where DDIM sampling starts, is trained;
 * image -> caption: uniform in 0..500, 0 being the clean image captioning sees) and the noise. Index i is held out for
 * evaluation when i % 10 == 0; the training stream skips those indices.
 *
 * Every sequence ends with the spec's end-of-text token (config `eos`; the tiny vocabulary's PAD id), counted in
 * `len` so that the text loss teaches the model where text stops: `caption BOI image EOI eos` and
 * `BOI image EOI caption eos`. shapes.md leaves the end of a sequence open; without it a caption runs on.
 */
import { hostTensor, type HostTensor } from '../core/tensor.js';
import { rngFor } from '../runtime/rng.js';

export const SIZE = 16;
export const SHAPES = ['square', 'circle', 'triangle'] as const;
export const COLOURS = ['red', 'green', 'blue', 'yellow'] as const;
export type ShapeName = (typeof SHAPES)[number];
export type Colour = (typeof COLOURS)[number];
export const RGB: Readonly<Record<Colour, readonly [number, number, number]>> = {
  red: [1, -1, -1], green: [-1, 1, -1], blue: [-1, -1, 1], yellow: [1, 1, -1],
};
export const RADII = [3, 4, 5] as const;

/** What an image shows. (cx, cy) is the integer centre, r the size. */
export interface ShapeAttrs { readonly shape: ShapeName; readonly colour: Colour; readonly r: number; readonly cx: number; readonly cy: number }
export type Vertical = 'top' | 'bottom';
export type Horizontal = 'left' | 'right';
export interface Quadrant { readonly v: Vertical; readonly h: Horizontal }

export interface Example {
  readonly index: number;
  readonly attrs: ShapeAttrs;
  readonly caption: string;
  /** 'gen': caption BOI image EOI (caption -> image); 'cap': BOI image EOI caption (image -> caption). */
  readonly direction: 'gen' | 'cap';
  /** Caption dropped (the sequence starts at BOI): the unconditional branch for classifier-free guidance. */
  readonly dropped: boolean;
  readonly t: number;
  /** f32[3, 16, 16] in [-1, 1]. */
  readonly image: Float32Array;
  /** Standard normal noise of the image's shape (epsilon of the diffusion loss). */
  readonly noise: Float32Array;
}

export const P_GENERATION = 0.8;
export const P_DROP_CAPTION = 0.1;
export const T_CAPTIONING_MAX = 500;
/** Diffusion steps of the spec (config T); a generation example's t is uniform in 1..T, the range DDIM samples from. */
const T = 1000;

/** The quadrant of a centre, as captions name it: cx < 8 is left, cy < 8 is top. */
export const quadrantOf = (cx: number, cy: number): Quadrant => ({ v: cy < SIZE / 2 ? 'top' : 'bottom', h: cx < SIZE / 2 ? 'left' : 'right' });

export function captionOf(a: ShapeAttrs): string {
  const q = quadrantOf(a.cx, a.cy);
  return `a ${a.colour} ${a.shape} at the ${q.v} ${q.h}`;
}

/** Whether the pixel centre (px, py) lies in the shape (hard edges, boundary included). */
export function inside(shape: ShapeName, r: number, cx: number, cy: number, px: number, py: number): boolean {
  const dx = px - cx, dy = py - cy;
  switch (shape) {
    case 'square': return Math.abs(dx) <= r && Math.abs(dy) <= r;
    case 'circle': return dx * dx + dy * dy <= r * r;
    // Apex (cx, cy - r), base from (cx - r, cy + r) to (cx + r, cy + r): half-width grows by 1/2 per row.
    case 'triangle': return dy <= r && Math.abs(dx) <= (dy + r) / 2;
  }
}

/** The pixel mask (row-major y, x) of a shape. */
export function shapeMask(shape: ShapeName, r: number, cx: number, cy: number): Uint8Array {
  const m = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) m[y * SIZE + x] = inside(shape, r, cx, cy, x + 0.5, y + 0.5) ? 1 : 0;
  return m;
}

/** f32[3, 16, 16]: black (-1) background, the shape in its colour. */
export function render(a: ShapeAttrs): Float32Array {
  const img = new Float32Array(3 * SIZE * SIZE).fill(-1);
  const m = shapeMask(a.shape, a.r, a.cx, a.cy), rgb = RGB[a.colour];
  for (let p = 0; p < SIZE * SIZE; p++) if (m[p]) for (let c = 0; c < 3; c++) img[c * SIZE * SIZE + p] = rgb[c]!;
  return img;
}

/** Example `index` of the data set with seed `seed`. */
export function example(seed: number, index: number): Example {
  const rng = rngFor(seed, `shapes/${index}`);
  const shape = SHAPES[rng.int(0, SHAPES.length)]!;
  const colour = COLOURS[rng.int(0, COLOURS.length)]!;
  const r = RADII[rng.int(0, RADII.length)]!;
  const cx = rng.int(r, SIZE - r + 1), cy = rng.int(r, SIZE - r + 1);
  const attrs: ShapeAttrs = { shape, colour, r, cx, cy };
  const direction = rng.uniform() < P_GENERATION ? 'gen' : 'cap';
  const dropped = direction === 'gen' && rng.uniform() < P_DROP_CAPTION;
  const t = direction === 'gen' ? rng.int(1, T + 1) : rng.int(0, T_CAPTIONING_MAX + 1);
  const noise = new Float32Array(3 * SIZE * SIZE);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
  return { index, attrs, caption: captionOf(attrs), direction, dropped, t, image: render(attrs), noise };
}

export const isHeldOut = (index: number): boolean => index % 10 === 0;
/** The k-th index of a split: evaluation takes multiples of 10, training every other index, in order. */
export const splitIndex = (split: 'train' | 'eval', k: number): number => (split === 'eval' ? 10 * k : k + Math.floor(k / 9) + 1);

// ---- batches in the layout of the Transfusion `loss` entry ----------------------------------------------

/** What a batch needs from the spec's config (models/transfusion.tfx, preset `shapes`). */
export interface ShapesConfig {
  readonly latent_c: number; readonly latent_hw: number; readonly patch: number;
  readonly boi: number; readonly eoi: number; readonly eos: number; readonly vocab: number; readonly T?: number;
}
/** The longest caption ("a yellow triangle at the bottom right"). */
export const MAX_CAPTION = Math.max(...COLOURS.flatMap((c) => SHAPES.map((s) => captionOf({ shape: s, colour: c, r: 3, cx: 12, cy: 12 }).length)));

export class ShapesError extends Error { override name = 'ShapesError'; }

/** Sequence length that holds any example: the longest caption, BOI, the patches, EOI, end of text. */
export function minSeq(cfg: ShapesConfig): number {
  const grid = cfg.latent_hw / cfg.patch;
  return MAX_CAPTION + 3 + grid * grid;
}

/** Token ids of a caption: its bytes. */
export const encodeCaption = (s: string): number[] => [...s].map((ch) => ch.charCodeAt(0));
/** A caption from token ids: bytes below 256 as ASCII, special tokens dropped. */
export const decodeCaption = (ids: readonly number[]): string => String.fromCharCode(...ids.filter((t) => t >= 0 && t < 256));

/**
 * A batch of examples as the inputs of the `loss` entry: tokens, img, img_pos, img_start, len, x0, noise, t.
 * One example per sequence and one image slot (N = 1); each sequence ends with end of text (cfg.eos, inside
 * `len`); positions past `len` hold PAD (the last vocabulary id), as do image positions (their token is never read).
 */
export function batchOf(examples: readonly Example[], cfg: ShapesConfig, seq = minSeq(cfg)): Map<string, HostTensor> {
  if (cfg.latent_c !== 3 || cfg.latent_hw !== SIZE) throw new ShapesError(`the shapes data set is 3 x ${SIZE} x ${SIZE} pixels; the preset has latent_c = ${cfg.latent_c}, latent_hw = ${cfg.latent_hw}`);
  if (SIZE % cfg.patch !== 0) throw new ShapesError(`patch ${cfg.patch} does not divide ${SIZE}`);
  if (!Number.isInteger(cfg.eos)) throw new ShapesError('the spec has no end-of-text token (config eos), which every shapes sequence ends with');
  if (seq < minSeq(cfg)) throw new ShapesError(`sequence length ${seq} is too short; the longest example needs ${minSeq(cfg)}`);
  const B = examples.length, S = seq, grid = SIZE / cfg.patch, nP = grid * grid, pad = cfg.vocab - 1;
  const tokens = new Int32Array(B * S).fill(pad), img = new Int32Array(B * S).fill(-1), imgPos = new Int32Array(B * S).fill(-1);
  const imgStart = new Int32Array(B), len = new Int32Array(B), t = new Int32Array(B);
  const px = SIZE * SIZE * 3;
  const x0 = new Float32Array(B * px), noise = new Float32Array(B * px);
  examples.forEach((e, b) => {
    const text = e.dropped ? [] : encodeCaption(e.caption);
    let p = b * S;
    const put = (id: number) => { tokens[p++] = id; };
    if (e.direction === 'gen') text.forEach(put);
    put(cfg.boi);
    imgStart[b] = p - b * S;
    for (let k = 0; k < nP; k++) { img[p] = 0; imgPos[p] = k; p++; }
    put(cfg.eoi);
    if (e.direction === 'cap') text.forEach(put);
    put(cfg.eos);
    len[b] = p - b * S;
    t[b] = e.t;
    x0.set(e.image, b * px);
    noise.set(e.noise, b * px);
  });
  return new Map([
    ['tokens', hostTensor('i32', [B, S], tokens)], ['img', hostTensor('i32', [B, S], img)], ['img_pos', hostTensor('i32', [B, S], imgPos)],
    ['img_start', hostTensor('i32', [B, 1], imgStart)], ['len', hostTensor('i32', [B], len)],
    ['x0', hostTensor('f32', [B, 1, 3, SIZE, SIZE], x0)], ['noise', hostTensor('f32', [B, 1, 3, SIZE, SIZE], noise)], ['t', hostTensor('i32', [B, 1], t)],
  ]);
}

/** Batch k (k = 0, 1, ...) of `size` consecutive examples of a split. */
export function batch(seed: number, split: 'train' | 'eval', k: number, size: number, cfg: ShapesConfig, seq?: number): { examples: Example[]; inputs: Map<string, HostTensor> } {
  const examples = Array.from({ length: size }, (_, j) => example(seed, splitIndex(split, k * size + j)));
  return { examples, inputs: batchOf(examples, cfg, seq) };
}

// ---- judging ----------------------------------------------------------------------------------------------

export interface ImageJudgement {
  /** null when no pixel is bright (any channel above 0). */
  readonly colour: Colour | null;
  readonly shape: ShapeName | null;
  /** Quadrant of the bright pixels' centroid (shapes.md: x < 8 left, y < 8 top). */
  readonly quadrant: Quadrant | null;
  /** Centroid of the bright pixels (pixel centres). */
  readonly centroid: { readonly x: number; readonly y: number } | null;
  /** Intersection over union of the bright pixels and the best-fitting shape (1 for a clean render). */
  readonly fit: number;
}

interface Template { readonly shape: ShapeName; readonly r: number; readonly cx: number; readonly cy: number; readonly bits: Uint32Array; readonly count: number }
let templates: Template[] | undefined;
const WORDS = (SIZE * SIZE) / 32;
function bitsOf(m: Uint8Array): Uint32Array {
  const w = new Uint32Array(WORDS);
  for (let p = 0; p < m.length; p++) if (m[p]) w[p >>> 5] = w[p >>> 5]! | (1 << (p & 31));
  return w;
}
const popcount = (x: number): number => { x -= (x >>> 1) & 0x55555555; x = (x & 0x33333333) + ((x >>> 2) & 0x33333333); return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24); };
/** Every shape the data set can draw. */
function allTemplates(): Template[] {
  if (templates) return templates;
  templates = [];
  for (const shape of SHAPES) for (const r of RADII) for (let cy = r; cy <= SIZE - r; cy++) for (let cx = r; cx <= SIZE - r; cx++) {
    const bits = bitsOf(shapeMask(shape, r, cx, cy));
    let count = 0;
    for (const w of bits) count += popcount(w);
    templates.push({ shape, r, cx, cy, bits, count });
  }
  return templates;
}

/**
 * The judge of shapes.md. Bright pixels: any channel above 0. Colour: the nearest of the four to their mean RGB.
 * Quadrant: that of their centroid (pixel centres; x < 8 left, y < 8 top). Shape (shapes.md does not say how):
 * the drawable shape whose mask best overlaps them (IoU). A triangle's centroid lies about r/3 below its centre,
 * so a correctly drawn triangle with cy = 7 (captioned "top") is judged "bottom": 27 of the 753 drawable shapes,
 * 46 of the first 1000 held-out examples of seed 0. That is the spec's rule and is kept as written.
 */
export function judgeImage(image: Float32Array): ImageJudgement {
  const n = SIZE * SIZE;
  const bright = new Uint8Array(n);
  const sum = [0, 0, 0];
  let count = 0, sx = 0, sy = 0;
  for (let p = 0; p < n; p++) {
    if (!(image[p]! > 0 || image[n + p]! > 0 || image[2 * n + p]! > 0)) continue;
    bright[p] = 1; count++;
    for (let c = 0; c < 3; c++) sum[c]! += image[c * n + p]!;
    sx += (p % SIZE) + 0.5; sy += Math.floor(p / SIZE) + 0.5;
  }
  if (count === 0) return { colour: null, shape: null, quadrant: null, centroid: null, fit: 0 };
  const mean = sum.map((s) => s / count);
  let colour: Colour = 'red', best = Infinity;
  for (const c of COLOURS) {
    const d = RGB[c].reduce((a, v, k) => a + (v - mean[k]!) ** 2, 0);
    if (d < best) { best = d; colour = c; }
  }
  const bits = bitsOf(bright);
  let fit = -1, tb: Template | undefined;
  for (const tp of allTemplates()) {
    let inter = 0;
    for (let w = 0; w < WORDS; w++) inter += popcount(bits[w]! & tp.bits[w]!);
    const iou = inter / (count + tp.count - inter);
    if (iou > fit) { fit = iou; tb = tp; }
  }
  const centroid = { x: sx / count, y: sy / count };
  return { colour, shape: tb!.shape, quadrant: quadrantOf(centroid.x, centroid.y), centroid, fit };
}

/** Attributes named by a caption, or null when it is not of the form `a {colour} {shape} at the {v} {h}`. */
export function parseCaption(text: string): { colour: Colour; shape: ShapeName; quadrant: Quadrant } | null {
  const m = /^a (red|green|blue|yellow) (square|circle|triangle) at the (top|bottom) (left|right)$/.exec(text.trim());
  if (!m) return null;
  return { colour: m[1] as Colour, shape: m[2] as ShapeName, quadrant: { v: m[3] as Vertical, h: m[4] as Horizontal } };
}

/** An image matches a prompt (a caption) when its judged colour, shape and quadrant are the prompt's. */
export function imageMatches(image: Float32Array, prompt: string): boolean {
  const want = parseCaption(prompt), got = judgeImage(image);
  return !!want && got.colour === want.colour && got.shape === want.shape && got.quadrant?.v === want.quadrant.v && got.quadrant?.h === want.quadrant.h;
}

/** A caption matches an image when it names the image's colour, shape and quadrant. */
export function captionMatches(caption: string, a: ShapeAttrs): boolean {
  const got = parseCaption(caption), q = quadrantOf(a.cx, a.cy);
  return !!got && got.colour === a.colour && got.shape === a.shape && got.quadrant.v === q.v && got.quadrant.h === q.h;
}
