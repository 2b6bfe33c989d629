/**
 * A profile people read: per kernel and aggregated per spec line, per block and per op kind, with time share,
 * achieved GFLOP/s and GB/s against the device's measured peak, what limited each kernel (compute, memory or
 * launch), and a Chrome trace-event file (chrome://tracing, ui.perfetto.dev).
 */
import { dimEval } from '../core/dim.js';
import { byteSize } from '../core/dtype.js';
import { bufferNumel, type KExpr, type Kernel, type KernelPlan } from '../ir/kernel.js';
import { originKey, summarizeOrigins, type Origin } from '../ir/provenance.js';

/** Measured on the device (runtime/webgpu/peak.ts): best rates of a streaming copy and an FMA loop, and the
 * GPU time of an empty dispatch. */
export interface DevicePeak { readonly device: string; readonly gflops: number; readonly gbps: number; readonly launchMs: number }

export interface KernelCost { readonly flops: number; readonly bytes: number }

/** Arithmetic operations in a kernel expression (a load, index or constant costs none). */
function opCount(e: KExpr | undefined): number {
  if (!e || typeof e !== 'object') return 0;
  const x = e as unknown as Record<string, unknown>;
  let n = x.k === 'un' || x.k === 'bin' || x.k === 'where' ? 1 : 0;
  for (const key of ['a', 'b', 'c', 'value']) if (x[key] && typeof x[key] === 'object') n += opCount(x[key] as KExpr);
  return n;
}

/** FLOPs (matmul and attention: dense-equivalent; others: arithmetic ops per element) and distinct bytes moved. */
export function kernelCost(k: Kernel, plan: KernelPlan, dims: Readonly<Record<string, number>>): KernelCost {
  const d = (x: Parameters<typeof dimEval>[0]) => dimEval(x, dims);
  const bytes = [...new Set([...k.reads, k.out])].reduce((s, b) => { const buf = plan.buffers[b]!; return s + byteSize(buf.dtype) * bufferNumel(buf, dims); }, 0);
  let flops = 0;
  switch (k.kind) {
    case 'matmul': flops = 2 * k.batch.reduce((s, x) => s * d(x), 1) * d(k.M) * d(k.N) * d(k.K); break;
    case 'attention': flops = 2 * d(k.B) * d(k.Hq) * d(k.Sq) * d(k.Sk) * (k.D + k.Dv); break;
    case 'map': flops = k.shape.reduce((s, x) => s * d(x), 1) * opCount(k.value); break;
    case 'row': flops = k.rows.reduce((s, x) => s * d(x), 1) * (d(k.len) * k.reds.reduce((s, r) => s + 1 + opCount(r.value), 0) + opCount(k.store.value)); break;
  }
  return { flops, bytes };
}

/** `latency`: under a tenth of both peaks (too little parallel work, or serial dependencies within it). */
export type Bound = 'compute' | 'memory' | 'launch' | 'latency';

export interface ProfileRow {
  readonly name: string; readonly label: string; readonly kind: string; readonly ms: number; readonly share: number;
  readonly gflops: number; readonly gbps: number; readonly computeFrac: number; readonly memoryFrac: number;
  readonly bound: Bound; readonly src: readonly Origin[];
}
export interface Group { readonly key: string; readonly ms: number; readonly share: number; readonly kernels: number }
export interface Profile {
  readonly totalMs: number; readonly peak: DevicePeak; readonly rows: readonly ProfileRow[];
  readonly byLine: readonly Group[]; readonly byBlock: readonly Group[]; readonly byKind: readonly Group[];
}

/**
 * What limited a kernel: launch when it ran within twice an empty dispatch's time; latency when it reached
 * under a tenth of both peaks; otherwise whichever of compute and memory it used the larger fraction of.
 */
export function boundOf(ms: number, computeFrac: number, memoryFrac: number, peak: DevicePeak): Bound {
  if (ms <= 2 * peak.launchMs) return 'launch';
  if (Math.max(computeFrac, memoryFrac) < 0.1) return 'latency';
  return computeFrac >= memoryFrac ? 'compute' : 'memory';
}

/** Time of kernels split evenly across the keys each maps to (a kernel fused from two spec lines counts half
 * for each), so every grouping sums to the total. */
function groupBy(rows: readonly ProfileRow[], keys: (r: ProfileRow) => string[], total: number): Group[] {
  const acc = new Map<string, { ms: number; kernels: Set<string> }>();
  for (const r of rows) {
    const ks = [...new Set(keys(r))];
    const list = ks.length ? ks : ['(no source)'];
    for (const k of list) {
      const e = acc.get(k) ?? { ms: 0, kernels: new Set<string>() };
      e.ms += r.ms / list.length;
      e.kernels.add(r.name);
      acc.set(k, e);
    }
  }
  return [...acc].map(([key, e]) => ({ key, ms: e.ms, share: total > 0 ? e.ms / total : 0, kernels: e.kernels.size })).sort((a, b) => b.ms - a.ms);
}

/** `layers.3.attn` -> `layers.*.attn`: one row for a block however many times the spec repeats it. */
const blockKey = (o: Origin) => (o.path ? `${o.path.replace(/(^|\.)\d+(?=\.|$)/g, '$1*')} (${o.block})` : o.block);

