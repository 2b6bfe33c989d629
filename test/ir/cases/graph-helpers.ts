/** Helpers for pass tests: a Graph from builder nodes, hand-made nodes (bypassing the builder), IExpr shorthands. */
import { dimConst, dimSym, type Dim, type Shape } from '../../../src/core/dim.js';
import type { DType } from '../../../src/core/dtype.js';
import type { ArgOf, BinaryOp, Graph, IExpr, Node, Op } from '../../../src/ir/graph.js';

export const B = dimSym('B'), S = dimSym('S');
export const c = (n: number): Dim => dimConst(n);
export const sh = (...ds: (number | Dim)[]): Shape => ds.map((d) => (typeof d === 'number' ? dimConst(d) : d));

export function graph(inputs: readonly Node[], outputs: Record<string, Node>, entry = 'main'): Graph {
  return { entry, inputs: inputs as Node<'input'>[], outputs: Object.entries(outputs).map(([name, node]) => ({ name, node })) };
}

/** Text block written in tests: strips the common indentation and the surrounding blank lines. */
export function ir(strings: TemplateStringsArray): string {
  const lines = strings.join('').split('\n');
  while (lines.length && lines[0]!.trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  const ind = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(ind)).join('\n');
}

/** A node made without the builder: no interning, no checks (ids start high to stay clear of builder ids). */
let nextRawId = 100000;
export function raw<O extends Op>(op: O, dtype: DType, shape: Shape, src: readonly Node[], arg: ArgOf<O>): Node<O> {
  return { id: nextRawId++, op, dtype, shape, src, arg };
}

export const idx = (i: number): IExpr => ({ k: 'idx', i, dtype: 'i32' });
export const load = (src: number, dtype: DType, ...ix: IExpr[]): IExpr => ({ k: 'load', src, idx: ix, dtype });
export const bin = (op: BinaryOp, a: IExpr, b: IExpr, dtype: DType = a.dtype): IExpr => ({ k: 'bin', op, a, b, dtype });
export const k = (v: number, dtype: DType = 'i32'): IExpr => ({ k: 'const', v, dtype });
