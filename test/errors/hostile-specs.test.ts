/**
 * Hostile specs and sizes, in-process: conditions `check` cannot prove are checked when the dims are bound;
 * empty dims, lone-CR line ends, --entry misuse and preset-only errors each get the right kind of error.
 */
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { SpecError, UsageError, compileSource } from '../../src/driver.js';
import { TfxError } from '../../src/errors.js';
import { interpret } from '../../src/ir/interpreter.js';
import { bindDims, checkRequirements } from '../../src/runtime/bind.js';

const spec = (body: string) => `model m\ndim B, S\nentry f(x: f32[B, S, 8]) {\n${body}\n}\n`;
const bind = (src: string, B: number, S: number) => {
  const g = compileSource(src, 'h.tfx').program.entries[0]!;
  const x = hostTensor('f32', [B, S, 8], new Array(B * S * 8).fill(1));
  const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), new Map([['x', x]]), ['B', 'S']);
  checkRequirements(g.requires, dims, 'h.tfx');
  return { g, dims, x };
};
const codeOf = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return e instanceof TfxError ? e.code : e instanceof SpecError ? 'spec' : `other: ${String(e)}`; }
  return undefined;
};

describe('conditions checked when dims are bound', () => {
  it('a comprehension extent S - 5 is refused at S = 4 and runs at S = 6', () => {
    const src = spec('  out y = for (b: B, i: S - 5) => x[b, i + 5, 0]');
    expect(codeOf(() => bind(src, 2, 4))).toBe('TFX5005');
    const { g, dims, x } = bind(src, 2, 6);
    const [y] = interpret(g.outputs.map((o) => o.node), { inputs: new Map([['x', x]]), params: new Map(), dims });
    expect(y!.shape).toEqual([2, 1]);
  });

  it('names the spec location and the bound sizes', () => {
    const src = spec('  out y = for (b: B, i: S - 5) => x[b, i + 5, 0]');
    expect(() => bind(src, 2, 4)).toThrow(/the extent -5 \+ S of 'i' is -1 with B = 2, S = 4 \(h\.tfx:4:25\)/);
  });

  it('slice(x, 1, S, 1) has length 1 - S: allowed at S = 1, refused at S = 3', () => {
    const src = spec('  out y = slice(x, 1, S, 1)');
    expect(codeOf(() => bind(src, 1, 1))).toBeUndefined();
    expect(codeOf(() => bind(src, 1, 3))).toBe('TFX5005');
  });

  it('a symbolic slice end past the size is refused only where it is past', () => {
    const src = spec('  out y = slice(x, 1, 0, 2 * B)');
    expect(codeOf(() => bind(src, 2, 4))).toBeUndefined();
    expect(codeOf(() => bind(src, 3, 4))).toBe('TFX5005');
  });

  it('an element count past 2^31 - 1 at the bound sizes is refused before anything runs', () => {
    const src = 'model m\ndim B, S\nentry f(x: f32[B, S]) {\n  out y = for (b: B, i: S, j: 65536) => x[b, i]\n}\n';
    const g = compileSource(src, 'h.tfx').program.entries[0]!;
    expect(codeOf(() => checkRequirements(g.requires, { B: 1, S: 32768 }))).toBe('TFX7002');
    expect(codeOf(() => checkRequirements(g.requires, { B: 1, S: 32767 }))).toBeUndefined();
  });

  it('refuses a dimension bound to 0 (B = 0 or S = 0)', () => {
    expect(codeOf(() => bind(spec('  out y = x * 2.0'), 0, 4))).toBe('TFX5003');
    expect(codeOf(() => bind(spec('  out y = x * 2.0'), 2, 0))).toBe('TFX5003');
  });
});

describe('front end', () => {
  it('ends a # comment at a lone CR: the entry after it is not swallowed', () => {
    const src = 'model m\r# a comment\rdim B\rentry f(x: f32[B]) {\r  out y = x\r}\rentry g(x: f32[B]) {\r  out z = x\r}\r';
    expect(compileSource(src, 'cr.tfx').program.entries.map((g) => g.entry)).toEqual(['f', 'g']);
  });

  it('reports --entry with an unknown name as misuse', () => {
    expect(() => compileSource(spec('  out y = x'), 'h.tfx', { entries: ['nope'] })).toThrow(UsageError);
  });

  it('names the preset of an error that only that preset causes', () => {
    const src = 'model m\nconfig { n = 4 }\npreset big { n = 3000000000 }\nentry f(x: f32[8]) {\n  param w: f32[n, 1] = zeros\n  out y = x\n}\n';
    expect(() => compileSource(src, 'p.tfx')).not.toThrow();
    try { compileSource(src, 'p.tfx', { preset: 'big' }); expect.unreachable(); } catch (e) {
      expect((e as SpecError).rendered).toMatch(/error TFX3008: .*\n[^]*note: with preset 'big'/);
    }
  });
});

