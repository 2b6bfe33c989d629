/**
 * Judging a Transfusion checkpoint trained on the captioned-shapes data set (shared/shapes.md) on held-out
 * examples, per attribute: caption -> image (DDIM with classifier-free guidance; the image judged by
 * judgeImage) and image -> caption (greedy decoding after a clean image; the caption's words compared with the
 * image's attributes). Runs on the CPU reference engine. Used by bench/eval-shapes.ts and bench/shapes-demo.ts.
 */
import { compileFile } from '../driver.js';
import type { HostTensor } from '../core/tensor.js';
import { openCheckpoint } from '../runtime/checkpoint.js';
import { COLOURS, SHAPES, decodeCaption, encodeCaption, example, judgeImage, parseCaption, quadrantOf, splitIndex, type Example, type ShapeAttrs } from '../data/shapes.js';
import { CpuEngine, type Engine } from './engine.js';
import { generate, generationEntries } from './generate.js';

/** Sampling defaults of the evaluation and the demo. */
export const SHAPES_DEFAULTS = { steps: 25, guidance: 3, temperature: 0, seed: 1, maxTokens: 40 } as const;

export interface ShapesModel { readonly engine: Engine; readonly seed: number; readonly step: number; readonly meta: Readonly<Record<string, string>> }

/**
 * A preset of the spec with the parameters of a checkpoint (training checkpoints or plain weights): the preset the
 * checkpoint was trained with (its metadata), else `shapes`, unless one is given.
 */
export function loadShapesModel(ckpt: string, spec = 'models/transfusion.tfx', preset?: string): ShapesModel {
  const r = openCheckpoint(ckpt);
  const meta = r.metadata;
  const weights = new Map<string, HostTensor>();
  let program;
  try {
    program = compileFile(spec, { preset: preset ?? meta.preset ?? 'shapes' }).program;
    for (const p of program.params) weights.set(p.name, r.read(p.name));
  } finally { r.close(); }
  const seed = Number((meta.data ?? 'shapes:0').split(':')[1] ?? 0);
  return { engine: new CpuEngine(program, weights, generationEntries(program)), seed, step: Number(meta.step ?? NaN), meta };
}

/** The first `n` held-out examples of a data seed (seed indices 0, 10, 20, ...). */
export const heldOut = (seed: number, n: number, from = 0): Example[] => Array.from({ length: n }, (_, k) => example(seed, splitIndex('eval', from + k)));

/**
 * Captions of images (one sequence each: BOI image EOI, then greedy text): the text up to end of text (the
 * spec's `eos`, which training sequences end with), or up to maxTokens; any other special token ends it too.
 */
export async function captionImages(engine: Engine, images: readonly Float32Array[], o: { temperature?: number; seed?: number; maxTokens?: number } = {}): Promise<string[]> {
  const outs = await generate(engine, images.map((image) => ({ tokens: [], image })), {
    sampling: { temperature: o.temperature ?? SHAPES_DEFAULTS.temperature, topK: 0, topP: 1 }, seed: o.seed ?? SHAPES_DEFAULTS.seed,
    steps: 1, guidance: 1, scheduler: 'ddim', maxImages: 0, maxTokens: o.maxTokens ?? SHAPES_DEFAULTS.maxTokens,
  });
  return outs.map((s) => {
    const gen = s.tokens.slice(s.promptLength), end = gen.findIndex((t) => t >= 256);
    return decodeCaption(end < 0 ? gen : gen.slice(0, end));
  });
}

/** One image per prompt (the caption, then BOI), DDIM with guidance w (1: none). */
export async function imagesFor(engine: Engine, prompts: readonly string[], o: { steps?: number; guidance?: number; seed?: number } = {}): Promise<Float32Array[]> {
  const outs = await generate(engine, prompts.map((p) => ({ tokens: encodeCaption(p), forceImage: true })), {
    sampling: { temperature: 0, topK: 0, topP: 1 }, seed: o.seed ?? SHAPES_DEFAULTS.seed, steps: o.steps ?? SHAPES_DEFAULTS.steps,
    guidance: o.guidance ?? SHAPES_DEFAULTS.guidance, scheduler: 'ddim', maxImages: 1, maxTokens: 1, clip: true,
  });
  return outs.map((s, i) => {
    const img = s.images[0];
    if (!img) throw new Error(`no image was generated for prompt ${i} ("${prompts[i]}")`);
    return img;
  });
}

export interface AttrHits { colour: boolean; shape: boolean; quadrant: boolean; all: boolean }

/** Which attributes of an image's (its attributes) a caption names: the first colour, shape, top/bottom and left/right words in it. */
export function judgeCaptionAttrs(text: string, a: ShapeAttrs): AttrHits {
  const words = text.toLowerCase().split(/[^a-z]+/);
  const first = <T extends string>(set: readonly T[]) => words.find((w): w is T => (set as readonly string[]).includes(w));
  const q = quadrantOf(a.cx, a.cy);
  const colour = first(COLOURS) === a.colour, shape = first(SHAPES) === a.shape;
  const quadrant = first(['top', 'bottom'] as const) === q.v && first(['left', 'right'] as const) === q.h;
  const p = parseCaption(text);
  return { colour, shape, quadrant, all: !!p && colour && shape && quadrant };
}

/** Which attributes of a prompt a generated image shows (judgeImage: colour, best-fitting shape, centroid quadrant). */
export function judgeImageAttrs(image: Float32Array, prompt: string): AttrHits & { judged: string } {
  const want = parseCaption(prompt), got = judgeImage(image);
  if (!want) throw new Error(`not a shapes caption: "${prompt}"`);
  const colour = got.colour === want.colour, shape = got.shape === want.shape;
  const quadrant = got.quadrant?.v === want.quadrant.v && got.quadrant?.h === want.quadrant.h;
  const judged = got.colour ? `${got.colour} ${got.shape} ${got.quadrant!.v} ${got.quadrant!.h} (fit ${got.fit.toFixed(2)})` : 'blank';
  return { colour, shape, quadrant, all: colour && shape && quadrant, judged };
}

export interface Accuracy { n: number; colour: number; shape: number; quadrant: number; all: number }

export function accuracy(hits: readonly AttrHits[]): Accuracy {
  const f = (k: keyof AttrHits) => (hits.length ? hits.filter((h) => h[k]).length / hits.length : 0);
  return { n: hits.length, colour: f('colour'), shape: f('shape'), quadrant: f('quadrant'), all: f('all') };
}

/** Targets of issue 15 (held-out, default settings). */
export const TARGETS = {
  captionToImage: { colour: 0.9, shape: 0.7, quadrant: 0.8 },
  imageToCaption: { colour: 0.95, shape: 0.85, quadrant: 0.9 },
} as const;
