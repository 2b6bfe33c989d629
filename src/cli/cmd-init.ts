import { isDType, isFloat, type DType } from '../core/dtype.js';
import { compileFile, UsageError } from '../driver.js';
import { INDEX_SUFFIX, writeCheckpoint } from '../runtime/checkpoint.js';
import { tensorBytes } from '../runtime/safetensors.js';
import { initParam } from '../runtime/weights.js';
import { intFlag, need, oneFile, str, type Args } from './main.js';
import { fmtSize, progress } from './progress.js';

/** `--shard-size 2GB` / `512MiB` / a byte count. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)?$/i.exec(text.trim());
  const unit = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 }[(m?.[2] ?? 'b').toLowerCase() as 'b'];
  const v = m ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(v) || v <= 0) throw new UsageError(`--${flag} must be a size like 2GB, 512MiB or a byte count, got '${text}'`);
  return v;
}

/**
 * Streams parameters to disk one tensor at a time (peak memory: about the largest tensor), so every preset
 * initializes within a few GiB; `--dtype bf16|f16` stores float parameters at that precision.
 */
export default async function init(a: Args): Promise<number> {
  const file = oneFile(a);
  const seed = intFlag(a, 'seed');
  const out = need(a, 'o');
  const dt = str(a, 'dtype');
  if (dt !== undefined && !(isDType(dt) && isFloat(dt))) throw new UsageError(`--dtype must be f32, f16 or bf16, got '${dt}'`);
  const shardText = str(a, 'shard-size');
  if (shardText !== undefined && !out.endsWith(INDEX_SUFFIX)) throw new UsageError(`--shard-size needs -o NAME${INDEX_SUFFIX} (a sharded checkpoint)`);
  const shardBytes = shardText === undefined ? undefined : parseSize(shardText, 'shard-size');
  const { program } = compileFile(file, { preset: str(a, 'preset') });
  const byName = new Map(program.params.map((p) => [p.name, p]));
  const stored = (d: DType): DType => (dt !== undefined && isFloat(d) ? dt as DType : d);
  const specs = program.params.map((p) => ({ name: p.name, dtype: stored(p.dtype), shape: p.shape }));
  const total = specs.reduce((s, t) => s + tensorBytes(t), 0);
  const count = program.params.reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0);
  const t0 = performance.now();
  const bar = progress(`initializing ${count.toLocaleString('en-US')} parameters (${fmtSize(total)}) into ${out}`, total);
  let done = 0;
  const res = writeCheckpoint(out, specs, (s) => initParam(byName.get(s.name)!, seed, s.dtype), {
    metadata: { model: program.model, preset: program.preset, seed: String(seed), ...(dt ? { dtype: dt } : {}) },
    shardBytes,
    onTensor: (s, b) => { done += b; bar.update(done, s.name); },
  });
  const secs = (performance.now() - t0) / 1000;
  bar.finish(`wrote ${program.params.length} tensors (${count.toLocaleString('en-US')} parameters, ${fmtSize(res.bytes)}) to ${res.files.length > 1 ? `${res.files.length - 1} shards and ${out}` : out} in ${secs.toFixed(1)} s`);
  return 0;
}
