import { compileFile } from '../driver.js';
import { saveSafetensors } from '../runtime/safetensors.js';
import { initParams } from '../runtime/weights.js';
import { intFlag, need, oneFile, str, type Args } from './main.js';

export default async function init(a: Args): Promise<number> {
  const file = oneFile(a);
  const seed = intFlag(a, 'seed');
  const out = need(a, 'o');
  const { program } = compileFile(file, { preset: str(a, 'preset') });
  const total = program.params.reduce((s, p) => s + p.shape.reduce((x, y) => x * y, 1), 0);
  if (total > 512 * 1024 * 1024) throw Object.assign(new Error(`preset '${program.preset}' has ${total.toLocaleString('en-US')} parameters; tfx init writes at most 512M (use a smaller preset)`), { name: 'InitError' });
  const w = initParams(program.params, seed);
  saveSafetensors(out, w, { model: program.model, preset: program.preset, seed: String(seed) });
  process.stderr.write(`wrote ${program.params.length} tensors (${total.toLocaleString('en-US')} parameters) to ${out}\n`);
  return 0;
}
