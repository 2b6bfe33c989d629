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
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { MAX_JSON_NESTING, MAX_SPECIAL_FILE_BYTES, jsonNesting, readBounded } from './fs-in.js';
import { isDType, type DType } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import { writeFileSafely } from './fs-out.js';
import { WeightsError, f16ToF32Table, f32ArrayToBf16Bits, f32ArrayToF16Bits } from './weights.js';

export { WeightsError } from './weights.js';

/** Same cap as the reference implementation: a bigger header is a corrupt or foreign file. */
const MAX_HEADER_BYTES = 100_000_000;
/** Deepest JSON nesting accepted in a header (docs/errors.md, TFX7004); a valid one needs 3. */
export const MAX_HEADER_NESTING = MAX_JSON_NESTING;
export const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const FILE_DTYPES = {
  F32: { size: 4, dtype: 'f32' },
  F16: { size: 2, dtype: 'f16' },
  BF16: { size: 2, dtype: 'bf16' },
  I32: { size: 4, dtype: 'i32' },
  U32: { size: 4, dtype: 'u32' },
  I64: { size: 8, dtype: 'i64' },
  BOOL: { size: 1, dtype: 'bool' },
} as const satisfies Record<string, { size: number; dtype: DType }>;
export type FileDType = keyof typeof FILE_DTYPES;
export const TO_FILE = {
  f32: 'F32', f16: 'F16', bf16: 'BF16', i32: 'I32', u32: 'U32', i64: 'I64', bool: 'BOOL',
} as const satisfies Record<DType, FileDType>;
const isFileDType = (s: string): s is FileDType => Object.hasOwn(FILE_DTYPES, s);

export interface SafetensorsFile {
  readonly tensors: Map<string, HostTensor>;
  readonly metadata: Record<string, string>;
}

/** A short one-line rendering of an arbitrary JSON value for messages. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
export const quote = (name: string): string => show(name);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNatural = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Element count, or Infinity when it is past 2^53 (it can then never match a real byte range). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n = n * d > Number.MAX_SAFE_INTEGER ? Infinity : n * d;
  return shape.includes(0) ? 0 : n;
}

export interface Entry { name: string; file: FileDType; shape: number[]; begin: number; end: number }

export function parseEntry(name: string, v: unknown, dataLen: number, fail: (m: string) => WeightsError): Entry {
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

export function decodeData(bytes: Uint8Array, e: Entry, start: number, fail: (m: string) => WeightsError): Float32Array | Int32Array {
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

/** The parsed header of a file whose data region holds `dataLen` bytes: entries sorted by offset, checked for overlap. */
export interface ParsedHeader { readonly entries: readonly Entry[]; readonly metadata: Record<string, string> }

export function parseHeader(headerBytes: Uint8Array, dataLen: number, fail: (m: string) => WeightsError): ParsedHeader {
  // JSON.parse recurses: 100k nested '[' overflow the stack (an internal error). A header needs depth 3.
  if (jsonNesting(headerBytes, MAX_HEADER_NESTING) > MAX_HEADER_NESTING) {
    throw new WeightsError(fail(`header nests JSON deeper than ${MAX_HEADER_NESTING} levels; not a safetensors file?`).message, 'TFX7004');
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (err) {
    const why = err instanceof SyntaxError ? err.message.replace(/\s+/g, ' ').slice(0, 120) : 'not valid UTF-8';
    throw fail(`header is not valid JSON (${why})`);
  }
  if (!isObject(header)) throw fail(`header must be a JSON object, got ${show(header)}`);

  const meta: [string, string][] = [];
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name !== METADATA_KEY) { entries.push(parseEntry(name, v, dataLen, fail)); continue; }
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
  return { entries, metadata };
}

/** The data-region start for a header length read from the first 8 bytes, or a message saying why it is bad. */
export function headerEnd(headerLen: bigint, fileLen: number, fail: (m: string) => WeightsError): number {
  if (headerLen > BigInt(MAX_HEADER_BYTES)) throw fail(`header length ${headerLen} is over the 100 MB limit; not a safetensors file?`);
  const start = 8 + Number(headerLen);
  if (start > fileLen) throw fail(`header length ${headerLen} runs past the end of the file (${fileLen} bytes)`);
  return start;
}

/** Decodes a whole file: tensors in data order, plus the `__metadata__` strings. `what` starts every message. */
export function decodeSafetensors(bytes: Uint8Array, what = 'file'): SafetensorsFile {
  const fail = (m: string): WeightsError => new WeightsError(`${what}: ${m}`);
  if (bytes.length < 8) throw fail(`too short for a safetensors file (${bytes.length} bytes, the header length alone takes 8)`);
  const start = headerEnd(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true), bytes.length, fail);
  const { entries, metadata } = parseHeader(bytes.subarray(8, start), bytes.length - start, fail);

  const tensors = new Map<string, HostTensor>();
  for (const e of entries) tensors.set(e.name, hostTensor(FILE_DTYPES[e.file].dtype, e.shape, decodeData(bytes, e, start, fail)));
  return { tensors, metadata };
}

