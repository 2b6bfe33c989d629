/**
 * Invariants of the Transfusion plans that numbers alone would not show:
 * (a) fused attention never allocates an S x S buffer (the unfused plan does, so the check can fail);
 * (b) every WGSL module of forward + loss, for the tiny preset and every paper preset, compiles in Tint with
 *     no errors and no warnings (compile only, nothing dispatched);
 * (c) memory planning shares temporaries: fewer temp bytes than one buffer per intermediate, and buffers that
 *     share a slot have disjoint lifetimes and fit in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byteSize } from '../../src/core/dtype.js';
import { compileFile, presetsOf, readSpec } from '../../src/driver.js';
import type { Program } from '../../src/ir/graph.js';
import { bufferNumel, type KernelPlan } from '../../src/ir/kernel.js';
import { lowerGraph, type LowerOptions } from '../../src/ir/lower.js';
import { renderWgsl } from '../../src/codegen-wgsl/wgsl.js';
import { planMemory } from '../../src/runtime/memory-plan.js';
import { checkWgsl } from '../../src/runtime/webgpu/check.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { gpu } from './helpers.js';

const SPEC = 'models/transfusion.tfx';
let tiny: Program;
beforeAll(() => { tiny = compileFile(SPEC, { preset: 'tiny' }).program; });
afterAll(async () => { await closeGpu(); });

const lower = (p: Program, entry: string, opts: LowerOptions = {}): KernelPlan =>
  lowerGraph(p.entries.find((g) => g.entry === entry)!, p.symbols, opts);

describe('(a) no S x S buffer with fused attention', () => {
  const dims = { B: 1, S: 512, N: 2 };
  const S2 = dims.S * dims.S;
  const big = (plan: KernelPlan) => plan.buffers.filter((b) => bufferNumel(b, dims) >= S2).map((b) => `${b.name} (${bufferNumel(b, dims)})`);

  it('fused (sparse and dense schedules): every buffer of forward has fewer than S * S elements at S = 512', () => {
    expect(tiny.symbols).toEqual(expect.arrayContaining(['B', 'S', 'N']));
    for (const opts of [{}, { attentionSchedule: { bq: 16, bk: 16, sparse: false } }] as LowerOptions[]) {
      const plan = lower(tiny, 'forward', opts);
      expect(plan.kernels.filter((k) => k.kind === 'attention').length).toBe(tiny.config.n_layers);
      expect(big(plan)).toEqual([]);
    }
  });
  it('unfused: the plan does hold [B, H, S, S] scores, so the check above can fail', () => {
    const plan = lower(tiny, 'forward', { attention: 'unfused' });
    const found = big(plan);
    expect(found.length).toBeGreaterThanOrEqual(2 * tiny.config.n_layers!);   // scores and probabilities per layer
    expect(plan.buffers.some((b) => bufferNumel(b, dims) === dims.B * tiny.config.n_heads! * S2)).toBe(true);
  });
});

/**
 * Layers differ only in buffer numbers, so modules are deduplicated after renaming the buffer identifiers
 * `bufN` in order of first appearance (a bijection onto names of the same form, which cannot change what
 * Tint accepts) and dropping the leading comment that names the kernel: 33 distinct modules instead of
 * ~1600 for 7b.
 */
function canonical(code: string): string {
  expect(code.startsWith('// ')).toBe(true);
  const names = new Map<string, string>();
  return code.replace(/^\/\/[^\n]*\n/, '').replace(/\bbuf\d+\b/g, (s) => {
    if (!names.has(s)) names.set(s, `buf${names.size}`);
    return names.get(s)!;
  });
}

describe('(b) every WGSL module of every preset passes Tint', () => {
  const presets = presetsOf(readSpec(SPEC));
  it('the spec declares tiny and the paper presets', () => {
    expect(presets).toEqual(expect.arrayContaining(['tiny', '0.16b', '0.37b', '0.76b', '1.4b', '7b']));
  });
  for (const preset of presets) {
    it(`${preset}: forward + loss (fused sparse, fused dense, unfused) compile with no errors or warnings`, async () => {
      const ctx = await gpu();
      const program = preset === 'tiny' ? tiny : compileFile(SPEC, { preset }).program;
      const codes = new Map<string, string>();   // code -> kernel name, deduplicated
      for (const entry of ['forward', 'loss']) {
        for (const opts of [{}, { attentionSchedule: { bq: 16, bk: 16, sparse: false } }, { attention: 'unfused' }] as LowerOptions[]) {
          const plan = lower(program, entry, opts);
          for (const k of plan.kernels) {
            const code = canonical(renderWgsl(k, plan.buffers, plan.symbols).code);
            if (!codes.has(code)) codes.set(code, `${entry}/${k.name}`);
          }
        }
      }
      const bad: string[] = [];
      for (const [code, name] of codes) {
        const r = await checkWgsl(ctx, code);
        if (r.errors.length || r.warnings.length) bad.push(`${name}: ${[...r.errors, ...r.warnings].join('; ')}`);
      }
      expect(codes.size).toBeGreaterThan(10);
      expect(bad).toEqual([]);
    });
  }
  it('checkWgsl does report errors and warnings (the check above can fail)', async () => {
    const ctx = await gpu();
    expect((await checkWgsl(ctx, '@compute @workgroup_size(1) fn main() { let x: i32 = 1.5f; }')).errors.length).toBeGreaterThan(0);
    const w = await checkWgsl(ctx, '@compute @workgroup_size(1) fn main() { return; let x = 1i; }');
    expect(w.warnings.length).toBeGreaterThan(0);
  });
});

describe('(c) memory planning of the tiny forward', () => {
  const dims = { B: 2, S: 64, N: 2 };
  it('plans fewer temp bytes than one buffer per intermediate; shared slots never overlap in time', () => {
    const plan = lower(tiny, 'forward');
    const mem = planMemory(plan, dims);
    expect(mem.tempPlannedBytes).toBeLessThan(mem.tempNaiveBytes);
    expect(mem.plannedBytes).toBeLessThan(mem.naiveBytes);
    // Lifetimes from the kernel order (tile maps are written before the first kernel).
    const n = plan.buffers.length;
    const first = new Array<number>(n).fill(Infinity), last = new Array<number>(n).fill(-Infinity);
    plan.kernels.forEach((k, i) => { for (const b of [...k.reads, k.out]) { first[b] = Math.min(first[b]!, i); last[b] = Math.max(last[b]!, i); } });
    for (const t of plan.tileMaps) first[t.buf] = -1;
    const bytes = plan.buffers.map((b) => bufferNumel(b, dims) * byteSize(b.dtype));
    plan.buffers.forEach((b, i) => {
      expect(mem.slotBytes[mem.slotOf[i]!]!, `slot of ${b.name} too small`).toBeGreaterThanOrEqual(bytes[i]!);
      if (b.kind !== 'temp') expect(plan.buffers.filter((_, j) => j !== i && mem.slotOf[j] === mem.slotOf[i]), `${b.name} shares its slot`).toEqual([]);
    });
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
      if (mem.slotOf[i] !== mem.slotOf[j]) continue;
      const disjoint = last[i]! < first[j]! || last[j]! < first[i]!;
      expect(disjoint, `${plan.buffers[i]!.name} [${first[i]}, ${last[i]}] and ${plan.buffers[j]!.name} [${first[j]}, ${last[j]}] share slot ${mem.slotOf[i]}`).toBe(true);
    }
  });
});
