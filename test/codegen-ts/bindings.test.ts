/**
 * `tfx compile --target ts`: the generated module type-checks under strict (and a wrongly typed call does
 * not), runs the Transfusion forward through a session and matches the interpreter, and checks shapes at run
 * time. The bindings import the runtime from the sources here (--runtime), as they would import 'tfx'.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/driver.js';
import { interpret } from '../../src/ir/interpreter.js';
import { bindDims } from '../../src/runtime/bind.js';
import { exampleInputs } from '../../src/runtime/example-inputs.js';
import { initParams } from '../../src/runtime/weights.js';

const ROOT = resolve(__dirname, '../..');
mkdirSync(join(ROOT, 'tmp'), { recursive: true });
const dir = mkdtempSync(join(ROOT, 'tmp', 'bindings-'));   // inside the repo so ../../src/index.js resolves
const out = join(dir, 'transfusion');

const USE = `import { Transfusion, type ForwardInputs } from './transfusion/index.js';
export async function logits(inputs: ForwardInputs): Promise<Float32Array> {
  const m = await Transfusion.open({ backend: 'cpu', seed: 5 });
  try { return (await m.forward(inputs)).logits.data; } finally { m.dispose(); }
}
export function wrong(m: Transfusion) {
  // @ts-expect-error tokens are i32: a Float32Array is a type error
  return m.forward({ tokens: { data: new Float32Array(4), shape: [1, 4] } } as unknown as Omit<ForwardInputs, 'tokens'> & { tokens: { data: Float32Array; shape: number[] } });
}
`;

describe('typed bindings', () => {
  beforeAll(() => {
    const r = spawnSync(process.execPath, ['bin/tfx.mjs', 'compile', 'models/transfusion.tfx', '--preset', 'tiny', '--target', 'ts', '--runtime', '../../../src/index.js', '-o', out], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/typed bindings for \d+ entries \(forward, loss/);
    writeFileSync(join(dir, 'use.ts'), USE);
  }, 240_000);

  it('type-check under strict; a Float32Array for an i32 input is a type error', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--noUncheckedIndexedAccess', '--exactOptionalPropertyTypes',
      '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', '--types', 'node,@webgpu/types', join(dir, 'use.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // The same call without the expectation comment must fail: the check is real.
    writeFileSync(join(dir, 'use-bad.ts'), USE.replace('// @ts-expect-error', '//').replace(" as unknown as Omit<ForwardInputs, 'tokens'> & { tokens: { data: Float32Array; shape: number[] } }", ''));
    const bad = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--skipLibCheck', '--types', 'node,@webgpu/types', join(dir, 'use-bad.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toMatch(/Float32Array.*Int32Array|Int32Array.*Float32Array/);
  }, 240_000);

  it('forward through the bindings equals the interpreter, and shapes are checked at run time', async () => {
    const mod = await import(join(out, 'index.ts')) as { Transfusion: { open(o: object): Promise<{ forward(a: never): Promise<{ logits: { data: Float32Array; shape: number[] } }>; dispose(): void }> } };
    const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny' });
    const g = program.entries.find((e) => e.entry === 'forward')!;
    const inputs = exampleInputs(program, g, 4);
    const args = Object.fromEntries([...inputs].map(([k, t]) => [k, { data: t.data, shape: t.shape }]));
    const m = await mod.Transfusion.open({ backend: 'cpu', seed: 5 });
    try {
      const res = await m.forward(args as never);
      const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, program.symbols);
      const [want] = interpret([g.outputs[0]!.node], { inputs, params: initParams(program.params, 5), dims });
      expect(res.logits.shape).toEqual(want!.shape);
      expect(Array.from(res.logits.data)).toEqual(Array.from(want!.data));
      const tok = inputs.get('tokens')!;
      await expect(m.forward({ ...args, tokens: { data: tok.data, shape: [tok.shape[0], tok.shape[1], 1] } } as never)).rejects.toThrow(/forward: input 'tokens' has rank 3, the spec wants 2/);
      await expect(m.forward({ ...args, latents: { data: new Float32Array(7), shape: [...inputs.get('latents')!.shape.slice(0, 4), 9] } } as never)).rejects.toThrow(/input 'latents' has size 9 on axis 4, the spec wants 8/);
    } finally {
      m.dispose();
    }
  }, 240_000);
});
