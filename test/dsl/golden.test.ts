/**
 * Golden AST snapshots for small programs that together use every grammar construct. The snapshot is the AST as
 * pretty JSON with spans shown as "line:col"; `UPDATE_GOLDEN=1` rewrites them (review the diff by eye).
 * Besides the snapshots, precedence is checked against hand-written s-expressions and evaluated config values,
 * and every span is checked against the source text.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Expr, Module } from '../../src/dsl/ast.js';
import type { Span } from '../../src/dsl/diagnostics.js';
import { parse } from '../../src/dsl/parse.js';
import { compileSource } from '../../src/driver.js';

const DIR = join(import.meta.dirname, 'golden');
const files = readdirSync(DIR).filter((f) => f.endsWith('.tfx')).sort();

const isSpan = (v: unknown): v is Span =>
  typeof v === 'object' && v !== null && Object.keys(v).sort().join() === 'col,length,line,offset';

function render(mod: Module): string {
  return JSON.stringify(mod, (_k, v: unknown) => (isSpan(v) ? `${v.line}:${v.col}` : v), 2) + '\n';
}

function parseOk(source: string): Module {
  const r = parse(source);
  expect(r.diags.list.map((d) => `${d.code} ${d.span.line}:${d.span.col} ${d.message}`)).toEqual([]);
  expect(r.module).toBeDefined();
  return r.module!;
}

/** A fully parenthesized rendering, so precedence reads at a glance. */
function sexp(e: Expr): string {
  switch (e.k) {
    case 'num': return String(e.value);
    case 'name': return e.name;
    case 'dtype': return e.dtype;
    case 'list': return `[${e.items.map(sexp).join(' ')}]`;
    case 'unary': return `(${e.op} ${sexp(e.arg)})`;
    case 'binary': return `(${e.op} ${sexp(e.left)} ${sexp(e.right)})`;
    case 'call': return `(${e.fn.name}${e.args.map((a) => ' ' + sexp(a)).join('')}${e.as ? ` as ${e.as.name}` : ''})`;
    case 'index': return `${e.target.name}[${e.indices.map(sexp).join(' ')}]`;
    case 'for': return `(for ${e.vars.map((v) => `${v.name.name}:${sexp(v.extent)}`).join(' ')} => ${sexp(e.body)})`;
  }
}

