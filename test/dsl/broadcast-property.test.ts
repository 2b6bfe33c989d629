/**
 * Property: random well-typed elementwise programs over a few inputs compile, and the output has the broadcast
 * shape (and dtype) this test computes on its own; when the inputs cannot broadcast, the error is TFX3001.
 * The programs are printed with as few parentheses as precedence allows, so parsing them back must rebuild the
 * generated tree exactly (a round trip through the grammar's precedence and associativity).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr } from '../../src/dsl/ast.js';
import { parse } from '../../src/dsl/parse.js';
import { compileSource, SpecError } from '../../src/driver.js';

type Dim = string; // '1', '2', '3', 'B', 'S'
type Shape = readonly Dim[];

type Num =
  | { t: 'in'; i: number }
  | { t: 'lit'; v: number }
  | { t: 'bin'; op: '+' | '-' | '*' | '/' | '%'; a: Num; b: Num }
  | { t: 'neg'; a: Num }
  | { t: 'fn'; f: 'tanh' | 'sigmoid' | 'abs' | 'cos'; a: Num }
  | { t: 'mm'; f: 'max' | 'min'; a: Num; b: Num }
  | { t: 'where'; c: Bool; a: Num; b: Num };
type Bool =
  | { t: 'cmp'; op: '<' | '<=' | '>' | '>=' | '==' | '!='; a: Num; b: Num }
  | { t: 'logic'; op: '&&' | '||'; a: Bool; b: Bool }
  | { t: 'not'; a: Bool };
type Node = Num | Bool;

const PREC: Record<string, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };
const LITS = [0.5, 1.5, 2, 3];

const { num } = fc.letrec<{ num: Num; bool: Bool }>((tie) => ({
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('in' as const), i: fc.nat(3) }),
    fc.record({ t: fc.constant('lit' as const), v: fc.constantFrom(...LITS) }),
    fc.record({ t: fc.constant('bin' as const), op: fc.constantFrom('+', '-', '*', '/', '%'), a: tie('num'), b: tie('num') }),
    fc.record({ t: fc.constant('neg' as const), a: tie('num') }),
    fc.record({ t: fc.constant('fn' as const), f: fc.constantFrom('tanh', 'sigmoid', 'abs', 'cos'), a: tie('num') }),
    fc.record({ t: fc.constant('mm' as const), f: fc.constantFrom('max', 'min'), a: tie('num'), b: tie('num') }),
    fc.record({ t: fc.constant('where' as const), c: tie('bool'), a: tie('num'), b: tie('num') }),
  ),
  bool: fc.oneof(
    { depthSize: 'small' },
    fc.record({ t: fc.constant('cmp' as const), op: fc.constantFrom('<', '<=', '>', '>=', '==', '!='), a: tie('num'), b: tie('num') }),
    fc.record({ t: fc.constant('logic' as const), op: fc.constantFrom('&&', '||'), a: tie('bool'), b: tie('bool') }),
    fc.record({ t: fc.constant('not' as const), a: tie('bool') }),
  ),
}));
const bool: fc.Arbitrary<Bool> = fc.record({ t: fc.constant('cmp' as const), op: fc.constantFrom('<', '>=', '!='), a: num, b: num });

const isBool = (n: Node): n is Bool => n.t === 'cmp' || n.t === 'logic' || n.t === 'not';
const kids = (n: Node): Node[] => ('c' in n ? [n.c, n.a, n.b] : 'b' in n ? [n.a, n.b] : 'a' in n ? [n.a] : []);
const hasInput = (n: Node): boolean => n.t === 'in' || kids(n).some(hasInput);

/**
 * Subtrees without an input would be folded at compile time (and could divide by zero or compare two constants
 * into an integer), which is not what this property is about: replace them by something simple of the same type.
 */
function normalize<T extends Node>(n: T): T {
  if (!hasInput(n)) return (isBool(n) ? { t: 'cmp', op: '<', a: { t: 'in', i: 0 }, b: { t: 'lit', v: 1.5 } } : { t: 'lit', v: 1.5 }) as T;
  const m = { ...n } as Record<string, unknown>;
  for (const k of ['a', 'b', 'c']) if (k in m) m[k] = normalize(m[k] as Node);
  return m as T;
}

/** Print with the fewest parentheses precedence and left associativity allow. */
function print(n: Node): string {
  const prec = (x: Node) => (x.t === 'bin' || x.t === 'cmp' || x.t === 'logic' ? PREC[x.op]! : 9);
  const wrap = (x: Node, p: number, right: boolean) => (prec(x) < p || (right && prec(x) === p) ? `(${print(x)})` : print(x));
  switch (n.t) {
    case 'in': return `x${n.i}`;
    case 'lit': return n.v.toFixed(1);
    case 'bin': case 'cmp': case 'logic': return `${wrap(n.a, PREC[n.op]!, false)} ${n.op} ${wrap(n.b, PREC[n.op]!, true)}`;
    case 'neg': return `-${wrap(n.a, 9, false)}`;
    case 'not': return `!${wrap(n.a, 9, false)}`;
    case 'fn': return `${n.f}(${print(n.a)})`;
    case 'mm': return `${n.f}(${print(n.a)}, ${print(n.b)})`;
    case 'where': return `where(${print(n.c)}, ${print(n.a)}, ${print(n.b)})`;
  }
}