export function readSafetensors(bytes: Uint8Array, what = 'file'): Map<string, HostTensor> {
  return decodeSafetensors(bytes, what).tensors;
}

export function encodeData(t: HostTensor, out: Uint8Array, at: number): void {
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

export function checkTensor(name: string, t: HostTensor, fail: (m: string) => WeightsError): void {
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
 * The header of tensors laid out in the given (file) order, as bytes padded by spaces to a multiple of 8 as the
 * reference does, with each tensor's offset in the data section and the section's size.
 */
function encodeHeader(ordered: readonly TensorSpec[], metadata: Readonly<Record<string, string>> | undefined, fail: (m: string) => WeightsError): { json: Uint8Array; offsets: number[]; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw fail(`metadata value for ${quote(k)} must be a string`);
    header[METADATA_KEY] = { ...metadata };
  }
  let offset = 0;
  const offsets = ordered.map((s) => {
    const at = offset;
    offset += tensorBytes(s);
    // defineProperty, not assignment: a tensor named "__proto__" must become a key, not a prototype.
    Object.defineProperty(header, s.name, { value: { dtype: TO_FILE[s.dtype], shape: [...s.shape], data_offsets: [at, offset] }, enumerable: true });
    return at;
  });
  const text = new TextEncoder().encode(JSON.stringify(header));
  const json = new Uint8Array(Math.ceil(text.length / 8) * 8).fill(0x20);
  json.set(text);
  return { json, offsets, dataBytes: offset };
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
  const ordered = fileOrder(list.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, t })));
  const { json, offsets, dataBytes } = encodeHeader(ordered, metadata, fail);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  ordered.forEach((e, i) => encodeData(e.t, out, 8 + json.length + offsets[i]!));
  return out;
}

export const errText = (err: unknown): string =>
  (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------------------
// Streaming: one file descriptor, each tensor read or written on its own, never one buffer for the file.

/** Reads and writes go in pieces of at most this many bytes (Node caps one call near 2 GiB). */
const IO_CHUNK = 1 << 30;

function readFully(fd: number, into: Uint8Array, position: number, what: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(IO_CHUNK, into.length - done), position + done);
    if (n === 0) throw new WeightsError(`${what}: the file ended early (truncated while being read?)`);
    done += n;
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, Math.min(IO_CHUNK, bytes.length - done));
}

/** A tensor as the header describes it (no data read yet). */
export interface TensorInfo { readonly name: string; readonly dtype: DType; readonly shape: readonly number[]; readonly bytes: number }

/** An open safetensors file: the header is parsed and checked; `read` fetches one tensor's bytes. */
export interface SafetensorsReader {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Every tensor, in data order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Total bytes of tensor data. */
  readonly dataBytes: number;
  read(name: string): HostTensor;
  close(): void;
}

