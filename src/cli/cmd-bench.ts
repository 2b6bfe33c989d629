/**
 * `tfx bench`: kernel variants of an entry at its real shapes, standalone matmul and attention, the fused
 * attention table, optional peers (--peers) and autotuning (--tune writes the tune cache). Progress on stderr,
 * a table on stdout, JSON (--json), an HTML report (--report) and a Markdown summary (--md), all from one run.
 */
import { mkdirSync } from 'node:fs';
import { writeOutputFile } from '../runtime/fs-out.js';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';
import { UsageError, compileSource, readSpec } from '../driver.js';
import { graphNodes } from '../ir/graph.js';
import { TfxError } from '../errors.js';
import { closeGpu, getGpu } from '../runtime/webgpu/device.js';
import { oneFile, str, type Args } from './main.js';
import { chooseEntry } from './defaults.js';

const OPS = ['host', 'matmul', 'attention', 'row', 'map', 'rmsnorm', 'rope', 'elementwise', 'compute', 'peers', 'generate', 'attention-bwd', 'train-step'];

type AttentionShape = { S: number; H: number; Hkv?: number; patches: number };

/**
 * --shapes: comma-separated; N or MxKxN is a matmul, S or ShH an attention row (S tokens, H heads, default 8;
 * ShHkvK: K KV heads, grouped-query attention). Without --op, attention shapes are written sS, sShH or sShHkvK
 * (s1024h2, s1024h8kv2) so one list can hold both.
 */
function parseShapes(s: string, op: string | undefined): { matmul?: number[][]; attention?: AttentionShape[] } {
  if (op !== undefined && op !== 'matmul' && op !== 'attention') throw new UsageError('--shapes applies to matmul and attention only');
  const parts = s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (!parts.length) throw new UsageError('--shapes is empty');
  const out: { matmul?: number[][]; attention?: AttentionShape[] } = {};
  for (const p of parts) {
    const att = op === 'attention' ? /^s?(\d+)(?:h(\d+)(?:kv(\d+))?)?$/.exec(p) : /^s(\d+)(?:h(\d+)(?:kv(\d+))?)?$/.exec(p);
    if (att) {
      const S = Number(att[1]), H = Number(att[2] ?? 8), Hkv = Number(att[3] ?? H);
      if (!(S >= 16 && S <= 65536 && H >= 1 && H <= 64)) throw new UsageError(`--shapes: attention '${p}' needs S in 16..65536 and H in 1..64`);
      if (!(Hkv >= 1 && H % Hkv === 0)) throw new UsageError(`--shapes: attention '${p}': the KV heads (${Hkv}) must divide the query heads (${H})`);
      (out.attention ??= []).push({ S, H, ...Hkv !== H ? { Hkv } : {}, patches: 256 });
      continue;
    }
    const dims = p.split('x').map((d) => (/^\d+$/.test(d) ? Number(d) : NaN));
    if (op === 'attention' || dims.some((d) => !(d >= 1 && d <= 16384)) || (dims.length !== 1 && dims.length !== 3))
      throw new UsageError(`--shapes: '${p}' is not N or MxKxN (matmul, 1..16384) or sS / sShH (attention)`);
    (out.matmul ??= []).push(dims.length === 1 ? [dims[0]!, dims[0]!, dims[0]!] : dims);
  }
  return out;
}