/** The tree as an s-expression, in the form the parser must produce (a minus on a literal folds into it). */
function expected(n: Node): string {
  switch (n.t) {
    case 'in': return `x${n.i}`;
    case 'lit': return String(n.v);
    case 'bin': case 'cmp': case 'logic': return `(${n.op} ${expected(n.a)} ${expected(n.b)})`;
    case 'neg': return n.a.t === 'lit' ? String(-n.a.v) : `(- ${expected(n.a)})`;
    case 'not': return `(! ${expected(n.a)})`;
    case 'fn': return `(${n.f} ${expected(n.a)})`;
    case 'mm': return `(${n.f} ${expected(n.a)} ${expected(n.b)})`;
    case 'where': return `(where ${expected(n.c)} ${expected(n.a)} ${expected(n.b)})`;
  }
}
function sexp(e: Expr): string {
  switch (e.k) {
    case 'num': return String(e.value);
    case 'name': return e.name;
    case 'unary': return `(${e.op} ${sexp(e.arg)})`;
    case 'binary': return `(${e.op} ${sexp(e.left)} ${sexp(e.right)})`;
    case 'call': return `(${e.fn.name} ${e.args.map(sexp).join(' ')})`;
    default: return `<${e.k}>`;
  }
}

/** Numpy broadcasting, written here independently of the compiler. */
function broadcast(a: Shape, b: Shape): Shape | undefined {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? '1', y = b[b.length - r + i] ?? '1';
    if (x === y || y === '1') out.push(x);
    else if (x === '1') out.push(y);
    else return undefined;
  }
  return out;
}
function leaves(n: Node): number[] { return n.t === 'in' ? [n.i] : kids(n).flatMap(leaves); }

const dimArb = fc.constantFrom<Dim>('1', '2', '3', 'B', 'S');
/** Four input shapes: either all cut from one target shape (always compatible) or drawn independently. */
const shapes: fc.Arbitrary<Shape[]> = fc.oneof(
  fc.tuple(fc.array(dimArb, { maxLength: 4 }), fc.array(fc.tuple(fc.nat(4), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 })), { minLength: 4, maxLength: 4 }))
    .map(([target, picks]) => picks.map(([drop, ones]) => target.slice(Math.min(drop, target.length)).map((d, i) => (ones[i] ? '1' : d)))),
  fc.array(fc.array(dimArb, { maxLength: 3 }), { minLength: 4, maxLength: 4 }),
);

function program(tree: Node, ins: readonly Shape[]): string {
  const params = ins.map((s, i) => `x${i}: f32[${s.join(', ')}]`).join(', ');
  return `model p\ndim B, S\nentry f(${params}) {\n  out y = ${print(tree)}\n}\n`;
}

describe('random elementwise programs', () => {
  it('parse back to the generated tree (precedence and associativity round trip)', () => {
    fc.assert(fc.property(fc.oneof(num, bool).map(normalize), (tree) => {
      const r = parse(program(tree, [[], [], [], []]));
      expect(r.diags.list).toEqual([]);
      const entry = r.module!.decls.find((d) => d.k === 'entry');
      const out = entry?.k === 'entry' ? entry.body[0] : undefined;
      expect(out?.k === 'out' ? sexp(out.value) : '').toBe(expected(tree));
    }), { numRuns: 300 });
  });

  it('compile to the broadcast shape, or fail with TFX3001 exactly when the shapes do not broadcast', () => {
    let compiled = 0, mismatched = 0;
    fc.assert(fc.property(fc.oneof(num, bool).map(normalize), shapes, (tree, ins) => {
      const want = leaves(tree).map((i) => ins[i]!).reduce<Shape | undefined>((acc, s) => (acc ? broadcast(acc, s) : undefined), []);
      const src = program(tree, ins);
      if (want === undefined) {
        mismatched++;
        let codes: string[] = [];
        try { compileSource(src, 'p.tfx'); } catch (e) { if (!(e instanceof SpecError)) throw e; codes = e.diagnostics.map((d) => d.code); }
        expect(codes, src).toEqual(['TFX3001']);
        return;
      }
      compiled++;
      const { program: p } = compileSource(src, 'p.tfx');
      const y = p.entries[0]!.outputs[0]!.node;
      expect(y.shape.map((d) => d.key), src).toEqual(want);
      expect(y.dtype, src).toBe(isBool(tree) ? 'bool' : 'f32');
    }), { numRuns: 200 });
    expect(compiled).toBeGreaterThan(20);
    expect(mismatched).toBeGreaterThan(5);
  });
});
