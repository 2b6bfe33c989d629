/** `state` / `write` (language section 12): graph shape, interpreter semantics, masks applied at positions. */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { compileSource } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';

const SPEC = `model m
dim B, S, C
block put(cache, vals, pos) {
  return for (b: B, c: C, d: 2) =>
      where(c >= pos[b, 0] && pos[b, c - pos[b, 0]] == c, vals[b, c - pos[b, 0], d], cache[b, c, d])
}
block remember(x, pos) {
  state cache: [B, C, 2]
  let before = sum(cache)
  write cache = put(cache, x, pos)
  return before, sum(cache)
}
entry step(x: f32[B, S, 2], pos: i32[B, S]) {
  let before, after = remember(x, pos) as mem
  out before = before
  out after = after
}
entry peek(pos: i32[B, S]) {
  out nothing = cast(pos, f32)
}
`;

describe('state', () => {
  const { program } = compileSource(SPEC, 'state.tfx');
  const step = program.entries.find((g) => g.entry === 'step')!;

  it('is an input and, when written, an output of its path name; entries without it do not see it', () => {
    expect(step.states).toEqual([{ name: 'mem.cache', written: true }]);
    expect(step.inputs.map((i) => i.arg.name)).toEqual(['x', 'pos', 'mem.cache']);
    expect(step.outputs.map((o) => o.name)).toEqual(['before', 'after', 'mem.cache']);
    expect(program.entries.find((g) => g.entry === 'peek')!.states).toBeUndefined();
  });

  it('reads the old value before the write and the new one after; rows outside the block are kept', () => {
    const B = 2, S = 2, C = 5;
    const old = Array.from({ length: B * C * 2 }, (_, i) => 100 + i);
    const x = [1, 2, 3, 4, /* row 1 */ 5, 6, 7, 8];
    const pos = [1, 2, /* row 1 */ 3, 4];
    const inputs = new Map([
      ['x', hostTensor('f32', [B, S, 2], x)], ['pos', hostTensor('i32', [B, S], pos)], ['mem.cache', hostTensor('f32', [B, C, 2], old)],
    ]);
    const [before, after, cache] = interpret(step.outputs.map((o) => o.node), { inputs, params: new Map(), dims: { B, S, C } });
    // Expected by hand: row 0 gets x[0] at cache rows 1, 2; row 1 gets x[1] at rows 3, 4.
    const want = [...old];
    const place = (b: number, c: number, v: number[]) => { want[(b * C + c) * 2] = v[0]!; want[(b * C + c) * 2 + 1] = v[1]!; };
    place(0, 1, [1, 2]); place(0, 2, [3, 4]); place(1, 3, [5, 6]); place(1, 4, [7, 8]);
    expect([...cache!.data]).toEqual(want);
    expect(before!.data[0]).toBeCloseTo(old.reduce((a, b) => a + b, 0), 3);
    expect(after!.data[0]).toBeCloseTo(want.reduce((a, b) => a + b, 0), 3);
  });

  it('drops writes past the capacity', () => {
    const B = 1, S = 2, C = 3;
    const inputs = new Map([
      ['x', hostTensor('f32', [B, S, 2], [1, 2, 3, 4])], ['pos', hostTensor('i32', [B, S], [2, 3])], ['mem.cache', hostTensor('f32', [B, C, 2])],
    ]);
    const [, , cache] = interpret(step.outputs.map((o) => o.node), { inputs, params: new Map(), dims: { B, S, C } });
    expect([...cache!.data]).toEqual([0, 0, 0, 0, 1, 2]);
  });
});

describe('a mask applied at positions inside a mask body', () => {
  it('is the same predicate with the query index replaced', () => {
    const src = `model m
dim B, S, C
mask causal_len(b, q, k; len) = k < len[b] && k <= q
mask at(b, q, k; len, qpos) = causal_len(b, qpos[b, q], k, len)
entry f(q: f32[B, 1, S, 2], k: f32[B, 1, C, 2], v: f32[B, 1, C, 2], len: i32[B], qpos: i32[B, S]) {
  out o = attention(q, k, v, at(len, qpos))
}
`;
    const { program } = compileSource(src, 'm.tfx');
    const g = program.entries[0]!;
    const C = 4, S = 1;
    const v = [1, 10, 100, 1000, /* d=1 */];
    const inputs = new Map([
      ['q', hostTensor('f32', [1, 1, S, 2], [0, 0])],
      ['k', hostTensor('f32', [1, 1, C, 2])],
      ['v', hostTensor('f32', [1, 1, C, 2], v.flatMap((x) => [x, -x]))],
      ['len', hostTensor('i32', [1], [4])],
      ['qpos', hostTensor('i32', [1, S], [2])],
    ]);
    // Zero queries/keys: uniform softmax over the allowed keys 0, 1, 2 (k <= qpos = 2 and k < len = 4).
    const [o] = interpret([g.outputs[0]!.node], { inputs, params: new Map(), dims: { B: 1, S, C } });
    expect(o!.data[0]).toBeCloseTo(111 / 3, 4);
    expect(o!.data[1]).toBeCloseTo(-111 / 3, 4);
  });
});
