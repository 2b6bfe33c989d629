/**
 * One bad program per file (Halide's test/error): `test/dsl/errors/NNNN-description.tfx`, where NNNN is the code
 * number. Header comments say what must come out:
 *   # expect: TFX3001 at 7:12      code and line:col of the primary span (required, first line)
 *   # message: TEXT                the primary diagnostic's message contains TEXT (any number)
 *   # rendered: TEXT               the rendered output contains TEXT (any number)
 *   # preset: NAME                 compile with --preset NAME
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES, type Diagnostic } from '../../src/dsl/diagnostics.js';
import { compileSource, SpecError } from '../../src/driver.js';

const DIR = join(import.meta.dirname, 'errors');
const files = readdirSync(DIR).filter((f) => f.endsWith('.tfx')).sort();

interface Expectation { code: string; line: number; col: number; messages: string[]; rendered: string[]; preset?: string }

function header(source: string, file: string): Expectation {
  const lines = source.split('\n');
  const m = /^# expect: (TFX\d{4}) at (\d+):(\d+)\s*$/.exec(lines[0] ?? '');
  if (!m) throw new Error(`${file}: the first line must be '# expect: TFXnnnn at LINE:COL'`);
  const pick = (key: string) => lines.flatMap((l) => (l.startsWith(`# ${key}: `) ? [l.slice(key.length + 4)] : []));
  const preset = pick('preset')[0];
  return { code: m[1]!, line: Number(m[2]), col: Number(m[3]), messages: pick('message'), rendered: pick('rendered'), ...(preset ? { preset } : {}) };
}

function fail(source: string, file: string, preset?: string): SpecError {
  try {
    compileSource(source, file, { preset });
  } catch (e) {
    if (e instanceof SpecError) return e;
    throw e;
  }
  throw new Error(`${file} compiled without errors`);
}

const show = (ds: readonly Diagnostic[]) => ds.map((d) => `${d.code} ${d.span.line}:${d.span.col} ${d.message}`).join('\n');

describe('error programs', () => {
  it('cover every diagnostic code', () => {
    const covered = new Set(files.map((f) => `TFX${f.slice(0, 4)}`));
    expect(Object.keys(CODES).filter((c) => !covered.has(c))).toEqual([]);
  });

  for (const f of files) {
    it(f, () => {
      const path = join(DIR, f);
      const source = readFileSync(path, 'utf8');
      const want = header(source, f);
      expect(f.slice(0, 4), 'the file name starts with its code number').toBe(want.code.slice(3));
      const e = fail(source, path, want.preset);
      const primary = e.diagnostics.find((d) => d.code === want.code && d.span.line === want.line && d.span.col === want.col);
      expect(primary, `no ${want.code} at ${want.line}:${want.col}; got:\n${show(e.diagnostics)}`).toBeDefined();
      for (const m of want.messages) expect(primary!.message).toContain(m);
      for (const r of want.rendered) expect(e.rendered).toContain(r);

      // The rendered diagnostic: location and code, the source line, and a caret under the primary span's column.
      const out = e.rendered.split('\n');
      const head = `${path}:${want.line}:${want.col}: error ${want.code}: `;
      const at = out.findIndex((l) => l.startsWith(head));
      expect(at, `rendered output lacks '${head}':\n${e.rendered}`).toBeGreaterThanOrEqual(0);
      const shown = out[at + 1]!, caret = out[at + 2]!;
      expect(caret).toMatch(/^ *\^~*$/);
      const srcLine = source.split(/\r\n|\r|\n/)[want.line - 1]!;
      const expected = srcLine[want.col - 1] ?? '';
      const under = shown[caret.indexOf('^')] ?? '';
      // Non-printable characters are shown as '?'; past the end of the line (end of file) there is nothing.
      expect(under).toBe(/^[\x20-\x7e]$/.test(expected) ? expected : expected === '' ? '' : '?');
      expect(e.rendered).not.toMatch(/^\s+at /m);
    });
  }
});

describe('several errors in one run', () => {
  it('reports two independent semantic mistakes in two entries', () => {
    const src = [
      'model m',                       // 1
      'dim B',                         // 2
      'entry a(x: f32[B, 4]) {',       // 3
      '  out y = x + undefined_name',  // 4
      '}',                             // 5
      'entry b(x: f32[B, 4]) {',       // 6
      '  out y = x @ x',               // 7
      '}',
    ].join('\n');
    const e = fail(src, 'two.tfx');
    expect(show(e.diagnostics)).toMatch(/TFX2001 4:15 unknown name 'undefined_name'/);
    expect(show(e.diagnostics)).toMatch(/TFX3001 7:11 matmul inner dimensions differ/);
    expect(e.diagnostics).toHaveLength(2);
    expect(e.rendered).toContain('two.tfx:4:15: error TFX2001:');
    expect(e.rendered).toContain('two.tfx:7:11: error TFX3001:');
  });

  it('keeps going after an error in one statement of the same entry', () => {
    const src = 'model m\nconfig { a = 7 / 2 }\ndim B\nentry f(x: f32[B]) {\n  let p = x + nope\n  let q = x && x\n  out y = x\n}';
    const e = fail(src, 'f.tfx');
    expect(e.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.col}`)).toEqual(['TFX2005 2:14', 'TFX2001 5:15', 'TFX3002 6:11']);
  });

  it('does not cascade: a name bound by a failed statement is not reported again', () => {
    const src = 'model m\ndim B\nentry f(x: f32[B]) {\n  let p = x + nope\n  let q = p * 2.0\n  out y = q + p\n}';
    const e = fail(src, 'f.tfx');
    expect(show(e.diagnostics)).toMatch(/^TFX2001 4:15 unknown name 'nope'[^\n]*$/);
  });

  it('does not add a missing-output error when the outputs failed because of an earlier error', () => {
    const src = 'model m\nconfig { d = cast(1e300, i32) }\nblock p(x) {\n  param w: [d] = ones\n  return x * w\n}\nentry f(x: f32[4]) {\n  out y = p(x)\n}';
    expect(show(fail(src, 'f.tfx').diagnostics)).toBe('TFX2005 2:14 cast(1e+300, i32) is not a representable integer');
  });

  it('reports a mistake in a block shared by two entries once', () => {
    const spec = readFileSync(join(import.meta.dirname, '../../models/transfusion.tfx'), 'utf8');
    const bad = spec.replace('return (silu(x @ w1) * (x @ w3)) @ w2', 'return (silu(x @ w1) * (x @ w3)) @ w1');
    expect(bad).not.toBe(spec);
    const e = fail(bad, 'transfusion.tfx');
    expect(e.diagnostics.map((d) => d.code)).toEqual(['TFX3001']);
    expect(e.diagnostics[0]!.message).toMatch(/matmul inner dimensions differ/);
  });

  it('reports syntax errors in separate declarations', () => {
    const src = 'model m\nconfig { a = 1 + }\ndim B\nentry f(x: f32[B]) {\n  out y = x * \n}\n';
    const e = fail(src, 'f.tfx');
    expect(e.diagnostics.every((d) => d.code === 'TFX1002')).toBe(true);
    expect(e.diagnostics.map((d) => `${d.span.line}:${d.span.col}`)).toEqual(expect.arrayContaining(['2:18', '6:1']));
  });

  it('reports a lexical error and keeps the positions of the rest', () => {
    const e = fail('model m\nconfig { a = 1 ` b = 2 ` }', 'f.tfx');
    expect(e.diagnostics.map((d) => `${d.code} ${d.span.line}:${d.span.col}`)).toEqual(['TFX1001 2:16', 'TFX1001 2:24']);
  });
});
