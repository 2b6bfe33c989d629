import { UsageError, compileFile } from '../driver.js';
import { exampleInputs } from '../runtime/example-inputs.js';
import { saveSafetensors } from '../runtime/safetensors.js';
import { intFlag, need, oneFile, str, type Args } from './main.js';

export default async function exampleInputsCmd(a: Args): Promise<number> {
  const file = oneFile(a);
  const seed = intFlag(a, 'seed');
  const out = need(a, 'o');
  const entry = str(a, 'entry') ?? 'forward';
  const batch = intFlag(a, 'batch', 2), seq = str(a, 'seq') === undefined ? undefined : intFlag(a, 'seq');
  if (batch < 1 || batch > 4096) throw new UsageError('--batch must be between 1 and 4096');
  if (seq !== undefined && (seq < 1 || seq > 1 << 20)) throw new UsageError('--seq must be between 1 and 1048576');
  const { program } = compileFile(file, { preset: str(a, 'preset'), entries: [entry] });
  const g = program.entries[0]!;
  const inputs = exampleInputs(program, g, seed, { batch, ...(seq !== undefined ? { seq } : {}) });
  saveSafetensors(out, inputs, { model: program.model, entry, seed: String(seed) });
  process.stderr.write(`wrote ${[...inputs].map(([k, t]) => `${k}[${t.shape.join(',')}]`).join(' ')} to ${out}\n`);
  return 0;
}
