/**
 * Symbolic derivatives of scalar IExpr bodies (compute nodes) with respect to one load: the chain rule on the
 * expression tree. `null` stands for an exact zero, so untouched branches vanish instead of becoming `0 * ...`.
 */
import { isFloat, type DType } from '../../core/dtype.js';
import type { BinaryOp, IExpr, UnaryOp } from '../graph.js';

type E = IExpr;
type Load = Extract<IExpr, { k: 'load' }>;

const F: DType = 'f32';
export const c = (v: number): E => ({ k: 'const', v, dtype: F });
const bin = (op: BinaryOp, a: E, b: E, dtype: DType = F): E => ({ k: 'bin', op, a, b, dtype });
const un = (op: UnaryOp, a: E): E => ({ k: 'un', op, a, dtype: F });
const isConst = (e: E, v: number) => e.k === 'const' && e.v === v;
export const mul = (a: E | null, b: E | null): E | null =>
  (!a || !b ? null : isConst(a, 1) ? b : isConst(b, 1) ? a : bin('mul', a, b));
const add = (a: E | null, b: E | null): E | null => (a && b ? bin('add', a, b) : a ?? b);
const neg = (a: E | null): E | null => (a ? un('neg', a) : null);
const f = (a: E): E => (a.dtype === F ? a : { k: 'cast', a, dtype: F });

/** Derivative of `y = op(x)` with respect to x, as an expression of x and y. */
export function unaryDeriv(op: UnaryOp, x: E, y: E): E | null {
  switch (op) {
    case 'neg': return c(-1);
    case 'exp': return y;
    case 'log': case 'recip': return op === 'log' ? un('recip', x) : un('neg', bin('mul', y, y));
    case 'sqrt': return bin('div', c(0.5), y);
    case 'rsqrt': return bin('mul', c(-0.5), bin('mul', y, bin('mul', y, y)));
    case 'tanh': return bin('sub', c(1), bin('mul', y, y));
    case 'sigmoid': return bin('mul', y, bin('sub', c(1), y));
    case 'silu': { const s = un('sigmoid', x); return bin('mul', s, bin('add', c(1), bin('mul', x, bin('sub', c(1), s)))); }
    case 'gelu': {
      // y = 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3)
      const k = Math.sqrt(2 / Math.PI);
      const x2 = bin('mul', x, x);
      const th = un('tanh', bin('mul', c(k), bin('add', x, bin('mul', c(0.044715), bin('mul', x2, x)))));
      const du = bin('mul', c(k), bin('add', c(1), bin('mul', c(3 * 0.044715), x2)));
      return bin('add', bin('mul', c(0.5), bin('add', c(1), th)), bin('mul', bin('mul', c(0.5), x), bin('mul', bin('sub', c(1), bin('mul', th, th)), du)));
    }
    case 'sin': return un('cos', x);
    case 'cos': return un('neg', un('sin', x));
    case 'abs': return { k: 'where', c: bin('lt', x, c(0), 'bool'), a: c(-1), b: { k: 'where', c: bin('gt', x, c(0), 'bool'), a: c(1), b: c(0), dtype: F }, dtype: F };
    case 'floor': case 'ceil': case 'not': return null;
  }
}

/** Partial derivatives (d/da, d/db) of `y = a op b`, as expressions of a, b and y; null: zero. */
export function binaryDeriv(op: BinaryOp, a: E, b: E, y: E): [E | null, E | null] {
  switch (op) {
    case 'add': return [c(1), c(1)];
    case 'sub': return [c(1), c(-1)];
    case 'mul': return [b, a];
    case 'div': return [un('recip', b), un('neg', bin('div', y, b))];
    case 'pow': return [bin('mul', b, bin('pow', a, bin('sub', b, c(1)))), bin('mul', y, un('log', a))];
    // Ties send the whole gradient to the first operand.
    case 'max': case 'min': {
      const first = bin(op === 'max' ? 'ge' : 'le', a, b, 'bool');
      return [{ k: 'where', c: first, a: c(1), b: c(0), dtype: F }, { k: 'where', c: first, a: c(0), b: c(1), dtype: F }];
    }
    case 'mod': {
      // fmod: a - trunc(a / b) * b
      const q = bin('div', a, b);
      const trunc: E = { k: 'where', c: bin('lt', q, c(0), 'bool'), a: un('ceil', q), b: un('floor', q), dtype: F };
      return [c(1), un('neg', trunc)];
    }
    default: return [null, null]; // comparisons, and/or: piecewise constant
  }
}

/** d e / d load, where `load` is one load object of e (matched by identity; every position it occurs at counts). */
export function derivIExpr(e: E, load: Load): E | null {
  if (e === load) return c(1);
  if (!isFloat(e.dtype)) return null;
  switch (e.k) {
    case 'idx': case 'const': case 'dim': case 'load': return null; // float loads are never inside index expressions
    case 'cast': return isFloat(e.a.dtype) ? derivIExpr(e.a, load) : null;
    case 'un': {
      const da = derivIExpr(e.a, load);
      return da && mul(da, unaryDeriv(e.op, f(e.a), f(e)));
    }
    case 'bin': {
      const da = derivIExpr(e.a, load), db = derivIExpr(e.b, load);
      if (!da && !db) return null;
      const [pa, pb] = binaryDeriv(e.op, f(e.a), f(e.b), f(e));
      return add(mul(da, pa), mul(db, pb));
    }
    case 'where': {
      const da = derivIExpr(e.a, load), db = derivIExpr(e.b, load);
      if (!da && !db) return null;
      return { k: 'where', c: e.c, a: da ?? c(0), b: db ?? c(0), dtype: F };
    }
  }
}

/** Distinct float load objects of e (outermost; a float value is never an index). */
export function floatLoads(e: E): Load[] {
  const out: Load[] = [];
  const walk = (x: E): void => {
    switch (x.k) {
      case 'load': if (isFloat(x.dtype)) { if (!out.includes(x)) out.push(x); } break;
      case 'un': case 'cast': walk(x.a); break;
      case 'bin': walk(x.a); walk(x.b); break;
      case 'where': walk(x.c); walk(x.a); walk(x.b); break;
      default: break;
    }
  };
  walk(e);
  return out;
}

export { neg };
