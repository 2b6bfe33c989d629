/**
 * Checked AST -> graph IR. Evaluates config and presets, instantiates blocks (each call inlined with its own
 * parameter prefix), infers shapes and dtypes through the IR builder, and reports every user mistake as a
 * located diagnostic. Requires: a parsed Module. Guarantees: a Program whose graphs pass `verifyGraph`, or errors.
 */
import { isFloat, isInt, promote, type DType } from '../core/dtype.js';
import {
  dimAdd, dimAsConst, dimConst, dimDiv, dimMul, dimSign, dimSub, dimSym, dimSymbols, shapeStr, type Dim, type Shape,
} from '../core/dim.js';
import type { BinOp, Decl, Expr, Module, Name, Stmt } from '../dsl/ast.js';
import { Diagnostics, type Code, type Note, type Span } from '../dsl/diagnostics.js';
import { Builder, ShapeError } from './builder.js';
import type { BinaryOp, DimRequirement, Graph, IExpr, InitRule, Node, ParamInfo, Program, UnaryOp } from './graph.js';
import { f32Binary, f32Unary, FLOAT_BINARY, FLOAT_UNARY, intMod } from './semantics.js';

/** Most distinct graph nodes one program may grow to (repeat and block calls expand); docs/errors.md. */
export const MAX_GRAPH_NODES = 50_000; // the 7b preset of transfusion.tfx has ~5.6k
/** Largest attention head dimension (found by the whole-path fuzzer: Dawn rejected array<f32, 2^31 - 1>). */
export const MAX_HEAD_DIM = 4096;
/** Most elements of one tensor: kernels index with 32-bit signed integers. */
export const MAX_INDEX = 2 ** 31 - 1;

type MaskDecl = Extract<Decl, { k: 'mask' }>;
type BlockDecl = Extract<Decl, { k: 'block' }>;
type EntryDecl = Extract<Decl, { k: 'entry' }>;

export type Value =
  | { readonly k: 'num'; readonly v: number; readonly int: boolean }
  | { readonly k: 'dim'; readonly d: Dim }
  | { readonly k: 'tensor'; readonly n: Node; readonly origin: Span }
  | { readonly k: 'ix'; readonly e: IExpr }
  | { readonly k: 'list'; readonly items: readonly Value[] }
  | { readonly k: 'dtype'; readonly d: DType }
  | { readonly k: 'mask'; readonly decl: MaskDecl; readonly args: readonly Value[] }
  | { readonly k: 'block'; readonly decl: BlockDecl }
  | { readonly k: 'tuple'; readonly items: readonly Value[] }
  | { readonly k: 'poison' };

/** A user error: aborts the statement being elaborated, becomes a diagnostic. */
export class ElabError extends Error {
  constructor(readonly code: Code, message: string, readonly span: Span, readonly notes: readonly Note[] = []) { super(message); }
}
/** Aborts silently: the cause was already reported. */
class Poisoned extends Error {}

const err = (code: Code, msg: string, span: Span, notes: Note[] = []): never => { throw new ElabError(code, msg, span, notes); };

export interface ElaborateOptions { readonly preset?: string | undefined; readonly entries?: readonly string[] | undefined }
export interface ElaborateResult { readonly program?: Program; readonly diags: Diagnostics; readonly presets: readonly string[] }

const UNARY_FNS: Record<string, UnaryOp> = {
  exp: 'exp', log: 'log', sqrt: 'sqrt', rsqrt: 'rsqrt', tanh: 'tanh', sigmoid: 'sigmoid', silu: 'silu', gelu: 'gelu',
  sin: 'sin', cos: 'cos', abs: 'abs', floor: 'floor', ceil: 'ceil', recip: 'recip',
};
const BIN_OPS: Record<Exclude<BinOp, '@'>, BinaryOp> = {
  '||': 'or', '&&': 'and', '==': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge',
  '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod',
};
const RESERVED = new Set(['pi', ...Object.keys(UNARY_FNS), 'pow', 'max', 'min', 'where', 'ceil_div', 'round_up', 'sum', 'mean',
  'softmax', 'log_softmax', 'matmul', 'linear', 'gather', 'reshape', 'permute', 'transpose', 'unsqueeze', 'squeeze', 'slice',
  'concat', 'cast', 'broadcast', 'rmsnorm', 'layernorm', 'rope', 'attention', 'repeat', 'normal', 'uniform', 'zeros', 'ones']);

class Scope {
  private readonly vars = new Map<string, Value>();
  /** Local name -> full (path) name of the states this block or entry declares; `write` may only target these. */
  readonly states = new Map<string, string>();
  constructor(private readonly parent?: Scope) {}
  get(name: string): Value | undefined { return this.vars.get(name) ?? this.parent?.get(name); }
  hasLocal(name: string): boolean { return this.vars.has(name); }
  set(name: string, v: Value): void { this.vars.set(name, v); }
}

/** Index-mode context: inside `for (...) => body` and mask bodies, tensors are read by `load`. */
interface IxCtx { readonly srcs: Node[] }

/** `call` is where the block was called, so a duplicate parameter can point at both calls. */
interface Frame { readonly block: string; readonly prefix: readonly string[]; readonly call?: Span }

export function elaborate(mod: Module, opts: ElaborateOptions = {}): ElaborateResult {
  return new Elaborator(mod).run(opts);
}

class Elaborator {
  readonly diags = new Diagnostics();
  readonly b = new Builder();
  readonly blocks = new Map<string, BlockDecl>();
  readonly masks = new Map<string, MaskDecl>();
  readonly entries: EntryDecl[] = [];
  readonly symbols: string[] = [];
  readonly globals = new Scope();
  readonly config: Record<string, number> = {};
  /** Every parameter of the program: name -> info and the declaration that made it. */
  readonly params = new Map<string, { info: ParamInfo; span: Span; stmt: Stmt; call?: Span | undefined }>();
  /** Parameters created by the entry being elaborated (a second creation is an error, not weight tying). */
  private entryParams = new Set<string>();
  /** States declared by the entry being elaborated, by full name, in declaration order. */
  private entryStates = new Map<string, { input: Node<'input'>; span: Span; written?: Node; writeSpan?: Span }>();
  private stack: Frame[] = [];
  /** Nodes whose extents were checked; the sign of each dim seen; conditions left for bind time (per entry). */
  private readonly checked = new Set<number>();
  private readonly signs = new Map<string, 'nonneg' | 'neg' | 'unknown'>();
  private requires = new Map<string, DimRequirement>();

  constructor(readonly mod: Module) {}

  report(e: unknown): void {
    if (e instanceof ElabError) this.diags.error(e.code, e.message, e.span, e.notes);
    else if (e instanceof Poisoned) return;
    else throw e;
  }

  run(opts: ElaborateOptions): ElaborateResult {
    const presets = this.collect();
    const preset = opts.preset;
    const presetDecl = preset === undefined ? undefined : this.mod.decls.find((d): d is Extract<Decl, { k: 'preset' }> => d.k === 'preset' && d.name.name === preset);
    if (preset !== undefined && !presetDecl) {
      this.diags.error('TFX2004', `unknown preset '${preset}'; this spec has ${presets.length ? presets.map((p) => `'${p}'`).join(', ') : 'no presets'}`, this.mod.model.span);
      return { diags: this.diags, presets };
    }
    this.evalConfig(presetDecl);
    for (const m of this.masks.values()) this.checkMaskNames(m);
    for (const p of this.mod.decls) if (p.k === 'preset' && p !== presetDecl) this.checkPreset(p);
    const graphs: Graph[] = [];
    const wanted = opts.entries;
    for (const e of this.entries) {
      if (wanted && !wanted.includes(e.name.name)) continue;
      const g = this.entry(e);
      if (g) graphs.push(g);
    }
    if (wanted) for (const w of wanted) if (!this.entries.some((e) => e.name.name === w))
      this.diags.error('TFX2001', `unknown entry '${w}'; this spec has ${this.entries.map((e) => `'${e.name.name}'`).join(', ') || 'no entries'}`, this.mod.model.span);
    if (this.diags.hasErrors) return { diags: this.diags, presets };
    const program: Program = {
      model: this.mod.model.name, preset: preset ?? 'default', config: { ...this.config }, symbols: [...this.symbols],
      params: [...this.params.values()].map((p) => p.info).sort((a, b) => (a.name < b.name ? -1 : 1)), entries: graphs,
    };
    return { program, diags: this.diags, presets };
  }

