/**
 * The cosine noise schedule exactly as models/transfusion.tfx states it: its `alpha_bar` block and its T and
 * s_cos config values, cut out of the model file (so a change there is tested), in a spec whose entry returns
 * 1 - alpha_bar(t) and alpha_bar(t). Also an entry that computes one config expression both folded (config
 * only) and on tensors from an input holding the same operand.
 */
import { readFileSync } from 'node:fs';
import { compileSource } from '../../../src/driver.js';
import type { Program } from '../../../src/ir/graph.js';

export function alphaBarProgram(): Program {
  const model = readFileSync('models/transfusion.tfx', 'utf8');
  const block = /^block alpha_bar\(t\) \{\n[\s\S]*?\n\}\n/m.exec(model)?.[0];
  const conf = (name: string) => new RegExp(`^\\s*${name}\\s*=\\s*([^\\s#]+)`, 'm').exec(model)?.[1];
  if (block === undefined || conf('T') === undefined || conf('s_cos') === undefined) throw new Error('alpha_bar, T or s_cos not found in models/transfusion.tfx');
  const source = `model ab
dim N
config {
  T = ${conf('T')}
  s_cos = ${conf('s_cos')}
  folded = cos(s_cos / (1 + s_cos) * pi / 2) * exp(-log(10000.0) / 7) + sqrt(s_cos) / 3
}
${block}
entry schedule(t: i32[N], s: f32[N]) {
  let ab = alpha_bar(t)
  out one_minus = 1 - ab
  out ab = ab
  out folded = s * 0 + folded
  out computed = cos(s / (1 + s) * pi / 2) * exp(-log(10000.0) / 7) + sqrt(s) / 3
}
`;
  return compileSource(source, 'alpha-bar.tfx').program;
}
