/**
 * The captioned-shapes data set (shared/shapes.md): rendering rules, judge(render(x)) recovering every drawable
 * shape's attributes, captions, reproducibility by seed, the direction / dropout / timestep mix, the held-out
 * split, and batches in the layout of the Transfusion `loss` entry.
 */
import { describe, expect, it } from 'vitest';
import {
  COLOURS, MAX_CAPTION, RADII, SHAPES, SIZE, batch, batchOf, captionMatches, captionOf, decodeCaption, example, imageMatches,
  isHeldOut, judgeImage, minSeq, parseCaption, quadrantOf, render, shapeMask, splitIndex, type ShapeAttrs,
} from '../../src/data/shapes.js';

const count = (m: Uint8Array) => m.reduce((a, x) => a + x, 0);

describe('rendering', () => {
  it('a square of size r covers 2r x 2r pixels; the shape lies inside the image for every allowed centre', () => {
    for (const r of RADII) expect(count(shapeMask('square', r, 8, 8))).toBe(4 * r * r);
    for (const shape of SHAPES) for (const r of RADII) for (const c of [r, SIZE - r]) {
      // A shape at the edge of the allowed range keeps all its pixels: same count as at the centre.
      expect(count(shapeMask(shape, r, c, c))).toBe(count(shapeMask(shape, r, 8, 8)));
    }
  });
  it('circle and triangle by pixel centres (hand-counted for r = 3)', () => {
    // circle r=3 centred on a pixel corner: offsets +-0.5, +-1.5, +-2.5; d^2 <= 9 leaves out the 4 corner pixels
    // (12.5) and keeps (2.5, 1.5) at 8.5: 36 - 4 = 32.
    expect(count(shapeMask('circle', 3, 8, 8))).toBe(32);
    // triangle r=3: rows y = cy-3 .. cy+2 (centres dy = -2.5 .. 2.5), half-width (dy + 3) / 2 = 0.25, 0.75, ..., 2.75
    // -> pixels with |dx| <= w at dx = +-0.5, +-1.5, +-2.5: 0, 2, 2, 4, 4, 6 = 18.
    expect(count(shapeMask('triangle', 3, 8, 8))).toBe(18);
    const m = shapeMask('triangle', 3, 8, 8);
    expect(m[(8 - 3) * SIZE + 8]).toBe(0); // apex row is empty at pixel centres
    expect(m[(8 + 2) * SIZE + 5]).toBe(1); // base row spans cx - 3 .. cx + 2
  });
  it('colours and background are exact, values in [-1, 1]', () => {
    const img = render({ shape: 'square', colour: 'yellow', r: 3, cx: 5, cy: 10 });
    const n = SIZE * SIZE, at = (c: number, x: number, y: number) => img[c * n + y * SIZE + x];
    expect([at(0, 5, 10), at(1, 5, 10), at(2, 5, 10)]).toEqual([1, 1, -1]);
    expect([at(0, 0, 0), at(1, 0, 0), at(2, 0, 0)]).toEqual([-1, -1, -1]);
    expect(img.every((v) => v === 1 || v === -1)).toBe(true);
  });
});

