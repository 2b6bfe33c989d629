/**
 * Plot the loss curve of a `tfx train` log as SVG: total loss and each named part per step (log-scale y), with
 * a moving average. No dependencies.
 *   npx tsx bench/plot-loss.ts TRAIN.log [-o TRAIN.svg]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export interface LogPoint { step: number; values: Record<string, number> }

/** The step lines of a training log: `step K/N loss X (name Y name Z) ...`. */
export function parseTrainLog(text: string): LogPoint[] {
  const pts: LogPoint[] = [];
  for (const m of text.matchAll(/^step (\d+)\/\d+ loss (\S+) \(([^)]*)\)/gm)) {
    const values: Record<string, number> = { loss: Number(m[2]) };
    for (const p of m[3]!.matchAll(/(\S+) (\S+)/g)) values[p[1]!] = Number(p[2]);
    pts.push({ step: Number(m[1]), values });
  }
  return pts;
}

export function lossSvg(pts: readonly LogPoint[], title: string): string {
  const W = 720, H = 420, L = 60, R = 150, T = 36, B = 44, pw = W - L - R, ph = H - T - B;
  const keys = [...new Set(pts.flatMap((p) => Object.keys(p.values)))];
  const all = pts.flatMap((p) => Object.values(p.values)).filter((x) => x > 0 && Number.isFinite(x));
  const lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.ceil(Math.log10(Math.max(...all)));
  const maxStep = Math.max(1, ...pts.map((p) => p.step));
  const X = (s: number) => L + (s / maxStep) * pw, Y = (v: number) => T + ph - ((Math.log10(v) - lo) / (hi - lo || 1)) * ph;
  const colours = ['#000000', '#d62728', '#1f77b4', '#2ca02c', '#9467bd'];
  const parts: string[] = [`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${L}" y="22" font-family="sans-serif" font-size="14">${title}</text>`];
  for (let e = lo; e <= hi; e++) for (const f of [1, 2, 5]) {
    const v = f * 10 ** e;
    if (v < 10 ** lo || v > 10 ** hi) continue;
    parts.push(`<line x1="${L}" x2="${L + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#ddd"/>`, `<text x="${L - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end" font-family="sans-serif" font-size="11">${+v.toPrecision(2)}</text>`);
  }
  const tick = 10 ** Math.floor(Math.log10(maxStep)) / (maxStep / 10 ** Math.floor(Math.log10(maxStep)) < 3 ? 2 : 1);
  for (let s = 0; s <= maxStep; s += tick) parts.push(`<text x="${X(s).toFixed(1)}" y="${T + ph + 16}" text-anchor="middle" font-family="sans-serif" font-size="11">${s}</text>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 8}" text-anchor="middle" font-family="sans-serif" font-size="12">step</text>`, `<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  keys.forEach((k, i) => {
    const c = colours[i % colours.length]!, series = pts.filter((p) => p.values[k]! > 0);
    const raw = series.map((p) => `${X(p.step).toFixed(1)},${Y(p.values[k]!).toFixed(1)}`).join(' ');
    const win = 10, avg = series.map((p, j) => {
      const w = series.slice(Math.max(0, j - win + 1), j + 1);
      return `${X(p.step).toFixed(1)},${Y(w.reduce((a, q) => a + q.values[k]!, 0) / w.length).toFixed(1)}`;
    }).join(' ');
    parts.push(`<polyline points="${raw}" fill="none" stroke="${c}" stroke-opacity="0.25" stroke-width="1"/>`, `<polyline points="${avg}" fill="none" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<line x1="${L + pw + 12}" x2="${L + pw + 32}" y1="${T + 14 + 18 * i}" y2="${T + 14 + 18 * i}" stroke="${c}" stroke-width="2"/>`, `<text x="${L + pw + 38}" y="${T + 18 + 18 * i}" font-family="sans-serif" font-size="12">${k}</text>`);
  });
  parts.push(`<text x="${L + pw + 12}" y="${T + 18 + 18 * keys.length + 6}" font-family="sans-serif" font-size="10" fill="#666">faint: per step</text>`, `<text x="${L + pw + 12}" y="${T + 18 + 18 * keys.length + 20}" font-family="sans-serif" font-size="10" fill="#666">bold: mean of 10</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n${parts.join('\n')}\n</svg>\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: v, positionals } = parseArgs({ allowPositionals: true, options: { o: { type: 'string', short: 'o' } } });
  const log = positionals[0];
  if (!log) { process.stderr.write('usage: npx tsx bench/plot-loss.ts TRAIN.log [-o TRAIN.svg]\n'); process.exit(2); }
  const pts = parseTrainLog(readFileSync(log, 'utf8'));
  if (!pts.length) { process.stderr.write(`${log}: no 'step K/N loss ...' lines\n`); process.exit(1); }
  const out = v.o ?? log.replace(/\.log$/, '') + '.svg';
  const last = pts[pts.length - 1]!;
  writeFileSync(out, lossSvg(pts, `tfx train, shapes preset: loss per step (log scale), steps 1..${last.step}`));
  console.log(`${out}: ${pts.length} steps; last loss ${last.values.loss}`);
}
