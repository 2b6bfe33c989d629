/**
 * A 5 x 7 bitmap font for labelling image grids (lower-case ASCII letters, digits and a little punctuation;
 * upper case is drawn as lower case, anything else as a blank), and an RGBA canvas to draw images and text on.
 */
import { PNG } from 'pngjs';

// Each glyph: 7 rows of 5 columns, '#' on.
const G: Record<string, string> = {
  a: '..... ..... .###. ....# .#### #...# .####', b: '#.... #.... #.##. ##..# #...# #...# ####.',
  c: '..... ..... .###. #.... #.... #...# .###.', d: '....# ....# .##.# #..## #...# #...# .####',
  e: '..... ..... .###. #...# ##### #.... .###.', f: '..##. .#..# .#... ###.. .#... .#... .#...',
  g: '..... .#### #...# #...# .#### ....# .###.', h: '#.... #.... #.##. ##..# #...# #...# #...#',
  i: '..#.. ..... .##.. ..#.. ..#.. ..#.. .###.', j: '...#. ..... ..##. ...#. ...#. #..#. .##..',
  k: '#.... #.... #..#. #.#.. ##... #.#.. #..#.', l: '.##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.',
  m: '..... ..... ##.#. #.#.# #.#.# #...# #...#', n: '..... ..... #.##. ##..# #...# #...# #...#',
  o: '..... ..... .###. #...# #...# #...# .###.', p: '..... ..... ####. #...# ####. #.... #....',
  q: '..... ..... .##.# #..## .#### ....# ....#', r: '..... ..... #.##. ##..# #.... #.... #....',
  s: '..... ..... .###. #.... .###. ....# ####.', t: '.#... .#... ###.. .#... .#... .#..# ..##.',
  u: '..... ..... #...# #...# #...# #..## .##.#', v: '..... ..... #...# #...# #...# .#.#. ..#..',
  w: '..... ..... #...# #...# #.#.# #.#.# .#.#.', x: '..... ..... #...# .#.#. ..#.. .#.#. #...#',
  y: '..... ..... #...# #...# .#### ....# .###.', z: '..... ..... ##### ...#. ..#.. .#... #####',
  '0': '.###. #...# #..## #.#.# ##..# #...# .###.', '1': '..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.',
  '2': '.###. #...# ....# ...#. ..#.. .#... #####', '3': '##### ...#. ..#.. ...#. ....# #...# .###.',
  '4': '...#. ..##. .#.#. #..#. ##### ...#. ...#.', '5': '##### #.... ####. ....# ....# #...# .###.',
  '6': '..##. .#... #.... ####. #...# #...# .###.', '7': '##### ....# ...#. ..#.. .#... .#... .#...',
  '8': '.###. #...# #...# .###. #...# #...# .###.', '9': '.###. #...# #...# .#### ....# ...#. .##..',
  '.': '..... ..... ..... ..... ..... .##.. .##..', ',': '..... ..... ..... ..... .##.. ..#.. .#...',
  ':': '..... .##.. .##.. ..... .##.. .##.. .....', '-': '..... ..... ..... ##### ..... ..... .....',
  '=': '..... ..... ##### ..... ##### ..... .....', '/': '..... ....# ...#. ..#.. .#... #.... .....',
  '%': '##... ##..# ...#. ..#.. .#... #..## ...##', '(': '...#. ..#.. .#... .#... .#... ..#.. ...#.',
  ')': '.#... ..#.. ...#. ...#. ...#. ..#.. .#...', '"': '.#.#. .#.#. ..... ..... ..... ..... .....',
  '?': '.###. #...# ....# ...#. ..#.. ..... ..#..', '#': '.#.#. ##### .#.#. .#.#. ##### .#.#. .....',
};

/** Glyph rows of a character (null: drawn blank). */
export function glyph(ch: string): string[] | null {
  const g = G[ch.toLowerCase()];
  return g ? g.split(' ') : null;
}

export const GLYPH_W = 5, GLYPH_H = 7, ADVANCE = 6;

/** An RGBA canvas (black) that images and labels are drawn on, written as PNG. */
export class Canvas {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 3; i < this.data.length; i += 4) this.data[i] = 255;
  }
  set(x: number, y: number, rgb: readonly [number, number, number]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.data[o] = rgb[0]; this.data[o + 1] = rgb[1]; this.data[o + 2] = rgb[2];
  }
  fill(x0: number, y0: number, w: number, h: number, rgb: readonly [number, number, number]): void {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) this.set(x, y, rgb);
  }
  /** A [3, hw, hw] image with values in [-1, 1], each pixel drawn as a scale x scale block. */
  image(x0: number, y0: number, img: Float32Array, hw: number, scale: number): void {
    const b = (v: number) => Math.max(0, Math.min(255, Math.round(((v + 1) / 2) * 255)));
    for (let y = 0; y < hw * scale; y++) for (let x = 0; x < hw * scale; x++) {
      const p = Math.floor(y / scale) * hw + Math.floor(x / scale);
      this.set(x0 + x, y0 + y, [b(img[p]!), b(img[hw * hw + p]!), b(img[2 * hw * hw + p]!)]);
    }
  }
  /** Text in the 5 x 7 font, each font pixel a scale x scale block; returns the width drawn. */
  text(x0: number, y0: number, s: string, scale = 1, rgb: readonly [number, number, number] = [255, 255, 255]): number {
    let x = x0;
    for (const ch of s) {
      const g = glyph(ch);
      if (g) for (let r = 0; r < GLYPH_H; r++) for (let c = 0; c < GLYPH_W; c++) if (g[r]![c] === '#') this.fill(x + c * scale, y0 + r * scale, scale, scale, rgb);
      x += ADVANCE * scale;
    }
    return x - x0;
  }
  png(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    png.data.set(this.data);
    return PNG.sync.write(png);
  }
}

/** Split a label into lines of at most `max` characters at spaces. */
export function wrap(s: string, max: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of s.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + w.length > max) { lines.push(cur); cur = w; } else cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines;
}

/**
 * A grid of labelled [3, hw, hw] images: `cols` per row, each enlarged `scale` times with its label (wrapped)
 * below in the bitmap font at `fontScale`.
 */
export function labelledGrid(items: readonly { image: Float32Array; label: string }[], hw: number, o: { cols?: number; scale?: number; fontScale?: number; lineChars?: number } = {}): Buffer {
  const cols = Math.min(o.cols ?? 4, items.length), scale = o.scale ?? 8, fs = o.fontScale ?? 2, lineChars = o.lineChars ?? 19;
  const pad = 8, lineH = (GLYPH_H + 3) * fs;
  const lines = items.map((it) => it.label.split('\n').flatMap((l) => wrap(l, lineChars)));
  const nLines = Math.max(1, ...lines.map((l) => l.length));
  const cellW = Math.max(hw * scale, lineChars * ADVANCE * fs) + pad, cellH = hw * scale + pad / 2 + nLines * lineH + pad;
  const rows = Math.ceil(items.length / cols);
  const cv = new Canvas(cols * cellW + pad, rows * cellH + pad);
  cv.fill(0, 0, cv.width, cv.height, [40, 40, 40]);
  items.forEach((it, i) => {
    const x = pad + (i % cols) * cellW, y = pad + Math.floor(i / cols) * cellH;
    cv.image(x + Math.floor((cellW - pad - hw * scale) / 2), y, it.image, hw, scale);
    lines[i]!.forEach((l, k) => cv.text(x, y + hw * scale + pad / 2 + k * lineH, l, fs));
  });
  return cv.png();
}