describe('spec size', () => {
  it('refuses a spec of more than 100k tokens before parsing it (a 5 MB config used to take a minute)', async () => {
    const { parse, MAX_TOKENS } = await import('../../src/dsl/parse.js');
    const keys = Array.from({ length: MAX_TOKENS / 3 + 10 }, (_, i) => `  k${i} = ${i}`).join('\n');
    const r = parse(`model m\nconfig {\n${keys}\n}\n`);
    expect(r.module).toBeUndefined();
    expect(r.diags.list.map((d) => d.code)).toEqual(['TFX3009']);
    expect(r.diags.list[0]!.span.line).toBeGreaterThan(MAX_TOKENS / 3 - 5);
  });
});

describe('example-inputs size', () => {
  it('refuses --dim B=4096 --dim S=1048576 before generating anything', async () => {
    const { readFileSync } = await import('node:fs');
    const { exampleInputs } = await import('../../src/runtime/example-inputs.js');
    const src = readFileSync(new URL('../../models/transfusion.tfx', import.meta.url), 'utf8');
    const { program } = compileSource(src, 'transfusion.tfx', { preset: 'tiny', entries: ['forward'] });
    const g = program.entries[0]!;
    expect(codeOf(() => exampleInputs(program, g, 0, { dims: { B: 4096, S: 1 << 20 } }))).toBe('TFX7002');
    expect(exampleInputs(program, g, 0, { dims: { B: 2, S: 64 } }).get('tokens')!.shape).toEqual([2, 64]);
  });
});

describe('tfx check over presets', () => {
  it('checks every preset even after one fails, and names the presets of each error', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const check = (await import('../../src/cli/cmd-check.js')).default;
    const dir = mkdtempSync(join(tmpdir(), 'tfx-presets-'));
    const file = join(dir, 'p.tfx');
    writeFileSync(file, 'model m\nconfig { n = 4, d = 8 }\npreset a { n = 3000000000 }\npreset b { d = 3000000000 }\nentry f(x: f32[8]) {\n  param w: f32[n, 1] = zeros\n  param v: f32[d, 1] = zeros\n  out y = x\n}\n');
    try { await check({ positionals: [file], values: {} }); expect.unreachable(); } catch (e) {
      const r = (e as SpecError).rendered;
      expect(r).toMatch(/error TFX3008: parameter 'w'[^\n]*\n[^]*note: with preset 'a'/);
      expect(r).toMatch(/error TFX3008: parameter 'v'[^\n]*\n[^]*note: with preset 'b'/);
    }
  });
});

describe('device buffer limits before compile', () => {
  it('refuses B·S whose logits buffer exceeds the binding limit, naming the buffer (TFX7003)', async () => {
    const { checkBufferLimits } = await import('../../src/runtime/webgpu/limits-check.js');
    const src = 'model m\ndim B, S\nentry f(t: i32[B, S]) {\n  param e: f32[259, 8] = normal(0, 1)\n  out y = gather(e, t)\n}\n';
    const g = compileSource(src, 'l.tfx').program.entries[0]!;
    const limits = { maxStorageBufferBindingSize: 128 << 20, maxBufferSize: 256 << 20 };
    expect(codeOf(() => checkBufferLimits(g, ['B', 'S'], { B: 2, S: 64 }, limits))).toBeUndefined();
    // 64 * 4096 * 8 * 4 bytes = 8 MiB fits; 1024 * 8192 * 8 * 4 = 256 MiB does not.
    expect(codeOf(() => checkBufferLimits(g, ['B', 'S'], { B: 64, S: 4096 }, limits))).toBeUndefined();
    expect(codeOf(() => checkBufferLimits(g, ['B', 'S'], { B: 1024, S: 8192 }, limits))).toBe('TFX7003');
  });
});

describe('sessions check the bind-time conditions too', () => {
  it('a CPU session refuses S = 4 for a comprehension over S - 5 (it used to fail as an internal error)', async () => {
    const { openSession } = await import('../../src/runtime/session.js');
    const src = spec('  out y = for (b: B, i: S - 5) => x[b, i + 5, 0]');
    const { program } = compileSource(src, 'h.tfx');
    const s = await openSession(program, { backend: 'cpu', weights: new Map() });
    try {
      const x = (S: number) => new Map([['x', hostTensor('f32', [2, S, 8], new Array(2 * S * 8).fill(1))]]);
      await expect(s.run('f', x(4))).rejects.toMatchObject({ code: 'TFX5005' });
      const ok = await s.run('f', x(7), { outputs: ['y'] });
      expect(ok.outputs.y!.shape).toEqual([2, 2]);
    } finally { s.dispose(); }
  });
});
