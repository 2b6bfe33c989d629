/** Source text -> AST plus diagnostics. Never throws on any input: lexer, parser and depth errors become diagnostics. */
import type { CstElement, CstNode, IToken } from 'chevrotain';
import type { DType } from '../core/dtype.js';
import type { BinOp, Binding, Decl, Expr, Module, Name, Stmt, TypedParam } from './ast.js';
import { Diagnostics, splitLines, type Span } from './diagnostics.js';
import { grammar } from './grammar.js';
import { tfxLexer } from './lexer.js';

/** Deeper nesting than this is rejected before parsing: recursive descent would exhaust the stack. */
export const MAX_NESTING = 200;
/** Operator chains (`a + a + ...`, `- - x`) nest without brackets; later passes recurse over them, so bound them too. */
export const MAX_EXPR_DEPTH = 1000;
export const MAX_IDENT = 64;
/** Parsing costs ~100 µs per token (chevrotain's CST): bound it to a few seconds. transfusion.tfx has ~3k tokens. */
export const MAX_TOKENS = 100_000;

export interface ParseResult { readonly module?: Module; readonly diags: Diagnostics }

const tokSpan = (t: IToken): Span =>
  Number.isFinite(t.startOffset) && t.startLine !== undefined && Number.isFinite(t.startLine)
    ? { line: t.startLine, col: t.startColumn ?? 1, offset: t.startOffset, length: Math.max(1, t.image.length) }
    : { line: 1, col: 1, offset: 0, length: 0 };

function spanOf(node: CstElement | undefined): Span {
  if (!node) return { line: 1, col: 1, offset: 0, length: 0 };
  if ('image' in node) return tokSpan(node);
  const loc = node.location;
  if (loc && Number.isFinite(loc.startOffset) && loc.startLine !== undefined && Number.isFinite(loc.startLine))
    return { line: loc.startLine, col: loc.startColumn ?? 1, offset: loc.startOffset, length: Math.max(1, (loc.endOffset ?? loc.startOffset) - loc.startOffset + 1) };
  return { line: 1, col: 1, offset: 0, length: 0 };
}

