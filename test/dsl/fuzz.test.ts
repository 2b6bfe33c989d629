/**
 * Robustness of the front end: on any input, compileSource either succeeds or throws SpecError with located,
 * rendered diagnostics; it never crashes with another exception and never takes long. Time is measured as CPU
 * time of this process (the test machine is shared, so wall time is only checked loosely, against hangs).
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { splitLines } from '../../src/dsl/diagnostics.js';
import { tfxLexer } from '../../src/dsl/lexer.js';
import { compileSource, SpecError } from '../../src/driver.js';

const SPEC = readFileSync(join(import.meta.dirname, '../../models/transfusion.tfx'), 'utf8');
const CPU_LIMIT_MS = 1000;
const WALL_LIMIT_MS = 60_000;

interface Outcome { ok: boolean; cpuMs: number; codes: string[] }

/** Compile, and check everything that must hold whatever the input. */
function survive(source: string, cpuLimitMs = CPU_LIMIT_MS): Outcome {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let ok = false;
  let codes: string[] = [];
  try {
    compileSource(source, 'fuzz.tfx');
    ok = true;
  } catch (e) {
    if (!(e instanceof SpecError)) throw new Error(`non-SpecError ${(e as Error)?.constructor?.name}: ${(e as Error)?.message?.slice(0, 300)}\ninput (${source.length} chars): ${JSON.stringify(source.slice(0, 400))}`);
    expect(e.diagnostics.length).toBeGreaterThan(0);
    const lines = splitLines(source);
    for (const d of e.diagnostics) {
      // Every primary span points into the text (one past the end of a line is where 'end of file' sits).
      expect(d.span.line).toBeGreaterThanOrEqual(1);
      expect(d.span.line).toBeLessThanOrEqual(lines.length);
      expect(d.span.col).toBeGreaterThanOrEqual(1);
      expect(d.span.col).toBeLessThanOrEqual((lines[d.span.line - 1]?.length ?? 0) + 1);
    }
    expect(e.rendered).toMatch(/^fuzz\.tfx:\d+:\d+: error TFX\d{4}: /);
    expect(e.rendered).not.toMatch(/^\s+at /m);
    codes = e.diagnostics.map((d) => d.code);
  }
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const wallMs = performance.now() - w0;
  expect(cpuMs, `CPU time for ${JSON.stringify(source.slice(0, 200))}`).toBeLessThan(cpuLimitMs);
  expect(wallMs).toBeLessThan(WALL_LIMIT_MS);
  return { ok, cpuMs, codes };
}

/** Words the lexer knows, so random programs reach the parser and the elaborator, not just the lexer. */
const WORDS = [
  'model', 'm', 'config', 'preset', 'dim', 'mask', 'block', 'entry', 'let', 'param', 'return', 'out', 'for', 'as',
  'f32', 'i32', 'bool', 'B', 'S', 'x', 'y', 'w', 'd', 'exp', 'sum', 'reshape', 'attention', 'repeat', 'normal', 'zeros',
  '0', '1', '2', '64', '1.5', '1e-5', '"p"', '=>', '||', '&&', '==', '!=', '<', '<=', '>', '>=', '=', '!', '+', '-', '*',
  '/', '%', '@', '(', ')', '[', ']', '{', '}', ',', ':', ';', '\n', '#', '__z', '$',
];
const tokenSoup = fc.array(fc.constantFrom(...WORDS), { maxLength: 80 }).map((ws) => ws.join(' '));
/** A valid prefix makes the rest of the soup reach declarations and statements. */
const prefixedSoup = tokenSoup.map((s) => `model m\ndim B, S\nentry f(x: f32[B, S]) {\n  out y = ${s}\n}\n`);

describe('fuzz: arbitrary input', () => {
  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => { survive(s); }), { numRuns: 150 });
  });

  it('arbitrary bytes decoded as latin1 and as utf8', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const b = Buffer.from(bytes);
      survive(b.toString('latin1'));
      survive(b.toString('utf8'));
      survive('model m\n' + b.toString('latin1'));
    }), { numRuns: 100 });
  });

  it('token soup, bare and inside a valid entry', () => {
    fc.assert(fc.property(tokenSoup, (s) => { survive(s); survive('model m\n' + s); }), { numRuns: 150 });
    fc.assert(fc.property(prefixedSoup, (s) => { survive(s); }), { numRuns: 150 });
  });
});

