/** Shared setup for generation tests: the tiny Transfusion preset, weights with a larger spread than init. */
import { join } from 'node:path';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { compileFile } from '../../src/driver.js';
import type { Program } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';
import { bindDims } from '../../src/runtime/bind.js';
import { Rng } from '../../src/runtime/rng.js';
import { initParams } from '../../src/runtime/weights.js';
import { CpuEngine } from '../../src/generate/engine.js';
import { GENERATION_ENTRIES, type SequenceOut } from '../../src/generate/generate.js';

export const SPEC = join(import.meta.dirname, '../../models/transfusion.tfx');

export function tinyModel(seed = 1): { program: Program; weights: Map<string, HostTensor> } {
  const { program } = compileFile(SPEC, { preset: 'tiny', entries: ['forward', ...GENERATION_ENTRIES] });
  // Init std is 0.02, which makes every logit nearly equal; std 0.3 gives a model whose outputs vary.
  const w = initParams(program.params, seed);
  const weights = new Map([...w].map(([k, t]) => {
    const p = program.params.find((x) => x.name === k)!;
    if (p.init.kind !== 'normal') return [k, t];
    return [k, hostTensor(t.dtype, t.shape, (t.data as Float32Array).map((v) => v * 15))];
  }));
  return { program, weights };
}

export const cpuEngine = (m: ReturnType<typeof tinyModel>) => new CpuEngine(m.program, m.weights, GENERATION_ENTRIES);

export function randomTokens(rng: Rng, n: number, vocabBytes = 256): number[] {
  return Array.from({ length: n }, () => rng.int(0, vocabBytes));
}
export function randomLatent(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** The `forward` entry over a whole sequence (its images clean, t = 0): logits [L, V] and noise. */
export function forwardOver(m: ReturnType<typeof tinyModel>, seq: SequenceOut, t = 0): { logits: Float32Array; noise: Float32Array; V: number } {
  const c = m.program.config;
  const n = c.n_patches!, imgSize = c.latent_c! * c.latent_hw! * c.latent_hw!;
  const L = seq.tokens.length, N = Math.max(1, seq.spans.length);
  const img = new Int32Array(L).fill(-1), imgPos = new Int32Array(L).fill(-1), imgStart = new Int32Array(N).fill(-1);
  const latents = new Float32Array(N * imgSize);
  seq.spans.forEach((s, j) => {
    imgStart[j] = s.start;
    latents.set(s.latent, j * imgSize);
    for (let p = 0; p < n; p++) { img[s.start + p] = j; imgPos[s.start + p] = p; }
  });
  const g = m.program.entries.find((e) => e.entry === 'forward')!;
  const inputs = new Map([
    ['tokens', hostTensor('i32', [1, L], seq.tokens)], ['img', hostTensor('i32', [1, L], img)], ['img_pos', hostTensor('i32', [1, L], imgPos)],
    ['img_start', hostTensor('i32', [1, N], imgStart)], ['len', hostTensor('i32', [1], [L])],
    ['latents', hostTensor('f32', [1, N, c.latent_c!, c.latent_hw!, c.latent_hw!], latents)], ['t', hostTensor('i32', [1, N], new Int32Array(N).fill(t))],
  ]);
  const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, m.program.symbols);
  const [logits, noise] = interpret(['logits', 'noise'].map((n) => g.outputs.find((o) => o.name === n)!.node), { inputs, params: m.weights, dims });
  return { logits: logits!.data as Float32Array, noise: noise!.data as Float32Array, V: c.vocab! };
}

/** max |a - b| / max |b|: the relative error of a vector of logits. */
export function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
}

/** A fresh engine's cache after one `prefill` of the first `L` positions of a sequence (images clean). */
export async function prefillCache(m: ReturnType<typeof tinyModel>, seq: SequenceOut, L: number, C: number): Promise<Map<string, HostTensor>> {
  const c = m.program.config;
  const n = c.n_patches!, imgSize = c.latent_c! * c.latent_hw! * c.latent_hw!;
  const N = Math.max(1, seq.spans.length);
  const img = new Int32Array(L).fill(-1), imgPos = new Int32Array(L).fill(-1), imgStart = new Int32Array(N).fill(-1);
  const seqImg = new Int32Array(C).fill(-1);
  const latents = new Float32Array(N * imgSize);
  seq.spans.forEach((s, j) => {
    imgStart[j] = s.start;
    latents.set(s.latent, j * imgSize);
    for (let p = 0; p < n; p++) { img[s.start + p] = j; imgPos[s.start + p] = p; seqImg[s.start + p] = j; }
  });
  const e = cpuEngine(m);
  e.reset({ B: 1, C });
  await e.run('prefill', new Map([
    ['tokens', hostTensor('i32', [1, L], seq.tokens.slice(0, L))], ['img', hostTensor('i32', [1, L], img)], ['img_pos', hostTensor('i32', [1, L], imgPos)],
    ['img_start', hostTensor('i32', [1, N], imgStart)], ['len', hostTensor('i32', [1], [L])],
    ['latents', hostTensor('f32', [1, N, c.latent_c!, c.latent_hw!, c.latent_hw!], latents)], ['t', hostTensor('i32', [1, N])],
    ['pos', hostTensor('i32', [1, L], Int32Array.from({ length: L }, (_, i) => i))], ['seq_img', hostTensor('i32', [1, C], seqImg)],
  ]));
  return e.states();
}

/** The model's noise for image latent x at timestep t after the text prefix `prefix` (ending with BOI): a fresh cache, B = 1. */
export async function epsAfter(m: ReturnType<typeof tinyModel>, prefix: readonly number[], x: Float32Array, t: number): Promise<Float32Array> {
  const c = m.program.config;
  const n = c.n_patches!, L = prefix.length, C = L + n + 1;
  const e = cpuEngine(m);
  e.reset({ B: 1, C });
  const seqImg = new Int32Array(C).fill(-1);
  await e.run('prefill', new Map([
    ['tokens', hostTensor('i32', [1, L], [...prefix])], ['img', hostTensor('i32', [1, L], new Int32Array(L).fill(-1))],
    ['img_pos', hostTensor('i32', [1, L], new Int32Array(L).fill(-1))], ['img_start', hostTensor('i32', [1, 1], [-1])],
    ['len', hostTensor('i32', [1], [L])], ['latents', hostTensor('f32', [1, 1, c.latent_c!, c.latent_hw!, c.latent_hw!])],
    ['t', hostTensor('i32', [1, 1])], ['pos', hostTensor('i32', [1, L], Int32Array.from({ length: L }, (_, i) => i))],
    ['seq_img', hostTensor('i32', [1, C], seqImg)],
  ]));
  for (let p = 0; p < n; p++) seqImg[L + p] = 0;
  const out = await e.run('denoise', new Map([
    ['latents', hostTensor('f32', [1, 1, c.latent_c!, c.latent_hw!, c.latent_hw!], x)], ['t', hostTensor('i32', [1, 1], [t])],
    ['pos', hostTensor('i32', [1, n], Int32Array.from({ length: n }, (_, i) => L + i))], ['len', hostTensor('i32', [1], [L + n])],
    ['seq_img', hostTensor('i32', [1, C], seqImg)],
  ]));
  return out.get('eps')!.data as Float32Array;
}
