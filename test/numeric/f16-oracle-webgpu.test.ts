/**
 * The --f16 oracle rounds where the f16 kernels round (src/ir/precision.ts f16Oracle: values stored in a buffer
 * and casts), not every intermediate of a fused chain. Against WebGPU f16 on the Transfusion tiny forward and
 * loss, with the init weights and with them scaled x4 (where rounding every node drifts by percents).
 */
import { describe, expect, it } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { compileFile } from '../../src/driver.js';
import { Builder } from '../../src/ir/builder.js';
import { interpret } from '../../src/ir/interpreter.js';
import { f16Oracle, programToF16 } from '../../src/ir/precision.js';
import { compileEntry, runEntry } from '../../src/runtime/webgpu/program.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';
import { gpu, programOf, runBoth } from './helpers.js';

describe('the f16 oracle on WebGPU', () => {
  it('rounds what the kernels round: WebGPU f16 is within 2 ulps of it at init, and far nearer than the round-every-node graph at x4 weights', async () => {
    const ctx = await gpu();
    expect(ctx.hasF16, 'this adapter lacks shader-f16').toBe(true);
    const p32 = compileFile('models/transfusion.tfx', { preset: 'tiny' }).program;
    const program = programToF16(p32);
    for (const mult of [1, 4]) {
      const weights = new Map([...initParams(p32.params, 5)].map(([k, v]) => [k, { ...v, data: v.data.map((x) => x * mult) } as typeof v]));
      for (const entry of ['forward', 'loss']) {
        const inputs = exampleInputs(program, program.entries.find((e) => e.entry === entry)!, 9);
        const c = compileEntry(program, entry);
        const run = await runEntry(ctx, c, program, weights, inputs);
        const env = { inputs, params: weights, dims: run.dims };
        const every = interpret(c.graph.outputs.map((o) => o.node), env);
        const oracle = interpret(f16Oracle(c.graph, c.plan.stored!).outputs.map((o) => o.node), env);
        c.graph.outputs.forEach((o, i) => {
          const g = run.outputs.get(o.name)!.data;
          let eEvery = 0, eOracle = 0, scale = 1;
          for (let k = 0; k < g.length; k++) {
            scale = Math.max(scale, Math.abs(oracle[i]!.data[k]!));
            eEvery = Math.max(eEvery, Math.abs(g[k]! - every[i]!.data[k]!));
            eOracle = Math.max(eOracle, Math.abs(g[k]! - oracle[i]!.data[k]!));
          }
          const what = `x${mult} ${entry}.${o.name}: scale ${scale}, every node ${eEvery}, oracle ${eOracle}`;
          expect(oracle[i]!.dtype, what).toBe('f16');
          if (mult === 1) expect(eOracle, what).toBeLessThanOrEqual(2 * 2 ** -10 * 2 ** Math.floor(Math.log2(scale)));
          else expect(eOracle, what).toBeLessThanOrEqual(Math.min(1e-2 * scale, eEvery / 4 + 2 ** -10 * 2 ** Math.floor(Math.log2(scale))));
        });
      }
    }
  });

  it('a cast to f16 inside a fused kernel rounds on WebGPU as in the interpreter', async () => {
    const b = new Builder();
    const x = b.input('x', 'f32', [dimConst(9)]);
    const y = b.binary('mul', b.cast(b.cast(x, 'f16'), 'f32'), b.const(3));
    // Ties to even, an f16 subnormal, overflow to -Inf, the largest value that rounds down to 65504.
    const xs = [1 + 2 ** -12, 1 + 3 * 2 ** -11, 2049, 0.1, -7.0001, 3e-6, -70000, 65519, 2 ** -25 + 2 ** -30];
    const r = await runBoth(programOf({ y }), new Map([['x', hostTensor('f32', [9], xs)]]));
    const out = r.outputs.get('y')!;
    expect([...out.gpu.data]).toEqual([...out.ref.data]);
    expect([...out.ref.data]).toEqual([3, 3 * (1 + 2 ** -9), 6144, 3 * 0.0999755859375, -21, 3 * 2 ** -24 * 50, -Infinity, 3 * 65504, 3 * 2 ** -24]);
  });
});
