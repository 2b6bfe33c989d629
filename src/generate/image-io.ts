/**
 * Images in and out of generation. Pixel-space presets (the latent is the image: 3 channels RGB or 1 grey,
 * values in [-1, 1]) read and write PNG directly; latent presets (a VAE latent, no decoder here) read and
 * write the latent as safetensors, plus a PNG preview of its first channels. PNG coding is pngjs's.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { hostTensor } from '../core/tensor.js';
import { TfxError } from '../errors.js';
import { writeOutputFile } from '../runtime/fs-out.js';
import { loadSafetensors, saveSafetensors } from '../runtime/safetensors.js';

export interface LatentShape { readonly c: number; readonly hw: number }

/** Pixel space unless the config says otherwise (`pixel_space = 0/1`): 1 or 3 channels are taken as pixels. */
export function isPixelSpace(config: Readonly<Record<string, number>>): boolean {
  const flag = config.pixel_space;
  if (flag !== undefined) return flag !== 0;
  return config.latent_c === 3 || config.latent_c === 1;
}

const toByte = (v: number) => Math.max(0, Math.min(255, Math.round(((v + 1) / 2) * 255)));

/** A [c, hw, hw] image with values in [-1, 1] as an RGBA PNG, each pixel repeated `scale` times each way. */
export function encodePng(x: Float32Array, s: LatentShape, scale = 1, map: (v: number, ch: number) => number = (v) => toByte(v)): Buffer {
  const n = s.hw * scale;
  const png = new PNG({ width: n, height: n });
  for (let y = 0; y < n; y++) for (let xx = 0; xx < n; xx++) {
    const sy = Math.floor(y / scale), sx = Math.floor(xx / scale);
    const o = (y * n + xx) * 4;
    for (let k = 0; k < 3; k++) {
      const ch = s.c >= 3 ? k : 0;
      png.data[o + k] = map(x[(ch * s.hw + sy) * s.hw + sx]!, ch);
    }
    png.data[o + 3] = 255;
  }
  return PNG.sync.write(png);
}

/**
 * A square PNG of hw x hw pixels, or an integer multiple (a preview; each block is averaged), as a [c, hw, hw]
 * image in [-1, 1] (c = 3: RGB, c = 1: the mean of RGB).
 */
export function decodePng(bytes: Buffer, s: LatentShape, what: string): Float32Array {
  let png: PNG;
  try { png = PNG.sync.read(bytes); } catch (e) { throw new TfxError('TFX4001', `${what} is not a readable PNG (${(e as Error).message})`); }
  const k = png.width / s.hw;
  if (png.width !== png.height || !Number.isInteger(k) || k < 1)
    throw new TfxError('TFX5001', `${what} is ${png.width} x ${png.height} pixels; this preset's images are ${s.hw} x ${s.hw} (or a whole multiple)`);
  const out = new Float32Array(s.c * s.hw * s.hw);
  for (let y = 0; y < s.hw; y++) for (let x = 0; x < s.hw; x++) {
    const px = [0, 0, 0];
    for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) {
      const o = ((y * k + dy) * png.width + x * k + dx) * 4;
      for (let ch = 0; ch < 3; ch++) px[ch]! += ((png.data[o + ch]! / 255) * 2 - 1) / (k * k);
    }
    const i = y * s.hw + x;
    if (s.c === 3) for (let ch = 0; ch < 3; ch++) out[ch * s.hw * s.hw + i] = px[ch]!;
    else out[i] = (px[0]! + px[1]! + px[2]!) / 3;
  }
  return out;
}

/** The prompt image for captioning: a PNG (pixel space) or a safetensors latent [c, hw, hw] (either). */
export function readPromptImage(path: string, s: LatentShape, pixel: boolean): Float32Array {
  if (/\.safetensors$/i.test(path)) {
    const t = [...loadSafetensors(path).values()];
    if (t.length !== 1) throw new TfxError('TFX5001', `${path} must hold one tensor (the latent), found ${t.length}`);
    const x = t[0]!;
    const want = [s.c, s.hw, s.hw];
    const shape = x.shape.length === 4 && x.shape[0] === 1 ? x.shape.slice(1) : x.shape;
    if (shape.join() !== want.join() || !(x.data instanceof Float32Array)) throw new TfxError('TFX5001', `${path} holds ${x.dtype}[${x.shape.join(', ')}]; this preset's latents are f32[${want.join(', ')}]`);
    return x.data;
  }
  if (!pixel) throw new TfxError('TFX5001', `this preset works on ${s.c}-channel VAE latents and tfx has no VAE encoder: give the image as a latent .safetensors file [${s.c}, ${s.hw}, ${s.hw}]`);
  let bytes: Buffer;
  try { bytes = readFileSync(path); } catch (e) { throw new TfxError('TFX8001', `cannot read '${path}': ${(e as NodeJS.ErrnoException).code ?? 'error'}`); }
  return decodePng(bytes, s, path);
}

/**
 * Writes a generated image; returns the paths written. Pixel space: the image as PNG at its own size plus an
 * enlarged preview; latents: safetensors plus a per-channel min-max PNG preview.
 */
export function writeImage(base: string, x: Float32Array, s: LatentShape, pixel: boolean): string[] {
  const scale = Math.max(1, Math.ceil(128 / s.hw));
  if (pixel) {
    writeOutputFile(`${base}.png`, encodePng(x, s));
    writeOutputFile(`${base}.preview.png`, encodePng(x, s, scale));
    return [`${base}.png`, `${base}.preview.png`];
  }
  saveSafetensors(`${base}.safetensors`, new Map([['latent', hostTensor('f32', [s.c, s.hw, s.hw], x)]]), { kind: 'latent' });
  const lo: number[] = [], hi: number[] = [];
  for (let ch = 0; ch < s.c; ch++) {
    const v = x.subarray(ch * s.hw * s.hw, (ch + 1) * s.hw * s.hw);
    lo.push(Math.min(...v)); hi.push(Math.max(...v));
  }
  const preview = encodePng(x, s, scale, (v, ch) => Math.round(((v - lo[ch]!) / Math.max(1e-12, hi[ch]! - lo[ch]!)) * 255));
  writeOutputFile(`${base}.preview.png`, preview);
  return [`${base}.safetensors`, `${base}.preview.png`];
}
