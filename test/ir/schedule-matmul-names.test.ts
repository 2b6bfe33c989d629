/**
 * Matmul schedule names (src/ir/schedule.ts scheduleName / parseMatmulSchedule): bench scripts and reports name
 * variants by them, so every schedule in the tuner's space must read back from its name as the same value.
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { Builder } from '../../src/ir/builder.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { MatmulSchedule } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { parseMatmulSchedule, scheduleCandidates, scheduleName } from '../../src/ir/schedule.js';

describe('matmul schedule names', () => {
  const g = new Builder();
  const a = g.input('a', 'f32', [dimConst(64), dimConst(48)]), b = g.input('b', 'f32', [dimConst(48), dimConst(40)]);
  const graph: Graph = { entry: 'e', inputs: [a, b] as Node<'input'>[], outputs: [{ name: 'y', node: g.matmul(a, b) }] };
  const k = lowerGraph(graph, []).kernels.find((x) => x.kind === 'matmul')!;

  it('read back as the same schedule for every candidate', () => {
    const all = scheduleCandidates(k) as MatmulSchedule[];
    expect(all.length).toBeGreaterThan(20);
    for (const s of all) {
      const name = scheduleName('matmul', s);
      const back = parseMatmulSchedule(name);
      expect(scheduleName('matmul', back)).toBe(name);
      // Fields a name leaves out must be the defaults (tk 8 without staging, no unroll, no subgroups, scalar).
      expect({ ...back, ku: back.ku ?? 1, sg: back.sg ?? 0, vec: back.vec ?? false, tk: back.shared ? back.tk : 8 })
        .toEqual({ ...s, ku: s.ku ?? 1, sg: s.sg ?? 0, vec: s.vec ?? false, tk: s.shared ? s.tk : 8 });
    }
  });

  it('rejects what is not a matmul schedule name', () => {
    expect(() => parseMatmulSchedule('wg8x8')).toThrow(/not a matmul schedule name/);
    expect(() => parseMatmulSchedule('wg8x8_t4x4_u1')).toThrow(/reads back as wg8x8_t4x4/);
  });
});
