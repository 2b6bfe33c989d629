/**
 * Bench results as a text table (stdout), a self-contained HTML report (per (op, shape) an inline SVG bar chart
 * of median ms per variant, the winner highlighted; no scripts, no CDN) and a Markdown summary for
 * bench/results/README.md. Every figure is a median with its min, max and sample count; every comparison says
 * which direction is better and who won by how much.
 */
import type { Banner, BenchRecord, BenchResult, PeerRatio, Spread } from './suite.js';
import { attentionBwdText } from './attention-bwd.js';

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function groups(res: BenchResult): Map<string, BenchRecord[]> {
  const g = new Map<string, BenchRecord[]>();
  for (const r of res.records) {
    const key = `${r.group === 'model' ? `${r.kernel} ${r.op}` : r.op} @ ${r.shape}${r.group === 'peer' ? ' (peers)' : ''}`;
    g.set(key, [...(g.get(key) ?? []), r]);
  }
  return g;
}

const winner = (rs: readonly BenchRecord[]) => rs.filter((r) => r.correct && r.timing === 'gpu').sort((a, b) => a.median_ms - b.median_ms)[0];

/** The device banner as lines: adapter, software GPU or not, load at start and end, versions, command. */
export function bannerLines(b: Banner | undefined, device: string): string[] {
  if (!b) return [`device: ${device}`];
  return [
    `device: ${b.adapter} (${b.software_gpu ? 'SOFTWARE GPU: a CPU rasterizer, not a GPU' : 'hardware GPU'}); ${b.cpus} CPUs, load average ${b.load_start.toFixed(2)} at start, ${b.load_end === undefined ? '?' : b.load_end.toFixed(2)} at end`,
    `tfx ${b.tfx_version}${b.commit ? ` (${b.commit})` : ''}, node ${b.node}; command: ${b.command}`,
    `selection: ${b.selection}`,
  ];
}

/** "median [min-max] (n)" in ms; decimals: `d`, else 3 below 10 ms and 1 above. */
export const spreadText = (s: Spread | undefined, d?: number): string => {
  if (!s) return '-';
  const k = d ?? (s.median < 10 ? 3 : 1);
  return `${f(s.median, k)} [${f(s.min, k)}-${f(s.max, k)}] (${s.n})`;
};
const recSpread = (r: BenchRecord): Spread => ({ median: r.median_ms, min: r.min_ms, max: r.max_ms, n: r.iters });
/** Who won a peer comparison, and by how much. */
const verdict = (p: PeerRatio) => (p.speedup_vs_peer >= 1 ? `tfx ${p.speedup_vs_peer.toFixed(2)}x faster` : `${p.peer} ${(1 / p.speedup_vs_peer).toFixed(2)}x faster`);

