/**
 * safetensors reader and writer. Layout: u64 little-endian header length N, N bytes of JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { key: value } }`, then the data
 * region; offsets are relative to its start. The data region may sit at any byte offset, so reads copy out
 * through fresh buffers or DataView and never build unaligned typed-array views.
 *
 * Loaded tensors follow HostTensor: F16/BF16 become Float32Array data that keeps dtype 'f16'/'bf16';
 * I64 is narrowed to i32 (a value out of range is an error); U32 keeps its bit pattern in Int32Array;
 * BOOL bytes become 0/1 in Int32Array.
 */
import { readFileSync, statSync } from 'node:fs';
import { TfxError } from '../errors.js';
import { MAX_SPECIAL_FILE_BYTES, readBounded } from './fs-in.js';
import { isDType, type DType } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import { writeOutputFile } from './fs-out.js';
import { WeightsError, f16ToF32Table, f32ArrayToBf16Bits, f32ArrayToF16Bits } from './weights.js';

export { WeightsError } from './weights.js';

/** Same cap as the reference implementation: a bigger header is a corrupt or foreign file. */
const MAX_HEADER_BYTES = 100_000_000;
/** Deepest JSON nesting accepted in a header (docs/errors.md, TFX7004); a valid one needs 3. */
export const MAX_HEADER_NESTING = 64;

/** Depth of [ and { nesting outside strings, scanning no further than one level past `limit`. */
function jsonNesting(b: Uint8Array, limit: number): number {
  let depth = 0, max = 0, inStr = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (inStr) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max && (max = depth) > limit) return max; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const FILE_DTYPES = {
  F32: { size: 4, dtype: 'f32' },
  F16: { size: 2, dtype: 'f16' },
  BF16: { size: 2, dtype: 'bf16' },
  I32: { size: 4, dtype: 'i32' },
  U32: { size: 4, dtype: 'u32' },
  I64: { size: 8, dtype: 'i64' },
  BOOL: { size: 1, dtype: 'bool' },
} as const satisfies Record<string, { size: number; dtype: DType }>;
type FileDType = keyof typeof FILE_DTYPES;
const TO_FILE = {
  f32: 'F32', f16: 'F16', bf16: 'BF16', i32: 'I32', u32: 'U32', i64: 'I64', bool: 'BOOL',
} as const satisfies Record<DType, FileDType>;
const isFileDType = (s: string): s is FileDType => Object.hasOwn(FILE_DTYPES, s);

export interface SafetensorsFile {
  readonly tensors: Map<string, HostTensor>;
  readonly metadata: Record<string, string>;
}

/** A short one-line rendering of an arbitrary JSON value for messages. */
function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
const quote = (name: string): string => show(name);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNatural = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Element count, or Infinity when it is past 2^53 (it can then never match a real byte range). */
function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n = n * d > Number.MAX_SAFE_INTEGER ? Infinity : n * d;
  return shape.includes(0) ? 0 : n;
}

interface Entry { name: string; file: FileDType; shape: number[]; begin: number; end: number }

