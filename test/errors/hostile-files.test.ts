/**
 * Hostile files: reads are bounded (a device or FIFO never reads without end), tensor-file headers are bounded
 * in nesting, a byte-order mark is accepted. Each is a coded user error, never an internal error or a hang.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSource, readSpec } from '../../src/driver.js';
import { TfxError } from '../../src/errors.js';
import { MAX_HEADER_NESTING, decodeSafetensors, loadSafetensors } from '../../src/runtime/safetensors.js';

const codeOf = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return e instanceof TfxError ? e.code : `not coded: ${String(e)}`; }
  return undefined;
};
const withHeader = (h: string): Uint8Array => {
  const b = Buffer.from(h);
  const o = Buffer.alloc(8);
  o.writeBigUInt64LE(BigInt(b.length));
  return Buffer.concat([o, b]);
};

describe('bounded reads', () => {
  it('refuses /dev/zero as a spec after reading at most the spec limit', () => {
    expect(codeOf(() => readSpec('/dev/zero'))).toBe('TFX7001');
  });
  it('refuses /dev/zero as a tensor file', () => {
    expect(codeOf(() => loadSafetensors('/dev/zero'))).toBe('TFX7001');
  });
  it('reads a small tensor file from a device that ends (/dev/null) as a malformed file, not a hang', () => {
    expect(codeOf(() => loadSafetensors('/dev/null'))).toBe('TFX4001');
  });
  it('reports a folder given as a spec as a file error', () => {
    expect(codeOf(() => readSpec(tmpdir()))).toBe('TFX8001');
  });
});

describe('safetensors header nesting', () => {
  it('refuses 100k nested brackets with TFX7004 instead of overflowing the stack', () => {
    for (const h of ['['.repeat(100_000) + ']'.repeat(100_000), `{"a":{"dtype":"F32","shape":${'['.repeat(100_000)}${']'.repeat(100_000)},"data_offsets":[0,0]}}`]) {
      expect(codeOf(() => decodeSafetensors(withHeader(h), 'w.safetensors'))).toBe('TFX7004');
    }
  });
  it('counts brackets inside strings as text', () => {
    const name = '['.repeat(MAX_HEADER_NESTING + 10);
    const file = decodeSafetensors(withHeader(JSON.stringify({ [name]: { dtype: 'F32', shape: [0], data_offsets: [0, 0] } })), 'w');
    expect([...file.tensors.keys()]).toEqual([name]);
  });
  it('accepts nesting up to the limit (then fails on content, not depth)', () => {
    const h = `{"__metadata__":{"x":${'['.repeat(MAX_HEADER_NESTING - 2)}${']'.repeat(MAX_HEADER_NESTING - 2)}}}`;
    expect(codeOf(() => decodeSafetensors(withHeader(h), 'w'))).toBe('TFX4001');
  });
});

describe('byte-order mark', () => {
  it('accepts a UTF-8 BOM at the start of a spec file', () => {
    const d = mkdtempSync(join(tmpdir(), 'tfx-bom-'));
    const f = join(d, 'bom.tfx');
    writeFileSync(f, '\uFEFFmodel m\ndim B\nentry f(x: f32[B]) {\n  out y = x\n}\n');
    const c = compileSource(readSpec(f), f);
    expect(c.program.entries.map((g) => g.entry)).toEqual(['f']);
  });
});

describe('checkpoint indexes and name maps', () => {
  it('refuses deeply nested JSON (TFX7004) and /dev/zero (TFX7001) instead of overflowing or reading forever', async () => {
    const { loadCheckpointMap, openCheckpoint } = await import('../../src/runtime/checkpoint.js');
    const d = mkdtempSync(join(tmpdir(), 'tfx-ckpt-'));
    const deep = '{"weight_map": ' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
    writeFileSync(join(d, 'm.safetensors.index.json'), deep);
    writeFileSync(join(d, 'map.json'), deep);
    expect(codeOf(() => openCheckpoint(join(d, 'm.safetensors.index.json')))).toBe('TFX7004');
    expect(codeOf(() => loadCheckpointMap(join(d, 'map.json')))).toBe('TFX7004');
    expect(codeOf(() => loadCheckpointMap('/dev/zero'))).toBe('TFX7001');
  });
});
