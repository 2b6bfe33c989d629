/**
 * The README demo: from a shapes checkpoint, one image per prompt (DDIM with guidance) in a labelled PNG grid,
 * and greedy captions of a few held-out images, printed (and drawn in a second grid).
 *   npx tsx bench/shapes-demo.ts CKPT.safetensors [--out out/demo] [--steps 25] [--guidance 3] [--captions 4]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { labelledGrid } from '../src/generate/bitmap-font.js';
import { SHAPES_DEFAULTS, captionImages, heldOut, imagesFor, judgeCaptionAttrs, judgeImageAttrs, loadShapesModel } from '../src/generate/shapes-eval.js';

const PROMPTS = [
  'a red square at the top left', 'a green circle at the top right', 'a blue triangle at the bottom left',
  'a yellow circle at the bottom right', 'a blue square at the bottom right', 'a red triangle at the top right',
];
const { values: v, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: 'out/demo' }, steps: { type: 'string', default: String(SHAPES_DEFAULTS.steps) },
    guidance: { type: 'string', default: String(SHAPES_DEFAULTS.guidance) }, captions: { type: 'string', default: '4' },
  },
});
const ckpt = positionals[0] ?? 'models/checkpoints/shapes.safetensors';
const out = v.out!, steps = Number(v.steps), guidance = Number(v.guidance), nCap = Number(v.captions);
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const model = loadShapesModel(ckpt);
console.log(`checkpoint ${ckpt}: step ${model.step}, data shapes:${model.seed}`);

const imgs = await imagesFor(model.engine, PROMPTS, { steps, guidance });
const judged = imgs.map((img, i) => judgeImageAttrs(img, PROMPTS[i]!));
const grid = join(out, 'shapes-grid.png');
writeFileSync(grid, labelledGrid(imgs.map((image, i) => ({ image, label: PROMPTS[i]! })), 16, { cols: 3 }));
PROMPTS.forEach((p, i) => console.log(`draw    "${p}" -> judged ${judged[i]!.judged}`));
console.log(`images: ${grid} (DDIM ${steps} steps, guidance ${guidance}); ${judged.filter((j) => j.all).length}/${PROMPTS.length} judged right`);

const held = heldOut(model.seed, nCap);
const caps = await captionImages(model.engine, held.map((e) => e.image));
held.forEach((e, i) => console.log(`caption held-out image ${10 * i} (${e.caption}) -> "${caps[i]}"${judgeCaptionAttrs(caps[i]!, e.attrs).all ? '' : '  [wrong]'}`));
const capGrid = join(out, 'shapes-captions.png');
writeFileSync(capGrid, labelledGrid(held.map((e, i) => ({ image: e.image, label: caps[i]! })), 16, { cols: 4 }));
console.log(`captions drawn in ${capGrid}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
