/**
 * The error model: every code is documented, the two catalogues never share a code, user errors print
 * `tfx CMD: error TFXnnnn: message` and exit 1, anything else is an internal error (exit 70, no stack
 * unless TFX_DEBUG=1).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, main } from '../../src/cli/main.js';
import { CODES } from '../../src/dsl/diagnostics.js';
import { TfxError, USER_ERRORS, UsageError } from '../../src/errors.js';
import { WeightsError } from '../../src/runtime/weights.js';
import { BindError } from '../../src/runtime/bind.js';
import { CudaUnavailableError } from '../../src/runtime/cuda/driver.js';

const ROOT = join(import.meta.dirname, '../..');

describe('catalogue', () => {
  it('documents every code of both catalogues in docs/errors.md, and no code twice', () => {
    const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| (TFX\d{4}) \|/gm)].map((m) => m[1]);
    const all = [...Object.keys(CODES), ...Object.keys(USER_ERRORS)];
    expect(new Set(all).size).toBe(all.length);
    expect(rows.sort()).toEqual([...all].sort());
  });

  it('keeps user-error codes out of the spec-diagnostic range', () => {
    for (const c of Object.keys(USER_ERRORS)) expect(Number(c.slice(3))).toBeGreaterThanOrEqual(4000);
    for (const c of Object.keys(CODES)) expect(Number(c.slice(3))).toBeLessThan(4000);
  });

  it('gives the runtime error classes their codes', () => {
    expect(new WeightsError('x')).toBeInstanceOf(TfxError);
    expect(new WeightsError('x').code).toBe('TFX4001');
    expect(new BindError('x').code).toBe('TFX5001');
    expect(new CudaUnavailableError('x').code).toBe('TFX6003');
  });
});

describe('top-level catch', () => {
  const added: string[] = [];
  afterEach(() => {
    for (const k of added.splice(0)) delete COMMANDS[k];
    vi.restoreAllMocks();
    delete process.env.TFX_DEBUG;
  });
  async function runThrowing(e: unknown): Promise<{ code: number; err: string }> {
    const name = `boom${added.length}`;
    added.push(name);
    COMMANDS[name] = { summary: '', operands: '', flags: {}, examples: [], run: async () => { throw e; } };
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
    const code = await main([name]);
    vi.restoreAllMocks();
    return { code, err };
  }

  it('prints a user error as one coded line, exit 1', async () => {
    const r = await runThrowing(new TfxError('TFX8001', "cannot read 'w.safetensors': EACCES"));
    expect(r).toEqual({ code: 1, err: "tfx boom0: error TFX8001: cannot read 'w.safetensors': EACCES\n" });
  });

  it('prints misuse as one line pointing at the help, exit 2', async () => {
    const r = await runThrowing(new UsageError('missing --seed'));
    expect(r.code).toBe(2);
    expect(r.err).toBe("tfx boom0: missing --seed; see 'tfx boom0 --help'\n");
  });

  it('treats an uncatalogued error class as internal (exit 70), whatever its name', async () => {
    class LooksLikeOursError extends Error { override name = 'LooksLikeOursError'; }
    const r = await runThrowing(new LooksLikeOursError('oops'));
    expect(r.code).toBe(70);
    expect(r.err).toMatch(/^tfx boom0: internal error: oops\n\(this is a tfx bug/);
    expect(r.err).not.toMatch(/^ {4}at /m);
  });

  it('shows the stack of an internal error only under TFX_DEBUG=1', async () => {
    process.env.TFX_DEBUG = '0';
    expect((await runThrowing(new TypeError('bad'))).err).not.toMatch(/^ {4}at /m);
    process.env.TFX_DEBUG = '1';
    const r = await runThrowing(new TypeError('bad'));
    expect(r.code).toBe(70);
    expect(r.err).toMatch(/^ {4}at /m);
  });
});
