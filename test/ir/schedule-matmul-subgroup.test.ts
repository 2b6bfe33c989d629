/**
 * The subgroup-broadcast matmul family as schedule values (src/ir/schedule.ts): in the tuner's space, valid only
 * where the target has subgroups that fit (chunk <= smallest subgroup, workgroup a multiple of the largest),
 * and the renderers' spelling of the broadcast (WGSL subgroupBroadcast + enable, CUDA __shfl_sync).
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { CUDA_LIMITS, renderCuda } from '../../src/codegen-cuda/cuda.js';
import { WEBGPU_LIMITS, renderWgsl, subgroupRequirement } from '../../src/codegen-wgsl/wgsl.js';
import { Builder } from '../../src/ir/builder.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { MatmulKernel, MatmulSchedule } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { scheduleCandidates, scheduleName, scheduleViolation } from '../../src/ir/schedule.js';

function matmul(): { k: MatmulKernel; plan: ReturnType<typeof lowerGraph> } {
  const g = new Builder();
  const a = g.input('a', 'f32', [dimConst(64), dimConst(48)]), b = g.input('b', 'f32', [dimConst(48), dimConst(40)]);
  const graph: Graph = { entry: 'e', inputs: [a, b] as Node<'input'>[], outputs: [{ name: 'y', node: g.matmul(a, b) }] };
  const plan = lowerGraph(graph, []);
  return { k: plan.kernels.find((x) => x.kind === 'matmul') as MatmulKernel, plan };
}

describe('subgroup matmul schedules', () => {
  const { k, plan } = matmul();
  const lavapipe = { ...WEBGPU_LIMITS, subgroups: { min: 8, max: 8 } };
  const sgOf = (lim: typeof WEBGPU_LIMITS) => (scheduleCandidates(k) as MatmulSchedule[]).filter((s) => s.sg && scheduleViolation(k, s, lim) === null);

  it('are in the space, but valid only on a target with subgroups that fit', () => {
    expect(sgOf(WEBGPU_LIMITS)).toEqual([]);
    const ok = sgOf(lavapipe);
    expect(ok.length).toBeGreaterThan(10);
    for (const s of ok) { expect(s.sg).toBeLessThanOrEqual(8); expect(s.wgY).toBe(1); expect((s.wgX * s.wgY) % 8).toBe(0); }
    // CUDA: 32-lane warps, so a 16-invocation workgroup leaves a warp half empty.
    expect(sgOf(CUDA_LIMITS).every((s) => s.wgX % 32 === 0)).toBe(true);
    expect(sgOf(CUDA_LIMITS).some((s) => s.sg === 32)).toBe(true);
    const s: MatmulSchedule = { wgX: 16, wgY: 1, tm: 4, tn: 4, tk: 8, shared: false, sg: 16 };
    expect(scheduleViolation(k, s, lavapipe)).toMatch(/smallest subgroup/);
    expect(scheduleViolation(k, { ...s, sg: 8, wgY: 2 }, lavapipe)).toMatch(/wgY 1/);
    expect(scheduleViolation(k, { ...s, sg: 8 }, { ...lavapipe, subgroups: { min: 8, max: 32 } })).toMatch(/largest subgroup/);
    expect(scheduleViolation(k, { ...s, sg: 8 }, WEBGPU_LIMITS)).toMatch(/no subgroups/);
    expect(scheduleName('matmul', { ...s, sg: 8 })).toBe('wg16x1_t4x4_sg8');
  });

  it('render as subgroup broadcasts on both targets; kernels without them use no subgroups', () => {
    const sched: MatmulSchedule = { wgX: 32, wgY: 1, tm: 2, tn: 2, tk: 8, shared: false, sg: 8 };
    const w = renderWgsl({ ...k, schedule: sched }, plan.buffers, plan.symbols).code;
    expect(w).toMatch(/^enable subgroups;$/m);
    expect(w).toContain('@builtin(subgroup_invocation_id) sgid: u32');
    expect((w.match(/subgroupBroadcast\(/g) ?? []).length).toBe(8 * 2);
    expect(subgroupRequirement(w)).toEqual({ lanes: 8, invocations: 32 });
    const c = renderCuda({ ...k, schedule: sched }, plan.buffers, plan.symbols).code;
    expect((c.match(/__shfl_sync\(0xffffffffu, /g) ?? []).length).toBe(8 * 2);
    const plain = renderWgsl(k, plan.buffers, plan.symbols).code;
    expect(plain).not.toContain('subgroup');
    expect(subgroupRequirement(plain)).toBeNull();
  });
});
