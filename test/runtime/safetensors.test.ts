import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/core/dtype.js';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import {
  WeightsError, decodeSafetensors, loadSafetensors, readSafetensors, saveSafetensors, writeSafetensors,
} from '../../src/runtime/safetensors.js';

/** A file from a header string and raw data bytes, laid out by hand. */
function file(header: string, data: readonly number[] = []): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
const entry = (dtype: string, shape: unknown, offsets: unknown): string =>
  JSON.stringify({ dtype, shape, data_offsets: offsets });

/** Calls `f`, requires a WeightsError with a one-line message starting with `what`, returns the message. */
function errorOf(f: () => unknown, what = 'model.st'): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(WeightsError);
    const m = (err as Error).message;
    expect(m.startsWith(`${what}: `)).toBe(true);
    expect(m).not.toMatch(/\n/);
    return m;
  }
  throw new Error('expected a WeightsError, nothing was thrown');
}
const sameValues = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => Object.is(x, b[i]));

describe('reading hand-made bytes', () => {
  it('decodes a fully literal file', () => {
    // header {"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]}} is 53 = 0x35 bytes; data is -2 as i32 LE.
    const header = [...'{"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}'].map((c) => c.charCodeAt(0));
    const bytes = Uint8Array.from([0x35, 0, 0, 0, 0, 0, 0, 0, ...header, 0xfe, 0xff, 0xff, 0xff]);
    const t = readSafetensors(bytes).get('a')!;
    expect(t.dtype).toBe('i32');
    expect(t.shape).toEqual([]);
    expect(Array.from(t.data)).toEqual([-2]);
  });

  it('decodes every dtype from known bytes, with an unaligned data region', () => {
    const header = JSON.stringify({
      __metadata__: { format: 'pt', note: 'hand made' },
      f32: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      f16: { dtype: 'F16', shape: [4], data_offsets: [8, 16] },
      bf16: { dtype: 'BF16', shape: [2], data_offsets: [16, 20] },
      i64: { dtype: 'I64', shape: [2], data_offsets: [20, 36] },
      u32: { dtype: 'U32', shape: [1], data_offsets: [36, 40] },
      bool: { dtype: 'BOOL', shape: [3], data_offsets: [40, 43] },
      i32: { dtype: 'I32', shape: [1, 1], data_offsets: [43, 47] },
    });
    expect((8 + header.length) % 4).not.toBe(0); // the data region really is misaligned
    const data = [
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, // f32 1, -2
      0x00, 0x3c, 0xff, 0x7b, 0x01, 0x00, 0x00, 0xfc, // f16 1, 65504, 2^-24, -inf
      0x80, 0x3f, 0x49, 0x40, // bf16 1, 3.140625
      0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, // i64 -3, 2^31-1
      0xff, 0xff, 0xff, 0xff, // u32 4294967295 (held as its bits, -1)
      0x01, 0x00, 0x01, // bool
      0x78, 0x56, 0x34, 0x12, // i32 0x12345678
    ];
    const { tensors, metadata } = decodeSafetensors(file(header, data));
    expect(metadata).toEqual({ format: 'pt', note: 'hand made' });
    const got = Object.fromEntries([...tensors].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: Array.from(t.data) }]));
    expect(got).toEqual({
      f32: { dtype: 'f32', shape: [2], data: [1, -2] },
      f16: { dtype: 'f16', shape: [4], data: [1, 65504, 2 ** -24, -Infinity] },
      bf16: { dtype: 'bf16', shape: [2], data: [1, 3.140625] },
      i64: { dtype: 'i64', shape: [2], data: [-3, 2 ** 31 - 1] },
      u32: { dtype: 'u32', shape: [1], data: [-1] },
      bool: { dtype: 'bool', shape: [3], data: [1, 0, 1] },
      i32: { dtype: 'i32', shape: [1, 1], data: [0x12345678] },
    });
    expect(tensors.get('f16')!.data).toBeInstanceOf(Float32Array);
    expect(tensors.get('bool')!.data).toBeInstanceOf(Int32Array);
    expect([...tensors.keys()]).toEqual(['f32', 'f16', 'bf16', 'i64', 'u32', 'bool', 'i32']); // data order
  });

  it('reads from a Node Buffer that starts at an odd offset inside a larger allocation', () => {
    const inner = writeSafetensors({ w: hostTensor('f32', [3], [1.5, -2.25, 1e-3]), b: hostTensor('f16', [1], [0.5]) });
    const outer = Buffer.alloc(inner.length + 3);
    outer.set(inner, 1);
    const view = outer.subarray(1, 1 + inner.length);
    expect(view.byteOffset % 4).not.toBe(0);
    const m = readSafetensors(view);
    expect(Array.from(m.get('w')!.data)).toEqual(Array.from(Float32Array.of(1.5, -2.25, 1e-3)));
    expect(Array.from(m.get('b')!.data)).toEqual([0.5]);
    // The loaded tensor must not alias the caller's bytes.
    outer.fill(0);
    expect(m.get('w')!.data[0]).toBe(1.5);
  });

  it('accepts empty tensors anywhere, holes between tensors, and trailing space padding', () => {
    const h = `{"e":${entry('F32', [0, 5], [4, 4])},"x":${entry('I32', [1], [4, 8])}}    `;
    const m = readSafetensors(file(h, [9, 9, 9, 9, 7, 0, 0, 0]));
    expect(m.get('e')!.shape).toEqual([0, 5]);
    expect(m.get('e')!.data.length).toBe(0);
    expect(Array.from(m.get('x')!.data)).toEqual([7]);
  });
});