  /** Top-level names: one namespace for config keys, dims, masks, blocks and entries. */
  collect(): string[] {
    const seen = new Map<string, Span>();
    const declare = (n: Name, what: string) => {
      if (RESERVED.has(n.name)) return this.diags.error('TFX2002', `'${n.name}' is a built-in name and cannot be redefined as a ${what}`, n.span);
      const prev = seen.get(n.name);
      if (prev) this.diags.error('TFX2002', `'${n.name}' is defined twice`, n.span, [{ message: 'first defined here', span: prev }]);
      else seen.set(n.name, n.span);
    };
    const presets: string[] = [];
    for (const d of this.mod.decls) {
      switch (d.k) {
        case 'config': for (const e of d.entries) declare(e.name, 'config value'); break;
        case 'dim': for (const n of d.names) { declare(n, 'dimension'); this.symbols.push(n.name); this.globals.set(n.name, { k: 'dim', d: dimSym(n.name) }); } break;
        case 'mask': declare(d.name, 'mask'); this.masks.set(d.name.name, d); break;
        case 'block': declare(d.name, 'block'); this.blocks.set(d.name.name, d); break;
        case 'entry': declare(d.name, 'entry'); this.entries.push(d); break;
        case 'preset': {
          if (presets.includes(d.name.name)) this.diags.error('TFX2002', `preset '${d.name.name}' is defined twice`, d.name.span);
          else presets.push(d.name.name);
          const keys = new Map<string, Span>();
          for (const e of d.entries) {
            const prev = keys.get(e.name.name);
            if (prev) this.diags.error('TFX2002', `preset '${d.name.name}' sets '${e.name.name}' twice`, e.name.span, [{ message: 'first set here', span: prev }]);
            else keys.set(e.name.name, e.name.span);
          }
        }
      }
    }
    this.globals.set('pi', { k: 'num', v: Math.PI, int: false });
    return presets;
  }

  evalConfig(preset: Extract<Decl, { k: 'preset' }> | undefined): void {
    const overrides = new Map(preset?.entries.map((e) => [e.name.name, e]) ?? []);
    const keys = new Set(this.mod.decls.flatMap((d) => (d.k === 'config' ? d.entries.map((e) => e.name.name) : [])));
    for (const [k, e] of overrides) if (!keys.has(k))
      this.diags.error('TFX2004', `preset '${preset!.name.name}' sets '${k}', which is not a config value`, e.name.span);
    for (const d of this.mod.decls) {
      if (d.k !== 'config') continue;
      for (const e of d.entries) {
        const expr = overrides.get(e.name.name)?.value ?? e.value;
        try {
          const v = this.value(expr, this.globals, null);
          if (v.k !== 'num') err('TFX2005', `config value '${e.name.name}' must be a number`, expr.span);
          const num = v as Extract<Value, { k: 'num' }>;
          this.config[e.name.name] = num.v;
          this.globals.set(e.name.name, num);
        } catch (x) {
          this.report(x);
          this.globals.set(e.name.name, { k: 'poison' });
        }
      }
    }
  }

  /** A mask's index and tensor names follow the rules for local names, and are distinct. */
  checkMaskNames(m: MaskDecl): void {
    const seen = new Set<string>();
    for (const n of [...m.indices, ...m.tensors]) {
      try {
        if (seen.has(n.name)) err('TFX2002', `mask '${m.name.name}' declares '${n.name}' twice`, n.span);
        seen.add(n.name);
        this.checkLocalName(n);
      } catch (x) { this.report(x); }
    }
  }

  /** Presets not chosen are still checked for unknown keys, so a typo in `7b` shows up when checking `tiny`. */
  checkPreset(p: Extract<Decl, { k: 'preset' }>): void {
    const keys = new Set(this.mod.decls.flatMap((d) => (d.k === 'config' ? d.entries.map((e) => e.name.name) : [])));
    for (const e of p.entries) if (!keys.has(e.name.name))
      this.diags.error('TFX2004', `preset '${p.name.name}' sets '${e.name.name}', which is not a config value`, e.name.span);
  }

  entry(e: EntryDecl): Graph | undefined {
    this.entryParams = new Set();
    this.entryStates = new Map();
    this.requires = new Map();
    this.checked.clear(); // interned nodes are shared between entries; each entry records its own conditions
    this.stack = [{ block: e.name.name, prefix: [] }];
    const scope = new Scope(this.globals);
    const inputs: Node<'input'>[] = [];
    const outputs: { name: string; node: Node }[] = [];
    const errorsBefore = this.diags.list.length;
    // A statement that failed (maybe silently, on a value poisoned by an earlier error) may have been an 'out'.
    let failed = false;
    for (const p of e.params) {
      try {
        if (scope.hasLocal(p.name.name)) err('TFX2002', `input '${p.name.name}' is declared twice`, p.name.span);
        this.checkLocalName(p.name);
        const shape = p.shape.map((x) => this.dim(this.value(x, this.globals, null), x.span));
        this.b.origins = [{ line: p.span.line, col: p.span.col, path: '', block: e.name.name }];
        const n = this.b.input(p.name.name, p.dtype, shape) as Node<'input'>;
        this.b.origins = [];
        inputs.push(n);
        scope.set(p.name.name, { k: 'tensor', n, origin: p.span });
      } catch (x) { this.report(x); scope.set(p.name.name, { k: 'poison' }); failed = true; }
    }
    for (const s of e.body) {
      try {
        if (s.k === 'return') err('TFX2007', `an entry has no 'return'; name its results with 'out NAME = ...'`, s.span);
        if (s.k === 'out') {
          if (outputs.some((o) => o.name === s.name.name)) err('TFX2002', `output '${s.name.name}' is defined twice`, s.name.span);
          const v = this.tensorOf(this.value(s.value, scope, null), s.value.span);
          outputs.push({ name: s.name.name, node: v.n });
          scope.set(s.name.name, v);
        } else this.stmt(s, scope);
      } catch (x) { this.report(x); this.poisonNames(s, scope); failed = true; }
    }
    if (outputs.length === 0 && !failed)
      this.diags.error('TFX3006', `entry '${e.name.name}' has no outputs; add 'out NAME = ...'`, e.name.span);
    // A state is an input (its value before the call) and, when written, an output of the same name (after).
    for (const [name, st] of this.entryStates) {
      if (outputs.some((o) => o.name === name)) this.diags.error('TFX2002', `output '${name}' has the name of a state`, st.span);
      inputs.push(st.input);
      if (st.written) outputs.push({ name, node: st.written });
    }
    if (failed || this.diags.list.length > errorsBefore) return undefined;
    const states = [...this.entryStates].map(([name, st]) => ({ name, written: st.written !== undefined }));
    const requires = [...this.requires.values()];
    return { entry: e.name.name, inputs, outputs, ...(states.length ? { states } : {}), ...(requires.length ? { requires } : {}) };
  }

  poisonNames(s: Stmt, scope: Scope): void {
    if (s.k === 'let') for (const n of s.names) scope.set(n.name, { k: 'poison' });
    if (s.k === 'param' || s.k === 'out' || s.k === 'state' || s.k === 'write') scope.set(s.name.name, { k: 'poison' });
  }

  checkLocalName(n: Name): void {
    if (RESERVED.has(n.name)) err('TFX2002', `'${n.name}' is a built-in name and cannot be redefined`, n.span);
    const g = this.globals.get(n.name);
    if (g) err('TFX2002', `'${n.name}' shadows a top-level definition of the same name`, n.span);
    if (this.blocks.has(n.name) || this.masks.has(n.name)) err('TFX2002', `'${n.name}' shadows a block or mask of the same name`, n.span);
  }