function parseEntry(name: string, v: unknown, dataLen: number, fail: (m: string) => WeightsError): Entry {
  const bad = (m: string): WeightsError => fail(`tensor ${quote(name)}: ${m}`);
  if (!isObject(v)) throw bad(`entry must be an object with dtype, shape and data_offsets, got ${show(v)}`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string') throw bad(`dtype must be a string, got ${show(dtype)}`);
  if (!isFileDType(dtype)) throw bad(`dtype ${show(dtype)} is not supported (supported: ${Object.keys(FILE_DTYPES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every(isNatural)) throw bad(`shape must be an array of non-negative integers, got ${show(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNatural)) {
    throw bad(`data_offsets must be two non-negative integers, got ${show(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw bad(`data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) throw bad(`data_offsets [${begin}, ${end}] run past the data region (${dataLen} bytes)`);
  const need = numel(shape) * FILE_DTYPES[dtype].size;
  if (end - begin !== need) {
    throw bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, ${dtype} [${shape.join(', ')}] needs ${need}`);
  }
  return { name, file: dtype, shape, begin, end };
}

/** A fresh, zero-offset copy of bytes [begin, end): safe to view as any element type. */
function copyOut(bytes: Uint8Array, begin: number, end: number): ArrayBuffer {
  const c = new Uint8Array(end - begin);
  c.set(bytes.subarray(begin, end)); // not slice(): on a Node Buffer, slice() is a view
  return c.buffer;
}

function decodeData(bytes: Uint8Array, e: Entry, start: number, fail: (m: string) => WeightsError): Float32Array | Int32Array {
  const begin = start + e.begin;
  const n = (e.end - e.begin) / FILE_DTYPES[e.file].size;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + begin, e.end - e.begin);
  switch (e.file) {
    case 'F32':
      if (LITTLE_ENDIAN) return new Float32Array(copyOut(bytes, begin, start + e.end));
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true));
    case 'I32': case 'U32':
      if (LITTLE_ENDIAN) return new Int32Array(copyOut(bytes, begin, start + e.end));
      return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
    case 'F16': {
      const table = f16ToF32Table();
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)]!;
      return out;
    }
    case 'BF16': {
      // bf16 is the top half of an f32: place the bits, then view them as floats.
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true) << 16;
      return new Float32Array(out.buffer);
    }
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getUint8(i) === 0 ? 0 : 1;
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = dv.getInt32(8 * i, true);
        // The value fits in i32 exactly when the high word is the sign extension of the low word.
        if (dv.getInt32(8 * i + 4, true) !== lo >> 31) {
          throw fail(`tensor ${quote(e.name)}: I64 value ${dv.getBigInt64(8 * i, true)} at index ${i} does not fit in i32`);
        }
        out[i] = lo;
      }
      return out;
    }
  }
}

/** Decodes a whole file: tensors in data order, plus the `__metadata__` strings. `what` starts every message. */
export function decodeSafetensors(bytes: Uint8Array, what = 'file'): SafetensorsFile {
  const fail = (m: string): WeightsError => new WeightsError(`${what}: ${m}`);
  if (bytes.length < 8) throw fail(`too short for a safetensors file (${bytes.length} bytes, the header length alone takes 8)`);
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${headerLen} is over the 100 MB limit; not a safetensors file?`);
  const start = 8 + Number(headerLen);
  if (start > bytes.length) throw fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`);

  // JSON.parse recurses: 100k nested '[' overflow the stack (an internal error). A header needs depth 3.
  const depth = jsonNesting(bytes.subarray(8, start), MAX_HEADER_NESTING);
  if (depth > MAX_HEADER_NESTING) {
    throw new WeightsError(`${what}: header nests JSON deeper than ${MAX_HEADER_NESTING} levels; not a safetensors file?`, 'TFX7004');
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, start)));
  } catch (err) {
    const why = err instanceof SyntaxError ? err.message.replace(/\s+/g, ' ').slice(0, 120) : 'not valid UTF-8';
    throw fail(`header is not valid JSON (${why})`);
  }
  if (!isObject(header)) throw fail(`header must be a JSON object, got ${show(header)}`);

  const meta: [string, string][] = [];
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name !== METADATA_KEY) { entries.push(parseEntry(name, v, bytes.length - start, fail)); continue; }
    if (!isObject(v)) throw fail(`${METADATA_KEY} must be an object of strings, got ${show(v)}`);
    for (const [k, s] of Object.entries(v)) {
      if (typeof s !== 'string') throw fail(`${METADATA_KEY} value for ${quote(k)} must be a string, got ${show(s)}`);
      meta.push([k, s]);
    }
  }
  const metadata = Object.fromEntries(meta); // not assignment: a "__proto__" key must stay a key

  entries.sort((a, b) => a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : 1));
  let prev: Entry | undefined;
  for (const e of entries) {
    if (e.begin === e.end) continue; // empty tensors occupy no bytes
    if (prev && prev.end > e.begin) {
      throw fail(`tensors ${quote(prev.name)} [${prev.begin}, ${prev.end}] and ${quote(e.name)} [${e.begin}, ${e.end}] overlap`);
    }
    prev = e;
  }

  const tensors = new Map<string, HostTensor>();
  for (const e of entries) tensors.set(e.name, hostTensor(FILE_DTYPES[e.file].dtype, e.shape, decodeData(bytes, e, start, fail)));
  return { tensors, metadata };
}

export function readSafetensors(bytes: Uint8Array, what = 'file'): Map<string, HostTensor> {
  return decodeSafetensors(bytes, what).tensors;
}

function encodeData(t: HostTensor, out: Uint8Array, at: number): void {
  const d = t.data;
  const dv = new DataView(out.buffer, out.byteOffset + at);
  switch (t.dtype) {
    case 'f32': case 'i32': case 'u32':
      if (LITTLE_ENDIAN) { out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at); return; }
      if (t.dtype === 'f32') for (let i = 0; i < d.length; i++) dv.setFloat32(4 * i, d[i]!, true);
      else for (let i = 0; i < d.length; i++) dv.setInt32(4 * i, d[i]!, true);
      return;
    case 'f16': case 'bf16': {
      const bits = t.dtype === 'f16' ? f32ArrayToF16Bits(d as Float32Array) : f32ArrayToBf16Bits(d as Float32Array);
      for (let i = 0; i < bits.length; i++) dv.setUint16(2 * i, bits[i]!, true);
      return;
    }
    case 'bool': for (let i = 0; i < d.length; i++) dv.setUint8(i, d[i] === 0 ? 0 : 1); return;
    case 'i64':
      for (let i = 0; i < d.length; i++) {
        dv.setInt32(8 * i, d[i]!, true);
        dv.setInt32(8 * i + 4, d[i]! >> 31, true); // sign extension
      }
  }
}

function checkTensor(name: string, t: HostTensor, fail: (m: string) => WeightsError): void {
  const bad = (m: string): WeightsError => fail(`tensor ${quote(name)}: ${m}`);
  if (name === METADATA_KEY) throw fail(`${METADATA_KEY} is reserved and cannot name a tensor`);
  if (typeof t.dtype !== 'string' || !isDType(t.dtype)) throw bad(`unknown dtype ${show(t.dtype)}`);
  if (!Array.isArray(t.shape) || !t.shape.every(isNatural)) throw bad(`shape must be non-negative integers, got ${show(t.shape)}`);
  const float = t.dtype === 'f32' || t.dtype === 'f16' || t.dtype === 'bf16';
  if (!(float ? t.data instanceof Float32Array : t.data instanceof Int32Array)) {
    throw bad(`${t.dtype} data must be a ${float ? 'Float32Array' : 'Int32Array'}`);
  }
  if (t.data.length !== numel(t.shape)) throw bad(`has ${t.data.length} elements, shape [${t.shape.join(', ')}] needs ${numel(t.shape)}`);
}

/**
 * Encodes tensors (written in order of decreasing element size, then given order, so each tensor is aligned
 * to its element size) with the header padded by spaces to a multiple of 8 bytes, as the reference does.
 */
export function writeSafetensors(
  tensors: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  metadata?: Readonly<Record<string, string>>,
  what = 'safetensors',
): Uint8Array {
  const fail = (m: string): WeightsError => new WeightsError(`${what}: ${m}`);
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)) as [string, HostTensor][];
  for (const [name, t] of list) checkTensor(name, t, fail);
  const size = (t: HostTensor): number => FILE_DTYPES[TO_FILE[t.dtype]].size;
  const ordered = list.map((e, i) => ({ e, i })).sort((a, b) => size(b.e[1]) - size(a.e[1]) || a.i - b.i).map((x) => x.e);

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw fail(`metadata value for ${quote(k)} must be a string`);
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  const placed: [HostTensor, number][] = [];
  for (const [name, t] of ordered) {
    const bytes = t.data.length * size(t);
    // defineProperty, not assignment: a tensor named "__proto__" must become a key, not a prototype.
    Object.defineProperty(header, name, {
      value: { dtype: TO_FILE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] },
      enumerable: true,
    });
    placed.push([t, offset]);
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  for (const [t, at] of placed) encodeData(t, out, 8 + json.length + at);
  return out;
}

const errText = (err: unknown): string =>
  (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));

export function loadSafetensors(path: string): Map<string, HostTensor> {
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) bytes = readBounded(path, MAX_SPECIAL_FILE_BYTES, 'tensor files that are not regular files');
    else bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof TfxError) throw err;
    throw new WeightsError(`${path}: cannot read the file (${errText(err)})`);
  }
  return readSafetensors(bytes, path);
}

/** Writes through a temporary file and a rename, so an interrupted save never leaves half a file at `path`. */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  const bytes = writeSafetensors(tensors, metadata, path);
  writeOutputFile(path, bytes); // temp file + rename; refuses links and special files (src/runtime/fs-out.ts)
}
