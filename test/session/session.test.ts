/**
 * Sessions on every backend: resident parameters, reading back only what is asked, device tensors passed
 * between calls, state updated in place across calls, setParam, dispose; and Transfusion's forward through
 * a WebGPU session against the reference interpreter.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { compileFile, compileSource } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { openSession, type Backend } from '../../src/runtime/session.js';
import { initParams } from '../../src/runtime/weights.js';

const ACC = `model acc
dim N
block accumulate(x) {
  state total: [N]
  write total = total + x
  return total
}
entry step(x: f32[N]) {
  let t = accumulate(x) as acc
  out y = t * 2.0
}
entry scale(x: f32[3]) {
  param w: [3] = normal(1.0)
  out z = x * w + 1.0
}
`;
const f32 = (v: number[]) => hostTensor('f32', [v.length], v);
const vals = (t: HostTensor | undefined) => Array.from(t!.data);

const BACKENDS: [Backend, { cuda?: { emulate: boolean } }][] = [['cpu', {}], ['webgpu', {}], ['cuda', { cuda: { emulate: true } }]];

describe.each(BACKENDS)('session on %s', (backend, extra) => {
  it('keeps weights resident, reads back what is asked, chains device tensors and updates state in place', async () => {
    const compiled = compileSource(ACC, 'acc.tfx');
    const w = f32([1, 2, 3]);
    const s = await openSession(compiled, { backend, weights: { w }, ...extra });
    try {
      (w.data as Float32Array).fill(100); // the session holds its own copy
      const a = await s.run('scale', { x: f32([1, 1, 1]) });
      expect(vals(a.outputs.z)).toEqual([2, 3, 4]);

      // Three calls accumulate: the state starts at zeros and each call's write is the next call's value.
      for (let k = 1; k <= 3; k++) {
        const r = await s.run('step', { x: f32([1, 2, 3]) }, { outputs: ['y'] });
        expect(Object.keys(r.outputs)).toEqual(['y']);
        expect(vals(r.outputs.y)).toEqual([2 * k, 4 * k, 6 * k]);
      }
      expect(vals(await s.state('acc.total')!.read())).toEqual([3, 6, 9]);

      // An output kept on the device feeds the next call without a host round trip.
      const kept = await s.run('scale', { x: f32([0, 1, 2]) }, { keep: ['z'] });
      expect(kept.outputs).toEqual({});
      const z = kept.device.z!;
      expect(z.shape).toEqual([3]);
      const r = await s.run('step', { x: z });
      expect(vals(r.outputs.y)).toEqual([2 * (3 + 1), 2 * (6 + 3), 2 * (9 + 7)]);
      expect(vals(await z.read())).toEqual([1, 3, 7]);
      z.dispose();
      await expect(z.read()).rejects.toThrow(/disposed/);

      // Parameters can be replaced (a training step's update); states reset to zeros.
      s.setParam('w', f32([0, 0, 0]));
      expect(vals((await s.run('scale', { x: f32([5, 5, 5]) })).outputs.z)).toEqual([1, 1, 1]);
      s.resetStates();
      expect(vals((await s.run('step', { x: f32([1, 1, 1]) })).outputs.y)).toEqual([2, 2, 2]);
      s.setState('acc.total', f32([10, 20, 30]));
      expect(vals((await s.run('step', { x: f32([1, 1, 1]) })).outputs.y)).toEqual([22, 42, 62]);

      await expect(s.run('nope', {})).rejects.toThrow(/unknown entry 'nope'; this spec has step, scale/);
      await expect(s.run('scale', { x: f32([1, 1, 1]) }, { outputs: ['q'] })).rejects.toThrow(/no output 'q'/);
      await expect(s.run('scale', { x: f32([1, 1]) })).rejects.toThrow(/input 'x' has shape \[2\]/);
      await expect(s.run('step', { x: f32([1, 1]) })).rejects.toThrow(/state 'acc.total' holds \[3\]/);
    } finally {
      s.dispose();
    }
    await expect(s.run('scale', { x: f32([1, 1, 1]) })).rejects.toThrow(/disposed/);
  }, 240_000);
});

describe('weights streamed from a checkpoint', () => {
  it.each(['cpu', 'webgpu'] as const)('%s: a sharded checkpoint path is read tensor by tensor into the session', async (backend) => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeCheckpoint } = await import('../../src/runtime/checkpoint.js');
    const idx = join(mkdtempSync(join(tmpdir(), 'tfx-sess-')), 'w.safetensors.index.json');
    writeCheckpoint(idx, [{ name: 'w', dtype: 'bf16', shape: [3] }], () => hostTensor('bf16', [3], [0.5, 2, -4]), { shardBytes: 4 });
    const s = await openSession(compileSource(ACC, 'acc.tfx'), { backend, weights: idx });
    try {
      expect(vals((await s.run('scale', { x: f32([2, 2, 2]) })).outputs.z)).toEqual([2, 5, -7]);
    } finally { s.dispose(); }
    await expect(openSession(compileSource(ACC.replace('param w: [3]', 'param w: [4]').replace('x: f32[3]', 'x: f32[4]'), 'acc.tfx'), { backend, weights: idx }))
      .rejects.toThrow(/does not match preset.*\n  w: shape \[3\] in the file, the spec wants \[4\]/s);
  }, 120_000);
});

describe('device tensors stay with their session', () => {
  it('a tensor of one backend is refused by another', async () => {
    const compiled = compileSource(ACC, 'acc.tfx');
    const a = await openSession(compiled, { backend: 'cpu' });
    const b = await openSession(compiled, { backend: 'webgpu' });
    try {
      await expect(b.run('step', { x: a.upload(f32([1, 2, 3])) })).rejects.toThrow(/lives on cpu, this session runs on webgpu/);
    } finally { a.dispose(); b.dispose(); }
  });
});

describe('Transfusion forward through a session', () => {
  it('WebGPU matches the interpreter and a second call reuses the resident weights', async () => {
    const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['forward'] });
    const g = program.entries[0]!;
    const weights = initParams(program.params, 5);
    const inputs = exampleInputs(program, g, 2, {});
    const dims = Object.fromEntries(program.symbols.map((k) => [k, 0]));
    const s = await openSession(program, { backend: 'webgpu', weights });
    try {
      const first = await s.run('forward', inputs, { outputs: ['logits'] });
      expect(Object.keys(first.outputs)).toEqual(['logits']);
      const { bindDims } = await import('../../src/runtime/bind.js');
      Object.assign(dims, bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, program.symbols));
      const [want] = interpret([g.outputs.find((o) => o.name === 'logits')!.node], { inputs, params: weights, dims });
      const got = first.outputs.logits!;
      expect(got.shape).toEqual(want!.shape);
      let scale = 0, err = 0;
      for (let i = 0; i < want!.data.length; i++) { scale = Math.max(scale, Math.abs(want!.data[i]!)); err = Math.max(err, Math.abs(want!.data[i]! - got.data[i]!)); }
      expect(err).toBeLessThan(1e-4 * Math.max(1, scale));
      const second = await s.run('forward', inputs, { outputs: ['logits'] });
      expect(vals(second.outputs.logits)).toEqual(vals(got));
    } finally {
      s.dispose();
    }
  }, 240_000);
});