export function textReport(res: BenchResult): string {
  const L: string[] = bannerLines(res.banner, res.device);
  if (res.model) L.push(`model: ${res.model.file} preset ${res.model.preset}, entry ${res.model.entry}, dims ${JSON.stringify(res.model.dims)}`);
  const head = ['op @ shape', 'variant', 'backend', 'median ms', 'min', 'max', 'n', 'GFLOP/s', 'GB/s', 'ok', 'max err'];
  const rows: string[][] = [];
  for (const [key, rs] of groups(res)) {
    const w = winner(rs);
    for (const r of rs) rows.push([key, `${r.variant}${r === w ? ' *' : ''}${r.is_default ? ' (default)' : ''}`, `${r.backend}${r.timing === 'wall' ? ' wall' : ''}`, f(r.median_ms), f(r.min_ms), f(r.max_ms), String(r.iters), f(r.gflops, 2), f(r.gbps, 2), r.correct ? 'yes' : 'NO', r.max_err.toExponential(1)]);
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 && i !== 9 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  L.push('', line(head), ...rows.map(line), '(ms: lower is better; * fastest correct variant; GPU timestamps unless marked wall; n samples, interleaved)');
  if (res.attention_table.length) {
    L.push('', 'attention (B1, D64, Transfusion layout): S (heads), fused sparse / fused dense-masked / unfused ms, sparse vs unfused, mask vs no-mask, tiles E/F/P, peak memory fused / unfused');
    for (const a of res.attention_table) {
      const t = a.tiles, n = t.total || 1;
      L.push(`  S=${a.S} H${a.H}${a.Hkv ? `/${a.Hkv}` : ''} (${a.images} img): ${f(a.sparse_ms)} / ${f(a.dense_ms)} / ${a.unfused_ms === null ? 'does not fit' : f(a.unfused_ms)} ms; ${a.sparse_vs_unfused === null ? '-' : `${a.sparse_vs_unfused}x`}; mask/nomask ${a.mask_vs_nomask}; tiles ${(100 * t.empty / n).toFixed(0)}/${(100 * t.full / n).toFixed(0)}/${(100 * t.partial / n).toFixed(0)}%; ${mib(a.peak_bytes_fused)} / ${mib(a.peak_bytes_unfused)}`);
    }
  }
  if (res.attention_bwd) L.push(...attentionBwdText(res.attention_bwd.check, res.attention_bwd.rows));
  if (res.tuning) {
    L.push('', `tuning (${res.tuning.cache}): best speedup over the default ${res.tuning.max_speedup}x${res.tuning.stopped_by_budget ? ' (budget spent before every variant ran)' : ''}`);
    for (const k of res.tuning.kernels) L.push(`  ${k.kernel} ${k.op} x${k.instances}: ${k.default_variant} ${f(k.default_ms)} ms -> ${k.best_variant} ${f(k.best_ms)} ms (${k.speedup}x, ${k.tried} tried)`);
  }
  if (res.forward) {
    for (const [name, s] of Object.entries(res.forward)) {
      if (!s) continue;
      L.push('', `forward (${name}): ${f(s.ms)} ms GPU per forward, correct ${s.correct ? 'yes' : 'NO'}; ${s.by_kind.map((k) => `${k.kind} ${(100 * k.share).toFixed(0)}%`).join(', ')}`);
      // Where the time goes in the spec: the slowest kernels with what they fused and where it came from.
      for (const k of (s.kernels ?? []).slice(0, 8)) L.push(`  ${k.kernel.padEnd(14)} ${f(k.ms).padStart(8)} ms ${(100 * k.share).toFixed(1).padStart(5)}%  ${k.bound.padEnd(7)}  ${k.fused}  <-  ${k.src || '(no source)'}`);
      for (const g of (s.by_line ?? []).slice(0, 5)) L.push(`  ${g.line.padEnd(30)} ${f(g.ms).padStart(8)} ms ${(100 * g.share).toFixed(1).padStart(5)}%  ${g.text}`);
    }
  }
  if (res.peers.length) {
    L.push('', 'peers (ratio = peer ms / tfx ms, measured interleaved in this run: > 1 = tfx faster; ms median [min-max] (n)):');
    for (const p of res.peers) L.push(`  ${p.op} ${p.shape} vs ${p.peer}: ${p.speedup_vs_peer}x, ${verdict(p)} (${p.peer_timing}: tfx ${p.ours_variant ?? ''} ${p.ours ? spreadText(p.ours, 2) : f(p.peer_timing === 'gpu' ? p.ours_gpu_ms : p.ours_wall_ms)} ms, peer ${p.peer_stats ? spreadText(p.peer_stats, 2) : f(p.peer_ms)} ms; peer output ${p.peer_correct === null ? 'unchecked' : p.peer_correct ? 'matches' : 'DIFFERS'})`);
  }
  for (const s of res.skipped) L.push(`skipped: ${s.op} ${s.variant} ${s.shape}: ${s.reason}`);
  if (res.host?.length) L.push('', 'host side (Benchmark.js, mean ± relative margin of error):', ...res.host.map((h) => `  ${h.name.padEnd(62)} ${h.mean_ms.toFixed(3).padStart(10)} ms ±${h.rme_pct.toFixed(1)}% (${h.samples} samples)`));
  for (const n of res.notes) L.push(`note: ${n}`);
  return L.join('\n') + '\n';
}

function barChart(title: string, rs: readonly BenchRecord[]): string {
  const w = winner(rs);
  const max = Math.max(...rs.map((r) => r.median_ms), 1e-9);
  const rowH = 18, labelW = 300, barW = 300, h = rs.length * rowH + 8;
  const bars = rs.map((r, i) => {
    const y = 4 + i * rowH, len = Math.max(1, (r.median_ms / max) * barW);
    const fill = !r.correct ? '#c44' : r === w ? '#2a7' : '#89a';
    const label = `${r.backend === 'webgpu' ? '' : `${r.backend}: `}${r.variant}${r.is_default ? ' (default)' : ''}`;
    return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${esc(label)}</text><rect x="${labelW}" y="${y + 2}" width="${len.toFixed(1)}" height="${rowH - 5}" fill="${fill}"/>`
      + `<text x="${labelW + len + 4}" y="${y + 13}">${esc(spreadText(recSpread(r), 2))} ms${r.correct ? '' : ' (wrong)'}</text>`;
  }).join('');
  return `<h3>${esc(title)}</h3><svg width="${labelW + barW + 220}" height="${h}" font-family="sans-serif" font-size="12">${bars}</svg>`;
}

export function htmlReport(res: BenchResult): string {
  const charts = [...groups(res)].map(([k, rs]) => barChart(k, rs)).join('\n');
  const table = (head: string[], rows: (string | number)[][]) => `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>`;
  const att = res.attention_table.length ? `<h2>Fused attention (B1, d 64, Transfusion layout)</h2>` + table(
    ['S', 'heads', 'images', 'fused sparse ms', 'best', 'fused dense ms', 'unfused ms', 'sparse vs unfused', 'mask / no-mask', 'EMPTY', 'FULL', 'PARTIAL', 'peak fused', 'peak unfused'],
    res.attention_table.map((a) => { const n = a.tiles.total || 1; return [a.S, a.Hkv ? `${a.H}/${a.Hkv}` : a.H, a.images, f(a.sparse_ms), a.sparse_best, f(a.dense_ms), a.unfused_ms === null ? 'does not fit' : f(a.unfused_ms), a.sparse_vs_unfused === null ? '-' : `${a.sparse_vs_unfused}x`, a.mask_vs_nomask, `${(100 * a.tiles.empty / n).toFixed(1)}%`, `${(100 * a.tiles.full / n).toFixed(1)}%`, `${(100 * a.tiles.partial / n).toFixed(1)}%`, mib(a.peak_bytes_fused), mib(a.peak_bytes_unfused)]; })) : '';
  const tune = res.tuning ? `<h2>Tuning</h2><p>cache: ${esc(res.tuning.cache)}; best speedup ${res.tuning.max_speedup}x</p>` + table(['kernel', 'op', 'instances', 'default', 'ms', 'best', 'ms', 'speedup'], res.tuning.kernels.map((k) => [k.kernel, k.op, k.instances, k.default_variant, f(k.default_ms), k.best_variant, f(k.best_ms), `${k.speedup}x`])) : '';
  const fwd = res.forward ? `<h2>Forward</h2>` + table(['plan', 'ms / forward', 'correct', 'share by op kind'], Object.entries(res.forward).filter(([, s]) => s).map(([n, s]) => [n, f(s!.ms), s!.correct ? 'yes' : 'NO', s!.by_kind.map((k) => `${k.kind} ${(100 * k.share).toFixed(0)}%`).join(', ')])) : '';
  const peers = res.peers.length ? `<h2>Peers</h2><p>ms: lower is better; ratio = peer ms / tfx ms (&gt; 1: tfx faster), both GPU time or both end to end, sampled interleaved in this run; median [min-max] (samples).</p>` + table(['op', 'shape', 'peer', 'ratio', 'winner', 'timing', 'tfx variant', 'tfx ms', 'peer ms', 'peer output'], res.peers.map((p) => [p.op, p.shape, p.peer, `${p.speedup_vs_peer}x`, verdict(p), p.peer_timing, p.ours_variant ?? '', p.ours ? spreadText(p.ours, 2) : f(p.peer_timing === 'gpu' ? p.ours_gpu_ms : p.ours_wall_ms), p.peer_stats ? spreadText(p.peer_stats, 2) : f(p.peer_ms), p.peer_correct === null ? '-' : p.peer_correct ? 'matches' : 'differs'])) : '';
  const bwd = res.attention_bwd ? `<h2>Attention backward, fused vs unfused</h2><pre>${esc(attentionBwdText(res.attention_bwd.check, res.attention_bwd.rows).join('\n'))}</pre>` : '';
  const notes = [...res.skipped.map((s) => `skipped ${s.op} ${s.variant} ${s.shape}: ${s.reason}`), ...res.notes].map((n) => `<li>${esc(n)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>tfx bench ${esc(res.date)}</title><style>
body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}h3{font-size:14px;margin:1.2em 0 .2em}
</style></head><body><h1>tfx bench</h1><p>${bannerLines(res.banner, res.device).map(esc).join('<br>')}<br>${esc(res.date)}${res.quick ? ' (quick)' : ''}. Median GPU ms (timestamp queries) after warm-up, lower is better, with [min-max] (samples); green = fastest correct variant, red = wrong output.</p>
${fwd}${tune}${att}${bwd}${peers}${notes ? `<ul>${notes}</ul>` : ''}<h2>Variants</h2>${charts}</body></html>
`;
}

/**
 * The Markdown summary (bench/results/README.md tables): banner, tfx against each peer, matmul variants, the
 * forward default vs tuned, the attention table. Every figure is median [min-max] (samples) in ms.
 */
export function markdownReport(res: BenchResult): string {
  const L: string[] = [`# tfx bench ${res.date}${res.quick ? ' (quick)' : ''}`, '', ...bannerLines(res.banner, res.device).map((l) => `- ${l}`), ''];
  const row = (c: (string | number)[]) => `| ${c.join(' | ')} |`;
  const tbl = (head: string[], rows: (string | number)[][]) => [row(head), row(head.map(() => '---')), ...rows.map(row), ''];
  if (res.peers.length) {
    L.push('## tfx vs peers (same device, interleaved in this run)', '', 'ms median [min-max] (samples), lower is better; ratio = peer / tfx (> 1: tfx faster), GPU time against GPU time where the peer has timestamps (tfjs), else end to end against end to end.', '');
    L.push(...tbl(['op', 'shape', 'peer', 'timing', 'tfx variant', 'tfx ms', 'peer ms', 'ratio', 'winner', 'peer output'],
      res.peers.map((p) => [p.op, p.shape, p.peer, p.peer_timing, p.ours_variant ?? '', spreadText(p.ours), spreadText(p.peer_stats), `${p.speedup_vs_peer}x`, verdict(p), p.peer_correct === null ? '-' : p.peer_correct ? 'matches' : 'DIFFERS'])));
  }
  const mm = res.records.filter((r) => r.group === 'op');
  if (mm.length) {
    L.push('## Standalone kernels: variants (interleaved)', '', 'ms median [min-max] (samples), lower is better; ratio = default / variant (> 1: the variant is faster).', '');
    const shapes = [...new Set(mm.map((r) => `${r.op} ${r.shape}`))];
    for (const sh of shapes) {
      const rs = mm.filter((r) => `${r.op} ${r.shape}` === sh).sort((a, b) => a.median_ms - b.median_ms);
      const d = rs.find((r) => r.is_default);
      L.push(`### ${sh}`, '', ...tbl(['variant', 'ms', 'GFLOP/s', 'vs default', 'correct'],
        rs.map((r) => [`${r.variant}${r.is_default ? ' (default)' : ''}`, spreadText(recSpread(r)), f(r.gflops, 2), d ? `${(d.median_ms / r.median_ms).toFixed(2)}x` : '-', r.correct ? 'yes' : 'NO'])));
    }
  }
  if (res.forward) {
    const fw = res.forward;
    L.push('## Model entry (GPU ms per call, lower is better)', '', ...tbl(['plan', 'ms', 'correct', 'share by op kind'],
      Object.entries(fw).filter(([, s]) => s).map(([n, s]) => [n, s!.spread ? spreadText(s!.spread, 2) : f(s!.ms, 2), s!.correct ? 'yes' : 'NO', s!.by_kind.map((k) => `${k.kind} ${(100 * k.share).toFixed(0)}%`).join(', ')])));
    if (fw.tuned) L.push(`tuned vs default: ${(fw.default.ms / fw.tuned.ms).toFixed(2)}x (default ms / tuned ms, > 1: tuned faster${fw.tuned.spread ? '; sampled interleaved' : ''})`, '');
  }
  if (res.tuning) L.push('## Tuning', '', ...tbl(['kernel', 'op', 'x', 'default', 'ms', 'best', 'ms', 'speedup', 'tried'], res.tuning.kernels.map((k) => [k.kernel, k.op, k.instances, k.default_variant, f(k.default_ms, 2), k.best_variant, f(k.best_ms, 2), `${k.speedup}x`, k.tried])));
  if (res.attention_table.length) {
    L.push('## Attention (B1, d 64, Transfusion layout; interleaved)', '', 'ms median [min-max] (samples), lower is better; sparse vs unfused = unfused / sparse (> 1: fused sparse faster); mask / no-mask = masked / unmasked (< 1: the mask saves time).', '');
    L.push(...tbl(['S', 'heads', 'fused sparse', 'fused dense', 'unfused', 'no mask', 'sparse vs unfused', 'mask / no-mask'], res.attention_table.map((a) => {
      const sp = (name: string, ms: number | null) => (a.spread?.[name] ? spreadText(a.spread[name]) : f(ms, 1));
      return [a.S, a.Hkv ? `${a.H}/${a.Hkv}` : a.H, `${sp(a.sparse_best, a.sparse_ms)} ${a.sparse_best}`, f(a.dense_ms, 1), a.unfused_ms === null ? 'does not fit' : sp('unfused', a.unfused_ms), sp('fused_nomask', a.nomask_ms), a.sparse_vs_unfused === null ? '-' : `${a.sparse_vs_unfused}x`, a.mask_vs_nomask];
    })));
  }
  for (const s of res.skipped) L.push(`- skipped: ${s.op} ${s.variant} ${s.shape}: ${s.reason}`);
  for (const n of res.notes) L.push(`- note: ${n}`);
  return L.join('\n') + '\n';
}
