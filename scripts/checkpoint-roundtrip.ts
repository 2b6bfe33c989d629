/**
 * Reads a checkpoint written by `tfx init` back one tensor at a time and compares every value, bit for bit,
 * with the same parameter initialized again in memory (same seed and stored dtype), printing peak RSS.
 *   npx tsx scripts/checkpoint-roundtrip.ts SPEC PRESET SEED CHECKPOINT
 * Used for the big-checkpoint figures in docs/checkpoints.md (kept out of the test suite: minutes and GiB).
 */
import { compileFile } from '../src/driver.js';
import { openCheckpoint } from '../src/runtime/checkpoint.js';
import { checkParams, initParam } from '../src/runtime/weights.js';

const [spec, preset, seedText, path] = process.argv.slice(2);
if (!spec || !preset || !seedText || !path) { process.stderr.write('usage: checkpoint-roundtrip SPEC PRESET SEED CHECKPOINT\n'); process.exit(2); }
const { program } = compileFile(spec, { preset });
const r = openCheckpoint(path);
const problems = checkParams(program.params, r.tensors);
if (problems.length) { process.stderr.write(problems.join('\n') + '\n'); process.exit(1); }
const t0 = performance.now();
let peak = 0, mismatched = 0, values = 0;
for (const p of program.params) {
  const info = r.tensors.get(p.name)!;
  const got = r.read(p.name);
  const want = initParam(p, Number(seedText), info.dtype);
  const a = new Uint32Array(got.data.buffer, got.data.byteOffset, got.data.length);
  const b = new Uint32Array(want.data.buffer, want.data.byteOffset, want.data.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) mismatched++;
  values += a.length;
  peak = Math.max(peak, process.memoryUsage().rss);
}
r.close();
const gib = (b: number) => (b / 2 ** 30).toFixed(2);
process.stdout.write(`${path}: ${r.tensors.size} tensors, ${values} values in ${r.files.length} file(s), ${gib(r.dataBytes)} GiB; ${mismatched} differ from a fresh init; ${((performance.now() - t0) / 1000).toFixed(0)} s; peak RSS sampled ${gib(peak)} GiB\n`);
process.exit(mismatched ? 1 : 0);
