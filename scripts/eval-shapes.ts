/**
 * Judge a model trained on the captioned-shapes data set (shared/shapes.md) on held-out examples:
 * captioning (a clean image, greedy caption, judged by captionMatches) and generation (a caption, DDIM with
 * guidance, judged by imageMatches). Runs on the CPU reference engine.
 *   npx tsx scripts/eval-shapes.ts CKPT.safetensors [N] [STEPS] [GUIDANCE]
 */
import { compileFile } from '../src/driver.js';
import { captionMatches, decodeCaption, encodeCaption, example, imageMatches, judgeImage, parseCaption, quadrantOf, splitIndex } from '../src/data/shapes.js';
import { CpuEngine } from '../src/generate/engine.js';
import { generate, generationEntries } from '../src/generate/generate.js';
import { openCheckpoint } from '../src/runtime/checkpoint.js';
import type { HostTensor } from '../src/core/tensor.js';

const [path, nArg, stepsArg, wArg] = process.argv.slice(2);
if (!path) { process.stderr.write('usage: npx tsx scripts/eval-shapes.ts CKPT.safetensors [N] [STEPS] [GUIDANCE]\n'); process.exit(2); }
const N = Number(nArg ?? 12), steps = Number(stepsArg ?? 20), guidance = Number(wArg ?? 3);
const compiled = compileFile('models/transfusion.tfx', { preset: 'shapes' }).program;
const r = openCheckpoint(path);
const weights = new Map<string, HostTensor>();
for (const p of compiled.params) weights.set(p.name, r.read(p.name));
const seed = Number((r.metadata.data ?? 'shapes:0').split(':')[1] ?? 0);
r.close();
const engine = new CpuEngine(compiled, weights, generationEntries(compiled));
const held = Array.from({ length: N }, (_, k) => example(seed, splitIndex('eval', k)));
const base = { sampling: { temperature: 0, topK: 0, topP: 1 }, seed: 1, steps, guidance, scheduler: 'ddim' as const, maxImages: 1, clip: true };

const t0 = performance.now();
const caps = await generate(engine, held.map((e) => ({ tokens: [], image: e.image })), { ...base, maxTokens: 40, maxImages: 0 });
let capOk = 0;
const capAttr = { colour: 0, shape: 0, quadrant: 0 }, imgAttr = { colour: 0, shape: 0, quadrant: 0 };
caps.forEach((s, i) => {
  // Training sequences end with the caption, so the model does not learn to stop: read up to the first
  // 'left' or 'right' (the last word of every caption), whatever follows it.
  const gen = s.tokens.slice(s.promptLength), end = gen.findIndex((t) => t >= 256);
  const raw = decodeCaption(end < 0 ? gen : gen.slice(0, end));
  const m = /^.*?(left|right)/.exec(raw);
  const text = m ? m[0] : raw;
  const ok = captionMatches(text, held[i]!.attrs);
  if (ok) capOk++;
  const p = parseCaption(text), a = held[i]!.attrs, q = quadrantOf(a.cx, a.cy);
  if (p?.colour === a.colour) capAttr.colour++;
  if (p?.shape === a.shape) capAttr.shape++;
  if (p && p.quadrant.v === q.v && p.quadrant.h === q.h) capAttr.quadrant++;
  console.log(`caption ${ok ? 'ok ' : 'bad'} want "${held[i]!.caption}" got "${text}"`);
});
const gens = await generate(engine, held.map((e) => ({ tokens: encodeCaption(e.caption), forceImage: true })), { ...base, maxTokens: 1 });
let genOk = 0;
gens.forEach((s, i) => {
  const img = s.images[0];
  const ok = !!img && imageMatches(img, held[i]!.caption);
  if (ok) genOk++;
  const j = img ? judgeImage(img) : undefined;
  const a = held[i]!.attrs, q = quadrantOf(a.cx, a.cy);
  if (j?.colour === a.colour) imgAttr.colour++;
  if (j?.shape === a.shape) imgAttr.shape++;
  if (j?.quadrant?.v === q.v && j?.quadrant?.h === q.h) imgAttr.quadrant++;
  console.log(`image   ${ok ? 'ok ' : 'bad'} want "${held[i]!.caption}" judged ${j ? `${j.colour} ${j.shape} ${j.quadrant?.v} ${j.quadrant?.h} (fit ${j.fit.toFixed(2)})` : 'no image'}`);
});
console.log(`held-out examples ${N} (seed ${seed}): captions ${capOk}/${N} match, images ${genOk}/${N} match (DDIM ${steps} steps, guidance ${guidance}); ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const fmt = (x: typeof capAttr) => `colour ${x.colour}/${N}, shape ${x.shape}/${N}, quadrant ${x.quadrant}/${N}`;
console.log(`  captions right on: ${fmt(capAttr)}; images right on: ${fmt(imgAttr)} (chance: 1/4, 1/3, 1/4)`);