  /** One statement of a block or entry body. Returns the block's result for `return`. */
  stmt(s: Stmt, scope: Scope): Value | undefined {
    switch (s.k) {
      case 'let': {
        for (const n of s.names) {
          this.checkLocalName(n);
          if (scope.hasLocal(n.name)) err('TFX2002', `'${n.name}' is already defined in this block`, n.span);
        }
        const v = this.value(s.value, scope, null);
        if (s.names.length === 1) {
          if (v.k === 'tuple') err('TFX2003', `this call returns ${v.items.length} values; bind them with 'let a, b = ...'`, s.value.span);
          scope.set(s.names[0]!.name, v.k === 'tensor' ? { ...v, origin: s.value.span } : v);
        } else {
          if (v.k !== 'tuple' || v.items.length !== s.names.length)
            err('TFX2003', `expected ${s.names.length} values on the right, found ${v.k === 'tuple' ? v.items.length : 1}`, s.value.span);
          (v as Extract<Value, { k: 'tuple' }>).items.forEach((x, i) => scope.set(s.names[i]!.name, x));
        }
        return undefined;
      }
      case 'param': {
        this.checkLocalName(s.name);
        if (scope.hasLocal(s.name.name)) err('TFX2002', `'${s.name.name}' is already defined in this block`, s.name.span);
        const shape = s.shape.map((x) => {
          const v = this.value(x, scope, null);
          if (v.k !== 'num' || !v.int || v.v < 0) err('TFX2005', `parameter shapes must be non-negative integers known from the config${v.k === 'dim' ? ` (found symbolic '${v.d.key}')` : ''}`, x.span);
          return (v as Extract<Value, { k: 'num' }>).v;
        });
        const numel = shape.reduce((a, b) => a * b, 1);
        if (numel > MAX_INDEX) err('TFX3008', `parameter '${s.name.name}' of shape [${shape.join(', ')}] has ${numel} elements; kernels index with 32-bit integers (at most ${MAX_INDEX})`, s.span);
        if (!s.init) err('TFX2007', `parameter '${s.name.name}' needs an init rule: '= normal(std)', '= uniform(lo, hi)', '= zeros' or '= ones'`, s.span);
        const init = this.initRule(s.init!, scope);
        const prefix = this.stack[this.stack.length - 1]!.prefix;
        const full = [...prefix, s.name.name].join('.');
        const dtype = s.dtype ?? 'f32';
        if (!isFloat(dtype)) err('TFX3002', `parameters are floating point (f32, f16, bf16), not ${dtype}`, s.span);
        if (this.entryParams.has(full)) {
          const prev = this.params.get(full);
          const call = this.stack[this.stack.length - 1]!.call;
          const notes: Note[] = [
            ...(prev?.call ? [{ message: 'first created by this call', span: prev.call }] : []),
            ...(call ? [{ message: 'created again by this call', span: call }] : []),
          ];
          err('TFX3004', `parameter '${full}' is created twice; give each call of this block its own name with 'as NAME'`, s.span, notes);
        }
        const prev = this.params.get(full);
        if (prev && (prev.stmt !== s || prev.info.shape.join() !== shape.join()))
          err('TFX3004', `parameter '${full}' is declared differently by another entry`, s.span, [{ message: 'the other declaration', span: prev.span }]);
        this.entryParams.add(full);
        const info: ParamInfo = { name: full, dtype, shape, init };
        this.params.set(full, { info, span: s.span, stmt: s, call: this.stack[this.stack.length - 1]!.call });
        const n = this.b.param(full, dtype, shape.map(dimConst), init);
        scope.set(s.name.name, { k: 'tensor', n, origin: s.span });
        return undefined;
      }
      case 'return': {
        const vs = s.values.map((x) => {
          const v = this.value(x, scope, null);
          return v.k === 'num' || v.k === 'tensor' || v.k === 'dim' ? v : err('TFX2007', `a block returns tensors or numbers, not ${describe(v)}`, x.span);
        });
        return vs.length === 1 ? vs[0]! : { k: 'tuple', items: vs };
      }
      case 'out': return err('TFX2007', `'out' is only allowed in an entry; blocks use 'return'`, s.span);
      case 'state': {
        this.checkLocalName(s.name);
        if (scope.hasLocal(s.name.name)) err('TFX2002', `'${s.name.name}' is already defined in this block`, s.name.span);
        const shape = s.shape.map((x) => this.dim(this.value(x, scope, null), x.span));
        const full = [...this.stack[this.stack.length - 1]!.prefix, s.name.name].join('.');
        const prev = this.entryStates.get(full);
        if (prev) err('TFX3004', `state '${full}' is created twice; give each call of this block its own name with 'as NAME'`, s.span, [{ message: 'first created here', span: prev.span }]);
        if (this.params.has(full)) err('TFX3004', `state '${full}' has the name of a parameter`, s.span);
        const input = this.b.input(full, s.dtype ?? 'f32', shape) as Node<'input'>;
        this.entryStates.set(full, { input, span: s.span });
        scope.states.set(s.name.name, full);
        scope.set(s.name.name, { k: 'tensor', n: input, origin: s.span });
        return undefined;
      }
      case 'write': {
        const full = scope.states.get(s.name.name);
        if (full === undefined) err('TFX2007', `'write' needs a state declared in this block with 'state ${s.name.name}: [...]'`, s.name.span);
        const st = this.entryStates.get(full!)!;
        if (st.written) err('TFX2007', `state '${full}' is written twice in one call`, s.span, [{ message: 'first written here', span: st.writeSpan! }]);
        const v = this.tensorOf(this.value(s.value, scope, null), s.value.span);
        const want = st.input;
        if (v.n.dtype !== want.dtype || v.n.shape.length !== want.shape.length || v.n.shape.some((d, i) => d.key !== want.shape[i]!.key))
          err('TFX3001', `state '${full}' is ${want.dtype}${shapeStr(want.shape)}; the value written is ${v.n.dtype}${shapeStr(v.n.shape)}`, s.value.span, [{ message: 'state declared here', span: st.span }]);
        st.written = v.n; st.writeSpan = s.span;
        // Later statements read the new value.
        scope.set(s.name.name, { ...v, origin: s.value.span });
        return undefined;
      }
    }
  }

  initRule(e: Expr, scope: Scope): InitRule {
    const nums = (args: readonly Expr[]) => args.map((a) => {
      const v = this.value(a, scope, null);
      return v.k === 'num' ? v.v : err('TFX2005', 'init rule arguments must be numbers', a.span);
    });
    const name = e.k === 'name' ? e.name : e.k === 'call' ? e.fn.name : '';
    const args = e.k === 'call' ? e.args : [];
    const arity = (n: number[], what: string) => { if (!n.includes(args.length)) err('TFX2003', `${name} takes ${what}`, e.span); };
    switch (name) {
      case 'zeros': arity([0], 'no arguments'); return { kind: 'zeros' };
      case 'ones': arity([0], 'no arguments'); return { kind: 'ones' };
      case 'normal': {
        arity([1, 2], '(std) or (mean, std)');
        const a = nums(args);
        const [mean, std] = a.length === 1 ? [0, a[0]!] : [a[0]!, a[1]!];
        if (!(std >= 0)) err('TFX2005', `normal std must be >= 0, got ${std}`, e.span);
        return { kind: 'normal', mean, std };
      }
      case 'uniform': { arity([2], '(lo, hi)'); const [lo, hi] = nums(args) as [number, number]; return { kind: 'uniform', lo, hi }; }
      default: return err('TFX2001', `unknown init rule; use normal(std), normal(mean, std), uniform(lo, hi), zeros or ones`, e.span);
    }
  }

  // ---- expressions -------------------------------------------------------------------------------------------

  /** Nodes made while evaluating `e` record its span and the block call chain (./provenance.ts). */
  value(e: Expr, scope: Scope, ix: IxCtx | null): Value {
    const prev = this.b.origins;
    const top = this.stack[this.stack.length - 1];
    this.b.origins = [{ line: e.span.line, col: e.span.col, path: top ? top.prefix.join('.') : '', block: top?.block ?? '' }];
    try { return this.checkedValue(e, scope, ix); } finally { this.b.origins = prev; }
  }