describe('writing', () => {
  it('produces the expected bytes: 8-byte aligned padded header, data in element-size order', () => {
    const bytes = writeSafetensors(
      new Map<string, HostTensor>([
        ['flag', hostTensor('bool', [2], [1, 0])],
        ['w', hostTensor('f32', [1], [1])],
        ['ids', hostTensor('i64', [1], [-1])],
        ['h', hostTensor('f16', [1], [-2])],
      ]),
      { format: 'pt' },
    );
    const dv = new DataView(bytes.buffer);
    const n = Number(dv.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().length).toBeLessThan(n + 1);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true);
    expect(JSON.parse(text)).toEqual({
      __metadata__: { format: 'pt' },
      ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] },
      w: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      h: { dtype: 'F16', shape: [1], data_offsets: [12, 14] },
      flag: { dtype: 'BOOL', shape: [2], data_offsets: [14, 16] },
    });
    expect(Array.from(bytes.subarray(8 + n))).toEqual([
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // i64 -1
      0x00, 0x00, 0x80, 0x3f, // f32 1
      0x00, 0xc0, // f16 -2
      0x01, 0x00, // bool
    ]);
  });

  it('rounds f16 and bf16 to nearest even when writing', () => {
    const bytes = writeSafetensors({
      h: hostTensor('f16', [3], [1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e6]),
      b: hostTensor('bf16', [3], [1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20]),
    });
    const m = readSafetensors(bytes);
    expect(Array.from(m.get('h')!.data)).toEqual([1, 1 + 2 ** -9, Infinity]);
    expect(Array.from(m.get('b')!.data)).toEqual([1, 1 + 2 ** -6, 1 + 2 ** -7]);
  });

  it('round-trips every dtype including edge values, and metadata', () => {
    const tensors: Record<string, HostTensor> = {
      f32: hostTensor('f32', [2, 3], [0, -0, Infinity, -Infinity, NaN, 3.4028234663852886e38]),
      f16: hostTensor('f16', [5], [65504, -(2 ** -24), 2 ** -14, -0, NaN]),
      bf16: hostTensor('bf16', [3], [3.3895313892515355e38, -(2 ** -133), 1]),
      i32: hostTensor('i32', [3], [-(2 ** 31), 2 ** 31 - 1, 0]),
      u32: hostTensor('u32', [2], [-1, 0x7fffffff]),
      i64: hostTensor('i64', [3], [-(2 ** 31), 2 ** 31 - 1, -5]),
      bool: hostTensor('bool', [2, 2], [1, 0, 0, 1]),
      scalar: hostTensor('f32', [], [42]),
      empty: hostTensor('i32', [3, 0], []),
      '__proto__': hostTensor('f32', [1], [7]),
    };
    const { tensors: back, metadata } = decodeSafetensors(writeSafetensors(tensors, { a: 'b', '': 'empty key' }));
    expect(metadata).toEqual({ a: 'b', '': 'empty key' });
    expect(new Set(back.keys())).toEqual(new Set(Object.keys(tensors)));
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.get(name)!;
      expect(b.dtype, name).toBe(t.dtype);
      expect(b.shape, name).toEqual(t.shape);
      expect(sameValues(b.data, t.data), name).toBe(true);
    }
  });

  it('rejects tensors it cannot write', () => {
    const bad = { dtype: 'f32', shape: [2], data: new Float32Array(3) } as HostTensor;
    expect(errorOf(() => writeSafetensors({ x: bad }), 'safetensors')).toMatch(/"x": has 3 elements, shape \[2\] needs 2/);
    const ints = { dtype: 'f32', shape: [1], data: new Int32Array(1) } as HostTensor;
    expect(errorOf(() => writeSafetensors({ x: ints }), 'safetensors')).toMatch(/f32 data must be a Float32Array/);
    expect(errorOf(() => writeSafetensors({ __metadata__: hostTensor('f32', [1]) }), 'safetensors')).toMatch(/reserved/);
    expect(errorOf(() => writeSafetensors({}, { k: 3 as unknown as string }), 'safetensors')).toMatch(/metadata value for "k"/);
  });
});

