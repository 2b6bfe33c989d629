/** Keeps docs/language.md honest: its complete examples compile, and its tables match the compiler's. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES } from '../../src/dsl/diagnostics.js';
import { compileSource, SpecError } from '../../src/driver.js';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/language.md'), 'utf8');
const blocks = [...DOC.matchAll(/```\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/language.md', () => {
  it('has complete programs that compile, with every preset', () => {
    const programs = blocks.filter((b) => b.startsWith('model '));
    expect(programs.length).toBeGreaterThan(0);
    for (const p of programs) {
      const { presets } = compileSource(p, 'doc.tfx');
      for (const preset of presets) compileSource(p, 'doc.tfx', { preset });
    }
  });

  it('lists every diagnostic code with its catalogue meaning', () => {
    for (const [code, meaning] of Object.entries(CODES)) expect(DOC).toContain(`| ${code} | ${meaning} |`);
  });

  it('shows the broadcast diagnostic exactly as the compiler renders it', () => {
    const src = 'model m\ndim B\n\n\n\n\nentry f(x: f32[B, 8], y: f32[B, 4]) {\n  let h = x * 2.0\n  out z = h + y\n}\n';
    let rendered = '';
    try { compileSource(src, 'spec.tfx'); } catch (e) { if (e instanceof SpecError) rendered = e.rendered; }
    expect(rendered).not.toBe('');
    expect(DOC).toContain(rendered);
  });

  it('documents every reserved builtin name', () => {
    const names = ['exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'sigmoid', 'silu', 'gelu', 'sin', 'cos', 'abs', 'floor', 'ceil', 'recip',
      'pow', 'max', 'min', 'where', 'cast', 'ceil_div', 'round_up', 'pi', 'matmul', 'linear', 'sum', 'mean', 'softmax', 'log_softmax',
      'gather', 'reshape', 'broadcast', 'permute', 'transpose', 'unsqueeze', 'squeeze', 'slice', 'concat', 'rmsnorm', 'layernorm',
      'rope', 'attention', 'repeat', 'normal', 'uniform', 'zeros', 'ones'];
    for (const n of names) {
      expect(DOC, n).toMatch(new RegExp(`\`${n}[(\` ]`));
      // A reserved name really is reserved: defining it is an error.
      expect(() => compileSource(`model m\nconfig { ${n} = 1 }`, 'r.tfx'), n).toThrow(SpecError);
    }
  });
});