describe('judging', () => {
  it('judge(render(x)) recovers colour and shape of every drawable shape; quadrant by centroid, as shapes.md says', () => {
    let n = 0, k = 0, moved = 0;
    for (const shape of SHAPES) for (const r of RADII) for (let cy: number = r; cy <= SIZE - r; cy++) for (let cx = r; cx <= SIZE - r; cx++) {
      const a: ShapeAttrs = { shape, colour: COLOURS[k++ % 4]!, r, cx, cy };
      const j = judgeImage(render(a));
      // Squares and circles are symmetric about (cx, cy): their centroid is the centre. A triangle's centroid lies
      // r/3 below it (8.06, 8.38, 8.70 for r = 3, 4, 5 at cy = 7), which crosses y = 8 only from cy = 7.
      const crosses = shape === 'triangle' && cy === 7;
      const want = crosses ? { v: 'bottom', h: quadrantOf(cx, cy).h } : quadrantOf(cx, cy);
      expect({ colour: j.colour, shape: j.shape, quadrant: j.quadrant }, JSON.stringify(a)).toEqual({ colour: a.colour, shape, quadrant: want });
      expect(j.fit).toBe(1);
      expect(imageMatches(render(a), captionOf(a))).toBe(!crosses);
      n++; if (crosses) moved++;
    }
    expect(n).toBe(3 * (11 * 11 + 9 * 9 + 7 * 7));
    expect(moved).toBe(11 + 9 + 7);
  });
  it('quadrant from the bright-pixel centroid, hand-computed on rendered images', () => {
    // Square r = 3 at (8, 8): columns and rows 5..10, centres 5.5 .. 10.5, mean 8.0 -> not < 8: bottom right.
    const sq = judgeImage(render({ shape: 'square', colour: 'green', r: 3, cx: 8, cy: 8 }));
    expect(sq.centroid).toEqual({ x: 8, y: 8 });
    expect(sq.quadrant).toEqual({ v: 'bottom', h: 'right' });
    // Triangle r = 3 at (4, 7): rows 5..9 hold 2, 2, 4, 4, 6 pixels; y = (5.5*2 + 6.5*2 + 7.5*4 + 8.5*4 + 9.5*6) / 18
    // = 145 / 18 = 8.06: bottom, although its caption (centre cy = 7) says top.
    const tri = judgeImage(render({ shape: 'triangle', colour: 'red', r: 3, cx: 4, cy: 7 }));
    expect(tri.centroid!.x).toBeCloseTo(4, 12);
    expect(tri.centroid!.y).toBeCloseTo(145 / 18, 12);
    expect(tri.quadrant).toEqual({ v: 'bottom', h: 'left' });
    expect({ colour: tri.colour, shape: tri.shape }).toEqual({ colour: 'red', shape: 'triangle' });
    // One bright pixel's colour decides nothing alone: the mean over bright pixels does. Two pixels of pure red
    // and one yellow: mean (1, -1/3, -1) is nearer red (distance^2 4/9) than yellow (16/9).
    const img = new Float32Array(3 * SIZE * SIZE).fill(-1);
    const set = (x: number, y: number, rgb: number[]) => rgb.forEach((v, c) => { img[c * SIZE * SIZE + y * SIZE + x] = v; });
    set(12, 2, [1, -1, -1]); set(13, 2, [1, -1, -1]); set(14, 2, [1, 1, -1]);
    const j = judgeImage(img);
    expect(j.colour).toBe('red');
    expect(j.centroid).toEqual({ x: 13.5, y: 2.5 });
    expect(j.quadrant).toEqual({ v: 'top', h: 'right' });
  });
  it('a wrong prompt does not match; a blank image matches nothing', () => {
    const a: ShapeAttrs = { shape: 'circle', colour: 'blue', r: 4, cx: 4, cy: 12 };
    expect(imageMatches(render(a), 'a blue circle at the bottom left')).toBe(true);
    expect(imageMatches(render(a), 'a red circle at the bottom left')).toBe(false);
    expect(imageMatches(render(a), 'a blue square at the bottom left')).toBe(false);
    expect(imageMatches(render(a), 'a blue circle at the top left')).toBe(false);
    expect(judgeImage(new Float32Array(3 * SIZE * SIZE).fill(-1)).shape).toBeNull();
  });
  it('is robust to mild noise (what a generated image looks like): judged as the clean image', () => {
    let ok = 0, total = 0;
    for (let i = 1; i <= 60; i++) {
      const e = example(9, i);
      const noisy = e.image.map((v, p) => v + 0.3 * e.noise[p]!);
      const [a, b] = [judgeImage(noisy), judgeImage(e.image)];
      total++; if (a.colour === b.colour && a.shape === b.shape && a.quadrant?.v === b.quadrant?.v && a.quadrant?.h === b.quadrant?.h) ok++;
    }
    expect(ok / total).toBeGreaterThan(0.9);
  });
  it('captions parse back to their attributes; malformed ones are rejected', () => {
    expect(captionOf({ shape: 'triangle', colour: 'yellow', r: 3, cx: 3, cy: 12 })).toBe('a yellow triangle at the bottom left');
    expect(parseCaption('a yellow triangle at the bottom left')).toEqual({ colour: 'yellow', shape: 'triangle', quadrant: { v: 'bottom', h: 'left' } });
    for (const bad of ['a yellow triangle at the bottom', 'a purple circle at the top left', 'the red square at the top left', '']) expect(parseCaption(bad)).toBeNull();
    const a: ShapeAttrs = { shape: 'square', colour: 'green', r: 5, cx: 8, cy: 7 };
    expect(captionMatches('a green square at the top right', a)).toBe(true);
    expect(captionMatches('a green square at the top left', a)).toBe(false);
    expect(MAX_CAPTION).toBe('a yellow triangle at the bottom right'.length);
  });
});