describe('header validation', () => {
  const ok = entry('F32', [2], [0, 8]);
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['empty file', () => new Uint8Array(0), /too short .*0 bytes/],
    ['truncated length prefix', () => Uint8Array.of(1, 0, 0), /too short .*3 bytes/],
    ['header past the end', () => file(`{"x":${ok}}`, eight).subarray(0, 30), /header length 54 runs past the end of the file \(30 bytes\)/],
    ['huge header', () => { const b = file('{}'); new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true); return b; }, /header length 1099511627776 is over the 100 MB limit/],
    ['u64 max header', () => Uint8Array.of(255, 255, 255, 255, 255, 255, 255, 255, 1), /18446744073709551615 is over the 100 MB limit/],
    ['bad JSON', () => file('{"x": {'), /header is not valid JSON/],
    ['empty header', () => file(''), /header is not valid JSON/],
    ['bad UTF-8', () => { const b = file('{"xx":1}'); b[10] = 0xff; return b; }, /header is not valid JSON \(not valid UTF-8\)/],
    ['array header', () => file('[1, 2]'), /header must be a JSON object, got \[1,2\]/],
    ['null header', () => file('null'), /header must be a JSON object, got null/],
    ['entry not an object', () => file('{"x": 5}'), /tensor "x": entry must be an object/],
    ['unknown dtype', () => file(`{"x":${entry('F64', [1], [0, 8])}}`, eight), /tensor "x": dtype "F64" is not supported \(supported: F32, F16, BF16, I32, U32, I64, BOOL\)/],
    ['lower-case dtype', () => file(`{"x":${entry('f32', [2], [0, 8])}}`, eight), /dtype "f32" is not supported/],
    ['dtype not a string', () => file('{"x":{"dtype":3,"shape":[2],"data_offsets":[0,8]}}', eight), /dtype must be a string, got 3/],
    ['inherited dtype name', () => file(`{"x":${entry('toString', [2], [0, 8])}}`, eight), /dtype "toString" is not supported/],
    ['negative dim', () => file(`{"x":${entry('F32', [-2], [0, 8])}}`, eight), /shape must be an array of non-negative integers, got \[-2\]/],
    ['fractional dim', () => file(`{"x":${entry('F32', [1.5], [0, 8])}}`, eight), /shape must be .* got \[1.5\]/],
    ['shape not an array', () => file(`{"x":${entry('F32', '2', [0, 8])}}`, eight), /shape must be .* got "2"/],
    ['one offset', () => file(`{"x":${entry('F32', [2], [8])}}`, eight), /data_offsets must be two non-negative integers, got \[8\]/],
    ['offsets missing', () => file('{"x":{"dtype":"F32","shape":[2]}}', eight), /data_offsets must be two non-negative integers, got undefined/],
    ['fractional offset', () => file(`{"x":${entry('F32', [2], [0, 7.5])}}`, eight), /data_offsets must be two/],
    ['end before begin', () => file(`{"x":${entry('F32', [0], [8, 0])}}`, eight), /data_offsets \[8, 0\] end before they begin/],
    ['out of range', () => file(`{"x":${entry('F32', [4], [0, 16])}}`, eight), /tensor "x": data_offsets \[0, 16\] run past the data region \(8 bytes\)/],
    ['wrong byte length', () => file(`{"x":${entry('F32', [3], [0, 8])}}`, eight), /data_offsets \[0, 8\] hold 8 bytes, F32 \[3\] needs 12/],
    ['numel overflow', () => file(`{"x":${entry('F32', [2 ** 40, 2 ** 40], [0, 8])}}`, eight), /hold 8 bytes, F32 \[1099511627776, 1099511627776\] needs Infinity/],
    ['overlap', () => file(`{"a":${entry('F32', [2], [0, 8])},"b":${entry('I32', [1], [4, 8])}}`, eight), /tensors "a" \[0, 8\] and "b" \[4, 8\] overlap/],
    ['identical ranges', () => file(`{"b":${entry('F32', [1], [0, 4])},"a":${entry('I32', [1], [0, 4])}}`, eight), /tensors "a" \[0, 4\] and "b" \[0, 4\] overlap/],
    ['metadata not an object', () => file('{"__metadata__":["a"]}'), /__metadata__ must be an object of strings/],
    ['metadata value not a string', () => file('{"__metadata__":{"epoch":3}}'), /__metadata__ value for "epoch" must be a string, got 3/],
    ['i64 above i32', () => file(`{"n":${entry('I64', [2], [0, 16])}}`, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), /tensor "n": I64 value 4294967296 at index 1 does not fit in i32/],
    ['i64 below i32', () => file(`{"n":${entry('I64', [1], [0, 8])}}`, [0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff]), /I64 value -2147483649 at index 0 does not fit in i32/],
    ['i64 2^31', () => file(`{"n":${entry('I64', [1], [0, 8])}}`, [0, 0, 0, 0x80, 0, 0, 0, 0]), /I64 value 2147483648 at index 0/],
  ];
  it.each(cases)('%s', (_, make, want) => {
    expect(errorOf(() => readSafetensors(make(), 'model.st'))).toMatch(want);
  });

  it('keeps names with newlines on one line in messages', () => {
    const m = errorOf(() => readSafetensors(file(`{"a\\nb":${entry('F64', [1], [0, 8])}}`, [0, 0, 0, 0, 0, 0, 0, 0]), 'model.st'));
    expect(m).toContain('tensor "a\\nb"');
  });

  it('uses "file" when no name is given', () => {
    expect(() => readSafetensors(new Uint8Array(2))).toThrow(/^file: too short/);
  });
});

