import { numel, shapeStr } from '../core/dim.js';
import { compileFile } from '../driver.js';
import { naturalCompare } from './defaults.js';
import { oneFile, str, type Args } from './main.js';
import { reportWeights, weightsLines } from './weights-report.js';

/** What a user (or a weights tool) needs to know about a spec. Parameter names are the weights-file keys. */
export function inspectJson(file: string, preset: string | undefined) {
  const { program: p, presets } = compileFile(file, { preset });
  const paramCount = p.params.reduce((s, x) => s + numel(x.shape), 0);
  return {
    model: p.model, preset: p.preset, presets, config: p.config, symbols: p.symbols,
    entries: p.entries.map((g) => ({
      name: g.entry,
      inputs: g.inputs.map((n) => ({ name: n.arg.name, dtype: n.dtype, shape: n.shape.map((d) => d.key) })),
      outputs: g.outputs.map((o) => ({ name: o.name, dtype: o.node.dtype, shape: o.node.shape.map((d) => d.key) })),
    })),
    parameters: [...p.params].sort((x, y) => naturalCompare(x.name, y.name)).map((x) => ({ name: x.name, dtype: x.dtype, shape: x.shape, init: x.init })),
    parameter_count: paramCount,
  };
}

export default async function inspect(a: Args): Promise<number> {
  const j = inspectJson(oneFile(a), str(a, 'preset'));
  const wPath = str(a, 'weights');
  const w = wPath === undefined ? undefined : reportWeights(compileFile(oneFile(a), { preset: str(a, 'preset') }).program, wPath, str(a, 'map'), a.values.verify === true);
  if (a.values.json) { process.stdout.write(JSON.stringify(w ? { ...j, weights: w } : j, null, 2) + '\n'); return w?.verified && w.verified.nan + w.verified.inf > 0 ? 1 : 0; }
  const keyW = Math.max(0, ...Object.keys(j.config).map((k) => k.length));
  const lines = [
    `model ${j.model}, preset ${j.preset} (presets: ${j.presets.join(', ') || 'none'})`,
    'config:',
    ...Object.entries(j.config).map(([k, v]) => `  ${k.padEnd(keyW)} = ${v}`),
    `dims: ${j.symbols.join(', ') || 'none'}`,
    ...j.entries.map((e) => `entry ${e.name}(${e.inputs.map((i) => `${i.name}: ${i.dtype}[${i.shape.join(', ')}]`).join(', ')}) -> ${e.outputs.map((o) => `${o.name}: ${o.dtype}[${o.shape.join(', ')}]`).join(', ')}`),
    `parameters: ${j.parameter_count.toLocaleString('en-US')} in ${j.parameters.length} tensors`,
    ...j.parameters.map((x) => `  ${x.name}: ${x.dtype}${shapeStr(x.shape.map((n) => ({ key: String(n), terms: [] })))}`),
  ];
  if (w) lines.push(...weightsLines(w, j.preset));
  process.stdout.write(lines.join('\n') + '\n');
  // Non-finite values in a checkpoint are damage (or a diverged run): say so in the exit status too.
  return w?.verified && w.verified.nan + w.verified.inf > 0 ? 1 : 0;
}
