/** `tfx compile` validates its WGSL with Dawn before reporting success (src/cli/validate-wgsl.ts). */
import { describe, expect, it } from 'vitest';
import { validateWithDawn } from '../../src/cli/validate-wgsl.js';

describe('WGSL validation in compile', () => {
  it('rejects a shader Dawn rejects with TFX6006 naming the file, accepts a valid one', async () => {
    const notes: string[] = [];
    const good = '@group(0) @binding(0) var<storage, read_write> a: array<f32>;\n@compute @workgroup_size(1) fn main() { a[0] = 1.0; }\n';
    await expect(validateWithDawn([{ name: 'f/good.wgsl', code: good }], (s) => notes.push(s))).resolves.toBeUndefined();
    // The size class of issue 12: an array Dawn refuses (compile used to exit 0 with it).
    const bad = 'var<private> big: array<f32, 2147483647>;\n@compute @workgroup_size(1) fn main() { big[0] = 1.0; }\n';
    await expect(validateWithDawn([{ name: 'f/bad.wgsl', code: bad }], (s) => notes.push(s))).rejects.toMatchObject({ code: 'TFX6006', message: expect.stringMatching(/^f\/bad\.wgsl: Dawn rejects the generated WGSL/) });
    expect(notes).toEqual([]);
  });
});
