/** PNG in and out of generation: values in [-1, 1] <-> bytes, previews (enlarged) read back to the same image. */
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng, isPixelSpace } from '../../src/generate/image-io.js';

describe('image io', () => {
  const s = { c: 3, hw: 4 };
  const x = Float32Array.from({ length: 48 }, (_, i) => Math.sin(i) * 0.9);

  it('round-trips a pixel-space image through PNG within one byte step, also from an enlarged preview', () => {
    for (const scale of [1, 3]) {
      const back = decodePng(encodePng(x, s, scale), s, 'x.png');
      for (let i = 0; i < x.length; i++) expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(1 / 255 + 1e-6);
    }
  });

  it('maps -1 to 0 and 1 to 255, clamping outside', () => {
    const y = new Float32Array(3 * 1 * 1); y.set([-1, 1, 3]);
    const back = decodePng(encodePng(y, { c: 3, hw: 1 }), { c: 3, hw: 1 }, 'y.png');
    expect([...back]).toEqual([-1, 1, 1]);
  });

  it('refuses a non-square or non-multiple size with a coded error', () => {
    expect(() => decodePng(encodePng(x, s, 1), { c: 3, hw: 3 }, 'z.png')).toThrow(/TFX|4 x 4 pixels/);
  });

  it('treats 1 or 3 channels as pixels unless the config says', () => {
    expect(isPixelSpace({ latent_c: 3 })).toBe(true);
    expect(isPixelSpace({ latent_c: 4 })).toBe(false);
    expect(isPixelSpace({ latent_c: 3, pixel_space: 0 })).toBe(false);
  });
});
