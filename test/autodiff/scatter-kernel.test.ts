/**
 * The deterministic scatter-add kernel kind (src/ir/kernel-build-scatter.ts) against the interpreter's
 * scatter_add: an embedding gradient (values [B, S, D] into [V, D] at token ids, repeated and out-of-range ids
 * clamped, S not a multiple of the workgroup), a 1-D data-dependent scatter (no axis passed through) and a
 * batch-paired one; through the CUDA CPU emulation (nvcc compiling the rendered CUDA) and on WebGPU.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import type { Node } from '../../src/ir/graph.js';
import { nvccAvailable, nvccCompile } from '../../src/runtime/cuda/nvcc.js';
import { Rng } from '../../src/runtime/rng.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { checkGraph } from '../cuda/numeric-helpers.js';
import { int, intOp, ix, loadI, programOf, runBoth } from '../numeric/helpers.js';

afterAll(async () => { await closeGpu(); });
const T = 300_000;

function build() {
  const [B, S, D, V, N] = [2, 37, 6, 11, 29];
  const rng = Rng.seeded(4);
  const g = new Builder();
  const Sd = dimSym('S'), c = dimConst;
  const x = g.input('x', 'f32', [c(B), Sd, c(D)]);
  const tok = g.input('tok', 'i32', [c(B), Sd]);
  const y = g.input('y', 'f32', [c(N)]);
  const pos = g.input('pos', 'i32', [c(N)]);
  const w = g.input('w', 'f32', [c(B), Sd]);
  const img = g.input('img', 'i32', [c(B), Sd]);
  const outputs: Record<string, Node> = {
    // d tok_embed: out[tok[b, s], d] += x[b, s, d]
    embed: g.scatterAdd(x, [c(V), c(D)], [tok], [loadI(0, ix(0), ix(1)), ix(2)]),
    // out[2 * pos[n] + 1] += y[n] into 7 slots: no axis passed through, clamping at both ends
    flat: g.scatterAdd(y, [c(7)], [pos], [intOp('add', intOp('mul', loadI(0, ix(0)), int(2)), int(1))]),
    // out[b, img[b, s]] += w[b, s]: batch passed through, -1 clamps to 0
    paired: g.scatterAdd(w, [c(B), c(3)], [img], [ix(0), loadI(0, ix(0), ix(1))]),
  };
  const r = (shape: number[]) => hostTensor('f32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()));
  const ints = (shape: number[], lo: number, hi: number) => hostTensor('i32', shape, Int32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.int(lo, hi)));
  const values = new Map<string, HostTensor>([
    ['x', r([B, S, D])], ['tok', ints([B, S], -2, V + 2)], ['y', r([N])], ['pos', ints([N], -3, 6)],
    ['w', r([B, S])], ['img', ints([B, S], -1, 3)],
  ]);
  return { inputs: [x, tok, y, pos, w, img] as Node<'input'>[], outputs, values };
}

describe('scatter-add kernel', () => {
  it('CUDA CPU emulation equals the interpreter; nvcc compiles it', async () => {
    const c = build();
    const { compiled, cmp } = await checkGraph({ inputs: c.inputs, outputs: Object.entries(c.outputs).map(([name, node]) => ({ name, node })), values: c.values, symbols: ['S'] });
    expect(compiled.plan.kernels.filter((k) => k.kind === 'scatter').length).toBe(3);
    console.log(`cuda emu: ${cmp.map((x) => `${x.name} err ${x.maxErr.toExponential(2)} / ${x.scale.toFixed(2)}`).join(', ')}`);
    if (nvccAvailable()) {
      const r = await nvccCompile(compiled.source, { arch: 'sm_90' });
      expect(r.errors).toEqual([]);
      expect(r.warnings).toEqual([]);
      expect(r.ok).toBe(true);
    } else console.warn('nvcc not found: the rendered CUDA was not compiled');
  }, T);

  it('WebGPU equals the interpreter', async () => {
    const c = build();
    const r = await runBoth(programOf(c.outputs), c.values);
    for (const x of r.outputs.values()) {
      expect(x.maxRef, x.name).toBeGreaterThan(0.5);
      expect(x.maxErr, `${x.name}: ${x.maxErr} vs ${x.maxRef}`).toBeLessThanOrEqual(1e-5 * Math.max(1, x.maxRef));
    }
    console.log(`webgpu: ${[...r.outputs.values()].map((x) => `${x.name} err ${x.maxErr.toExponential(2)} / ${x.maxRef.toFixed(2)}`).join(', ')}`);
  }, T);
});