  /** Every tensor value passes here once: its extents are proven non-negative or required at bind time. */
  checkedValue(e: Expr, scope: Scope, ix: IxCtx | null): Value {
    if (this.b.size > MAX_GRAPH_NODES) {
      err('TFX3009', `the program grows past ${MAX_GRAPH_NODES} graph nodes (each block call and repeat step adds its nodes); it is too large to compile`, e.span);
    }
    const v = this.valueOf(e, scope, ix);
    if (v.k === 'tensor' && !this.checked.has(v.n.id)) { this.checked.add(v.n.id); this.checkExtents(v.n, e.span); }
    return v;
  }

  /**
   * Extents must be >= 0 (a negative one is proven here or required when the dims are bound) and every tensor
   * must fit the 32-bit index type of the kernels: at most 2^31 - 1 elements.
   */
  checkExtents(n: Node, span: Span): void {
    for (const d of n.shape) this.requireNonNeg(d, `extent ${d.key} of ${shapeStr(n.shape)}`, span);
    const numel = n.shape.reduce((a, d) => dimMul(a, d), dimConst(1));
    const c = dimAsConst(numel);
    if (c !== undefined) {
      if (c > MAX_INDEX) err('TFX3008', `a tensor of shape ${shapeStr(n.shape)} has ${c} elements; kernels index with 32-bit integers (at most ${MAX_INDEX})`, span);
    } else if (!n.shape.some((d) => dimSign(d) === 'neg')) {
      this.require(numel, 0, MAX_INDEX, `the element count ${numel.key} of ${shapeStr(n.shape)}`, span);
    }
  }

  /** `d >= 0` proven, refuted (a located error now), or left for bind time. */
  requireNonNeg(d: Dim, what: string, span: Span): void {
    const sign = this.signs.get(d.key) ?? dimSign(d);
    this.signs.set(d.key, sign);
    const syms = dimSymbols(d);
    if (sign === 'neg') err('TFX3007', syms.length ? `${what} is negative for every size of ${syms.join(', ')}` : `${what} is negative`, span);
    if (sign === 'unknown') this.require(d, 0, Number.MAX_SAFE_INTEGER, what, span);
  }

  require(dim: Dim, min: number, max: number, what: string, span: Span): void {
    const key = `${dim.key}|${min}|${max}`;
    if (!this.requires.has(key)) this.requires.set(key, { dim, min, max, what, line: span.line, col: span.col });
  }

  valueOf(e: Expr, scope: Scope, ix: IxCtx | null): Value {
    switch (e.k) {
      case 'num': return { k: 'num', v: e.value, int: e.isInt };
      case 'dtype': return { k: 'dtype', d: e.dtype };
      case 'list': return { k: 'list', items: e.items.map((x) => this.value(x, scope, ix)) };
      case 'name': {
        const v = scope.get(e.name);
        if (v?.k === 'poison') throw new Poisoned();
        if (v) {
          if (ix && v.k === 'tensor') {
            if (v.n.shape.length !== 0) err('TFX3003', `tensor '${e.name}' of shape ${shapeStr(v.n.shape)} needs indices here, e.g. ${e.name}[${v.n.shape.map((_, i) => 'ijkl'[i] ?? 'x').join(', ')}]`, e.span);
            return { k: 'ix', e: this.load(ix, v.n, []) };
          }
          return v;
        }
        const blk = this.blocks.get(e.name);
        if (blk) return { k: 'block', decl: blk };
        const m = this.masks.get(e.name);
        if (m) return { k: 'mask', decl: m, args: [] };
        return err('TFX2001', `unknown name '${e.name}'${suggest(e.name, this.knownNames(scope))}`, e.span);
      }
      case 'unary': {
        const a = this.value(e.arg, scope, ix);
        return this.unary(e.op === '-' ? 'neg' : 'not', a, e.span, e.arg.span);
      }
      case 'binary': {
        const l = this.value(e.left, scope, ix);
        const r = this.value(e.right, scope, ix);
        if (e.op === '@') {
          if (ix) err('TFX2007', `'@' (matmul) is not available inside 'for' or mask bodies`, e.span);
          const a = this.tensorOf(l, e.left.span), c = this.tensorOf(r, e.right.span);
          return { k: 'tensor', n: this.shaped(e.span, [a, c], () => this.b.matmul(a.n, c.n)), origin: e.span };
        }
        return this.binary(BIN_OPS[e.op], l, r, e.span, e.left.span, e.right.span);
      }
      case 'index': {
        if (!ix) err('TFX2007', `indexing '${e.target.name}[...]' is only allowed inside 'for (...) =>' and mask bodies; use gather/slice outside`, e.span);
        const t = scope.get(e.target.name);
        if (t?.k === 'poison') throw new Poisoned();
        if (!t && (this.blocks.has(e.target.name) || this.masks.has(e.target.name)))
          err('TFX2007', `'${e.target.name}' is a ${this.blocks.has(e.target.name) ? 'block' : 'mask'}, not a tensor, and cannot be indexed`, e.target.span);
        if (!t) err('TFX2001', `unknown name '${e.target.name}'${suggest(e.target.name, this.knownNames(scope))}`, e.target.span);
        if (t!.k !== 'tensor') err('TFX2007', `'${e.target.name}' is ${describe(t!)}, not a tensor, and cannot be indexed`, e.target.span);
        const n = (t as Extract<Value, { k: 'tensor' }>).n;
        if (e.indices.length !== n.shape.length)
          err('TFX3003', `'${e.target.name}' has shape ${shapeStr(n.shape)} (rank ${n.shape.length}) but is indexed with ${e.indices.length} indices`, e.span);
        const idx = e.indices.map((x) => {
          const iv = this.ixOf(this.value(x, scope, ix), x.span);
          if (!isInt(iv.dtype) && iv.dtype !== 'bool') err('TFX3002', `indices must be integers, found ${iv.dtype}`, x.span);
          return iv.dtype === 'i32' ? iv : { k: 'cast', a: iv, dtype: 'i32' } as IExpr;
        });
        return { k: 'ix', e: this.load(ix!, n, idx) };
      }
      case 'for': {
        if (ix) err('TFX2007', `'for' cannot be nested inside another 'for' or a mask`, e.span);
        const inner = new Scope(scope);
        const shape: Dim[] = [];
        e.vars.forEach((v, i) => {
          const d = this.dim(this.value(v.extent, scope, null), v.extent.span);
          this.requireNonNeg(d, `the extent ${d.key} of '${v.name.name}'`, v.extent.span);
          shape.push(d);
          if (inner.hasLocal(v.name.name)) err('TFX2002', `index '${v.name.name}' is declared twice`, v.name.span);
          this.checkLocalName(v.name);
          inner.set(v.name.name, { k: 'ix', e: { k: 'idx', i, dtype: 'i32' } });
        });
        const ctx: IxCtx = { srcs: [] };
        const body = this.ixOf(this.value(e.body, inner, ctx), e.body.span);
        return { k: 'tensor', n: this.b.compute(body.dtype, shape, ctx.srcs, body), origin: e.span };
      }
      case 'call': return this.call(e, scope, ix);
    }
  }

  knownNames(scope: Scope): string[] {
    void scope;
    return [...Object.keys(this.config), ...this.symbols, ...this.blocks.keys(), ...this.masks.keys(), ...RESERVED];
  }

  load(ix: IxCtx, n: Node, idx: readonly IExpr[]): IExpr {
    let i = ix.srcs.indexOf(n);
    if (i < 0) { ix.srcs.push(n); i = ix.srcs.length - 1; }
    return { k: 'load', src: i, idx, dtype: n.dtype };
  }

  /** Run a builder call, turning shape errors into a diagnostic that shows every tensor operand's shape and origin. */
  shaped<T>(span: Span, args: readonly Value[], f: () => T): T {
    try {
      return f();
    } catch (x) {
      if (!(x instanceof ShapeError)) throw x;
      const notes: Note[] = args.flatMap((a, i) => (a.k === 'tensor' ? [{ message: `operand ${i + 1} has shape ${shapeStr(a.n.shape)} (${a.n.dtype}), from here`, span: a.origin }] : []));
      return err('TFX3001', x.message, span, notes);
    }
  }