describe('file helpers', () => {
  it('save then load, leaving no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-st-'));
    const path = join(dir, 'w.safetensors');
    saveSafetensors(path, { a: hostTensor('bf16', [2], [1, -0.5]) }, { step: '10' });
    const m = loadSafetensors(path);
    expect(Array.from(m.get('a')!.data)).toEqual([1, -0.5]);
    expect(readdirSync(dir)).toEqual(['w.safetensors']);
  });

  it('names the path in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-st-'));
    const missing = join(dir, 'nope.safetensors');
    expect(errorOf(() => loadSafetensors(missing), missing)).toMatch(/cannot read the file \(ENOENT\)/);
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'hello');
    expect(errorOf(() => loadSafetensors(junk), junk)).toMatch(/too short/);
    // Writes go through src/runtime/fs-out.ts: a file error (TFX8003) naming the path.
    expect(() => saveSafetensors(join(dir, 'no/such/dir.st'), {})).toThrow(expect.objectContaining({ code: 'TFX8003', message: `cannot write '${join(dir, 'no/such/dir.st')}': ENOENT` }));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties.

const DTYPES: DType[] = ['f32', 'f16', 'bf16', 'i32', 'u32', 'i64', 'bool'];
const bitsToF32 = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0]!;
/** Every f16 value, decoded here by the IEEE formula rather than by the code under test. */
const f16Value = (h: number): number => {
  const e = (h >> 10) & 31, m = h & 1023, s = h & 0x8000 ? -1 : 1;
  return e === 31 ? (m ? NaN : s * Infinity) : e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
};

