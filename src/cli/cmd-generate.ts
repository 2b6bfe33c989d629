/**
 * `tfx generate`: text and images from a spec's generation entries (prefill / decode / denoise / commit, see
 * docs/language.md section 12) on the CPU reference interpreter or WebGPU. Text goes to stdout as it is
 * produced (byte-level tokens), progress to stderr, images to -o DIR.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile } from '../driver.js';
import { TfxError, UsageError } from '../errors.js';
import { initParams } from '../runtime/weights.js';
import { CpuEngine, type Engine } from '../generate/engine.js';
import { generate, generationEntries, type Prompt } from '../generate/generate.js';
import { isPixelSpace, readPromptImage, writeImage } from '../generate/image-io.js';
import { checkSampling } from '../generate/sampling.js';
import { loadWeights } from './cmd-run.js';
import { intFlag, numFlag, oneFile, str, type Args } from './main.js';

const log = (s: string) => process.stderr.write(s + '\n');


export default async function generateCmd(a: Args): Promise<number> {
  const file = oneFile(a);
  const backend = str(a, 'backend') ?? 'cpu';
  if (!['cpu', 'webgpu'].includes(backend)) throw new UsageError(`unknown backend '${backend}' (cpu or webgpu)`);
  const scheduler = str(a, 'scheduler') ?? 'ddim';
  if (scheduler !== 'ddim' && scheduler !== 'ddpm') throw new UsageError(`--scheduler must be ddim or ddpm, got '${scheduler}'`);
  const sampling = { temperature: numFlag(a, 'temperature', 0), topK: intFlag(a, 'top-k', 0), topP: numFlag(a, 'top-p', 1) };
  const bad = checkSampling(sampling);
  if (bad) throw new UsageError(bad);
  const steps = intFlag(a, 'steps', 50), maxTokens = intFlag(a, 'max-tokens', 32), maxImages = intFlag(a, 'max-images', 1);
  const batch = intFlag(a, 'batch', 1), seed = intFlag(a, 'seed', 0);
  const guidance = numFlag(a, 'guidance', 5);
  if (steps < 1 || steps > 1000) throw new UsageError(`--steps must be between 1 and 1000, got ${steps}`);
  if (maxTokens < 0 || maxTokens > 100000) throw new UsageError(`--max-tokens must be between 0 and 100000, got ${maxTokens}`);
  if (maxImages < 0 || maxImages > 64) throw new UsageError(`--max-images must be between 0 and 64, got ${maxImages}`);
  if (batch < 1 || batch > 256) throw new UsageError(`--batch must be between 1 and 256, got ${batch}`);
  const outDir = str(a, 'o') ?? 'generated';

  const t0 = performance.now();
  const { program } = compileFile(file, { preset: str(a, 'preset') });
  const entries = generationEntries(program);
  const cfg = program.config;
  if (cfg.T !== undefined && steps > cfg.T) throw new UsageError(`--steps ${steps} is more than the spec's T = ${cfg.T}`);
  const wPath = str(a, 'weights');
  const weights = wPath ? loadWeights(program, wPath) : initParams(program.params, 0);
  log(`compiled ${file} (preset ${program.preset}) in ${(performance.now() - t0).toFixed(0)} ms; weights ${wPath ?? "initialized from the spec's init rules (seed 0): expect noise, not meaning"}`);

  const shape = { c: cfg.latent_c!, hw: cfg.latent_hw! };
  const pixel = isPixelSpace(cfg);
  if (cfg.vocab! < 256) throw new TfxError('TFX5001', `text is byte-level (256 ids) but the vocabulary has ${cfg.vocab} tokens`);
  const text = [...new TextEncoder().encode(str(a, 'prompt') ?? '')];
  const imgPath = str(a, 'image');
  const image = imgPath ? readPromptImage(imgPath, shape, pixel) : undefined;
  const prompt: Prompt = { tokens: text, ...(image ? { image } : {}), ...(a.values['force-image'] ? { forceImage: true } : {}) };

  let engine: Engine;
  if (backend === 'cpu') engine = new CpuEngine(program, weights, entries);
  else {
    const { SessionEngine } = await import('../generate/engine-session.js');
    engine = await SessionEngine.open(program, weights, entries, 'webgpu');
  }

  const decoders = Array.from({ length: batch }, () => new TextDecoder('utf-8'));
  const pieces: string[] = new Array(batch).fill('');
  // Control characters (an untrained model emits any byte) are shown escaped, never sent to the terminal.
  const visible = (s: string) => s.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const say = (row: number, s: string) => { s = visible(s); if (batch === 1) process.stdout.write(s); else pieces[row] += s; };
  const written: string[] = [];
  let madeDir = false;
  const tGen = performance.now();
  let nTokens = 0;
  if (batch === 1) process.stdout.write(new TextDecoder().decode(Uint8Array.from(text)));
  const seqs = await generate(engine, Array.from({ length: batch }, () => prompt), {
    maxTokens, sampling, seed, steps, guidance, scheduler, maxImages, clip: pixel, deviceChoice: backend !== 'cpu',
    onToken: (row, tok) => {
      nTokens++;
      if (tok < 256) say(row, decoders[row]!.decode(Uint8Array.of(tok), { stream: true }));
      else if (tok !== cfg.boi) say(row, `<${tok}>`);
    },
    onStep: (s) => log(`  denoise step ${s.step + 1}/${s.steps}  t ${s.t} -> ${s.tPrev}  ${s.ms.toFixed(0)} ms`),
    onImage: (row, k, latent) => {
      if (!madeDir) {
        try { mkdirSync(outDir, { recursive: true }); } catch (e) { throw new TfxError('TFX8003', `cannot create '${outDir}': ${(e as NodeJS.ErrnoException).code ?? 'error'}`); }
        madeDir = true;
      }
      const paths = writeImage(join(outDir, batch === 1 ? `image-${k}` : `seq-${row}-image-${k}`), latent, shape, pixel);
      written.push(...paths);
      say(row, `[image ${k}: ${paths.join(', ')}]`);
    },
  });
  const secs = (performance.now() - tGen) / 1000;
  if (batch === 1) process.stdout.write('\n');
  else seqs.forEach((_, r) => process.stdout.write(`[${r}] ${new TextDecoder().decode(Uint8Array.from(text))}${pieces[r]}\n`));
  log(`${nTokens} tokens${written.length ? ` and ${seqs.reduce((s, q) => s + q.images.length, 0)} image(s)` : ''} in ${secs.toFixed(2)} s on ${engine.backend}${guidance !== 1 ? ` (guidance ${guidance}: the unconditional twin rows run alongside, doubling the batch)` : ''}`);
  if (written.length) log(`wrote ${written.join(', ')}`);
  return 0;
}