  tensorOf(v: Value, span: Span): Extract<Value, { k: 'tensor' }> {
    switch (v.k) {
      case 'tensor': return v;
      case 'num': return { k: 'tensor', n: this.b.const(v.v, v.int ? 'i32' : 'f32'), origin: span };
      case 'dim': return { k: 'tensor', n: this.b.compute('i32', [], [], { k: 'dim', d: v.d, dtype: 'i32' }), origin: span };
      case 'poison': throw new Poisoned();
      default: return err('TFX2007', `expected a tensor, found ${describe(v)}`, span);
    }
  }

  ixOf(v: Value, span: Span): IExpr {
    switch (v.k) {
      case 'ix': return v.e;
      case 'num': return { k: 'const', v: v.v, dtype: v.int ? 'i32' : 'f32' };
      case 'dim': return { k: 'dim', d: v.d, dtype: 'i32' };
      case 'poison': throw new Poisoned();
      default: return err('TFX2007', `expected a scalar expression here, found ${describe(v)}`, span);
    }
  }

  dim(v: Value, span: Span): Dim {
    if (v.k === 'dim') return v.d;
    if (v.k === 'num' && v.int && v.v >= 0) return dimConst(v.v);
    if (v.k === 'poison') throw new Poisoned();
    return err('TFX2005', `expected a size (a non-negative integer or a dimension like B, S), found ${describe(v)}`, span);
  }

  staticInt(v: Value, span: Span, what: string): number {
    if (v.k === 'num' && v.int) return v.v;
    if (v.k === 'dim') { const c = dimAsConst(v.d); if (c !== undefined) return c; }
    if (v.k === 'poison') throw new Poisoned();
    return err('TFX2005', `${what} must be an integer known at compile time, found ${describe(v)}`, span);
  }
  staticNum(v: Value, span: Span, what: string): number {
    if (v.k === 'num') return v.v;
    if (v.k === 'poison') throw new Poisoned();
    return err('TFX2005', `${what} must be a number known at compile time, found ${describe(v)}`, span);
  }

  unary(op: UnaryOp | 'neg', a: Value, span: Span, argSpan: Span): Value {
    if (a.k === 'poison') throw new Poisoned();
    if (a.k === 'num') {
      if (op === 'not') return { k: 'num', v: a.v ? 0 : 1, int: true };
      const v = foldUnary(op, a.v, a.int);
      if (!Number.isFinite(v)) err('TFX2005', `constant expression is not finite (${v})`, span);
      return { k: 'num', v, int: a.int && (op === 'neg' || op === 'abs' || op === 'floor' || op === 'ceil') };
    }
    if (a.k === 'dim' && op === 'neg') return { k: 'dim', d: dimSub(dimConst(0), a.d) };
    if (a.k === 'ix') {
      if (op === 'not' && a.e.dtype !== 'bool') err('TFX3002', `'!' needs a bool operand, found ${a.e.dtype}`, argSpan);
      const floaty = !['neg', 'abs', 'floor', 'ceil', 'not'].includes(op);
      const x: IExpr = floaty && !isFloat(a.e.dtype) ? { k: 'cast', a: a.e, dtype: 'f32' } : a.e;
      return { k: 'ix', e: { k: 'un', op, a: x, dtype: op === 'not' ? 'bool' : x.dtype } };
    }
    if (a.k === 'dim') return this.unary(op, { k: 'ix', e: { k: 'dim', d: a.d, dtype: 'i32' } }, span, argSpan);
    const t = this.tensorOf(a, argSpan);
    if (op === 'not' && t.n.dtype !== 'bool') err('TFX3002', `'!' needs a bool operand, found ${t.n.dtype}`, argSpan);
    if (op !== 'not' && t.n.dtype === 'bool') err('TFX3002', `${op} needs a number, found bool; use cast(x, f32)`, argSpan);
    return { k: 'tensor', n: this.b.unary(op, t.n), origin: span };
  }

  binary(op: BinaryOp, l: Value, r: Value, span: Span, ls: Span, rs: Span): Value {
    if (l.k === 'poison' || r.k === 'poison') throw new Poisoned();
    const logical = op === 'and' || op === 'or';
    // Static arithmetic: config values and sizes.
    if (l.k === 'num' && r.k === 'num') return foldBinary(op, l, r, span);
    if ((l.k === 'dim' || l.k === 'num') && (r.k === 'dim' || r.k === 'num') && (l.k === 'dim' || r.k === 'dim')) {
      const a = this.dim(l, ls), c = this.dim(r, rs);
      const size = (d: Dim): Value => {
        if (!d.terms.every((t) => Number.isSafeInteger(t.c))) err('TFX2005', `size ${d.key} is too large`, span);
        return { k: 'dim', d };
      };
      if (op === 'add') return size(dimAdd(a, c));
      if (op === 'sub') return size(dimSub(a, c));
      if (op === 'mul') return size(dimMul(a, c));
      if (op === 'div') { const q = dimDiv(a, c); if (q) return size(q); err('TFX2005', `size ${a.key} is not divisible by ${c.key}`, span); }
    }
    if (l.k === 'ix' || r.k === 'ix') {
      const a = this.ixOf(l, ls), c = this.ixOf(r, rs);
      if (logical && (a.dtype !== 'bool' || c.dtype !== 'bool')) err('TFX3002', `'${op === 'and' ? '&&' : '||'}' needs bool operands, found ${a.dtype} and ${c.dtype}`, span);
      if (!logical && (a.dtype === 'bool' || c.dtype === 'bool') && op !== 'eq' && op !== 'ne') err('TFX3002', `arithmetic on bool values; use cast(x, i32)`, span);
      const t = logical ? 'bool' : promote(a.dtype, c.dtype);
      const ca: IExpr = a.dtype === t ? a : { k: 'cast', a, dtype: t };
      const cc: IExpr = c.dtype === t ? c : { k: 'cast', a: c, dtype: t };
      const out = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'].includes(op) ? 'bool' : t;
      return { k: 'ix', e: { k: 'bin', op, a: ca, b: cc, dtype: out } };
    }
    const a = this.tensorOf(l, ls), c = this.tensorOf(r, rs);
    if (logical && (a.n.dtype !== 'bool' || c.n.dtype !== 'bool')) err('TFX3002', `'${op === 'and' ? '&&' : '||'}' needs bool operands, found ${a.n.dtype} and ${c.n.dtype}`, span);
    if (!logical && op !== 'eq' && op !== 'ne' && (a.n.dtype === 'bool' || c.n.dtype === 'bool')) err('TFX3002', `arithmetic on bool tensors; use cast(x, f32)`, span);
    // A float literal next to an int tensor promotes the tensor; an int literal adopts the tensor's type.
    const aa = l.k === 'num' && l.int && isFloat(c.n.dtype) ? this.b.const(l.v, c.n.dtype) : a.n;
    const cc = r.k === 'num' && r.int && isFloat(a.n.dtype) ? this.b.const(r.v, a.n.dtype) : c.n;
    return { k: 'tensor', n: this.shaped(span, [a, c], () => this.b.binary(op, aa, cc)), origin: span };
  }

  // ---- calls -------------------------------------------------------------------------------------------------

  call(e: Extract<Expr, { k: 'call' }>, scope: Scope, ix: IxCtx | null): Value {
    const name = e.fn.name;
    const local = scope.get(name);
    if (local?.k === 'block') {
      // A block passed as an argument is called like the block itself.
      if (ix) err('TFX2007', `blocks cannot be called inside 'for' or mask bodies`, e.span);
      return this.callBlock(local.decl, e.args.map((a) => this.value(a, scope, null)), e, e.as?.name);
    }
    if (local && local.k !== 'poison') err('TFX2007', `'${name}' is ${describe(local)}, not a function`, e.fn.span);
    const blk = this.blocks.get(name);
    if (blk) {
      if (ix) err('TFX2007', `blocks cannot be called inside 'for' or mask bodies`, e.span);
      const args = e.args.map((a) => this.value(a, scope, null));
      return this.callBlock(blk, args, e, e.as?.name);
    }
    const mask = this.masks.get(name);
    if (mask) {
      if (e.as) err('TFX2007', `'as' names a block call; '${name}' is a mask`, e.as.span);
      if (ix) return this.applyMask(mask, e, scope, ix);
      const args = e.args.map((a) => this.value(a, scope, null));
      if (args.length !== mask.tensors.length)
        err('TFX2003', `mask '${name}' takes ${mask.tensors.length} tensor argument(s) (${mask.tensors.map((t) => t.name).join(', ')}), found ${args.length}`, e.span);
      return { k: 'mask', decl: mask, args };
    }
    if (e.as && name !== 'repeat') err('TFX2007', `'as NAME' only applies to block calls and repeat`, e.as.span);
    return this.builtin(e, scope, ix);
  }