describe('fuzz: mutations of models/transfusion.tfx', () => {
  it('compiles unmutated, as the baseline', () => {
    expect(survive(SPEC).ok).toBe(true);
  });

  const tokens = tfxLexer.tokenize(SPEC).tokens.map((t) => ({ start: t.startOffset, end: t.startOffset + t.image.length, image: t.image }));
  const offset = fc.integer({ min: 0, max: SPEC.length });
  const slice = fc.tuple(offset, fc.integer({ min: 0, max: 40 })).map(([a, n]) => [a, Math.min(SPEC.length, a + n)] as const);
  const snippet = fc.oneof(
    slice.map(([a, b]) => SPEC.slice(a, b)),
    fc.constantFrom(...WORDS),
    fc.string({ maxLength: 8 }),
  );
  type Mutation = (s: string) => string;
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    slice.map(([a, b]): Mutation => (s) => s.slice(0, a) + s.slice(b)),
    fc.tuple(offset, snippet).map(([a, t]): Mutation => (s) => s.slice(0, a) + t + s.slice(a)),
    fc.tuple(slice, snippet).map(([[a, b], t]): Mutation => (s) => s.slice(0, a) + t + s.slice(b)),
    fc.tuple(fc.nat(tokens.length - 1), fc.nat(tokens.length - 1)).map(([i, j]): Mutation => (s) => {
      // Swap two tokens of the original text (only meaningful before other edits shift offsets; later it is just an edit).
      const [p, q] = [tokens[Math.min(i, j)]!, tokens[Math.max(i, j)]!];
      if (p === q || q.end > s.length) return s;
      return s.slice(0, p.start) + q.image + s.slice(p.end, q.start) + p.image + s.slice(q.end);
    }),
  );

  it('never throw anything but SpecError, never take long', () => {
    let compiled = 0;
    const codes = new Set<string>();
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
      const r = survive(ms.reduceRight((s, m) => m(s), SPEC));
      if (r.ok) compiled++;
      r.codes.forEach((c) => codes.add(c));
    }), { numRuns: 120 });
    // The mutations must exercise both sides: some still compile, some break in several different ways.
    expect(compiled).toBeGreaterThan(0);
    expect(codes.size).toBeGreaterThan(3);
  });
});

describe('fuzz: explicit nasty inputs', () => {
  const code = (s: string) => survive(s).codes;
  it('empty file and whitespace', () => {
    expect(code('')).toEqual(['TFX1002']);
    expect(code(' \n\t\r\n')).toEqual(['TFX1002']);
  });
  it('only comments', () => {
    expect(code('# nothing here\n# at all')).toEqual(['TFX1002']);
    expect(survive('# header\nmodel m # trailing\n# footer').ok).toBe(true);
  });
  for (const [open, close] of [['(', ')'], ['[', ']'], ['{', '}']] as const) {
    it(`50,000 nested '${open}'`, () => {
      expect(code(open.repeat(50_000))).toEqual(['TFX1003']);
      // 40k tokens: under the token cap, so the nesting guard answers; 100k+ tokens hit the cap first (TFX3009).
      expect(code(`model m\nconfig { x = ${open.repeat(20_000)}1${close.repeat(20_000)} }`)).toEqual(['TFX1003']);
      expect(code(`model m\nconfig { x = ${open.repeat(50_000)}1${close.repeat(50_000)} }`)).toEqual(['TFX3009']);
    });
  }
  it('long runs of prefix operators and of binary operators', () => {
    expect(code(`model m\nconfig { x = ${'-'.repeat(50_000)}1 }`)).toEqual(['TFX1003']);
    expect(code(`model m\nconfig { x = ${'!'.repeat(50_000)}1 }`)).toEqual(['TFX1003']);
    expect(code(`model m\ndim B\nentry f(a: f32[B]) { out y = a${' + exp(a)'.repeat(5000)} }`)).toEqual(['TFX1003']);
    expect(code(`model m\ndim S\nentry f(a: f32[S]) { out y = ${'for (i: S) => '.repeat(10_000)}a }`)).toEqual(['TFX1003']);
    expect(code(`model m\ndim S\nentry f(a: f32[S]) { out y = ${'for (i: S) => '.repeat(50_000)}a }`)).toEqual(['TFX3009']);
  });
  it('a 1 MB line', () => {
    // Lexing a million tokens is linear but not free, so these get a larger budget.
    const mb = 1 << 20, big = (s: string) => survive(s, 20_000);
    expect(big(`model m # ${'x'.repeat(mb)}`).ok).toBe(true);
    // A million tokens: the token cap answers before the parser runs.
    expect(big(`model m\nconfig { x = ${'1+'.repeat(mb / 2)}1 }`).codes).toEqual(['TFX3009']);
    expect(big(`model ${'a'.repeat(mb)}`).codes).toEqual(['TFX2006']);
    expect(big('model m\nconfig { x = ' + '$'.repeat(mb) + ' }').codes[0]).toBe('TFX1001');
  });
  it('NUL bytes', () => {
    expect(code('\0')).toEqual(['TFX1004']);
    expect(code(SPEC.slice(0, 500) + '\0' + SPEC.slice(500))).toEqual(['TFX1004']);
    expect(code('\0'.repeat(100_000))).toEqual(['TFX1004']);
  });
  it('huge integers and floats', () => {
    expect(code('model m\nconfig { x = 9007199254740993 }')).toEqual(['TFX2005']);
    expect(survive('model m\nconfig { x = 9007199254740991 }').ok).toBe(true);
    expect(code(`model m\nconfig { x = ${'9'.repeat(5000)} }`)).toEqual(['TFX2005']);
    expect(code('model m\nconfig { x = 1e999 }')).toEqual(['TFX2005']);
    expect(code('model m\nconfig { x = 3037000500 * 3037000500 }')).toEqual(['TFX2005']);
  });
  it('unterminated string', () => {
    expect(code('model m\npreset "abc {}')).toContain('TFX1001');
    expect(code('model m\npreset "abc\n" {}')).toContain('TFX1001');
  });
  it('many errors are capped, not unbounded', () => {
    const r = code('model m\n' + 'config { x = 1 / 0 }\n'.repeat(1000));
    expect(r.length).toBeGreaterThan(0);
    expect(r.length).toBeLessThanOrEqual(100);
  });
});