export function parse(source: string): ParseResult {
  const diags = new Diagnostics();
  if (source.includes('\0')) {
    const off = source.indexOf('\0');
    const before = splitLines(source.slice(0, off));
    diags.error('TFX1004', 'the file contains a NUL byte; .tfx files are text', { line: before.length, col: (before[before.length - 1]?.length ?? 0) + 1, offset: off, length: 1 });
    return { diags };
  }
  const lexed = tfxLexer.tokenize(source);
  for (const e of lexed.errors.slice(0, 20)) {
    // The lexer reports a run of bad characters as one error; name the first one.
    const ch = String.fromCodePoint(source.codePointAt(e.offset) ?? 0);
    const shown = ch >= ' ' && ch <= '~' ? `'${ch}'` : `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    const what = ch === '"' ? `unterminated string: '"' needs a closing '"' on the same line (no '\\' escapes)`
      : e.length > ch.length ? `unexpected characters starting with ${shown}` : `unexpected character ${shown}`;
    diags.error('TFX1001', what, { line: e.line ?? 1, col: e.column ?? 1, offset: e.offset, length: Math.max(1, e.length) });
  }
  if (lexed.errors.length > 20) return { diags };
  if (lexed.tokens.length > MAX_TOKENS) {
    diags.error('TFX3009', `the spec has ${lexed.tokens.length} tokens; specs are limited to ${MAX_TOKENS} (parse time grows with them)`, tokSpan(lexed.tokens[MAX_TOKENS]!));
    return { diags };
  }
  // Reject pathological nesting up front: brackets, runs of prefix operators (each one is a recursion), and
  // operator chains at one bracket level (each operator is one level of the AST; parsing them is also slow).
  const chain: number[] = [0];
  let prefixRun = 0, forRun = 0, prev = '';
  for (const t of lexed.tokens) {
    const n = t.tokenType.name;
    // `=> for` only occurs when a 'for' body is another 'for': count how deep that goes.
    if (n === 'For') forRun = prev === 'Arrow' ? forRun + 1 : 1;
    prev = n;
    if (n === 'LParen' || n === 'LBrack' || n === 'LBrace') chain.push(0);
    else if (n === 'RParen' || n === 'RBrack' || n === 'RBrace') { if (chain.length > 1) chain.pop(); }
    else if (BINARY_TOKENS.has(n)) chain[chain.length - 1]! += 1;
    else if (n !== 'Ident' && n !== 'Int' && n !== 'Float' && n !== 'DTypeTok' && n !== 'Bang' && n !== 'As') chain[chain.length - 1] = 0;
    prefixRun = n === 'Minus' || n === 'Bang' ? prefixRun + 1 : 0;
    const problem = chain.length - 1 > MAX_NESTING ? `brackets nested more than ${MAX_NESTING} deep`
      : prefixRun > MAX_NESTING ? `more than ${MAX_NESTING} prefix operators in a row`
      : forRun > MAX_NESTING ? `'for' nested more than ${MAX_NESTING} deep`
      : chain[chain.length - 1]! > MAX_EXPR_DEPTH ? `more than ${MAX_EXPR_DEPTH} operators in one expression; split it with 'let'` : undefined;
    if (problem) {
      diags.error('TFX1003', problem, tokSpan(t));
      return { diags };
    }
  }
  for (const t of lexed.tokens) {
    // Literals a double cannot hold exactly would silently change meaning (a shape of 1e20, an infinite constant).
    if (t.tokenType.name === 'Int' && !Number.isSafeInteger(Number(t.image)))
      diags.error('TFX2005', `integer literal ${t.image.slice(0, 30)}${t.image.length > 30 ? '...' : ''} is too large (the limit is 2^53 - 1)`, tokSpan(t));
    if (t.tokenType.name === 'Float' && !Number.isFinite(Number(t.image)))
      diags.error('TFX2005', `number literal ${t.image.slice(0, 30)} is too large for a 64-bit float`, tokSpan(t));
    if (t.tokenType.name === 'Ident' && (t.image.length > MAX_IDENT || t.image.startsWith('__')))
      diags.error('TFX2006', t.image.startsWith('__')
        ? `identifier '${t.image.slice(0, MAX_IDENT)}' starts with '__', which is reserved for generated code`
        : `identifier is longer than ${MAX_IDENT} characters`, tokSpan(t));
  }
  grammar.input = lexed.tokens;
  let cst: CstNode;
  try {
    cst = grammar.file();
  } catch (e) {
    // Chevrotain can still exhaust the stack on adversarial input (e.g. thousands of nested 'for'); report, don't crash.
    if (!(e instanceof RangeError)) throw e;
    diags.error('TFX1003', 'could not parse: the input is nested too deeply', { line: 1, col: 1, offset: 0, length: 0 });
    return { diags };
  }
  for (const e of grammar.errors.slice(0, 50)) {
    const t = e.token;
    const eof = t.tokenType.name === 'EOF';
    const found = eof ? 'end of file' : `'${t.image.slice(0, 40)}'`;
    // Chevrotain's own words ("Redundant input, expecting EOF but found: x") never reach the user.
    const msg = e.message.startsWith('Expecting') ? simplify(e.message, found)
      : e.name === 'NotAllInputParsedException' ? `unexpected ${found}; expected a declaration (model, config, preset, dim, mask, block or entry)`
      : `unexpected ${found}`;
    const span = eof ? endSpan(source) : tokSpan(t);
    diags.error('TFX1002', msg, span);
  }
  if (diags.hasErrors) return { diags };
  let module: Module;
  try {
    module = new AstBuilder().file(cst);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    diags.error('TFX1003', 'could not parse: the input is nested too deeply', { line: 1, col: 1, offset: 0, length: 0 });
    return { diags };
  }
  const deep = tooDeep(module);
  if (deep) {
    diags.error('TFX1003', `expression nested more than ${MAX_EXPR_DEPTH} deep; split it with 'let'`, deep);
    return { diags };
  }
  return { module, diags };
}

const BINARY_TOKENS = new Set(['OrOr', 'AndAnd', 'EqEq', 'NotEq', 'LtEq', 'GtEq', 'Lt', 'Gt', 'Plus', 'Minus', 'Star', 'Slash', 'Percent', 'At']);

/** The start of the first top-level expression deeper than MAX_EXPR_DEPTH, found without recursion. */
function tooDeep(mod: Module): Span | undefined {
  const work: [Expr, number, Span?][] = [];
  for (const d of mod.decls) {
    switch (d.k) {
      case 'config': case 'preset': for (const b of d.entries) work.push([b.value, 1]); break;
      case 'mask': work.push([d.body, 1]); break;
      case 'block': case 'entry':
        if (d.k === 'entry') for (const p of d.params) for (const x of p.shape) work.push([x, 1]);
        for (const s of d.body) {
          if (s.k === 'let' || s.k === 'out' || s.k === 'write') work.push([s.value, 1]);
          else if (s.k === 'return') for (const x of s.values) work.push([x, 1]);
          else if (s.k === 'state') for (const x of s.shape) work.push([x, 1]);
          else { for (const x of s.shape) work.push([x, 1]); if (s.init) work.push([s.init, 1]); }
        }
        break;
      case 'dim': break;
    }
  }
  while (work.length > 0) {
    const [e, depth, root = e.span] = work.pop()!;
    if (depth > MAX_EXPR_DEPTH) return root;
    const kids: Expr[] = e.k === 'list' ? [...e.items] : e.k === 'unary' ? [e.arg] : e.k === 'binary' ? [e.left, e.right]
      : e.k === 'call' ? [...e.args] : e.k === 'index' ? [...e.indices] : e.k === 'for' ? [...e.vars.map((v) => v.extent), e.body] : [];
    for (const k of kids) work.push([k, depth + 1, root]);
  }
  return undefined;
}

function endSpan(source: string): Span {
  const lines = splitLines(source);
  return { line: lines.length, col: (lines[lines.length - 1]?.length ?? 0) + 1, offset: source.length, length: 1 };
}

/** Chevrotain's messages list every alternative path; keep them short and in our words. */
function simplify(message: string, found: string): string {
  const m = /Expecting (?:token of type --> (\w+) <--|: one of these possible Token sequences:)/.exec(message);
  if (m?.[1]) return `expected ${tokenWord(m[1])}, found ${found}`;
  const alts = [...message.matchAll(/\[([^\]]+)\]/g)].map((x) => x[1]!.split(',')[0]!.trim()).map(tokenWord);
  const uniq = [...new Set(alts)].slice(0, 6);
  return uniq.length ? `expected ${uniq.join(' or ')}, found ${found}` : `unexpected ${found}`;
}
const WORDS: Record<string, string> = {
  Ident: 'a name', Int: 'an integer', Float: 'a number', Str: 'a string', Assign: "'='", LParen: "'('", RParen: "')'",
  LBrack: "'['", RBrack: "']'", LBrace: "'{'", RBrace: "'}'", Comma: "','", Colon: "':'", Semi: "';'", Arrow: "'=>'",
  Model: "'model'", Config: "'config'", Preset: "'preset'", DimKw: "'dim'", MaskKw: "'mask'", BlockKw: "'block'",
  EntryKw: "'entry'", Let: "'let'", ParamKw: "'param'", Return: "'return'", Out: "'out'", For: "'for'", As: "'as'", StateKw: "'state'", WriteKw: "'write'",
  DTypeTok: 'a dtype (f32, f16, bf16, i32, u32, i64, bool)', Minus: "'-'", Bang: "'!'",
};
const tokenWord = (n: string): string => WORDS[n] ?? `'${n}'`;

type Children = Record<string, CstElement[] | undefined>;
const ch = (n: CstNode): Children => n.children as Children;
const tok = (c: Children, k: string, i = 0): IToken | undefined => c[k]?.[i] as IToken | undefined;
const node = (c: Children, k: string, i = 0): CstNode | undefined => c[k]?.[i] as CstNode | undefined;
const nodes = (c: Children, k: string): CstNode[] => (c[k] ?? []) as CstNode[];
const toks = (c: Children, k: string): IToken[] => (c[k] ?? []) as IToken[];
const nameOf = (t: IToken | undefined): Name => ({ name: t?.image ?? '?', span: t ? tokSpan(t) : spanOf(undefined) });

/** CST -> AST. Only reached when parsing had no errors, so every expected child is present. */
class AstBuilder {
  file(n: CstNode): Module {
    const c = ch(n);
    return { model: nameOf(tok(c, 'Ident')), decls: nodes(c, 'decl').map((d) => this.decl(d)) };
  }

  decl(n: CstNode): Decl {
    const [kind, inner] = Object.entries(ch(n))[0] as [string, CstNode[]];
    const d = inner[0]!;
    const c = ch(d);
    const span = spanOf(d);
    switch (kind) {
      case 'configDecl': return { k: 'config', entries: nodes(c, 'binding').map((b) => this.binding(b)), span };
      case 'presetDecl': {
        const t = tok(c, 'Ident') ?? tok(c, 'Str')!;
        const name = t.tokenType.name === 'Str' ? { name: t.image.slice(1, -1), span: tokSpan(t) } : nameOf(t);
        return { k: 'preset', name, entries: nodes(c, 'binding').map((b) => this.binding(b)), span };
      }
      case 'dimDecl': return { k: 'dim', names: toks(c, 'Ident').map(nameOf), span };
      case 'maskDecl': return {
        k: 'mask', name: nameOf(tok(c, 'Ident')), indices: this.names(node(c, 'indices')),
        tensors: this.names(node(c, 'tensors')), body: this.expr(node(c, 'expr')!), span,
      };
      case 'blockDecl': return { k: 'block', name: nameOf(tok(c, 'Ident')), params: this.names(node(c, 'nameList')), body: this.body(node(c, 'body')!), span };
      default: return { k: 'entry', name: nameOf(tok(c, 'Ident')), params: nodes(c, 'typedParam').map((p) => this.typedParam(p)), body: this.body(node(c, 'body')!), span };
    }
  }

  names(n: CstNode | undefined): Name[] { return n ? toks(ch(n), 'Ident').map(nameOf) : []; }
  binding(n: CstNode): Binding { const c = ch(n); return { name: nameOf(tok(c, 'Ident')), value: this.expr(node(c, 'expr')!) }; }
  shape(n: CstNode | undefined): Expr[] { return n ? nodes(ch(n), 'expr').map((e) => this.expr(e)) : []; }

  typedParam(n: CstNode): TypedParam {
    const c = ch(n);
    const tt = ch(node(c, 'tensorType')!);
    return { name: nameOf(tok(c, 'Ident')), dtype: tok(tt, 'DTypeTok')!.image as DType, shape: this.shape(node(tt, 'shape')), span: spanOf(n) };
  }

  body(n: CstNode): Stmt[] { return nodes(ch(n), 'stmt').map((s) => this.stmt(s)); }

  stmt(n: CstNode): Stmt {
    const [kind, inner] = Object.entries(ch(n))[0] as [string, CstNode[]];
    const s = inner[0]!;
    const c = ch(s);
    const span = spanOf(s);
    switch (kind) {
      case 'letStmt': return { k: 'let', names: this.names(node(c, 'nameList')), value: this.expr(node(c, 'expr')!), span };
      case 'paramStmt': {
        const dt = tok(c, 'DTypeTok');
        const init = node(c, 'expr');
        return { k: 'param', name: nameOf(tok(c, 'Ident')), shape: this.shape(node(c, 'shape')), span,
          ...(dt ? { dtype: dt.image as DType } : {}), ...(init ? { init: this.expr(init) } : {}) };
      }
      case 'stateStmt': {
        const dt = tok(c, 'DTypeTok');
        return { k: 'state', name: nameOf(tok(c, 'Ident')), shape: this.shape(node(c, 'shape')), span, ...(dt ? { dtype: dt.image as DType } : {}) };
      }
      case 'writeStmt': return { k: 'write', name: nameOf(tok(c, 'Ident')), value: this.expr(node(c, 'expr')!), span };
      case 'returnStmt': return { k: 'return', values: nodes(c, 'expr').map((e) => this.expr(e)), span };
      default: return { k: 'out', name: nameOf(tok(c, 'Ident')), value: this.expr(node(c, 'expr')!), span };
    }
  }

  expr(n: CstNode): Expr {
    const c = ch(n);
    const span = spanOf(n);
    switch (n.name) {
      case 'expr': return this.expr(node(c, 'forExpr') ?? node(c, 'orExpr')!);
      case 'forExpr': return {
        k: 'for', span, body: this.expr(node(c, 'expr')!),
        vars: nodes(c, 'forVar').map((v) => ({ name: nameOf(tok(ch(v), 'Ident')), extent: this.expr(node(ch(v), 'orExpr')!) })),
      };
      case 'orExpr': case 'andExpr': case 'eqExpr': case 'relExpr': case 'addExpr': case 'mulExpr': {
        const operands = nodes(c, 'operand');
        const ops = toks(c, 'op').sort((a, b) => a.startOffset - b.startOffset);
        let e = this.expr(operands[0]!);
        for (let i = 0; i < ops.length; i++) {
          const r = this.expr(operands[i + 1]!);
          e = { k: 'binary', op: ops[i]!.image as BinOp, left: e, right: r, span: joinSpan(e.span, r.span) };
        }
        return e;
      }
      case 'unaryExpr': {
        const op = tok(c, 'op');
        if (!op) return this.expr(node(c, 'primary')!);
        const arg = this.expr(node(c, 'unaryExpr')!);
        // Fold a minus on a literal, so `-1` is a number, not an operation.
        if (op.image === '-' && arg.k === 'num') return { ...arg, value: -arg.value, span };
        return { k: 'unary', op: op.image as '-' | '!', arg, span };
      }
      case 'primary': {
        const f = tok(c, 'Float'), i = tok(c, 'Int'), d = tok(c, 'DTypeTok');
        if (f) return { k: 'num', value: Number(f.image), isInt: false, span };
        if (i) return { k: 'num', value: Number(i.image), isInt: true, span };
        if (d) return { k: 'dtype', dtype: d.image as DType, span };
        const inner = node(c, 'nameExpr') ?? node(c, 'listExpr') ?? node(c, 'expr')!;
        return this.expr(inner);
      }
      case 'listExpr': return { k: 'list', items: nodes(c, 'expr').map((e) => this.expr(e)), span };
      case 'nameExpr': {
        const name = nameOf(tok(c, 'Ident'));
        if (tok(c, 'LParen')) {
          const alias = tok(c, 'alias');
          return { k: 'call', fn: name, args: nodes(c, 'arg').map((a) => this.expr(a)), span, ...(alias ? { as: nameOf(alias) } : {}) };
        }
        if (tok(c, 'LBrack')) return { k: 'index', target: name, indices: nodes(c, 'index').map((a) => this.expr(a)), span };
        return { k: 'name', name: name.name, span };
      }
      default: throw new Error(`internal error: unexpected CST node ${n.name}`);
    }
  }
}

function joinSpan(a: Span, b: Span): Span {
  return { line: a.line, col: a.col, offset: a.offset, length: Math.max(a.length, b.offset + b.length - a.offset) };
}
