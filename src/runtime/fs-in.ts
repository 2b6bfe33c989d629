/**
 * Bounded reads of user files. A regular file's size is known before reading; a FIFO, device or /dev/zero is
 * not, so it is read in chunks up to the limit and refused past it (TFX7001) instead of reading without end.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { TfxError } from '../errors.js';

/** Most bytes read from a file that is not a regular file (a pipe or device) holding tensors. */
export const MAX_SPECIAL_FILE_BYTES = 256 * 1024 * 1024;

const errText = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? (e instanceof Error ? e.message : String(e));

/** Reads `path` whole if it has at most `max` bytes; `what` names the kind of file in the message. */
export function readBounded(path: string, max: number, what: string): Buffer {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch (e) { throw new TfxError('TFX8001', `cannot read '${path}': ${errText(e)}`); }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new TfxError('TFX8001', `cannot read '${path}': it is a folder`);
    if (st.isFile() && st.size > max) throw new TfxError('TFX7001', `'${path}' is ${st.size} bytes; ${what} are limited to ${max} bytes`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, max + 1 - total));
      let n: number;
      try { n = readSync(fd, chunk, 0, chunk.length, null); } catch (e) { throw new TfxError('TFX8001', `cannot read '${path}': ${errText(e)}`); }
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > max) throw new TfxError('TFX7001', `'${path}' holds more than ${max} bytes (it is not a regular file); ${what} are limited to ${max} bytes`);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Deepest JSON nesting tfx accepts in a file it parses (headers, indexes, maps): JSON.parse recurses. */
export const MAX_JSON_NESTING = 64;

/**
 * Depth of [ and { nesting outside strings, scanning no further than one level past `limit`. Takes text or its
 * UTF-8 bytes alike: the characters it looks at are ASCII, and no byte of a multi-byte UTF-8 sequence is.
 */
export function jsonNesting(text: string | Uint8Array, limit = MAX_JSON_NESTING): number {
  const code = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0, max = 0, inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = code(i);
    if (inStr) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max && (max = depth) > limit) return max; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** A small JSON file (checkpoint index, name map) read with a size bound and checked for nesting (TFX7004). */
export function readJsonText(path: string, what: string): string {
  const text = readBounded(path, MAX_JSON_FILE_BYTES, what).toString('utf8');
  if (jsonNesting(text) > MAX_JSON_NESTING) throw new TfxError('TFX7004', `${path}: JSON nested deeper than ${MAX_JSON_NESTING} levels`);
  return text;
}
export const MAX_JSON_FILE_BYTES = 64 * 1024 * 1024;