const arbTensor: fc.Arbitrary<HostTensor> = fc
  .record({ dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }) })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const elem: fc.Arbitrary<number> =
      dtype === 'f32' ? fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(bitsToF32)
      : dtype === 'f16' ? fc.integer({ min: 0, max: 0xffff }).map(f16Value)
      : dtype === 'bf16' ? fc.integer({ min: 0, max: 0xffff }).map((b) => bitsToF32(b * 65536))
      : dtype === 'bool' ? fc.integer({ min: 0, max: 1 })
      : fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    return fc.array(elem, { minLength: n, maxLength: n }).map((d) => hostTensor(dtype, shape, d));
  });
const arbTensors = fc.dictionary(fc.string({ maxLength: 8 }).filter((s) => s !== '__metadata__'), arbTensor, { maxKeys: 5 });

describe('properties', () => {
  it('random tensors round-trip exactly', () => {
    fc.assert(
      fc.property(arbTensors, fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), (tensors, meta) => {
        const { tensors: back, metadata } = decodeSafetensors(writeSafetensors(tensors, meta));
        expect(metadata).toEqual(meta);
        expect(back.size).toBe(Object.keys(tensors).length);
        for (const [name, t] of Object.entries(tensors)) {
          const b = back.get(name)!;
          expect(b.dtype).toBe(t.dtype);
          expect(b.shape).toEqual(t.shape);
          expect(sameValues(b.data, t.data)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  /** Decodes or throws WeightsError; anything else (TypeError, RangeError, a plain Error) fails. */
  function decodesOrWeightsError(bytes: Uint8Array): void {
    try {
      const m = readSafetensors(bytes, 'fuzz');
      for (const t of m.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    } catch (err) {
      if (!(err instanceof WeightsError)) throw err;
      expect(err.message.startsWith('fuzz: ')).toBe(true);
      expect(err.message).not.toMatch(/\n/);
    }
  }

  it('random byte mutations either decode or throw WeightsError', () => {
    const alphabet = [...'0123456789-.eE[]{},:" ntrufalsFIBOL'].map((c) => c.charCodeAt(0));
    const mutation = fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...alphabet)));
    fc.assert(
      fc.property(arbTensors, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.nat(), (tensors, muts, cut) => {
        const bytes = writeSafetensors(tensors);
        const headerEnd = 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true));
        // Mostly hit the length prefix and the header: that is where the structure is.
        for (const [pos, value] of muts) bytes[pos % (pos % 4 === 0 ? bytes.length : headerEnd)] = value;
        decodesOrWeightsError(bytes);
        decodesOrWeightsError(bytes.subarray(0, cut % (bytes.length + 1)));
      }),
      { numRuns: 2000 },
    );
  });

  it('every single-byte change of a small file decodes or throws WeightsError', () => {
    const base = writeSafetensors({ a: hostTensor('i64', [2], [1, -1]), b: hostTensor('f16', [1], [2]) }, { k: 'v' });
    for (let pos = 0; pos < base.length; pos++) {
      for (const v of [0, 0x20, 0x22, 0x2c, 0x2d, 0x30, 0x39, 0x5b, 0x5d, 0x7b, 0x7d, 0x80, 0xff]) {
        const b = base.slice();
        b[pos] = v;
        decodesOrWeightsError(b);
      }
    }
  });
});