/** Opens `path` and checks its header; only the header is read. Close it (or read through `loadSafetensors`). */
export function openSafetensors(path: string): SafetensorsReader {
  const fail = (m: string): WeightsError => new WeightsError(`${path}: ${m}`);
  let regular = true;
  try { regular = statSync(path).isFile(); } catch { /* reported by the open below */ }
  if (!regular) return inMemoryReader(path, decodeSafetensors(readBounded(path, MAX_SPECIAL_FILE_BYTES, 'tensor files that are not regular files'), path));
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (err) { throw fail(`cannot read the file (${errText(err)})`); }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw fail(`too short for a safetensors file (${size} bytes, the header length alone takes 8)`);
    const lenBytes = new Uint8Array(8);
    readFully(fd, lenBytes, 0, path);
    const start = headerEnd(new DataView(lenBytes.buffer).getBigUint64(0, true), size, fail);
    const headerBytes = new Uint8Array(start - 8);
    readFully(fd, headerBytes, 8, path);
    const { entries, metadata } = parseHeader(headerBytes, size - start, fail);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const tensors = new Map(entries.map((e) => [e.name, { name: e.name, dtype: FILE_DTYPES[e.file].dtype, shape: e.shape, bytes: e.end - e.begin } as TensorInfo]));
    let open = true;
    return {
      path, metadata, tensors,
      dataBytes: entries.reduce((s, e) => s + (e.end - e.begin), 0),
      read(name) {
        const e = byName.get(name);
        if (e === undefined) throw fail(`no tensor named ${quote(name)}`);
        if (!open) throw fail('read after close');
        const bytes = new Uint8Array(e.end - e.begin);
        readFully(fd, bytes, start + e.begin, path);
        return hostTensor(FILE_DTYPES[e.file].dtype, e.shape, decodeData(bytes, { ...e, begin: 0, end: bytes.length }, 0, fail));
      },
      close() { if (open) { open = false; closeSync(fd); } },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** A pipe or device cannot be read at offsets: its (bounded) bytes are decoded whole. */
function inMemoryReader(path: string, f: SafetensorsFile): SafetensorsReader {
  const tensors = new Map([...f.tensors].map(([k, t]) => [k, { name: k, dtype: t.dtype, shape: t.shape, bytes: tensorBytes({ name: k, dtype: t.dtype, shape: t.shape }) }]));
  return {
    path, metadata: f.metadata, tensors, dataBytes: [...tensors.values()].reduce((s, t) => s + t.bytes, 0),
    read(name) { const t = f.tensors.get(name); if (!t) throw new WeightsError(`${path}: no tensor named ${quote(name)}`); return t; },
    close() {},
  };
}

/** Reads a whole file, one tensor at a time (peak memory: the decoded tensors plus the largest tensor's bytes). */
export function loadSafetensors(path: string): Map<string, HostTensor> {
  const r = openSafetensors(path);
  try {
    return new Map([...r.tensors.keys()].map((k) => [k, r.read(k)]));
  } finally {
    r.close();
  }
}

/** What a streaming writer needs to know before any data: the header is written first. */
export interface TensorSpec { readonly name: string; readonly dtype: DType; readonly shape: readonly number[] }

/** Bytes a tensor occupies in a file. */
export const tensorBytes = (t: TensorSpec): number => numel(t.shape) * FILE_DTYPES[TO_FILE[t.dtype]].size;

/** The same order `writeSafetensors` uses: decreasing element size (so each tensor is aligned), then given order. */
export function fileOrder<T extends TensorSpec>(specs: readonly T[]): T[] {
  const size = (t: TensorSpec): number => FILE_DTYPES[TO_FILE[t.dtype]].size;
  return specs.map((e, i) => ({ e, i })).sort((a, b) => size(b.e) - size(a.e) || a.i - b.i).map((x) => x.e);
}

/**
 * Writes a file tensor by tensor: `produce(spec)` is called once per tensor, in file order, and its result
 * is encoded and written before the next is asked for, so peak memory is about one tensor. The file is
 * written under a temporary name and renamed at the end: an error (or a throw from `produce`) leaves no
 * half-written file at `path`. `onTensor` is told after each tensor (for progress displays).
 */
export function writeSafetensorsFile(
  path: string,
  specs: readonly TensorSpec[],
  produce: (spec: TensorSpec) => HostTensor,
  opts: { metadata?: Readonly<Record<string, string>> | undefined; onTensor?: ((spec: TensorSpec, bytes: number) => void) | undefined } = {},
): { bytes: number } {
  const fail = (m: string): WeightsError => new WeightsError(`${path}: ${m}`);
  const seen = new Set<string>();
  for (const s of specs) {
    if (s.name === METADATA_KEY) throw fail(`${METADATA_KEY} is reserved and cannot name a tensor`);
    if (seen.has(s.name)) throw fail(`tensor ${quote(s.name)} is given twice`);
    seen.add(s.name);
    if (!isDType(s.dtype)) throw fail(`tensor ${quote(s.name)}: unknown dtype ${show(s.dtype)}`);
    if (!s.shape.every(isNatural)) throw fail(`tensor ${quote(s.name)}: shape must be non-negative integers, got ${show(s.shape)}`);
  }
  const ordered = fileOrder(specs);
  const { json, dataBytes } = encodeHeader(ordered, opts.metadata, fail);
  const lenBytes = new Uint8Array(8);
  new DataView(lenBytes.buffer).setBigUint64(0, BigInt(json.length), true);

  // Temporary file in the same folder + rename; refuses links and special files (src/runtime/fs-out.ts).
  writeFileSafely(path, (fd) => {
    writeFully(fd, lenBytes);
    writeFully(fd, json);
    for (const s of ordered) {
      const t = produce(s);
      checkTensor(s.name, t, fail);
      if (t.dtype !== s.dtype || t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw fail(`tensor ${quote(s.name)}: produced ${t.dtype} [${t.shape.join(', ')}], announced ${s.dtype} [${s.shape.join(', ')}]`);
      }
      const bytes = tensorBytes(s);
      const d = t.data;
      const raw = LITTLE_ENDIAN && (s.dtype === 'f32' || s.dtype === 'i32' || s.dtype === 'u32')
        ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength)
        : (() => { const b = new Uint8Array(bytes); encodeData(t, b, 0); return b; })();
      writeFully(fd, raw);
      opts.onTensor?.(s, bytes);
    }
  });
  return { bytes: 8 + json.length + dataBytes };
}

/** Writes through a temporary file and a rename, so an interrupted save never leaves half a file at `path`. */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>,
  metadata?: Readonly<Record<string, string>>,
): void {
  const list = (tensors instanceof Map ? [...tensors] : Object.entries(tensors)) as [string, HostTensor][];
  const fail = (m: string): WeightsError => new WeightsError(`${path}: ${m}`);
  for (const [name, t] of list) checkTensor(name, t, fail);
  const byName = new Map(list);
  writeSafetensorsFile(path, list.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })), (s) => byName.get(s.name)!, { metadata });
}
