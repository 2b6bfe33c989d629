/** The compiler front door: file -> parsed, checked, elaborated Program, with rendered diagnostics. */
import { existsSync } from 'node:fs';
import { readBounded } from './runtime/fs-in.js';
import { formatDiagnostics, type Diagnostic } from './dsl/diagnostics.js';
import { parseDirectives } from './dsl/directives.js';
import { parse } from './dsl/parse.js';
import { GRAD_SUFFIX, gradEntry } from './ir/autodiff/grad.js';
import { elaborate } from './ir/elaborate.js';
import type { Program } from './ir/graph.js';

import { UsageError } from './errors.js';
export { UsageError } from './errors.js';
export class SpecError extends Error {
  constructor(readonly rendered: string, readonly diagnostics: readonly Diagnostic[]) { super(rendered); }
}

/** Specs are small (transfusion.tfx is ~15 KB); the parser also caps tokens (src/dsl/parse.ts, MAX_TOKENS). */
export const MAX_SPEC_BYTES = 4 * 1024 * 1024;

export function readSpec(file: string): string {
  if (!existsSync(file)) throw new UsageError(`cannot read '${file}': no such file`);
  // Bounded even for /dev/zero or a FIFO (src/runtime/fs-in.ts); a UTF-8 byte-order mark is dropped.
  return readBounded(file, MAX_SPEC_BYTES, 'specs').toString('utf8').replace(/^\uFEFF/, '');
}

export interface Compiled { readonly program: Program; readonly presets: readonly string[]; readonly source: string }

/**
 * Parse + check + elaborate. Throws SpecError with every diagnostic rendered. A requested entry `E_grad` that the
 * spec does not declare, where E is declared, is E's gradient entry (autodiff/grad.ts).
 */
export function compileSource(source: string, file: string, opts: { preset?: string | undefined; entries?: readonly string[] | undefined } = {}): Compiled {
  const parsed = parse(source);
  if (!parsed.module) throw new SpecError(formatDiagnostics(parsed.diags.list, file, source), parsed.diags.list);
  const declared = new Set(parsed.module.decls.flatMap((d) => (d.k === 'entry' ? [d.name.name] : [])));
  const gradOf = (e: string) => (!declared.has(e) && e.endsWith(GRAD_SUFFIX) && declared.has(e.slice(0, -GRAD_SUFFIX.length)) ? e.slice(0, -GRAD_SUFFIX.length) : undefined);
  const wanted = opts.entries && [...new Set(opts.entries.map((e) => gradOf(e) ?? e))];
  // A wrong --entry is misuse of the command (exit 2), not a mistake in the spec.
  for (const w of wanted ?? []) {
    if (!declared.has(w)) throw new UsageError(`--entry: unknown entry '${w}'; ${file} has ${[...declared].map((n) => `'${n}'`).join(', ') || 'no entries'}`);
  }
  const r = elaborate(parsed.module, { ...opts, entries: wanted });
  if (!r.program) {
    // An error that only one preset causes says which preset (docs/errors.md).
    const list = opts.preset === undefined ? r.diags.list : r.diags.list.map((d) => (d.message.startsWith('unknown preset') ? d : { ...d, notes: [...d.notes, { message: `with preset '${opts.preset}'` }] }));
    throw new SpecError(formatDiagnostics(list, file, source), list);
  }
  const program = { ...r.program, directives: parseDirectives(source) };
  if (!opts.entries?.some((e) => gradOf(e) !== undefined)) return { program, presets: r.presets, source };
  const entries = opts.entries.map((e) => { const base = gradOf(e); return base !== undefined ? gradEntry(program, base) : program.entries.find((g) => g.entry === e)!; });
  return { program: { ...program, entries }, presets: r.presets, source };
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
