/**
 * Command-line conventions, in process: --version, help for every command and flag, "did you mean", and misuse
 * as exactly one line with exit 2. docs/cli.md must carry the same reference text as `tfx help`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { commandHelp, didYouMean, editDistance, parseCommandLine } from '../../src/cli/args.js';
import { COMMANDS, main } from '../../src/cli/main.js';

const ROOT = join(import.meta.dirname, '../..');
const SPEC = 'models/transfusion.tfx';

async function tfx(...args: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = '', err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  try { return { rc: await main(args), out, err }; } finally { o.mockRestore(); e.mockRestore(); }
}

/** Misuse: exit 2, nothing on stdout, exactly one line on stderr. */
async function misuse(args: string[], line: RegExp): Promise<void> {
  const r = await tfx(...args);
  expect(r.rc, r.err).toBe(2);
  expect(r.out).toBe('');
  expect(r.err.endsWith('\n')).toBe(true);
  expect(r.err.trimEnd().split('\n'), r.err).toHaveLength(1);
  expect(r.err.trimEnd()).toMatch(line);
}

describe('edit distance and suggestions', () => {
  it('counts insertions, deletions, substitutions and adjacent swaps', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('profile', 'prfoile')).toBe(1);
    expect(editDistance('same', 'same')).toBe(0);
  });
  it('suggests the nearest name, a unique prefix, or nothing', () => {
    expect(didYouMean('rn', ['check', 'run', 'bench'])).toBe('run');
    expect(didYouMean('prof', ['profile', 'preset'])).toBe('profile');
    expect(didYouMean('pre', ['preset', 'prefix'])).toBeUndefined();   // ambiguous prefix, both 3 edits away
    expect(didYouMean('frobnicate', ['check', 'run'])).toBeUndefined();
  });
});

describe('parseCommandLine', () => {
  const flags = { seed: { type: 'string', help: 'h', example: '--seed 1' }, profile: { type: 'boolean', help: 'h', example: '--profile' }, dim: { type: 'string', multiple: true, help: 'h', example: '--dim S=8' }, o: { type: 'string', short: 'o', help: 'h', example: '-o x' } } as const;
  it('takes values after the flag or after =, repeated flags when allowed, operands after --', () => {
    const a = parseCommandLine(['f.tfx', '--seed', '-3', '--dim=B=2', '--dim', 'S=8', '--profile', '-o', 'x', '--', '--not-a-flag'], flags);
    expect(a.positionals).toEqual(['f.tfx', '--not-a-flag']);
    expect(a.values).toEqual({ seed: '-3', dim: ['B=2', 'S=8'], profile: true, o: 'x' });
  });
  it('rejects unknown, repeated, value-less and valued-boolean flags with one message each', () => {
    expect(() => parseCommandLine(['--sed', '1'], flags)).toThrow("unknown flag '--sed' (did you mean --seed?)");
    expect(() => parseCommandLine(['--seed', '1', '--seed', '2'], flags)).toThrow('--seed is given twice');
    expect(() => parseCommandLine(['--seed'], flags)).toThrow('--seed needs a value, e.g. --seed 1');
    expect(() => parseCommandLine(['--seed', '--profile'], flags)).toThrow('--seed needs a value');
    expect(() => parseCommandLine(['--profile=yes'], flags)).toThrow("--profile takes no value (got 'yes')");
  });
});

describe('tfx --version and help', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(await tfx(flag)).toEqual({ rc: 0, out: `tfx ${pkg.version}\n`, err: '' });
  });

  it('tfx help COMMAND and COMMAND --help print the same text: every flag, each with an example', async () => {
    for (const [name, c] of Object.entries(COMMANDS)) {
      const a = await tfx('help', name), b = await tfx(name, SPEC, '--help');
      expect(a.rc).toBe(0);
      expect(b).toEqual(a);
      for (const [flag, spec] of Object.entries(c.flags)) {
        expect(a.out, `${name} ${flag}`).toContain(flag.length === 1 ? `-${flag}` : `--${flag}`);
        expect(a.out, `${name} ${flag}`).toContain(`e.g. tfx ${name} FILE.tfx ${spec.example}`);
      }
    }
  });

  it('documents the flags the issue found only in the source', async () => {
    expect((await tfx('bench', '--help')).out).toMatch(/--quick +few sizes/);
    expect((await tfx('compile', '--help')).out).toMatch(/--f16 +store every tensor as f16/);
    expect((await tfx('run', '--help')).out).toMatch(/--no-tune-cache +WebGPU: ignore the schedules/);
  });

  it('tfx help and tfx --help list every command; tfx alone is misuse with the same list', async () => {
    const h = await tfx('help'), hh = await tfx('--help'), none = await tfx();
    expect(h.rc).toBe(0);
    expect(hh.out).toBe(h.out);
    for (const name of Object.keys(COMMANDS)) expect(h.out).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(none).toEqual({ rc: 2, out: '', err: h.out });
  });

  it('docs/cli.md carries the reference text of every command', () => {
    const doc = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    for (const [name, c] of Object.entries(COMMANDS)) expect(doc, `docs/cli.md is stale for ${name}: npx tsx scripts/cli-doc.ts --write`).toContain(commandHelp(name, c).trimEnd());
    // The hand-written sections around the reference (a regeneration must not drop them).
    for (const h of ['## Conventions', '## Defaults from the spec', '## `tfx compile` output', '## Provenance and profiles']) expect(doc).toContain(`\n${h}\n`);
  });
});

describe('misuse is one line and exit 2', () => {
  it('a mistyped command gets a suggestion', () => misuse(['rn', SPEC], /^tfx: unknown command 'rn' \(did you mean 'run'\?\); 'tfx help' lists the commands$/m));
  it('help for an unknown command', () => misuse(['help', 'chekc'], /did you mean 'check'/));
  it('a mistyped flag gets a suggestion', () => misuse(['run', SPEC, '--prfile'], /^tfx run: unknown flag '--prfile' \(did you mean --profile\?\); see 'tfx run --help'$/));
  it('a flag without its value', () => misuse(['init', SPEC, '--seed'], /^tfx init: --seed needs a value, e.g. --seed 7/));
  it('a missing file operand', () => misuse(['check'], /^tfx check: missing FILE\.tfx; see 'tfx check --help'$/));
  it('a second operand', () => misuse(['check', SPEC, 'extra.tfx'], /^tfx check: unexpected argument 'extra\.tfx'/));
  it('an unreadable file', () => misuse(['check', 'no/such.tfx'], /^tfx check: cannot read 'no\/such\.tfx'/));
});
