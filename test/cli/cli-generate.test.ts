/**
 * `tfx generate` end to end on the CPU backend (tiny preset, few steps): text on stdout, a progress line per
 * denoising step, latent images as safetensors + PNG preview, pixel-space images as PNG, captioning from a PNG,
 * the same output for the same seed, and coded errors for bad input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadSafetensors } from '../../src/runtime/safetensors.js';

const ROOT = join(import.meta.dirname, '../..');
const SPEC = join(ROOT, 'models/transfusion.tfx');
const tfx = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tfx.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('tfx generate (cpu)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-gen-'));

  it('prints text, a progress line per step, writes the latent and a preview; the same seed gives the same output', () => {
    const args = ['generate', SPEC, '--prompt', 'hi', '--force-image', '--steps', '2', '--max-tokens', '3', '--temperature', '1', '--seed', '3'];
    const a = tfx(...args, '-o', join(dir, 'a'));
    expect(a.code, a.err).toBe(0);
    expect(a.out.startsWith('hi[image 0: ')).toBe(true);
    expect(a.err.match(/denoise step \d\/2/g)).toHaveLength(2);
    const lat = loadSafetensors(join(dir, 'a/image-0.safetensors')).get('latent')!;
    expect(lat.shape).toEqual([4, 8, 8]);
    const png = PNG.sync.read(readFileSync(join(dir, 'a/image-0.preview.png')));
    expect([png.width, png.height]).toEqual([128, 128]);
    const b = tfx(...args, '-o', join(dir, 'b'));
    expect(b.out.replaceAll('/b/', '/a/')).toBe(a.out);
    expect(readFileSync(join(dir, 'b/image-0.safetensors'))).toEqual(readFileSync(join(dir, 'a/image-0.safetensors')));
  });

  it('pixel-space spec: captions a PNG and writes generated images as PNG', () => {
    // The tiny preset with 3-channel 8x8 "latents" is pixel space (RGB in [-1, 1]).
    const spec = join(dir, 'pixel.tfx');
    writeFileSync(spec, readFileSync(SPEC, 'utf8').replace(/latent_c\s+= 4/, 'latent_c   = 3'));
    const img = new PNG({ width: 8, height: 8 });
    for (let i = 0; i < 64; i++) img.data.set([255, 0, 0, 255], i * 4);
    writeFileSync(join(dir, 'red.png'), PNG.sync.write(img));
    const r = tfx('generate', spec, '--image', join(dir, 'red.png'), '--prompt', 'a', '--force-image', '--steps', '1', '--max-tokens', '2', '--guidance', '1', '-o', join(dir, 'px'));
    expect(r.code, r.err).toBe(0);
    const out = PNG.sync.read(readFileSync(join(dir, 'px/image-0.png')));
    expect([out.width, out.height]).toEqual([8, 8]);
    expect(PNG.sync.read(readFileSync(join(dir, 'px/image-0.preview.png'))).width).toBe(128);
    // The generated image captions back (round trip through the PNG it wrote).
    const back = tfx('generate', spec, '--image', join(dir, 'px/image-0.preview.png'), '--max-tokens', '1', '--guidance', '1');
    expect(back.code, back.err).toBe(0);
    // Wrong size: a coded error, no stack trace.
    const small = new PNG({ width: 12, height: 12 });
    writeFileSync(join(dir, 'small.png'), PNG.sync.write(small));
    const bad = tfx('generate', spec, '--image', join(dir, 'small.png'), '--prompt', 'a');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/error TFX5001: .*12 x 12 pixels; this preset's images are 8 x 8/);
    expect(bad.err).not.toMatch(/\n\s+at /);
  });

  it('rejects bad sampling flags as misuse', () => {
    const r = tfx('generate', SPEC, '--prompt', 'a', '--temperature', '-1');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/temperature must be a number >= 0/);
  });
});
