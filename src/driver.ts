/** The compiler front door: file -> parsed, checked, elaborated Program, with rendered diagnostics. */
import { existsSync } from 'node:fs';
import { readBounded } from './runtime/fs-in.js';
import { formatDiagnostics, type Diagnostic } from './dsl/diagnostics.js';
import { parseDirectives } from './dsl/directives.js';
import { parse } from './dsl/parse.js';
import { elaborate } from './ir/elaborate.js';
import type { Program } from './ir/graph.js';

import { UsageError } from './errors.js';
export { UsageError } from './errors.js';
export class SpecError extends Error {
  constructor(readonly rendered: string, readonly diagnostics: readonly Diagnostic[]) { super(rendered); }
}

export const MAX_SPEC_BYTES = 16 * 1024 * 1024;

export function readSpec(file: string): string {
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  // Bounded even for /dev/zero or a FIFO (src/runtime/fs-in.ts); a UTF-8 byte-order mark is dropped.
  return readBounded(file, MAX_SPEC_BYTES, 'specs').toString('utf8').replace(/^\uFEFF/, '');
}

export interface Compiled { readonly program: Program; readonly presets: readonly string[]; readonly source: string }

/** Parse + check + elaborate. Throws SpecError with every diagnostic rendered. */
export function compileSource(source: string, file: string, opts: { preset?: string | undefined; entries?: readonly string[] | undefined } = {}): Compiled {
  const parsed = parse(source);
  if (!parsed.module) throw new SpecError(formatDiagnostics(parsed.diags.list, file, source), parsed.diags.list);
  const r = elaborate(parsed.module, opts);
  if (!r.program) throw new SpecError(formatDiagnostics(r.diags.list, file, source), r.diags.list);
  return { program: { ...r.program, directives: parseDirectives(source) }, presets: r.presets, source };
}

export function compileFile(file: string, opts: { preset?: string | undefined; entries?: readonly string[] | undefined } = {}): Compiled {
  return compileSource(readSpec(file), file, opts);
}

/** The preset names declared by a spec, without elaborating it. */
export function presetsOf(source: string): string[] {
  const parsed = parse(source);
  return parsed.module ? parsed.module.decls.flatMap((d) => (d.k === 'preset' ? [d.name.name] : [])) : [];
}

/** The entry names of a spec in declaration order, without elaborating it. */
export function entriesOf(source: string): string[] {
  const parsed = parse(source);
  return parsed.module ? parsed.module.decls.flatMap((d) => (d.k === 'entry' ? [d.name.name] : [])) : [];
}