  callBlock(blk: BlockDecl, args: readonly Value[], at: { span: Span }, alias: string | undefined): Value {
    if (args.length !== blk.params.length)
      err('TFX2003', `block '${blk.name.name}' takes ${blk.params.length} argument(s) (${blk.params.map((p) => p.name).join(', ')}), found ${args.length}`, at.span, [{ message: 'declared here', span: blk.name.span }]);
    if (this.stack.some((f) => f.block === blk.name.name))
      err('TFX2008', `block '${blk.name.name}' calls itself (${[...this.stack.slice(1).map((f) => f.block), blk.name.name].join(' -> ')}); use repeat(n, block, ...) for repetition`, at.span);
    if (this.stack.length > 64) err('TFX2008', 'blocks nested more than 64 deep', at.span);
    const top = this.stack[this.stack.length - 1]!;
    this.stack.push({ block: blk.name.name, prefix: alias ? [...top.prefix, alias] : top.prefix, call: at.span });
    try {
      const scope = new Scope(this.globals);
      blk.params.forEach((p, i) => {
        if (scope.hasLocal(p.name)) err('TFX2002', `parameter '${p.name}' is declared twice`, p.span);
        this.checkLocalName(p);
        scope.set(p.name, args[i]!);
      });
      let result: Value | undefined;
      for (const s of blk.body) {
        if (result) err('TFX2007', `statement after 'return'`, s.span);
        result = this.stmt(s, scope);
      }
      if (!result) err('TFX3006', `block '${blk.name.name}' has no 'return'`, blk.name.span);
      return result!;
    } finally {
      this.stack.pop();
    }
  }

  builtin(e: Extract<Expr, { k: 'call' }>, scope: Scope, ix: IxCtx | null): Value {
    const name = e.fn.name;
    const A = e.args;
    const arity = (lo: number, hi = lo, sig = '') => {
      if (A.length < lo || A.length > hi) err('TFX2003', `${name}${sig} takes ${lo === hi ? lo : `${lo} to ${hi}`} argument(s), found ${A.length}`, e.span);
    };
    const val = (i: number) => this.value(A[i]!, scope, ix);
    const ten = (i: number) => this.tensorOf(this.value(A[i]!, scope, null), A[i]!.span);
    const int = (i: number, what: string) => this.staticInt(this.value(A[i]!, scope, null), A[i]!.span, what);
    const num = (i: number, what: string) => this.staticNum(this.value(A[i]!, scope, null), A[i]!.span, what);
    const intList = (i: number, what: string): number[] => {
      const v = this.value(A[i]!, scope, null);
      if (v.k === 'list') return v.items.map((x) => this.staticInt(x, A[i]!.span, what));
      return [this.staticInt(v, A[i]!.span, what)];
    };
    const out = (n: Node): Value => ({ k: 'tensor', n, origin: e.span });
    const tensorOnly = () => { if (ix) err('TFX2007', `${name} is not available inside 'for' or mask bodies`, e.span); };
    const sh = <T>(args: Value[], f: () => T) => this.shaped(e.span, args, f);

    const u = UNARY_FNS[name];
    if (u) { arity(1); return this.unary(u, val(0), e.span, A[0]!.span); }
    switch (name) {
      case 'pow': arity(2); return this.binary('pow', val(0), val(1), e.span, A[0]!.span, A[1]!.span);
      case 'max': case 'min': {
        arity(2);
        const second = this.value(A[1]!, scope, ix);
        if (second.k === 'list') { tensorOnly(); const x = ten(0); return out(sh([x], () => this.b.reduce(name, x.n, intList(1, 'axes')))); }
        return this.binary(name, val(0), second, e.span, A[0]!.span, A[1]!.span);
      }
      case 'ceil_div': case 'round_up': {
        arity(2);
        const a = int(0, `${name} operand`), c = int(1, `${name} operand`);
        if (c <= 0) err('TFX2005', `${name} needs a positive divisor, found ${c}`, A[1]!.span);
        const q = Math.ceil(a / c);
        return { k: 'num', v: name === 'ceil_div' ? q : q * c, int: true };
      }
      case 'where': {
        arity(3);
        const c = val(0), a = val(1), b = val(2);
        if (ix || c.k === 'ix' || a.k === 'ix' || b.k === 'ix') {
          if (!ix) err('TFX2007', 'internal: index value outside for', e.span);
          const ce = this.ixOf(c, A[0]!.span);
          if (ce.dtype !== 'bool') err('TFX3002', `where's condition must be bool, found ${ce.dtype}`, A[0]!.span);
          const ae = this.ixOf(a, A[1]!.span), be = this.ixOf(b, A[2]!.span);
          const t = promote(ae.dtype, be.dtype);
          const cast = (x: IExpr): IExpr => (x.dtype === t ? x : { k: 'cast', a: x, dtype: t });
          return { k: 'ix', e: { k: 'where', c: ce, a: cast(ae), b: cast(be), dtype: t } };
        }
        const ct = this.tensorOf(c, A[0]!.span), at = this.tensorOf(a, A[1]!.span), bt = this.tensorOf(b, A[2]!.span);
        if (ct.n.dtype !== 'bool') err('TFX3002', `where's condition must be bool, found ${ct.n.dtype}`, A[0]!.span);
        const an = a.k === 'num' && isFloat(bt.n.dtype) ? this.b.const(a.v, bt.n.dtype) : at.n;
        const bn = b.k === 'num' && isFloat(at.n.dtype) ? this.b.const(b.v, at.n.dtype) : bt.n;
        return out(sh([ct, at, bt], () => this.b.where(ct.n, an, bn)));
      }
      case 'cast': {
        arity(2);
        const x = val(0), d = this.value(A[1]!, scope, null);
        if (d.k !== 'dtype') err('TFX2007', `cast's second argument is a dtype (f32, i32, ...)`, A[1]!.span);
        const to = (d as Extract<Value, { k: 'dtype' }>).d;
        if (x.k === 'ix' || (ix && (x.k === 'num' || x.k === 'dim'))) { const xe = this.ixOf(x, A[0]!.span); return { k: 'ix', e: xe.dtype === to ? xe : { k: 'cast', a: xe, dtype: to } }; }
        if (x.k === 'num') {
          const v = isFloat(to) ? x.v : to === 'bool' ? +(x.v !== 0) : Math.trunc(x.v);
          if (!isFloat(to) && !Number.isSafeInteger(v)) err('TFX2005', `cast(${x.v}, ${to}) is not a representable integer`, e.span);
          return { k: 'num', v, int: !isFloat(to) };
        }
        return out(this.b.cast(this.tensorOf(x, A[0]!.span).n, to));
      }
    }
    tensorOnly();
    switch (name) {
      case 'sum': case 'mean': {
        arity(1, 2);
        const x = ten(0);
        const axes = A.length === 2 ? intList(1, 'axes') : x.n.shape.map((_, i) => i);
        if (x.n.dtype === 'bool') err('TFX3002', `${name} of a bool tensor; use cast(x, f32)`, A[0]!.span);
        return out(sh([x], () => this.b.reduce(name, x.n, axes)));
      }
      case 'softmax': case 'log_softmax': {
        arity(1, 2);
        const x = ten(0);
        return out(sh([x], () => this.b.softmax(x.n, A.length === 2 ? int(1, 'axis') : -1, name === 'log_softmax')));
      }
      case 'matmul': { arity(2); const a = ten(0), c = ten(1); return out(sh([a, c], () => this.b.matmul(a.n, c.n))); }
      case 'linear': {
        arity(2, 3);
        const x = ten(0), w = ten(1);
        let y = sh([x, w], () => this.b.matmul(x.n, w.n));
        if (A.length === 3) { const bias = ten(2); y = sh([x, w, bias], () => this.b.binary('add', y, bias.n)); }
        return out(y);
      }
      case 'gather': {
        arity(2);
        const t = ten(0), ids = ten(1);
        if (!isInt(ids.n.dtype)) err('TFX3002', `gather indices must be integers, found ${ids.n.dtype}`, A[1]!.span);
        return out(sh([t, ids], () => this.b.gather(t.n, ids.n)));
      }
      case 'reshape': case 'broadcast': {
        arity(2);
        const x = ten(0);
        const sv = this.value(A[1]!, scope, null);
        if (sv.k !== 'list') err('TFX2007', `${name}'s second argument is a shape like [B, S, 64]`, A[1]!.span);
        const shape = (sv as Extract<Value, { k: 'list' }>).items.map((d) => this.dim(d, A[1]!.span));
        return out(sh([x], () => (name === 'reshape' ? this.b.reshape(x.n, shape) : this.b.expand(x.n, shape))));
      }
      case 'permute': { arity(2); const x = ten(0); return out(sh([x], () => this.b.permute(x.n, intList(1, 'permutation')))); }
      case 'transpose': {
        arity(1, 3);
        const x = ten(0);
        const r = x.n.shape.length;
        const [p, q] = A.length === 3 ? [int(1, 'axis'), int(2, 'axis')] : [-2, -1];
        const perm = x.n.shape.map((_, i) => i);
        const pp = p < 0 ? p + r : p, qq = q < 0 ? q + r : q;
        if (pp < 0 || pp >= r || qq < 0 || qq >= r) err('TFX3003', `transpose axes (${p}, ${q}) out of range for rank ${r}`, e.span);
        [perm[pp], perm[qq]] = [perm[qq]!, perm[pp]!];
        return out(sh([x], () => this.b.permute(x.n, perm)));
      }
      case 'unsqueeze': case 'squeeze': {
        arity(2);
        const x = ten(0);
        const ax = int(1, 'axis');
        const r = x.n.shape.length;
        if (name === 'unsqueeze') {
          const a = ax < 0 ? ax + r + 1 : ax;
          if (a < 0 || a > r) err('TFX3003', `unsqueeze axis ${ax} out of range for rank ${r}`, A[1]!.span);
          const s: Dim[] = [...x.n.shape]; s.splice(a, 0, dimConst(1));
          return out(this.b.reshape(x.n, s));
        }
        const a = ax < 0 ? ax + r : ax;
        if (a < 0 || a >= r || dimAsConst(x.n.shape[a]!) !== 1) err('TFX3003', `squeeze axis ${ax}: the dimension must exist and be 1 in ${shapeStr(x.n.shape)}`, A[1]!.span);
        return out(this.b.reshape(x.n, x.n.shape.filter((_, i) => i !== a)));
      }
      case 'slice': {
        arity(4, 4, '(x, axis, start, end)');
        const x = ten(0);
        const axis = int(1, 'axis');
        const start = this.dim(this.value(A[2]!, scope, null), A[2]!.span);
        const end = this.dim(this.value(A[3]!, scope, null), A[3]!.span);
        // 0 <= start <= end <= size, proven now or checked when the dims are bound: a kernel never reads outside x.
        const r = x.n.shape.length;
        const size = x.n.shape[axis < 0 ? axis + r : axis];
        if (size !== undefined) {
          this.requireNonNeg(start, `slice start ${start.key}`, A[2]!.span);
          this.requireNonNeg(dimSub(end, start), `slice length ${end.key} - (${start.key})`, A[3]!.span);
          this.requireNonNeg(dimSub(size, end), `slice end ${end.key} on axis ${axis} of size ${size.key}: size - end = ${dimSub(size, end).key}`, A[3]!.span);
        }
        return out(sh([x], () => this.b.slice(x.n, axis, start, dimSub(end, start))));
      }
      case 'concat': {
        if (A.length < 2) err('TFX2003', 'concat takes an axis and at least one tensor: concat(axis, a, b, ...)', e.span);
        const axis = int(0, 'axis');
        const xs = A.slice(1).map((_, i) => ten(i + 1));
        return out(sh(xs, () => this.b.concat(xs.map((x) => x.n), axis)));
      }
      case 'rmsnorm': {
        arity(3, 3, '(x, weight, eps)');
        const x = ten(0), w = ten(1);
        return out(sh([x, w], () => this.b.rmsnorm(x.n, w.n, num(2, 'eps'))));
      }
      case 'layernorm': {
        arity(4, 4, '(x, weight, bias, eps)');
        const x = ten(0), w = ten(1), bias = ten(2);
        return out(sh([x, w, bias], () => this.b.layernorm(x.n, w.n, bias.n, num(3, 'eps'))));
      }
      case 'rope': {
        arity(3, 3, '(x, positions, theta)');
        const x = ten(0), pos = ten(1);
        if (!isInt(pos.n.dtype)) err('TFX3002', `rope positions must be integers, found ${pos.n.dtype}`, A[1]!.span);
        return out(sh([x, pos], () => this.b.rope(x.n, pos.n, num(2, 'theta'))));
      }
      case 'attention': return this.attention(e, scope);
      case 'repeat': return this.repeat(e, scope);
      case 'normal': case 'uniform': case 'zeros': case 'ones':
        return err('TFX2007', `${name}(...) is an init rule; use it after 'param NAME: [shape] ='`, e.span);
    }
    return err('TFX2001', `unknown function '${name}'${suggest(name, this.knownNames(scope))}`, e.fn.span);
  }

