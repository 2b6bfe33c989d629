/** `tfx compile --target ts -o DIR`: typed bindings (src/codegen-ts) written as DIR/index.ts. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderBindings } from '../codegen-ts/bindings.js';
import { compileSource, readSpec, UsageError } from '../driver.js';
import { writeFolderSafely } from '../runtime/fs-out.js';
import { compileEntry } from '../runtime/webgpu/program.js';
import { str, type Args } from './main.js';

export async function compileTs(a: Args, file: string): Promise<number> {
  if (a.values.f16 || a.values.stats) throw new UsageError('--target ts takes neither --f16 nor --stats (open the model with { f16: true } instead)');
  const source = readSpec(file);
  const entry = str(a, 'entry');
  const { program } = compileSource(source, file, { preset: str(a, 'preset'), entries: entry ? [entry] : undefined });
  const kernels = Object.fromEntries(program.entries.map((g) => {
    const c = compileEntry(program, g.entry);
    const plan = {
      entry: c.plan.entry, symbols: c.plan.symbols,
      buffers: c.plan.buffers.map((b) => ({ name: b.name, kind: b.kind, dtype: b.dtype })),
      kernels: c.kernels.map((k, i) => ({ name: k.name, kind: c.plan.kernels[i]!.opKind, bindings: k.bindings })),
    };
    return [g.entry, { plan, wgsl: c.kernels.map((k) => ({ name: k.name, code: k.code })) }];
  }));
  const code = renderBindings(program, source, { file, kernels, runtime: str(a, 'runtime') });
  const out = str(a, 'o') ?? `${program.model}-ts`;
  await writeFolderSafely(out, (tmp) => { writeFileSync(join(tmp, 'index.ts'), code); });
  process.stderr.write(`wrote ${out}/index.ts: typed bindings for ${program.entries.length} entries (${program.entries.map((g) => g.entry).join(', ')}), ${(code.length / 1024).toFixed(0)} KiB\n`);
  return 0;
}
