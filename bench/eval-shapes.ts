/**
 * Evaluate a shapes checkpoint on held-out examples (shared/shapes.md; targets in issue 15):
 *   caption -> image: for N held-out captions, one image each (DDIM, --steps), judged per attribute (colour,
 *     shape, quadrant), at guidance 1 (none) and at --guidance;
 *   image -> caption: N held-out images captioned (greedy at temperature 0, or sampled), judged per attribute.
 * Prints the accuracies, writes the samples as labelled PNG grids and the numbers as JSON under --out.
 *
 *   npx tsx bench/eval-shapes.ts CKPT.safetensors [--n 64] [--steps 25] [--guidance 3] [--temperature 0]
 *       [--seed 1] [--from 0] [--out out/eval-shapes] [--json FILE]
 *
 * Defaults: 64 examples; sampling (SHAPES_DEFAULTS): 25 DDIM steps, guidance 3, temperature 0 (greedy), sampling seed 1; held-out
 * examples are those of the checkpoint's data seed, starting at held-out index --from.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labelledGrid } from '../src/generate/bitmap-font.js';
import { SHAPES_DEFAULTS, TARGETS, accuracy, captionImages, heldOut, imagesFor, judgeCaptionAttrs, judgeImageAttrs, loadShapesModel, type Accuracy } from '../src/generate/shapes-eval.js';

const { values: v, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    n: { type: 'string', default: '64' }, steps: { type: 'string', default: String(SHAPES_DEFAULTS.steps) },
    guidance: { type: 'string', default: String(SHAPES_DEFAULTS.guidance) }, temperature: { type: 'string', default: String(SHAPES_DEFAULTS.temperature) },
    seed: { type: 'string', default: String(SHAPES_DEFAULTS.seed) }, from: { type: 'string', default: '0' },
    out: { type: 'string', default: 'out/eval-shapes' }, json: { type: 'string' },
  },
});
const ckpt = positionals[0];
if (!ckpt) { process.stderr.write('usage: npx tsx bench/eval-shapes.ts CKPT.safetensors [--n 64] [--steps 25] [--guidance 3] [--temperature 0] [--seed 1] [--from 0] [--out DIR] [--json FILE]\n'); process.exit(2); }
const N = Number(v.n), steps = Number(v.steps), guidance = Number(v.guidance), temperature = Number(v.temperature), seed = Number(v.seed), from = Number(v.from);
const out = v.out!;
mkdirSync(out, { recursive: true });

const t0 = performance.now();
const model = loadShapesModel(ckpt);
const held = heldOut(model.seed, N, from);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const line = (name: string, a: Accuracy) => `${name.padEnd(34)} colour ${pct(a.colour).padStart(6)}  shape ${pct(a.shape).padStart(6)}  quadrant ${pct(a.quadrant).padStart(6)}  all three ${pct(a.all).padStart(6)}  (n ${a.n})`;
console.log(`checkpoint ${ckpt} (step ${model.step}, data shapes:${model.seed}); ${N} held-out examples from index ${from}; DDIM ${steps} steps, guidance 1 and ${guidance}, caption temperature ${temperature}, seed ${seed}`);

// image -> caption
let ts = performance.now();
const caps = await captionImages(model.engine, held.map((e) => e.image), { temperature, seed });
const capHits = caps.map((c, i) => judgeCaptionAttrs(c, held[i]!.attrs));
const capAcc = accuracy(capHits);
caps.forEach((c, i) => console.log(`  caption ${capHits[i]!.all ? 'ok ' : 'bad'} want "${held[i]!.caption}" got "${c}"`));
console.log(`${line('image -> caption', capAcc)}  ${((performance.now() - ts) / 1000).toFixed(0)} s`);
writeFileSync(join(out, 'captions.png'), labelledGrid(held.map((e, i) => ({ image: e.image, label: `${capHits[i]!.all ? 'ok' : 'bad'}: ${caps[i]}` })), 16, { cols: 8, scale: 6, fontScale: 1, lineChars: 20 }));

// The judge on the held-out images themselves: what a model that draws every prompt exactly would score (the
// centroid rule of shapes.md calls a triangle centred on row 7 "bottom").
const ceiling = accuracy(held.map((e) => judgeImageAttrs(e.image, e.caption)));
console.log(`${line('caption -> image, the data itself', ceiling)}  (ceiling of the image judge)`);

// caption -> image, at guidance 1 and the default
const gen: Record<string, Accuracy> = {};
const judgedAt: Record<string, string[]> = {};
for (const w of [...new Set([1, guidance])]) {
  ts = performance.now();
  const prompts = held.map((e) => e.caption);
  const imgs = await imagesFor(model.engine, prompts, { steps, guidance: w, seed });
  const hits = imgs.map((img, i) => judgeImageAttrs(img, prompts[i]!));
  hits.forEach((h, i) => console.log(`  image (w ${w}) ${h.all ? 'ok ' : 'bad'} want "${prompts[i]}" judged ${h.judged}`));
  gen[String(w)] = accuracy(hits);
  judgedAt[String(w)] = hits.map((h) => h.judged);
  console.log(`${line(`caption -> image, guidance ${w}`, gen[String(w)]!)}  ${((performance.now() - ts) / 1000).toFixed(0)} s`);
  writeFileSync(join(out, `images-w${w}.png`), labelledGrid(imgs.map((img, i) => ({ image: img, label: `${prompts[i]}\n${hits[i]!.all ? 'ok' : 'bad'}: ${hits[i]!.judged.replace(/ \(fit.*/, '')}` })), 16, { cols: 8, scale: 6, fontScale: 1, lineChars: 20 }));
}

const def = gen[String(guidance)]!, none = gen['1']!;
const miss = (got: Accuracy, want: Record<string, number>) => Object.entries(want).map(([k, t]) => {
  const g = got[k as keyof Accuracy];
  return `${k} ${pct(g)} ${g >= t ? '>=' : '<'} ${pct(t)}`;
}).join(', ');
console.log(`targets: caption -> image (guidance ${guidance}): ${miss(def, TARGETS.captionToImage)}`);
console.log(`targets: image -> caption: ${miss(capAcc, TARGETS.imageToCaption)}`);
const attrs = ['colour', 'shape', 'quadrant', 'all'] as const;
console.log(`guidance helps (w ${guidance} vs w 1): ${attrs.map((k) => `${k === 'all' ? 'all three' : k} ${pct(def[k])} vs ${pct(none[k])}`).join(', ')} -> ${def.all > none.all ? 'yes' : 'no'} (all three)`);
const result = {
  checkpoint: ckpt, step: model.step, data: `shapes:${model.seed}`, n: N, from, settings: { steps, guidance, temperature, seed, scheduler: 'ddim' },
  imageToCaption: capAcc, captionToImage: gen, judgeCeiling: ceiling, targets: TARGETS, seconds: Math.round((performance.now() - t0) / 1000),
  samples: held.map((e, i) => ({ index: 10 * (from + i), caption: e.caption, generatedCaption: caps[i], imageJudged: Object.fromEntries(Object.entries(judgedAt).map(([w, j]) => [w, j[i]])) })),
};
writeFileSync(join(out, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
if (v.json) writeFileSync(v.json, JSON.stringify(result, null, 2) + '\n');
console.log(`samples and numbers in ${out}/ (captions.png, images-w*.png, eval.json); ${result.seconds} s`);