  attention(e: Extract<Expr, { k: 'call' }>, scope: Scope): Value {
    const A = e.args;
    if (A.length < 3 || A.length > 5) err('TFX2003', `attention takes (q, k, v), (q, k, v, mask) or (q, k, v, mask, scale), found ${A.length} arguments`, e.span);
    const [q, k, v] = [0, 1, 2].map((i) => this.tensorOf(this.value(A[i]!, scope, null), A[i]!.span)) as [Extract<Value, { k: 'tensor' }>, Extract<Value, { k: 'tensor' }>, Extract<Value, { k: 'tensor' }>];
    // The fused kernels hold a head's row per thread (WGSL: array<f32, D>, fewer than 65536 entries).
    const headDim = q.n.shape.length ? dimAsConst(q.n.shape[q.n.shape.length - 1]!) : undefined;
    if (headDim !== undefined && headDim > MAX_HEAD_DIM) err('TFX3008', `attention head dimension ${headDim} is over ${MAX_HEAD_DIM}, the most the attention kernels hold per thread`, A[0]!.span);
    let mask: IExpr | null = null;
    let maskName = 'none';
    const ctx: IxCtx = { srcs: [] };
    if (A.length >= 4) {
      const mv = this.value(A[3]!, scope, null);
      if (mv.k !== 'mask') err('TFX2007', `attention's fourth argument is a mask, e.g. causal or transfusion(len, img); found ${describe(mv)}`, A[3]!.span);
      const m = mv as Extract<Value, { k: 'mask' }>;
      if (m.args.length !== m.decl.tensors.length)
        err('TFX2003', `mask '${m.decl.name.name}' takes ${m.decl.tensors.length} tensor argument(s) (${m.decl.tensors.map((t) => t.name).join(', ')})`, A[3]!.span);
      mask = this.maskBody(m, ctx, A[3]!.span);
      maskName = m.decl.name.name;
    }
    const D = dimAsConst(q.n.shape[3] ?? dimConst(0));
    let scale: number;
    if (A.length === 5) scale = this.staticNum(this.value(A[4]!, scope, null), A[4]!.span, 'attention scale');
    else if (D === undefined || D <= 0) return err('TFX2005', `attention needs a known head dimension to pick the default scale 1/sqrt(D); pass a scale`, e.span);
    else scale = 1 / Math.sqrt(D);
    const inputs = ctx.srcs;
    return { k: 'tensor', n: this.shaped(e.span, [q, k, v], () => this.b.attention(q.n, k.n, v.n, inputs, mask, maskName, scale)), origin: e.span };
  }