/** The peer runtimes are development dependencies (about 500 MB): a plain install of tfx does not have them. */
export const PEER_PACKAGES = ['onnxruntime-node', 'onnxruntime-web', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu'];
const PEER_VERSIONS: Record<string, string> = { 'onnxruntime-node': '1.30.0', 'onnxruntime-web': '1.30.0', '@tensorflow/tfjs-core': '4.22.0', '@tensorflow/tfjs-backend-webgpu': '4.22.0' };
export function missingPeers(resolve: (p: string) => unknown = (p) => import.meta.resolve(p)): string[] {
  return PEER_PACKAGES.filter((p) => { try { resolve(p); return false; } catch { return true; } });
}

export default async function bench(a: Args): Promise<number> {
  const file = oneFile(a);
  const backend = str(a, 'backend') ?? 'webgpu';
  if (backend === 'cuda') {
    const { loadCudaDriver } = await import('../runtime/cuda/driver.js');
    let why = 'benchmarking CUDA kernels is not implemented yet';
    try { loadCudaDriver(); } catch (e) { why = `no CUDA driver on this machine (${(e as Error).message.split('\n')[0]})`; }
    process.stderr.write(`tfx bench: --backend cuda unavailable: ${why}; use --backend webgpu\n`);
    return 1;
  }
  if (backend !== 'webgpu') throw new UsageError(`--backend must be webgpu or cuda, got '${backend}'`);
  const op = str(a, 'op');
  if (op !== undefined && !OPS.includes(op)) throw new UsageError(`--op must be one of ${OPS.join(', ')}; got '${op}'`);
  const budgetText = str(a, 'budget') ?? '60';
  if (!/^\d+(\.\d+)?$/.test(budgetText)) throw new UsageError(`--budget must be a number of seconds, got '${budgetText}'`);
  const quick = a.values['quick'] === true;
  const shapes = str(a, 'shapes');
  const given = shapes === undefined ? {} : parseShapes(shapes, op);
  const only = shapes !== undefined && op === undefined;   // a mixed list runs exactly what it names
  const matmulSizes = given.matmul ?? (only ? [] : quick ? [[256, 256, 256]] : [[256, 256, 256], [512, 512, 512], [1024, 1024, 1024]]);
  // Quick: a small Transfusion layout (S 128, 2 heads, 32-patch images) so CI takes seconds on a software GPU.
  const source = readSpec(file);
  const entry = chooseEntry(source, file, str(a, 'entry')).entry;
  // Defaults from the spec: the Transfusion-layout attention table only for an entry that has attention.
  const noAttention = given.attention === undefined && op === undefined && !only
    && !graphNodes(compileSource(source, file, { preset: str(a, 'preset'), entries: [entry] }).program.entries[0]!).some((n) => n.op === 'attention');
  if (noAttention) process.stderr.write(`tfx bench: entry ${entry} has no attention: no attention table (--op attention runs it)\n`);
  const attention = given.attention ?? (only || noAttention ? [] : quick ? [{ S: 128, H: 2, patches: 32 }] : [512, 1024, 2048, 4096].map((S) => ({ S, H: 8, patches: 256 })));
  const jsonOut = str(a, 'json'), htmlOut = str(a, 'report'), mdOut = str(a, 'md');
  if (a.values['peers'] === true || op === 'peers') {
    const missing = missingPeers();
    if (missing.length) throw new TfxError('TFX8101', `--peers needs ${missing.join(', ')}, which a plain install of tfx leaves out (development dependencies); install them next to tfx: npm install ${missing.map((m) => `${m}@${PEER_VERSIONS[m] ?? 'latest'}`).join(' ')}`);
  }

  if (op === 'generate') return benchGenerate(a, file, quick, jsonOut);
  if (op === 'train-step') return benchTrainStep(file, quick, jsonOut, mdOut);
  const [{ runBench }, { textReport, htmlReport, markdownReport }] = await Promise.all([import('../../bench/suite.js'), import('../../bench/report.js')]);
  const ctx = await getGpu();
  process.stderr.write(`tfx bench: ${ctx.deviceString}\n`);
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'bench [{bar}] {value}/{total} {label}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.legacy);
  let total = 0;
  bar.start(0, 0, { label: '' });
  try {
    const res = await runBench(ctx, {
      file, preset: str(a, 'preset'), entry, op, matmulSizes, attention,
      tune: a.values['tune'] === true, budgetS: Number(budgetText), peers: a.values['peers'] === true || op === 'peers', quick,
      progress: { add: (n) => { total += n; bar.setTotal(total); }, tick: (label) => bar.increment(1, { label: label.slice(0, 48) }) },
    });
    bar.stop();
    process.stdout.write(textReport(res));
    for (const [path, text] of [[jsonOut, JSON.stringify(res, null, 1) + '\n'], [htmlOut, htmlReport(res)], [mdOut, markdownReport(res)]] as const) {
      if (path === undefined) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeOutputFile(path, text);
      process.stderr.write(`wrote ${path}\n`);
    }
    return res.records.some((r) => r.backend === 'webgpu' && !r.correct) ? 1 : 0;
  } finally {
    bar.stop();
    await closeGpu();
  }
}

/** `--op generate`: decode and denoising figures of the spec's generation entries (src/generate/bench.ts). */
async function benchGenerate(a: Args, file: string, quick: boolean, jsonOut: string | undefined): Promise<number> {
  const [{ compileFile }, { initParams }, { loadWeights }, { benchGeneration, generationTable }, { generationEntries }] = await Promise.all([
    import('../driver.js'), import('../runtime/weights.js'), import('./cmd-run.js'), import('../generate/bench.js'), import('../generate/generate.js')]);
  const { program } = compileFile(file, { preset: str(a, 'preset') });
  generationEntries(program);
  const w = str(a, 'weights');
  const weights = w ? loadWeights(program, w) : initParams(program.params, 0);
  const ctx = await getGpu();
  try {
    const f = await benchGeneration(program, weights, ctx.deviceString, { tokens: quick ? 3 : 8, steps: quick ? 3 : 6, log: (s) => process.stderr.write(s + '\n') });
    process.stdout.write(generationTable(f));
    if (jsonOut !== undefined) {
      mkdirSync(dirname(jsonOut), { recursive: true });
      writeOutputFile(jsonOut, JSON.stringify(f, null, 1) + '\n');
      process.stderr.write(`wrote ${jsonOut}\n`);
    }
    return 0;
  } finally { await closeGpu(); }
}

/** `--op train-step`: training step time split into forward / backward / optimizer (bench/train-step.ts). */
async function benchTrainStep(file: string, quick: boolean, jsonOut: string | undefined, mdOut: string | undefined): Promise<number> {
  const { benchTrainStep: run, trainStepText } = await import('../../bench/train-step.js');
  const ctx = await getGpu();
  try {
    const cases = quick ? [{ preset: 'tiny', B: 2 }] as const : [{ preset: 'tiny', B: 2 }, { preset: 'shapes', B: 8 }, { preset: 'shapes', B: 16 }] as const;
    const res = await run(ctx, { file, cases, rounds: quick ? 2 : 5, log: (s) => process.stderr.write(s + '\n') });
    const text = trainStepText(res);
    process.stdout.write(text);
    for (const [path, body] of [[jsonOut, JSON.stringify(res, null, 1) + '\n'], [mdOut, text]] as const) {
      if (path === undefined) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeOutputFile(path, body);
      process.stderr.write(`wrote ${path}\n`);
    }
    return 0;
  } finally { await closeGpu(); }
}
