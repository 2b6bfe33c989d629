/** The AST of a .tfx file: plain immutable data with a span on every node (the contract with the IR lowering). */
import type { DType } from '../core/dtype.js';
import type { Span } from './diagnostics.js';

export interface Name { readonly name: string; readonly span: Span }

export type BinOp = '||' | '&&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '@';
export type Expr =
  | { readonly k: 'num'; readonly value: number; readonly isInt: boolean; readonly span: Span }
  | { readonly k: 'name'; readonly name: string; readonly span: Span }
  | { readonly k: 'dtype'; readonly dtype: DType; readonly span: Span }
  | { readonly k: 'list'; readonly items: readonly Expr[]; readonly span: Span }
  | { readonly k: 'unary'; readonly op: '-' | '!'; readonly arg: Expr; readonly span: Span }
  | { readonly k: 'binary'; readonly op: BinOp; readonly left: Expr; readonly right: Expr; readonly span: Span }
  | { readonly k: 'call'; readonly fn: Name; readonly args: readonly Expr[]; readonly as?: Name; readonly span: Span }
  | { readonly k: 'index'; readonly target: Name; readonly indices: readonly Expr[]; readonly span: Span }
  | { readonly k: 'for'; readonly vars: readonly { readonly name: Name; readonly extent: Expr }[]; readonly body: Expr; readonly span: Span };

export type Stmt =
  | { readonly k: 'let'; readonly names: readonly Name[]; readonly value: Expr; readonly span: Span }
  | { readonly k: 'param'; readonly name: Name; readonly dtype?: DType; readonly shape: readonly Expr[]; readonly init?: Expr; readonly span: Span }
  | { readonly k: 'return'; readonly values: readonly Expr[]; readonly span: Span }
  | { readonly k: 'out'; readonly name: Name; readonly value: Expr; readonly span: Span }
  | { readonly k: 'state'; readonly name: Name; readonly dtype?: DType; readonly shape: readonly Expr[]; readonly span: Span }
  | { readonly k: 'write'; readonly name: Name; readonly value: Expr; readonly span: Span };

export interface Binding { readonly name: Name; readonly value: Expr }
export interface TypedParam { readonly name: Name; readonly dtype: DType; readonly shape: readonly Expr[]; readonly span: Span }

export type Decl =
  | { readonly k: 'config'; readonly entries: readonly Binding[]; readonly span: Span }
  | { readonly k: 'preset'; readonly name: Name; readonly entries: readonly Binding[]; readonly span: Span }
  | { readonly k: 'dim'; readonly names: readonly Name[]; readonly span: Span }
  | { readonly k: 'mask'; readonly name: Name; readonly indices: readonly Name[]; readonly tensors: readonly Name[]; readonly body: Expr; readonly span: Span }
  | { readonly k: 'block'; readonly name: Name; readonly params: readonly Name[]; readonly body: readonly Stmt[]; readonly span: Span }
  | { readonly k: 'entry'; readonly name: Name; readonly params: readonly TypedParam[]; readonly body: readonly Stmt[]; readonly span: Span };

export interface Module { readonly model: Name; readonly decls: readonly Decl[] }