describe('examples', () => {
  it('are a function of (seed, index)', () => {
    expect(example(3, 17)).toEqual(example(3, 17));
    expect(example(3, 17).noise).not.toEqual(example(4, 17).noise);
  });
  it('mix directions, dropout and timesteps as shapes.md says; attributes cover their ranges', () => {
    const xs = Array.from({ length: 3000 }, (_, i) => example(1, i));
    const gen = xs.filter((e) => e.direction === 'gen');
    expect(gen.length / xs.length).toBeGreaterThan(0.77); expect(gen.length / xs.length).toBeLessThan(0.83);
    const dropped = gen.filter((e) => e.dropped).length / gen.length;
    expect(dropped).toBeGreaterThan(0.08); expect(dropped).toBeLessThan(0.12);
    expect(xs.some((e) => e.direction === 'cap' && e.dropped)).toBe(false);
    expect(Math.max(...xs.filter((e) => e.direction === 'cap').map((e) => e.t))).toBeLessThanOrEqual(500);
    // Generation: t in 1..1000 (T, where DDIM sampling starts, included); both ends of the range are reached.
    expect(Math.min(...gen.map((e) => e.t))).toBeGreaterThanOrEqual(1);
    expect(Math.max(...gen.map((e) => e.t))).toBeLessThanOrEqual(1000);
    expect(Math.max(...gen.map((e) => e.t))).toBeGreaterThan(990);
    expect(Math.min(...gen.map((e) => e.t))).toBeLessThan(10);
    for (const e of xs) { expect(e.attrs.cx).toBeGreaterThanOrEqual(e.attrs.r); expect(e.attrs.cx).toBeLessThanOrEqual(SIZE - e.attrs.r); }
    for (const r of RADII) expect(xs.some((e) => e.attrs.r === r && e.attrs.cx === SIZE - r)).toBe(true);
    for (const s of SHAPES) for (const c of COLOURS) expect(xs.filter((e) => e.attrs.shape === s && e.attrs.colour === c).length).toBeGreaterThan(3000 / 12 * 0.7);
  });
  it('split: indices = 0 mod 10 are held out and never in the training stream', () => {
    const train = Array.from({ length: 100 }, (_, k) => splitIndex('train', k));
    expect(train.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11]);
    expect(train.some(isHeldOut)).toBe(false);
    expect(new Set(train).size).toBe(100);
    expect(Array.from({ length: 5 }, (_, k) => splitIndex('eval', k)).every(isHeldOut)).toBe(true);
  });
});

describe('batches (layout of the Transfusion loss entry)', () => {
  const cfg = { latent_c: 3, latent_hw: 16, patch: 4, boi: 256, eoi: 257, eos: 258, vocab: 259 };
  it('caption -> image, image -> caption and dropped captions', () => {
    const pick = (pred: (e: ReturnType<typeof example>) => boolean) => { for (let i = 1; ; i++) { const e = example(2, i); if (!isHeldOut(i) && pred(e)) return e; } };
    const ex = [pick((e) => e.direction === 'gen' && !e.dropped), pick((e) => e.direction === 'cap'), pick((e) => e.dropped)];
    const S = minSeq(cfg);
    expect(S).toBe(MAX_CAPTION + 3 + 16);
    const b = batchOf(ex, cfg);
    const row = (name: string, k: number) => [...b.get(name)!.data.slice(k * S, (k + 1) * S)];
    const len = [...b.get('len')!.data], start = [...b.get('img_start')!.data];
    // caption BOI [16 patches] EOI eos
    const c0 = ex[0]!.caption.length;
    expect(decodeCaption(row('tokens', 0).slice(0, c0))).toBe(ex[0]!.caption);
    expect(row('tokens', 0)[c0]).toBe(256);
    expect(start[0]).toBe(c0 + 1);
    expect(row('img', 0).slice(c0 + 1, c0 + 17)).toEqual(new Array(16).fill(0));
    expect(row('img_pos', 0).slice(c0 + 1, c0 + 17)).toEqual([...Array(16).keys()]);
    expect(row('tokens', 0)[c0 + 17]).toBe(257);
    expect(row('tokens', 0)[c0 + 18]).toBe(258);
    expect(len[0]).toBe(c0 + 19);
    expect(row('tokens', 0).slice(len[0])).toEqual(new Array(S - len[0]!).fill(258));
    // BOI [patches] EOI caption eos
    expect(row('tokens', 1)[0]).toBe(256);
    expect(start[1]).toBe(1);
    expect(len[1]).toBe(18 + ex[1]!.caption.length + 1);
    expect(decodeCaption(row('tokens', 1).slice(18, len[1]! - 1))).toBe(ex[1]!.caption);
    expect(row('tokens', 1)[len[1]! - 1]).toBe(258);
    // dropped: BOI [patches] EOI eos only
    expect(len[2]).toBe(19);
    expect(row('tokens', 2)[18]).toBe(258);
    expect(row('img', 2).filter((v) => v >= 0).length).toBe(16);
    // images, noise, timesteps
    expect([...b.get('x0')!.data.slice(768, 1536)]).toEqual([...ex[1]!.image]);
    expect([...b.get('noise')!.data.slice(0, 768)]).toEqual([...ex[0]!.noise]);
    expect([...b.get('t')!.data]).toEqual(ex.map((e) => e.t));
    expect(b.get('x0')!.shape).toEqual([3, 1, 3, 16, 16]);
  });
  it('batch k of a split takes consecutive examples of that split', () => {
    const { examples } = batch(5, 'eval', 2, 4, cfg);
    expect(examples.map((e) => e.index)).toEqual([80, 90, 100, 110]);
  });
  it('refuses a preset that is not 3 x 16 x 16 or a sequence too short', () => {
    expect(() => batchOf([example(1, 1)], { ...cfg, latent_c: 4 })).toThrow(/latent_c = 4/);
    expect(() => batchOf([example(1, 1)], cfg, 20)).toThrow(/too short/);
  });
});
