/**
 * Bench results as a text table (stdout) and a self-contained HTML report: per (op, shape) an inline SVG bar
 * chart of median ms per variant, the winner highlighted; no scripts, no CDN.
 */
import type { BenchRecord, BenchResult } from './suite.js';
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

export function textReport(res: BenchResult): string {
  const L: string[] = [`device: ${res.device}`];
  if (res.model) L.push(`model: ${res.model.file} preset ${res.model.preset}, entry ${res.model.entry}, dims ${JSON.stringify(res.model.dims)}`);
  const head = ['op @ shape', 'variant', 'backend', 'median ms', 'min', 'max', 'GFLOP/s', 'GB/s', 'ok', 'max err'];
  const rows: string[][] = [];
  for (const [key, rs] of groups(res)) {
    const w = winner(rs);
    for (const r of rs) rows.push([key, `${r.variant}${r === w ? ' *' : ''}${r.is_default ? ' (default)' : ''}`, `${r.backend}${r.timing === 'wall' ? ' wall' : ''}`, f(r.median_ms), f(r.min_ms), f(r.max_ms), f(r.gflops, 2), f(r.gbps, 2), r.correct ? 'yes' : 'NO', r.max_err.toExponential(1)]);
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 3 && i !== 8 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  L.push('', line(head), ...rows.map(line), '(* fastest correct variant; GPU timestamps unless marked wall)');
  if (res.attention_table.length) {
    L.push('', 'attention (B1, D64, Transfusion layout): S (heads), fused sparse / fused dense-masked / unfused ms, sparse vs unfused, mask vs no-mask, tiles E/F/P, peak memory fused / unfused');
    for (const a of res.attention_table) {
      const t = a.tiles, n = t.total || 1;
      L.push(`  S=${a.S} H${a.H} (${a.images} img): ${f(a.sparse_ms)} / ${f(a.dense_ms)} / ${a.unfused_ms === null ? 'does not fit' : f(a.unfused_ms)} ms; ${a.sparse_vs_unfused === null ? '-' : `${a.sparse_vs_unfused}x`}; mask/nomask ${a.mask_vs_nomask}; tiles ${(100 * t.empty / n).toFixed(0)}/${(100 * t.full / n).toFixed(0)}/${(100 * t.partial / n).toFixed(0)}%; ${mib(a.peak_bytes_fused)} / ${mib(a.peak_bytes_unfused)}`);
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
    L.push('', 'peers (speedup of tfx over the peer; >1 = tfx faster):');
    for (const p of res.peers) L.push(`  ${p.op} ${p.shape} vs ${p.peer}: ${p.speedup_vs_peer}x (${p.peer_timing}: tfx ${f(p.peer_timing === 'gpu' ? p.ours_gpu_ms : p.ours_wall_ms)} ms, peer ${f(p.peer_ms)} ms; peer output ${p.peer_correct === null ? 'unchecked' : p.peer_correct ? 'matches' : 'DIFFERS'})`);
  }
  for (const s of res.skipped) L.push(`skipped: ${s.op} ${s.variant} ${s.shape}: ${s.reason}`);
  if (res.host?.length) L.push('', 'host side (Benchmark.js, mean ± relative margin of error):', ...res.host.map((h) => `  ${h.name.padEnd(62)} ${h.mean_ms.toFixed(3).padStart(10)} ms ±${h.rme_pct.toFixed(1)}% (${h.samples} samples)`));
  for (const n of res.notes) L.push(`note: ${n}`);
  return L.join('\n') + '\n';
}

function barChart(title: string, rs: readonly BenchRecord[]): string {
  const w = winner(rs);
  const max = Math.max(...rs.map((r) => r.median_ms), 1e-9);
  const rowH = 18, labelW = 300, barW = 360, h = rs.length * rowH + 8;
  const bars = rs.map((r, i) => {
    const y = 4 + i * rowH, len = Math.max(1, (r.median_ms / max) * barW);
    const fill = !r.correct ? '#c44' : r === w ? '#2a7' : '#89a';
    const label = `${r.backend === 'webgpu' ? '' : `${r.backend}: `}${r.variant}${r.is_default ? ' (default)' : ''}`;
    return `<text x="${labelW - 6}" y="${y + 13}" text-anchor="end">${esc(label)}</text><rect x="${labelW}" y="${y + 2}" width="${len.toFixed(1)}" height="${rowH - 5}" fill="${fill}"/>`
      + `<text x="${labelW + len + 4}" y="${y + 13}">${f(r.median_ms)} ms${r.correct ? '' : ' (wrong)'}</text>`;
  }).join('');
  return `<h3>${esc(title)}</h3><svg width="${labelW + barW + 120}" height="${h}" font-family="sans-serif" font-size="12">${bars}</svg>`;
}

export function htmlReport(res: BenchResult): string {
  const charts = [...groups(res)].map(([k, rs]) => barChart(k, rs)).join('\n');
  const table = (head: string[], rows: (string | number)[][]) => `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</table>`;
  const att = res.attention_table.length ? `<h2>Fused attention (B1, d 64, Transfusion layout)</h2>` + table(
    ['S', 'heads', 'images', 'fused sparse ms', 'best', 'fused dense ms', 'unfused ms', 'sparse vs unfused', 'mask / no-mask', 'EMPTY', 'FULL', 'PARTIAL', 'peak fused', 'peak unfused'],
    res.attention_table.map((a) => { const n = a.tiles.total || 1; return [a.S, a.H, a.images, f(a.sparse_ms), a.sparse_best, f(a.dense_ms), a.unfused_ms === null ? 'does not fit' : f(a.unfused_ms), a.sparse_vs_unfused === null ? '-' : `${a.sparse_vs_unfused}x`, a.mask_vs_nomask, `${(100 * a.tiles.empty / n).toFixed(1)}%`, `${(100 * a.tiles.full / n).toFixed(1)}%`, `${(100 * a.tiles.partial / n).toFixed(1)}%`, mib(a.peak_bytes_fused), mib(a.peak_bytes_unfused)]; })) : '';
  const tune = res.tuning ? `<h2>Tuning</h2><p>cache: ${esc(res.tuning.cache)}; best speedup ${res.tuning.max_speedup}x</p>` + table(['kernel', 'op', 'instances', 'default', 'ms', 'best', 'ms', 'speedup'], res.tuning.kernels.map((k) => [k.kernel, k.op, k.instances, k.default_variant, f(k.default_ms), k.best_variant, f(k.best_ms), `${k.speedup}x`])) : '';
  const fwd = res.forward ? `<h2>Forward</h2>` + table(['plan', 'ms / forward', 'correct', 'share by op kind'], Object.entries(res.forward).filter(([, s]) => s).map(([n, s]) => [n, f(s!.ms), s!.correct ? 'yes' : 'NO', s!.by_kind.map((k) => `${k.kind} ${(100 * k.share).toFixed(0)}%`).join(', ')])) : '';
  const peers = res.peers.length ? `<h2>Peers</h2>` + table(['op', 'shape', 'peer', 'tfx speedup', 'timing', 'tfx ms', 'peer ms', 'peer wall ms', 'peer output'], res.peers.map((p) => [p.op, p.shape, p.peer, `${p.speedup_vs_peer}x`, p.peer_timing, f(p.peer_timing === 'gpu' ? p.ours_gpu_ms : p.ours_wall_ms), f(p.peer_ms), f(p.peer_wall_ms), p.peer_correct === null ? '-' : p.peer_correct ? 'matches' : 'differs'])) : '';
  const bwd = res.attention_bwd ? `<h2>Attention backward, fused vs unfused</h2><pre>${esc(attentionBwdText(res.attention_bwd.check, res.attention_bwd.rows).join('\n'))}</pre>` : '';
  const notes = [...res.skipped.map((s) => `skipped ${s.op} ${s.variant} ${s.shape}: ${s.reason}`), ...res.notes].map((n) => `<li>${esc(n)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>tfx bench ${esc(res.date)}</title><style>
body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}h3{font-size:14px;margin:1.2em 0 .2em}
</style></head><body><h1>tfx bench</h1><p>${esc(res.device)}<br>${esc(res.date)}${res.quick ? ' (quick)' : ''}. Median GPU ms (timestamp queries) after warm-up; green = fastest correct variant, red = wrong output.</p>
${fwd}${tune}${att}${bwd}${peers}${notes ? `<ul>${notes}</ul>` : ''}<h2>Variants</h2>${charts}</body></html>
`;
}
