/**
 * bf16 parameters on WebGPU (no bf16 storage in WGSL): the scheduling stage stores them as f32 (exact), values
 * computed in bf16 round to nearest even in the kernel like the interpreter's. Against the interpreter.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { hostTensor } from '../../src/core/tensor.js';
import { Builder } from '../../src/ir/builder.js';
import { closeGpu } from '../../src/runtime/webgpu/device.js';
import { roundInPlace } from '../../src/runtime/weights.js';
import { checkProgram, programOf, randTensor } from './helpers.js';

afterAll(closeGpu);

describe('bf16 on WebGPU', () => {
  it('a bf16 weight in a matmul, and bf16 arithmetic rounded like the interpreter', async () => {
    const g = new Builder();
    const x = g.input('x', 'f32', [dimSym('S'), dimConst(8)]);
    const w = g.param('w', 'bf16', [dimConst(8), dimConst(6)], { kind: 'zeros' });
    const y = g.matmul(x, g.cast(w, 'f32'));
    // w * 1.37 is not a bf16 value: the stored result must be rounded to bf16, as the interpreter does.
    const z = g.binary('mul', w, g.const(1.37, 'bf16'));
    const wv = randTensor('f32', [8, 6], 7);
    roundInPlace(wv.data as Float32Array, 'bf16');
    const params = new Map([['w', hostTensor('bf16', [8, 6], wv.data)]]);
    const r = await checkProgram(programOf({ y, z }), new Map([['x', randTensor('f32', [5, 8], 8)]]), params);
    const zc = r.outputs.get('z')!;
    expect(zc.gpu.dtype).toBe('bf16');
    // Exactly the interpreter's bf16 values (rounding in the kernel, not in a tolerance).
    expect(Array.from(zc.gpu.data)).toEqual(Array.from(zc.ref.data));
    expect(Array.from(zc.gpu.data).some((v, i) => v !== Math.fround(wv.data[i]! * Math.fround(1.37)))).toBe(true);
  });
});
