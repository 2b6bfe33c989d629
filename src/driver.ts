/** The compiler front door: file -> parsed, checked, elaborated Program, with rendered diagnostics. */
import { readFileSync, statSync } from 'node:fs';
import { formatDiagnostics, type Diagnostic } from './dsl/diagnostics.js';
import { parse } from './dsl/parse.js';
import { elaborate } from './ir/elaborate.js';
import type { Program } from './ir/graph.js';

import { TfxError, UsageError } from './errors.js';
export { UsageError } from './errors.js';
export class SpecError extends Error {
  constructor(readonly rendered: string, readonly diagnostics: readonly Diagnostic[]) { super(rendered); }
}

export const MAX_SPEC_BYTES = 16 * 1024 * 1024;

export function readSpec(file: string): string {
  let size: number;
  try { size = statSync(file).size; } catch { throw new UsageError(`cannot read '${file}': no such file`); }
  if (size > MAX_SPEC_BYTES) throw new TfxError('TFX7001', `'${file}' is ${size} bytes; specs are limited to ${MAX_SPEC_BYTES} bytes`);
  try { return readFileSync(file, 'utf8'); } catch (e) { throw new TfxError('TFX8001', `cannot read '${file}': ${(e as NodeJS.ErrnoException).code ?? 'error'}`); }
}

export interface Compiled { readonly program: Program; readonly presets: readonly string[]; readonly source: string }

/** Parse + check + elaborate. Throws SpecError with every diagnostic rendered. */
export function compileSource(source: string, file: string, opts: { preset?: string | undefined; entries?: readonly string[] | undefined } = {}): Compiled {
  const parsed = parse(source);
  if (!parsed.module) throw new SpecError(formatDiagnostics(parsed.diags.list, file, source), parsed.diags.list);
  const r = elaborate(parsed.module, opts);
  if (!r.program) throw new SpecError(formatDiagnostics(r.diags.list, file, source), r.diags.list);
  return { program: r.program, presets: r.presets, source };
}

export function compileFile(file: string, opts: { preset?: string | undefined; entries?: readonly string[] | undefined } = {}): Compiled {
  return compileSource(readSpec(file), file, opts);
}

/** The preset names declared by a spec, without elaborating it. */
export function presetsOf(source: string): string[] {
  const parsed = parse(source);
  return parsed.module ? parsed.module.decls.flatMap((d) => (d.k === 'preset' ? [d.name.name] : [])) : [];
}