export function analyzeProfile(plan: KernelPlan, timings: readonly { readonly label: string; readonly ms: number }[], dims: Readonly<Record<string, number>>, peak: DevicePeak): Profile {
  const totalMs = timings.reduce((s, t) => s + t.ms, 0);
  const byName = new Map(plan.kernels.map((k) => [k.name, k]));
  const rows: ProfileRow[] = timings.map((t) => {
    const k = byName.get(t.label);
    const cost = k ? kernelCost(k, plan, dims) : { flops: 0, bytes: 0 };
    const sec = t.ms / 1e3;
    const gflops = sec > 0 ? cost.flops / sec / 1e9 : 0, gbps = sec > 0 ? cost.bytes / sec / 1e9 : 0;
    const computeFrac = peak.gflops > 0 ? gflops / peak.gflops : 0, memoryFrac = peak.gbps > 0 ? gbps / peak.gbps : 0;
    return {
      name: t.label, label: k?.label ?? t.label, kind: k?.opKind ?? '?', ms: t.ms, share: totalMs > 0 ? t.ms / totalMs : 0,
      gflops, gbps, computeFrac, memoryFrac, bound: boundOf(t.ms, computeFrac, memoryFrac, peak), src: k?.src ?? [],
    };
  });
  return {
    totalMs, peak, rows,
    byLine: groupBy(rows, (r) => r.src.map((o) => String(o.line)), totalMs),
    byBlock: groupBy(rows, (r) => r.src.map(blockKey), totalMs),
    byKind: groupBy(rows, (r) => [r.kind], totalMs),
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The text report: kernels by time, then per spec line (with the line's text), per block and per op kind. */
export function formatProfile(p: Profile, file: string, source: string, o: { readonly top?: number } = {}): string {
  const srcLines = source.split(/\r\n|\r|\n/);
  const top = o.top ?? 30;
  const rows = [...p.rows].sort((a, b) => b.ms - a.ms);
  const out = [
    `profile: ${p.totalMs.toFixed(3)} ms of GPU time in ${p.rows.length} kernels; device peak (measured): ${p.peak.gflops.toFixed(1)} GFLOP/s, ${p.peak.gbps.toFixed(1)} GB/s, empty dispatch ${(p.peak.launchMs * 1e3).toFixed(0)} us`,
    `  ${'kernel'.padEnd(16)} ${'ms'.padStart(8)} ${'share'.padStart(6)} ${'GFLOP/s'.padStart(8)} ${'%peak'.padStart(6)} ${'GB/s'.padStart(7)} ${'%peak'.padStart(6)}  ${'bound'.padEnd(7)}  fused ops  <-  spec`,
  ];
  for (const r of rows.slice(0, top))
    out.push(`  ${r.name.padEnd(16)} ${r.ms.toFixed(3).padStart(8)} ${pct(r.share).padStart(6)} ${r.gflops.toFixed(2).padStart(8)} ${pct(r.computeFrac).padStart(6)} ${r.gbps.toFixed(2).padStart(7)} ${pct(r.memoryFrac).padStart(6)}  ${r.bound.padEnd(7)}  ${r.label}  <-  ${summarizeOrigins(r.src, file) || '(no source)'}`);
  if (rows.length > top) out.push(`  ... ${rows.length - top} more kernels (${pct(rows.slice(top).reduce((s, r) => s + r.share, 0))} of the time)`);
  out.push('  by spec line (a kernel fused from several lines counts evenly for each):');
  for (const g of p.byLine.slice(0, 15)) {
    const line = Number(g.key);
    const text = Number.isInteger(line) ? (srcLines[line - 1] ?? '').trim() : '';
    out.push(`  ${`${file}:${g.key}`.padEnd(30)} ${g.ms.toFixed(3).padStart(8)} ${pct(g.share).padStart(6)}  x${String(g.kernels).padEnd(4)} ${text.length > 70 ? `${text.slice(0, 67)}...` : text}`);
  }
  out.push('  by block (call path, repeats merged):');
  for (const g of p.byBlock.slice(0, 15)) out.push(`  ${g.key.padEnd(30)} ${g.ms.toFixed(3).padStart(8)} ${pct(g.share).padStart(6)}  x${g.kernels}`);
  out.push('  by op kind:');
  for (const g of p.byKind) out.push(`  ${g.key.padEnd(30)} ${g.ms.toFixed(3).padStart(8)} ${pct(g.share).padStart(6)}  x${g.kernels}`);
  const bounds = new Map<Bound, number>();
  for (const r of p.rows) bounds.set(r.bound, (bounds.get(r.bound) ?? 0) + r.share);
  out.push(`  limited by: ${[...bounds].sort((a, b) => b[1] - a[1]).map(([b, s]) => `${b} ${pct(s)}`).join(', ')} of the time`);
  return out.join('\n') + '\n';
}

/**
 * Chrome trace-event JSON (one complete event per kernel, back to back in launch order: timestamps are GPU
 * durations laid end to end, not wall-clock starts). Opens in chrome://tracing and ui.perfetto.dev.
 */
export function chromeTrace(p: Profile, file: string, meta: Readonly<Record<string, string>> = {}): object {
  let ts = 0;
  const traceEvents: object[] = [
    { name: 'process_name', ph: 'M', pid: 1, tid: 1, args: { name: `tfx ${meta.entry ?? ''}`.trim() } },
    { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: { name: p.peak.device } },
  ];
  for (const r of p.rows) {
    const dur = r.ms * 1e3;
    traceEvents.push({
      name: `${r.name}: ${r.label}`, cat: r.kind, ph: 'X', ts: Number(ts.toFixed(3)), dur: Number(dur.toFixed(3)), pid: 1, tid: 1,
      args: { kernel: r.name, fused: r.label, src: summarizeOrigins(r.src, file), spans: r.src.map(originKey), gflops: r.gflops, gbps: r.gbps, bound: r.bound },
    });
    ts += dur;
  }
  return { traceEvents, displayTimeUnit: 'ms', otherData: { ...meta, peak_gflops: p.peak.gflops, peak_gbps: p.peak.gbps } };
}