  /** A mask body becomes a bool IExpr over (b, q, k) whose loads read the mask's tensor arguments. */
  maskBody(m: Extract<Value, { k: 'mask' }>, ctx: IxCtx, at: Span): IExpr {
    const d = m.decl;
    if (d.indices.length !== 3) err('TFX3005', `mask '${d.name.name}' must take exactly three indices (batch, query, key), found ${d.indices.length}`, d.name.span);
    const scope = new Scope(this.globals);
    d.indices.forEach((n, i) => scope.set(n.name, { k: 'ix', e: { k: 'idx', i, dtype: 'i32' } }));
    d.tensors.forEach((n, i) => {
      const a = m.args[i]!;
      if (a.k === 'poison') throw new Poisoned();
      if (a.k !== 'tensor') err('TFX2007', `mask '${d.name.name}' argument '${n.name}' must be a tensor, found ${describe(a)}`, at);
      scope.set(n.name, a);
    });
    try {
      const body = this.ixOf(this.value(d.body, scope, ctx), d.body.span);
      if (body.dtype !== 'bool') err('TFX3005', `mask '${d.name.name}' must be a condition (bool), found ${body.dtype}`, d.body.span);
      return body;
    } catch (x) {
      if (x instanceof ElabError && x.span !== at) throw new ElabError(x.code, x.message, x.span, [...x.notes, { message: 'mask used here', span: at }]);
      throw x;
    }
  }

  /**
   * Inside a `for` or mask body, `m(b, q, k, t1, ...)` is the mask's condition at those indices (any integer
   * expressions) with those tensors: masks for other query layouts reuse one predicate, e.g. a block of
   * queries at cache positions `qpos[b, q]` is `transfusion(b, qpos[b, q], k, len, img)`.
   */
  applyMask(m: MaskDecl, e: Extract<Expr, { k: 'call' }>, scope: Scope, ix: IxCtx): Value {
    const n = m.indices.length + m.tensors.length;
    if (e.args.length !== n)
      err('TFX2003', `inside a body, mask '${m.name.name}' takes its ${m.indices.length} indices and ${m.tensors.length} tensor(s) (${[...m.indices, ...m.tensors].map((x) => x.name).join(', ')}), found ${e.args.length}`, e.span);
    const inner = new Scope(this.globals);
    m.indices.forEach((x, i) => {
      const a = this.ixOf(this.value(e.args[i]!, scope, ix), e.args[i]!.span);
      if (!isInt(a.dtype)) err('TFX3002', `mask indices must be integers, found ${a.dtype}`, e.args[i]!.span);
      inner.set(x.name, { k: 'ix', e: a });
    });
    m.tensors.forEach((x, i) => {
      const a = e.args[m.indices.length + i]!;
      inner.set(x.name, this.tensorOf(this.value(a, scope, null), a.span));
    });
    if (this.stack.some((f) => f.block === `mask ${m.name.name}`)) err('TFX2008', `mask '${m.name.name}' uses itself`, e.span);
    this.stack.push({ block: `mask ${m.name.name}`, prefix: this.stack[this.stack.length - 1]!.prefix });
    try {
      const body = this.ixOf(this.value(m.body, inner, ix), m.body.span);
      if (body.dtype !== 'bool') err('TFX3005', `mask '${m.name.name}' must be a condition (bool), found ${body.dtype}`, m.body.span);
      return { k: 'ix', e: body };
    } finally { this.stack.pop(); }
  }

  repeat(e: Extract<Expr, { k: 'call' }>, scope: Scope): Value {
    const A = e.args;
    if (A.length < 3) err('TFX2003', 'repeat takes (count, block, x, extra args...)', e.span);
    const n = this.staticInt(this.value(A[0]!, scope, null), A[0]!.span, 'repeat count');
    if (n < 0 || n > 4096) err('TFX2005', `repeat count must be between 0 and 4096, found ${n}`, A[0]!.span);
    const bv = this.value(A[1]!, scope, null);
    if (bv.k !== 'block') err('TFX2007', `repeat's second argument is a block name, found ${describe(bv)}`, A[1]!.span);
    const blk = (bv as Extract<Value, { k: 'block' }>).decl;
    const alias = e.as?.name ?? blk.name.name;
    let x = this.value(A[2]!, scope, null);
    const rest = A.slice(3).map((a) => this.value(a, scope, null));
    for (let i = 0; i < n; i++) {
      const top = this.stack[this.stack.length - 1]!;
      this.stack.push({ block: '#repeat', prefix: [...top.prefix, alias] });
      try {
        x = this.callBlock(blk, [x, ...rest], e, String(i));
      } finally { this.stack.pop(); }
      if (x.k === 'tuple') err('TFX2007', `a repeated block must return one value`, e.span);
    }
    return x;
  }
}

function describe(v: Value): string {
  switch (v.k) {
    case 'num': return `the number ${v.v}`;
    case 'dim': return `the size ${v.d.key}`;
    case 'tensor': return `a tensor ${v.n.dtype}${shapeStr(v.n.shape)}`;
    case 'ix': return `a scalar ${v.e.dtype} expression`;
    case 'list': return 'a list';
    case 'dtype': return 'a dtype';
    case 'mask': return `the mask '${v.decl.name.name}'`;
    case 'block': return `the block '${v.decl.name.name}'`;
    case 'tuple': return `${v.items.length} values`;
    case 'poison': return 'an erroneous value';
  }
}

/** Config arithmetic: ints exact, floats by the f32 rule of semantics.ts (one f32 rounding per op, as a kernel). */
function foldUnary(op: UnaryOp | 'neg', x: number, int: boolean): number {
  return int && (op === 'neg' || op === 'abs' || op === 'floor' || op === 'ceil') ? FLOAT_UNARY[op](x) : f32Unary(op, x);
}

function foldBinary(op: BinaryOp, a: { v: number; int: boolean }, b: { v: number; int: boolean }, span: Span): Value {
  const int = a.int && b.int;
  const r = (v: number, isInt = int): Value => {
    if (!Number.isFinite(v)) err('TFX2005', `constant expression is not finite (${v})`, span);
    if (isInt && !Number.isSafeInteger(v)) err('TFX2005', `integer constant ${v} is too large`, span);
    return { k: 'num', v, int: isInt };
  };
  const f = (o: keyof typeof FLOAT_BINARY): Value => r(int ? FLOAT_BINARY[o](a.v, b.v) : f32Binary(o, a.v, b.v));
  switch (op) {
    case 'add': case 'sub': case 'mul': case 'max': case 'min': return f(op);
    case 'div':
      if (b.v === 0) return err('TFX2005', 'division by zero in a constant expression', span);
      if (int && a.v % b.v !== 0) return err('TFX2005', `integer division ${a.v} / ${b.v} is not exact; use ceil_div(a, b), round_up(a, m) or a float literal`, span);
      return f('div');
    case 'mod': if (b.v === 0) return err('TFX2005', 'modulo by zero in a constant expression', span); return int ? r(intMod(a.v, b.v)) : f('mod');
    case 'pow': return int && b.v >= 0 ? r(a.v ** b.v, true) : r(f32Binary('pow', a.v, b.v), false);
    case 'lt': return r(+(a.v < b.v), true);
    case 'le': return r(+(a.v <= b.v), true);
    case 'gt': return r(+(a.v > b.v), true);
    case 'ge': return r(+(a.v >= b.v), true);
    case 'eq': return r(+(a.v === b.v), true);
    case 'ne': return r(+(a.v !== b.v), true);
    case 'and': return r(+(!!a.v && !!b.v), true);
    case 'or': return r(+(!!a.v || !!b.v), true);
  }
}

/** "did you mean" by edit distance, for unknown names. */
function suggest(name: string, known: readonly string[]): string {
  let best = '', bestD = Infinity;
  for (const k of known) {
    if (Math.abs(k.length - name.length) > 2) continue;
    const d = editDistance(name, k);
    if (d < bestD) { bestD = d; best = k; }
  }
  return bestD <= Math.max(1, Math.floor(name.length / 3)) ? `; did you mean '${best}'?` : '';
}
function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!; dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export type { Shape };
