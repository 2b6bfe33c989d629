/**
 * Does a shapes checkpoint fail because training and inference disagree, or because it is undertrained?
 *   npx tsx bench/shapes-diagnose.ts [CKPT] [--n 12]
 * On held-out examples (caption -> image layout, no guidance), CPU reference engine:
 *  1. the same noisy image x_t through the `loss` entry, `forward` and the generation path (prefill caption + BOI,
 *     then `denoise`): their eps-hat and MSE must agree;
 *  2. the model's eps-MSE per timestep against two predictors that need no training: eps-hat = x_t (copy) and
 *     eps-hat = (x_t - sqrt(ab) mu) / sqrt(1 - ab) with mu the mean training image (the implied x0 error is
 *     MSE * (1 - ab) / ab);
 *  3. DDIM (25-step grid, clip) started from the true image noised to t0 instead of from pure noise at T;
 *  4. captioning: l_lm with the true captions against captions of other images;
 *  5. the eps-MSE at middle and high t split per patch into a norm part and a direction part.
 */
import { parseArgs } from 'node:util';
import { hostTensor, type HostTensor } from '../src/core/tensor.js';
import { batchOf, encodeCaption, example, imageMatches, splitIndex, type Example } from '../src/data/shapes.js';
import { alphaBars, ddimStep, timesteps } from '../src/generate/diffusion.js';
import { heldOut, loadShapesModel } from '../src/generate/shapes-eval.js';
import { rngFor } from '../src/runtime/rng.js';

const { values: v, positionals } = parseArgs({ allowPositionals: true, options: { n: { type: 'string', default: '12' } } });
const model = loadShapesModel(positionals[0] ?? 'models/checkpoints/shapes.safetensors');
const E = model.engine, cfg = E.program.config as Record<string, number> & Parameters<typeof batchOf>[1];
const n = 3 * 16 * 16, nP = cfg.n_patches!, ab = alphaBars(cfg.T!, cfg.s_cos!);
const ex = heldOut(model.seed, Number(v.n));
const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2; return s / a.length; };
const gen = (e: Example, t: number): Example => ({ ...e, direction: 'gen', dropped: false, t });
const noisy = (e: Example, t: number) => Float32Array.from(e.image, (x, i) => Math.sqrt(ab[t]!) * x + Math.sqrt(1 - ab[t]!) * e.noise[i]!);
/** eps-hat of the `forward` entry for images x (caption -> image layout at timestep t). */
async function forwardEps(es: readonly Example[], x: readonly Float32Array[], t: number): Promise<Float32Array[]> {
  const inp = batchOf(es.map((e) => gen(e, t)), cfg);
  inp.delete('x0'); inp.delete('noise');
  const lat = new Float32Array(es.length * n);
  x.forEach((xi, b) => lat.set(xi, b * n));
  inp.set('latents', hostTensor('f32', [es.length, 1, 3, 16, 16], lat));
  const d = (await E.run('forward', inp)).get('noise')!.data as Float32Array;
  return x.map((_, b) => d.slice(b * n, (b + 1) * n));
}
/** eps-hat of the generation path: prefill caption + BOI into the cache, then `denoise` the block at t. */
async function denoiseEps(e: Example, x: Float32Array, t: number): Promise<Float32Array> {
  const toks = [...encodeCaption(e.caption), cfg.boi], S = toks.length, C = S + nP + 1;
  E.reset({ B: 1, C });
  const seqImg = new Int32Array(C).fill(-1).fill(0, S, S + nP);
  const i32 = (shape: number[], d: ArrayLike<number>): HostTensor => hostTensor('i32', shape, Int32Array.from(d));
  await E.run('prefill', new Map([
    ['tokens', i32([1, S], toks)], ['img', i32([1, S], new Array(S).fill(-1))], ['img_pos', i32([1, S], new Array(S).fill(-1))],
    ['img_start', i32([1, 1], [-1])], ['len', i32([1], [S])], ['latents', hostTensor('f32', [1, 1, 3, 16, 16])], ['t', i32([1, 1], [0])],
    ['pos', i32([1, S], Array.from({ length: S }, (_, i) => i))], ['seq_img', i32([1, C], seqImg)]]));
  const out = await E.run('denoise', new Map([
    ['latents', hostTensor('f32', [1, 1, 3, 16, 16], x)], ['t', i32([1, 1], [t])], ['pos', i32([1, nP], Array.from({ length: nP }, (_, i) => S + i))],
    ['len', i32([1], [S + nP])], ['seq_img', i32([1, C], seqImg)]]));
  return out.get('eps')!.data as Float32Array;
}

