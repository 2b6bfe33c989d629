/**
 * The front-end commands as a user runs them: `node bin/tfx.mjs check|inspect ...` in a child process.
 * Exit codes: 0 ok, 1 spec errors (rendered diagnostics), 2 misuse (one line). Never a stack trace.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const SPEC = 'models/transfusion.tfx';

interface Run { code: number; stdout: string; stderr: string }

function tfx(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/tfx.mjs', ...args], { cwd: ROOT, timeout: 240_000, maxBuffer: 64 << 20, env: { ...process.env, TFX_DEBUG: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      // Whatever the outcome, nothing may look like a JavaScript stack trace.
      expect(stdout + stderr, `tfx ${args.join(' ')}`).not.toMatch(/^ {4}at /m);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Misuse: exit 2, exactly one error line naming the problem (and where the help is). */
function expectMisuse(r: Run, what: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(what);
  expect(lines[0]).toMatch(/^tfx.*'tfx (help|check --help)'/);
}

describe.concurrent('tfx check', { timeout: 300_000 }, () => {
  it('accepts models/transfusion.tfx silently (every preset)', async () => {
    const r = await tfx('check', SPEC);
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('reports a bad spec with file:line:col, code, source line and caret, and exits 1', async () => {
    const file = 'test/dsl/errors/3001-broadcast-mismatch.tfx';
    const r = await tfx('check', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe(`${file}:9:11: error TFX3001: shapes [B, 8] and [B, 4] do not broadcast (dimension 8 vs 4)`);
    expect(lines[1]).toBe('    out z = h + y');
    expect(lines[2]).toBe('            ^~~~~');
    expect(r.stderr).toContain(`${file}:8:11: note: operand 1 has shape [B, 8] (f32), from here`);
  });

  it('reports every error of a file in one run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-cli-'));
    const file = join(dir, 'two.tfx');
    writeFileSync(file, 'model m\nconfig { a = 3 / 2 }\ndim B\nentry f(x: f32[B]) {\n  out y = x + nope\n}\n');
    const r = await tfx('check', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2:14: error TFX2005:`);
    expect(r.stderr).toContain(`${file}:5:15: error TFX2001:`);
  });

  it('rejects an unknown preset as a spec error', async () => {
    const r = await tfx('check', SPEC, '--preset', 'huge');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^models\/transfusion\.tfx:\d+:\d+: error TFX2004: unknown preset 'huge'; this spec has 'tiny', '0\.16b'/);
  });

  it('treats a binary file as a spec error, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-cli-'));
    const file = join(dir, 'bin.tfx');
    writeFileSync(file, Buffer.from([0x6d, 0x6f, 0x64, 0x00, 0xff, 0xfe, 0x0a]));
    const r = await tfx('check', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:1:4: error TFX1004:`);
  });
});

describe.concurrent('misuse', { timeout: 300_000 }, () => {
  it('unknown command', async () => expectMisuse(await tfx('frobnicate', SPEC), /unknown command 'frobnicate'/));
  it('unknown flag', async () => expectMisuse(await tfx('check', SPEC, '--frob'), /^tfx check: .*'--frob'/));
  it('missing file', async () => expectMisuse(await tfx('check', 'no/such/file.tfx'), /^tfx check: cannot read 'no\/such\/file\.tfx'/));
  it('no file at all', async () => expectMisuse(await tfx('check'), /^tfx check: missing FILE\.tfx/));
  it('no command', async () => {
    const r = await tfx();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^usage: tfx /);
  });
});

describe('tfx inspect --json', { timeout: 300_000 }, () => {
  // The paper's model sizes (Zhou et al., 2024, Table 1); the spec's presets must land within 5%.
  const NOMINAL: Record<string, number> = { '0.16b': 160e6, '0.37b': 370e6, '0.76b': 760e6, '1.4b': 1.4e9, '7b': 7e9 };
  const LAYERS: Record<string, number> = { '0.16b': 16, '0.37b': 24, '0.76b': 24, '1.4b': 24, '7b': 32 };

  it('reports parameter counts near the paper sizes, with weights-file names', async () => {
    const runs = await Promise.all(Object.keys(NOMINAL).map(async (p) => [p, await tfx('inspect', SPEC, '--json', '--preset', p)] as const));
    for (const [preset, r] of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const j = JSON.parse(r.stdout) as { preset: string; parameter_count: number; parameters: { name: string; shape: number[] }[]; config: Record<string, number> };
      expect(j.preset).toBe(preset);
      const nominal = NOMINAL[preset]!;
      expect(Math.abs(j.parameter_count - nominal) / nominal, `${preset}: ${j.parameter_count}`).toBeLessThan(0.05);
      // The count is the sum over the listed tensors.
      expect(j.parameters.reduce((s, x) => s + x.shape.reduce((a, b) => a * b, 1), 0)).toBe(j.parameter_count);
      const names = new Set(j.parameters.map((x) => x.name));
      const d = j.config.d_model!;
      for (const n of ['layers.3.attn.wq', 'layers.3.attn.wk', 'layers.3.attn.wv', 'layers.3.attn.wo', 'layers.3.mlp.w1', 'layers.3.attn_norm', 'tok_embed', 'lm_head'])
        expect(names, `${preset} lacks ${n}`).toContain(n);
      expect(names).toContain(`layers.${LAYERS[preset]! - 1}.mlp.w2`);
      expect(names).not.toContain(`layers.${LAYERS[preset]!}.mlp.w2`);
      expect(j.parameters.find((x) => x.name === 'layers.3.attn.wq')?.shape).toEqual([d, d]);
    }
  });
});
