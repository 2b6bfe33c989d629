/**
 * One catalogue of coded messages. User errors are collected (never thrown) and rendered as
 * `file:line:col: error TFXnnnn: message`, the source line and a caret. Compiler bugs go through `invariant`.
 */
export interface Span { readonly line: number; readonly col: number; readonly offset: number; readonly length: number }

export const CODES = {
  TFX1001: 'unexpected character',
  TFX1002: 'syntax error',
  TFX1003: 'nesting too deep',
  TFX1004: 'invalid source text',
  TFX2001: 'unknown name',
  TFX2002: 'duplicate definition',
  TFX2003: 'wrong number of arguments',
  TFX2004: 'unknown preset or config key',
  TFX2005: 'invalid constant expression',
  TFX2006: 'identifier not allowed',
  TFX2007: 'wrong kind of value',
  TFX2008: 'recursive block',
  TFX3001: 'shape mismatch',
  TFX3002: 'dtype mismatch',
  TFX3003: 'invalid axis or index',
  TFX3004: 'duplicate parameter',
  TFX3005: 'invalid mask',
  TFX3006: 'missing result',
  TFX3007: 'out of bounds',
  TFX3008: 'size exceeds a kernel limit',
  TFX3009: 'program too large',
} as const;
export type Code = keyof typeof CODES;

export interface Note { readonly message: string; readonly span?: Span }
export interface Diagnostic { readonly code: Code; readonly message: string; readonly span: Span; readonly notes: readonly Note[] }

export class Diagnostics {
  readonly list: Diagnostic[] = [];
  constructor(readonly limit = 100) {}
  error(code: Code, message: string, span: Span, notes: readonly Note[] = []): void {
    // The same mistake reached twice (a block used by two entries) is reported once.
    if (this.list.some((d) => d.code === code && d.message === message && d.span.offset === span.offset && d.span.length === span.length)) return;
    if (this.list.length < this.limit) this.list.push({ code, message, span, notes });
  }
  get hasErrors(): boolean { return this.list.length > 0; }
}

export class InternalError extends Error {}
export function invariant(cond: unknown, what: string): asserts cond {
  if (!cond) throw new InternalError(`internal error: ${what} (this is a tfx bug; please report it with the spec that triggered it)`);
}

export const NO_SPAN: Span = { line: 1, col: 1, offset: 0, length: 0 };

/** Lines as the lexer counts them (\n, \r\n and a lone \r each end a line), so spans and shown lines agree. */
export const splitLines = (source: string): string[] => source.split(/\r\n|\r|\n/);

/** Render diagnostics like a compiler: location, code, message, source line, caret, notes. */
export function formatDiagnostics(diags: readonly Diagnostic[], file: string, source: string): string {
  const lines = splitLines(source);
  const show = (span: Span): string => {
    const raw = lines[span.line - 1] ?? '';
    // Long or binary lines are clipped and made printable so a caret still lines up.
    const start = Math.max(0, span.col - 60);
    const text = raw.slice(start, start + 160).replace(/[^\x20-\x7e]/g, '?');
    const caret = ' '.repeat(Math.max(0, span.col - 1 - start)) + '^' + '~'.repeat(Math.max(0, Math.min(span.length, 80) - 1));
    return `  ${text}\n  ${caret}`;
  };
  return diags
    .map((d) => {
      const head = `${file}:${d.span.line}:${d.span.col}: error ${d.code}: ${d.message}\n${show(d.span)}`;
      const notes = d.notes.map((n) => (n.span ? `${file}:${n.span.line}:${n.span.col}: note: ${n.message}\n${show(n.span)}` : `  note: ${n.message}`));
      return [head, ...notes].join('\n');
    })
    .join('\n');
}
