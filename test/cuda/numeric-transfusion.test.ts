/**
 * The Transfusion spec (tiny preset) compiled to CUDA and emulated on the CPU equals the reference
 * interpreter, for both entries and every attention lowering: fused block-sparse (EMPTY tiles skipped),
 * fused dense, and unfused (QK^T, masked softmax, PV).
 */
import { describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';
import type { LowerOptions } from '../../src/ir/lower.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { programToF16 } from '../../src/ir/precision.js';
import { compileCudaEntry, runCudaEntryOnCpu } from '../../src/runtime/cuda/program.js';
import { compareOutputs } from './numeric-helpers.js';

const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny' });
const weights = initParams(program.params, 1);

const cases: { entry: string; what: string; opts: LowerOptions; batch: number; seq: number }[] = [
  { entry: 'forward', what: 'fused block-sparse attention', opts: {}, batch: 2, seq: 64 },
  { entry: 'loss', what: 'fused block-sparse attention', opts: {}, batch: 2, seq: 64 },
  { entry: 'forward', what: 'fused dense attention', opts: { attentionSchedule: { bq: 16, bk: 16, sparse: false } }, batch: 2, seq: 64 },
  // The unfused lowering launches a block per score row: a smaller batch keeps the emulation quick.
  { entry: 'forward', what: 'unfused attention', opts: { attention: 'unfused' }, batch: 1, seq: 48 },
  { entry: 'loss', what: 'unfused attention', opts: { attention: 'unfused' }, batch: 1, seq: 48 },
];

describe('Transfusion tiny: CUDA (CPU emulation) vs the reference interpreter', () => {
  for (const k of cases) {
    it(`${k.entry}, ${k.what}, B = ${k.batch}, S = ${k.seq}`, async () => {
      const compiled = compileCudaEntry(program, k.entry, k.opts);
      const inputs = exampleInputs(program, compiled.graph, 7, { batch: k.batch, seq: k.seq });
      const run = await runCudaEntryOnCpu(compiled, program, weights, inputs);
      const ref = interpret(compiled.graph.outputs.map((o) => o.node), { inputs, params: weights, dims: run.dims });
      const cmp = compareOutputs(compiled.graph, run, ref);
      // Not vacuous: every output has values of a real size, and the attention schedule is the one asked for.
      for (const c of cmp) expect(c.scale, c.name).toBeGreaterThan(1e-3);
      const fused = compiled.plan.kernels.filter((x) => x.kind === 'attention');
      expect(fused.length).toBe(k.opts.attention === 'unfused' ? 0 : program.config.n_layers);
      if (k.opts.attention !== 'unfused' && k.opts.attentionSchedule?.sparse !== false) {
        expect(run.tileCounts.length).toBe(program.config.n_layers);
        expect(run.tileCounts.every((t) => t.empty > 0 && t.full > 0 && t.partial > 0)).toBe(true);
      } else expect(run.tileCounts).toEqual([]);
    }, 240_000);
  }
});

describe('Transfusion tiny in f16 storage: CUDA (CPU emulation) vs the reference interpreter', () => {
  it('forward, B = 1, S = 48: within a few f16 ulps (the interpreter rounds every op to f16, CUDA only at stores)', async () => {
    const p16 = programToF16(program);
    const compiled = compileCudaEntry(p16, 'forward');
    expect(compiled.plan.buffers.some((b) => b.dtype === 'f16')).toBe(true);
    expect(compiled.source).toContain('__half2float(');
    const w16 = initParams(p16.params, 1);
    const inputs = exampleInputs(p16, compiled.graph, 7, { batch: 1, seq: 48 });
    const run = await runCudaEntryOnCpu(compiled, p16, w16, inputs);
    const ref = interpret(compiled.graph.outputs.map((o) => o.node), { inputs, params: w16, dims: run.dims });
    for (const c of compareOutputs(compiled.graph, run, ref, 4 * 2 ** -10)) expect(c.scale, c.name).toBeGreaterThan(1e-3);
  }, 240_000);
});
