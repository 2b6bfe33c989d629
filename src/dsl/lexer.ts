/** Tokens of the .tfx language. Identifiers are ASCII only, so no spec text can smuggle bytes into generated code. */
import { createToken, Lexer, type TokenType } from 'chevrotain';

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
const kw = (name: string, word: string) => createToken({ name, pattern: new RegExp(`${word}\\b`), longer_alt: Ident });

export const Model = kw('Model', 'model');
export const Config = kw('Config', 'config');
export const Preset = kw('Preset', 'preset');
export const DimKw = kw('DimKw', 'dim');
export const MaskKw = kw('MaskKw', 'mask');
export const BlockKw = kw('BlockKw', 'block');
export const EntryKw = kw('EntryKw', 'entry');
export const Let = kw('Let', 'let');
export const ParamKw = kw('ParamKw', 'param');
export const Return = kw('Return', 'return');
export const Out = kw('Out', 'out');
export const For = kw('For', 'for');
export const As = kw('As', 'as');
export const StateKw = kw('StateKw', 'state');
export const WriteKw = kw('WriteKw', 'write');
export const DTypeTok = createToken({ name: 'DTypeTok', pattern: /(?:f32|f16|bf16|i32|u32|i64|bool)\b/, longer_alt: Ident });

export const Float = createToken({ name: 'Float', pattern: /(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?)/ });
export const Int = createToken({ name: 'Int', pattern: /\d+/ });
export const Str = createToken({ name: 'Str', pattern: /"[^"\r\n\\]*"/ });

export const Arrow = createToken({ name: 'Arrow', pattern: /=>/ });
export const OrOr = createToken({ name: 'OrOr', pattern: /\|\|/ });
export const AndAnd = createToken({ name: 'AndAnd', pattern: /&&/ });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/ });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/ });
export const LtEq = createToken({ name: 'LtEq', pattern: /<=/ });
export const GtEq = createToken({ name: 'GtEq', pattern: />=/ });
export const Lt = createToken({ name: 'Lt', pattern: /</ });
export const Gt = createToken({ name: 'Gt', pattern: />/ });
export const Assign = createToken({ name: 'Assign', pattern: /=/ });
export const Bang = createToken({ name: 'Bang', pattern: /!/ });
export const Plus = createToken({ name: 'Plus', pattern: /\+/ });
export const Minus = createToken({ name: 'Minus', pattern: /-/ });
export const Star = createToken({ name: 'Star', pattern: /\*/ });
export const Slash = createToken({ name: 'Slash', pattern: /\// });
export const Percent = createToken({ name: 'Percent', pattern: /%/ });
export const At = createToken({ name: 'At', pattern: /@/ });
export const LParen = createToken({ name: 'LParen', pattern: /\(/ });
export const RParen = createToken({ name: 'RParen', pattern: /\)/ });
export const LBrack = createToken({ name: 'LBrack', pattern: /\[/ });
export const RBrack = createToken({ name: 'RBrack', pattern: /\]/ });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/ });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/ });
export const Comma = createToken({ name: 'Comma', pattern: /,/ });
export const Colon = createToken({ name: 'Colon', pattern: /:/ });
export const Semi = createToken({ name: 'Semi', pattern: /;/ });

const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: 'Comment', pattern: /#[^\r\n]*/, group: Lexer.SKIPPED }); // a lone \r ends a line too

export const allTokens: TokenType[] = [
  WhiteSpace, Comment,
  Model, Config, Preset, DimKw, MaskKw, BlockKw, EntryKw, Let, ParamKw, Return, Out, For, As, StateKw, WriteKw, DTypeTok,
  Ident, Float, Int, Str,
  Arrow, OrOr, AndAnd, EqEq, NotEq, LtEq, GtEq, Lt, Gt, Assign, Bang, Plus, Minus, Star, Slash, Percent, At,
  LParen, RParen, LBrack, RBrack, LBrace, RBrace, Comma, Colon, Semi,
];

export const tfxLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });
