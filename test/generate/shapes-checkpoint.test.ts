// The committed shapes checkpoint (models/checkpoints/shapes.safetensors, README "Trained model") still loads
// into the spec's shapes preset and generates: one image (few DDIM steps, guidance on) and one caption. Not its
// accuracy (bench/eval-shapes.ts measures that).
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { openCheckpoint } from '../../src/runtime/checkpoint.js';
import { labelledGrid, wrap } from '../../src/generate/bitmap-font.js';
import { captionImages, heldOut, imagesFor, judgeCaptionAttrs, loadShapesModel } from '../../src/generate/shapes-eval.js';

const CKPT = 'models/checkpoints/shapes.safetensors';

describe('committed shapes checkpoint', () => {
  it('is a tfx train checkpoint of the shapes preset', () => {
    const r = openCheckpoint(CKPT);
    try {
      expect(r.metadata.kind).toBe('tfx-train');
      expect(r.metadata.preset).toBe('shapes');
      expect(Number(r.metadata.step)).toBeGreaterThan(0);
    } finally { r.close(); }
  });

  it('loads and generates an image and a caption', async () => {
    const m = loadShapesModel(CKPT);
    const [img] = await imagesFor(m.engine, ['a red square at the top left'], { steps: 3, guidance: 3 });
    expect(img!.length).toBe(3 * 16 * 16);
    expect([...img!].every((x) => Number.isFinite(x) && x >= -1 && x <= 1)).toBe(true);
    const ex = heldOut(m.seed, 1)[0]!;
    const [cap] = await captionImages(m.engine, [ex.image], { maxTokens: 12 });
    expect(cap!.length).toBeGreaterThan(0);
    expect(cap).toMatch(/^[\x20-\x7e]*$/);
    const hits = judgeCaptionAttrs(ex.caption, ex.attrs);
    expect(hits).toEqual({ colour: true, shape: true, quadrant: true, all: true });
    const grid = PNG.sync.read(labelledGrid([{ image: img!, label: 'a red square at the top left' }], 16, { cols: 1 }));
    expect(grid.width).toBeGreaterThan(16 * 8);
    expect(wrap('a yellow triangle at the bottom left', 19)).toEqual(['a yellow triangle', 'at the bottom left']);
  }, 60_000);
});