console.log(`checkpoint step ${model.step}, ${ex.length} held-out examples of shapes:${model.seed}`);
console.log('1. loss entry vs forward vs denoise on the same x_t (example 0)');
for (const t of [50, 500, 950]) {
  const e = gen(ex[0]!, t), x = noisy(e, t);
  const lossMse = (await E.run('loss', batchOf([e], cfg))).get('l_ddpm')!.data[0]!;
  const f = (await forwardEps([e], [x], t))[0]!, d = await denoiseEps(e, x, t);
  console.log(`   t ${t}: l_ddpm ${lossMse.toFixed(4)}, forward ${mse(f, e.noise).toFixed(4)}, denoise ${mse(d, e.noise).toFixed(4)}, max |forward - denoise| ${Math.max(...f.map((y, i) => Math.abs(y - d[i]!))).toExponential(1)}`);
}
console.log('2. eps-MSE per timestep: model vs untrained predictors (implied x0 MSE in brackets)');
const mu = new Float64Array(n);
for (let k = 0; k < 500; k++) example(model.seed, splitIndex('train', k)).image.forEach((x, i) => { mu[i] = mu[i]! + x / 500; });
for (const t of [100, 300, 500, 700, 850, 950, 999]) {
  const a = ab[t]!, es = ex.map((e) => gen(e, t));
  const lm = (await E.run('loss', batchOf(es, cfg))).get('l_ddpm')!.data[0]!;
  let copy = 0, mean = 0;
  for (const e of es) {
    const x = noisy(e, t);
    copy += mse(x, e.noise) / es.length;
    mean += mse(Array.from(x, (xi, i) => (xi - Math.sqrt(a) * mu[i]!) / Math.sqrt(1 - a)), e.noise) / es.length;
  }
  const x0 = (m: number) => (m * (1 - a) / a).toPrecision(3);
  console.log(`   t ${t}: model ${lm.toFixed(4)} (${x0(lm)}), copy x_t ${copy.toFixed(4)} (${x0(copy)}), mean image ${mean.toFixed(4)} (${x0(mean)})`);
}
console.log('3. DDIM (25-step grid, clip, caption, no guidance) from the true image noised to t0');
for (const t0 of [300, 500, 700, 850, 1000]) {
  const ts = timesteps(cfg.T!, 25).filter((t) => t < t0);
  ts.unshift(t0);
  let x: Float32Array[] = ex.map((e, b) => { const r = rngFor(7, `z${b}`); return Float32Array.from(e.image, (y) => Math.sqrt(ab[t0]!) * y + Math.sqrt(1 - ab[t0]!) * r.normal()); });
  for (let i = 0; i + 1 < ts.length; i++) {
    const eps = await forwardEps(ex, x, ts[i]!);
    x = x.map((xi, b) => ddimStep(xi, eps[b]!, ab[ts[i]!]!, ab[ts[i + 1]!]!, true));
  }
  let bg = 0, black = 0, match = 0;
  x.forEach((xi, b) => {
    const img = ex[b]!.image;
    for (let p = 0; p < 256; p++) if (img[p] === -1 && img[256 + p] === -1 && img[512 + p] === -1) { bg++; if (xi[p]! < 0 && xi[256 + p]! < 0 && xi[512 + p]! < 0) black++; }
    if (imageMatches(xi, ex[b]!.caption)) match++;
  });
  console.log(`   t0 ${t0} (${ts.length - 1} steps): background black ${(100 * black / bg).toFixed(1)}%, judged right ${match}/${ex.length}`);
}
console.log('4. captioning (BOI image EOI caption, t = 0): l_lm with the true captions vs captions of other images');
const capBatch = (shift: number) => batchOf(ex.map((e, i) => ({ ...e, direction: 'cap' as const, dropped: false, t: 0, caption: ex[(i + shift) % ex.length]!.caption })), cfg);
for (const s of [0, 1, 5]) console.log(`   shift ${s}: l_lm ${(await E.run('loss', capBatch(s))).get('l_lm')!.data[0]!.toFixed(4)}`);
console.log('5. eps-MSE at high t split per patch (4 x 4 x 3 values) into a norm part (|e| - |eps|)^2 and a direction part');
console.log('   2 |e| |eps| (1 - cos), each / 48, with the correlation of |e| and |eps| over patches (the noise head follows a');
console.log('   final RMSNorm, which removes the scale of its input)');
const patchOf = (p: number) => Math.floor(Math.floor(p / 16) / 4) * 4 + Math.floor((p % 16) / 4);
for (const t of [500, 850, 950, 999]) {
  const es = ex.map((e) => gen(e, t));
  const eps = await forwardEps(es, es.map((e) => noisy(e, t)), t);
  let normPart = 0, dirPart = 0, k = 0;
  const ne: number[] = [], ng: number[] = [];
  es.forEach((e, b) => {
    const ee = new Float64Array(16), gg = new Float64Array(16), eg = new Float64Array(16);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) {
      const i = c * 256 + p, q = patchOf(p), y = eps[b]![i]!, g = e.noise[i]!;
      ee[q] = ee[q]! + y * y; gg[q] = gg[q]! + g * g; eg[q] = eg[q]! + y * g;
    }
    for (let q = 0; q < 16; q++) {
      const a = Math.sqrt(ee[q]!), g = Math.sqrt(gg[q]!);
      normPart += (a - g) ** 2 / 48; dirPart += (a * a + g * g - 2 * eg[q]! - (a - g) ** 2) / 48; k++;
      ne.push(a); ng.push(g);
    }
  });
  const m = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const me = m(ne), mg = m(ng);
  const cov = m(ne.map((x, i) => (x - me) * (ng[i]! - mg))), sd = (xs: number[], mu: number) => Math.sqrt(m(xs.map((x) => (x - mu) ** 2)));
  console.log(`   t ${t}: eps-MSE ${((normPart + dirPart) / k).toFixed(4)} = norm ${(normPart / k).toFixed(4)} + direction ${(dirPart / k).toFixed(4)}; |e| ${me.toFixed(2)} +- ${sd(ne, me).toFixed(2)} vs |eps| ${mg.toFixed(2)} +- ${sd(ng, mg).toFixed(2)}, correlation ${(cov / (sd(ne, me) * sd(ng, mg))).toFixed(2)}`);
}