/** line:col from an offset, counted here independently of the lexer. */
function lineCol(source: string, offset: number): string {
  const before = source.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

/** Every span must point where its offset says, and lie inside the span of the node that contains it. */
function checkSpans(source: string, node: unknown, outer: Span | undefined, path: string, problems: string[]): void {
  if (Array.isArray(node)) { node.forEach((x, i) => checkSpans(source, x, outer, `${path}[${i}]`, problems)); return; }
  if (typeof node !== 'object' || node === null) return;
  const rec = node as Record<string, unknown>;
  let inner = outer;
  if (isSpan(rec.span)) {
    const s = rec.span;
    if (lineCol(source, s.offset) !== `${s.line}:${s.col}`) problems.push(`${path}: ${s.line}:${s.col} but offset ${s.offset} is ${lineCol(source, s.offset)}`);
    if (s.length < 1) problems.push(`${path}: empty span`);
    if (outer && (s.offset < outer.offset || s.offset + s.length > outer.offset + outer.length))
      problems.push(`${path}: span ${s.offset}+${s.length} outside its parent ${outer.offset}+${outer.length}`);
    if (typeof rec.name === 'string' && !('k' in rec) && source.slice(s.offset, s.offset + s.length) !== rec.name && source.slice(s.offset + 1, s.offset + s.length - 1) !== rec.name)
      problems.push(`${path}: name '${rec.name}' but the span covers '${source.slice(s.offset, s.offset + s.length)}'`);
    inner = s;
  }
  for (const [k, v] of Object.entries(rec)) if (k !== 'span') checkSpans(source, v, inner, `${path}.${k}`, problems);
}

describe('golden ASTs', () => {
  it('has programs to check', () => {
    expect(files).toEqual(expect.arrayContaining(['blocks.tfx', 'decls.tfx', 'for-index.tfx', 'precedence.tfx']));
  });

  for (const f of files) {
    describe(f, () => {
      const source = readFileSync(join(DIR, f), 'utf8');
      it('matches its AST snapshot', () => {
        const got = render(parseOk(source));
        const snap = join(DIR, f.replace(/\.tfx$/, '.ast.json'));
        if (process.env.UPDATE_GOLDEN === '1') writeFileSync(snap, got);
        expect(existsSync(snap), `${snap} is missing; run with UPDATE_GOLDEN=1 and review it`).toBe(true);
        expect(got).toBe(readFileSync(snap, 'utf8'));
      });
      it('has spans that agree with the source', () => {
        const problems: string[] = [];
        const mod = parseOk(source);
        for (const [i, d] of mod.decls.entries()) checkSpans(source, d, undefined, `decls[${i}]`, problems);
        checkSpans(source, mod.model, undefined, 'model', problems);
        expect(problems).toEqual([]);
      });
      it('also elaborates without errors', () => {
        expect(() => compileSource(source, f)).not.toThrow();
      });
    });
  }
});

describe('precedence and associativity', () => {
  const source = readFileSync(join(DIR, 'precedence.tfx'), 'utf8');
  const mod = parseOk(source);
  const config = mod.decls.find((d) => d.k === 'config');
  const entry = mod.decls.find((d) => d.k === 'entry');
  const cfg = Object.fromEntries((config?.k === 'config' ? config.entries : []).map((b) => [b.name.name, sexp(b.value)]));
  const outs = Object.fromEntries((entry?.k === 'entry' ? entry.body : []).flatMap((s) => (s.k === 'out' ? [[s.name.name, sexp(s.value)]] : [])));

  it('groups config expressions as written in the comments', () => {
    expect(cfg).toEqual({
      sub_left: '(- (- 10 4) 3)',
      div_left: '(/ (/ 48 4) 2)',
      mul_add: '(+ 1 (* 2 3))',
      mul_mod: '(% (* 2 3) 4)',
      sub_mul: '(+ (- 7 (* 2 3)) 1)',
      or_and: '(|| 1 (&& 0 0))',
      and_eq: '(&& 1 (== 2 2))',
      eq_rel: '(== 3 (< 3 4))',
      ne_rel: '(!= 0 (>= 2 1))',
      rel_add: '(< (- 5 1) 2)',
      le_gt: '(> (<= 1 2) 0)',
      not_add: '(+ (! 0) 1)',
      neg_mul: '(* -2 -3)',
      neg_paren: '(* (- (+ 2 3)) 2)',
      paren: '(* (+ 1 2) 3)',
      neg_name: '(- sub_left)',
    });
  });

  it('groups tensor expressions, with @ as a multiplicative operator', () => {
    expect(outs).toEqual({
      mm: '(* (@ a m) 2)',
      mm2: '(+ a (@ a m))',
      neg: '(@ (- a) m)',
      cmp: '(== (< a 1) (> a 2))',
      lg: '(|| p (&& (! p) (>= a 0)))',
      md: '(/ (% a 3) 2)',
    });
  });

  it('evaluates config values with that grouping', () => {
    const { program } = compileSource(source, 'precedence.tfx');
    expect(program.config).toEqual({
      sub_left: 3, div_left: 6, mul_add: 7, mul_mod: 2, sub_mul: 2, or_and: 1, and_eq: 1, eq_rel: 0, ne_rel: 1,
      rel_add: 0, le_gt: 1, not_add: 2, neg_mul: 6, neg_paren: -10, paren: 9, neg_name: -3,
    });
  });

  it('folds a minus on a literal into the number, but not on a name or a parenthesis', () => {
    const m = parseOk('model m\nconfig { a = -3\n b = - 2.5\n c = -a\n d = -(1) }');
    const c = m.decls[0];
    const vals = c?.k === 'config' ? c.entries.map((b) => b.value) : [];
    expect(vals.map((v) => v.k)).toEqual(['num', 'num', 'unary', 'num']);
    expect(vals.map(sexp)).toEqual(['-3', '-2.5', '(- a)', '-1']);
  });
});

describe('lexical details', () => {
  it('keeps keywords and dtypes as prefixes of names apart from the names', () => {
    const m = parseOk('model models\nconfig { configs = 1\n f32x = 2\n lets = 3\n bool_ = 4\n i64a = 5 }');
    expect(m.model.name).toBe('models');
    const c = m.decls[0];
    expect(c?.k === 'config' ? c.entries.map((b) => b.name.name) : []).toEqual(['configs', 'f32x', 'lets', 'bool_', 'i64a']);
  });

  it('reads number literals', () => {
    const m = parseOk('model m\nconfig { a = 1.5e2\n b = 3.\n c = .25\n d = 7\n e = 2E-3 }');
    const c = m.decls[0];
    const vals = c?.k === 'config' ? c.entries.map((b) => b.value) : [];
    expect(vals.map((v) => (v.k === 'num' ? [v.value, v.isInt] : v.k))).toEqual([[150, false], [3, false], [0.25, false], [7, true], [0.002, false]]);
  });

  it('counts lines the same way for \\n, \\r\\n and a lone \\r', () => {
    for (const nl of ['\n', '\r\n', '\r']) {
      const m = parseOk(['model m', 'config {', '  abc = 1', '}'].join(nl));
      const c = m.decls[0];
      const name = c?.k === 'config' ? c.entries[0]?.name : undefined;
      expect(name?.span.line, JSON.stringify(nl)).toBe(3);
      expect(name?.span.col, JSON.stringify(nl)).toBe(3);
    }
  });
});
