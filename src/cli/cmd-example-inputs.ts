import { compileSource, readSpec, UsageError } from '../driver.js';
import { chooseGenerator, exampleDims, exampleInputs, GENERATORS, type GeneratorName } from '../runtime/example-inputs.js';
import { saveSafetensors } from '../runtime/safetensors.js';
import { didYouMean } from './args.js';
import { chooseEntry, parseDimFlags } from './defaults.js';
import { intFlag, oneFile, str, type Args } from './main.js';

/** `tfx example-inputs`: a valid random batch for an entry, every symbolic dim bound. */
export default async function exampleInputsCmd(a: Args): Promise<number> {
  const file = oneFile(a);
  const seed = intFlag(a, 'seed', 0);
  const genFlag = str(a, 'generator');
  if (genFlag !== undefined && !(GENERATORS as readonly string[]).includes(genFlag)) {
    const hint = didYouMean(genFlag, GENERATORS);
    throw new UsageError(`unknown input generator '${genFlag}'${hint ? ` (did you mean '${hint}'?)` : ''}; there are ${GENERATORS.join(', ')}`);
  }
  const given = parseDimFlags(Array.isArray(a.values.dim) ? a.values.dim : []);
  const source = readSpec(file);
  const { entry, note } = chooseEntry(source, file, str(a, 'entry'));
  if (note) process.stderr.write(note + '\n');
  const { program } = compileSource(source, file, { preset: str(a, 'preset'), entries: [entry] });
  for (const k of Object.keys(given)) {
    if (!program.symbols.includes(k)) {
      const hint = didYouMean(k, program.symbols);
      throw new UsageError(`--dim ${k}: the spec has no dimension '${k}'${hint ? ` (did you mean ${hint}?)` : ''}; its dimensions are ${program.symbols.join(', ') || 'none'}`);
    }
    if (!(given[k]! >= 1 && given[k]! <= 1 << 20)) throw new UsageError(`--dim ${k} must be between 1 and ${1 << 20}`);
  }
  const g = program.entries[0]!;
  const gen = chooseGenerator(program, genFlag as GeneratorName | undefined);
  const dims = exampleDims(program, g, gen.name, { dims: given });
  const inputs = exampleInputs(program, g, seed, { generator: gen.name, dims });
  const out = str(a, 'o') ?? `${program.model}-${entry}-inputs.safetensors`;
  saveSafetensors(out, inputs, { model: program.model, entry, seed: String(seed), generator: gen.name });
  process.stderr.write(`wrote ${[...inputs].map(([k, t]) => `${k}[${t.shape.join(',')}]`).join(' ')} to ${out}\n`);
  process.stderr.write(`  dims ${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ') || '(none)'} (--dim NAME=VALUE sets one); seed ${seed}; generator ${gen.name}, ${gen.why}\n`);
  return 0;
}
