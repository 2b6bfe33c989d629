/**
 * Checkpoints of any size: one `.safetensors` file or a sharded set (`NAME.safetensors.index.json` plus
 * `NAME-00001-of-0000N.safetensors`, the layout Hugging Face tools write), read and written one tensor at a
 * time. A name/layout map (`--map FILE`) renames tensors and transposes 2-D ones on read, for checkpoints
 * saved by frameworks that store linear weights as [out, in].
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { HostTensor } from '../core/tensor.js';
import { hostTensor } from '../core/tensor.js';
import {
  errText, openSafetensors, quote, show, tensorBytes, writeSafetensorsFile,
  type SafetensorsReader, type TensorInfo, type TensorSpec,
} from './safetensors.js';
import { readJsonText } from './fs-in.js';
import { writeOutputFile } from './fs-out.js';
import { WeightsError } from './weights.js';

export const INDEX_SUFFIX = '.safetensors.index.json';

/** An open checkpoint (one file or every shard of an index): headers are read, data is read per tensor. */
export interface CheckpointReader {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** The files holding the data (one, or every shard). */
  readonly files: readonly string[];
  readonly dataBytes: number;
  read(name: string): HostTensor;
  close(): void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Opens a `.safetensors` file, a `.safetensors.index.json`, or a directory holding exactly one index. */
export function openCheckpoint(path: string): CheckpointReader {
  let p = path;
  let isDir = false;
  try { isDir = statSync(p).isDirectory(); } catch { /* reported by the open below */ }
  if (isDir) {
    const idx = readdirSync(p).filter((f) => f.endsWith(INDEX_SUFFIX));
    if (idx.length !== 1) throw new WeightsError(`${path}: a checkpoint directory must hold exactly one *${INDEX_SUFFIX}, found ${idx.length}`);
    p = join(p, idx[0]!);
  }
  if (!p.endsWith(INDEX_SUFFIX)) {
    const r = openSafetensors(p);
    return { ...r, read: (n) => r.read(n), close: () => r.close(), tensors: r.tensors, files: [p] };
  }
  return openSharded(p);
}

function openSharded(indexPath: string): CheckpointReader {
  const fail = (m: string): WeightsError => new WeightsError(`${indexPath}: ${m}`);
  let index: unknown;
  const text = readJsonText(indexPath, 'checkpoint indexes'); // bounded size and nesting (src/runtime/fs-in.ts)
  try { index = JSON.parse(text); } catch (err) {
    throw fail(err instanceof SyntaxError ? `not valid JSON (${err.message.slice(0, 100)})` : `cannot read the file (${errText(err)})`);
  }
  if (!isObject(index) || !isObject(index.weight_map)) throw fail('an index needs a "weight_map" object of tensor name -> shard file');
  const meta: Record<string, string> = {};
  if (index.metadata !== undefined) {
    if (!isObject(index.metadata)) throw fail(`"metadata" must be an object, got ${show(index.metadata)}`);
    // Hugging Face writes total_size as a number; keep every value as a string like safetensors metadata.
    for (const [k, v] of Object.entries(index.metadata)) Object.defineProperty(meta, k, { value: String(v), enumerable: true });
  }
  const byShard = new Map<string, string[]>();
  for (const [name, f] of Object.entries(index.weight_map)) {
    // A shard is a plain file next to the index: no paths, so an index cannot point anywhere else on disk.
    if (typeof f !== 'string' || f === '' || f !== basename(f) || f === '.' || f === '..') {
      throw fail(`tensor ${quote(name)}: shard must be a file name next to the index, got ${show(f)}`);
    }
    byShard.set(f, [...(byShard.get(f) ?? []), name]);
  }
  const dir = dirname(indexPath);
  const readers: SafetensorsReader[] = [];
  const where = new Map<string, SafetensorsReader>();
  const tensors = new Map<string, TensorInfo>();
  try {
    for (const [f, names] of byShard) {
      const r = openSafetensors(join(dir, f));
      readers.push(r);
      for (const n of names) {
        const t = r.tensors.get(n);
        if (!t) throw fail(`tensor ${quote(n)} is listed in ${f}, which does not hold it`);
        tensors.set(n, t);
        where.set(n, r);
      }
      const extra = [...r.tensors.keys()].filter((n) => where.get(n) !== r);
      if (extra.length) throw fail(`${f} holds ${quote(extra[0]!)}${extra.length > 1 ? ` and ${extra.length - 1} more` : ''}, which the index does not list there`);
      for (const [k, v] of Object.entries(r.metadata)) if (!Object.hasOwn(meta, k)) Object.defineProperty(meta, k, { value: v, enumerable: true });
    }
  } catch (err) {
    for (const r of readers) r.close();
    throw err;
  }
  return {
    path: indexPath, metadata: meta, tensors, files: readers.map((r) => r.path),
    dataBytes: readers.reduce((s, r) => s + r.dataBytes, 0),
    read(name) {
      const r = where.get(name);
      if (!r) throw fail(`no tensor named ${quote(name)}`);
      return r.read(name);
    },
    close() { for (const r of readers) r.close(); },
  };
}

export interface WriteCheckpointOptions {
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** For an index path: the most data bytes per shard (a bigger tensor gets a shard of its own). Default 2 GiB. */
  readonly shardBytes?: number | undefined;
  readonly onTensor?: ((spec: TensorSpec, bytes: number) => void) | undefined;
}

/**
 * Writes a checkpoint tensor by tensor. A path ending in `.safetensors.index.json` writes shards next to it
 * (`NAME-00001-of-0000N.safetensors`) and the index last, so a reader never sees an index whose shards are
 * missing; any other path writes one file. On an error nothing is left at the destination paths.
 */
export function writeCheckpoint(path: string, specs: readonly TensorSpec[], produce: (spec: TensorSpec) => HostTensor,
  opts: WriteCheckpointOptions = {}): { files: string[]; bytes: number } {
  if (!path.endsWith(INDEX_SUFFIX)) {
    const r = writeSafetensorsFile(path, specs, produce, opts);
    return { files: [path], bytes: r.bytes };
  }
  const limit = opts.shardBytes ?? 2 ** 31;
  if (!(Number.isSafeInteger(limit) && limit > 0)) throw new WeightsError(`${path}: shard size must be a positive integer number of bytes, got ${limit}`);
  const groups: TensorSpec[][] = [];
  let used = Infinity;
  for (const s of specs) {
    const b = tensorBytes(s);
    if (used + b > limit || groups.length === 0) { groups.push([]); used = 0; }
    groups[groups.length - 1]!.push(s);
    used += b;
  }
  if (groups.length === 0) groups.push([]);
  const base = path.slice(0, -INDEX_SUFFIX.length);
  const width = Math.max(5, String(groups.length).length);
  const pad = (i: number) => String(i).padStart(width, '0');
  const shardPath = (i: number) => `${base}-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
  const written: string[] = [];
  const weightMap: Record<string, string> = {};
  let bytes = 0;
  try {
    groups.forEach((g, i) => {
      const f = shardPath(i);
      // An existing shard from an earlier, different save would be overwritten; one from this save never is.
      bytes += writeSafetensorsFile(f, g, produce, opts).bytes;
      written.push(f);
      for (const s of g) Object.defineProperty(weightMap, s.name, { value: basename(f), enumerable: true });
    });
    const total = specs.reduce((s, t) => s + tensorBytes(t), 0);
    const index = { metadata: { ...opts.metadata, total_size: total }, weight_map: weightMap };
    writeOutputFile(path, JSON.stringify(index, null, 2) + '\n');
  } catch (err) {
    for (const f of written) rmSync(f, { force: true });
    throw err;
  }
  return { files: [...written, path], bytes };
}

// ---------------------------------------------------------------------------------------------------------
// Name and layout maps.

/**
 * `--map FILE`: `{ "rename": [[REGEX, REPLACEMENT], ...], "transpose": [REGEX, ...] }`. Each file tensor name
 * is renamed by the first rule whose regex matches it (whole name; `$1` etc. in the replacement), names no
 * rule matches are kept; then tensors whose new name matches a transpose pattern (2-D only) are transposed.
 */
export interface CheckpointMap { readonly rename: readonly (readonly [RegExp, string])[]; readonly transpose: readonly RegExp[] }

export function parseCheckpointMap(text: string, what: string): CheckpointMap {
  const fail = (m: string): WeightsError => new WeightsError(`${what}: ${m}`);
  let j: unknown;
  try { j = JSON.parse(text); } catch (err) { throw fail(`not valid JSON (${(err as Error).message.slice(0, 100)})`); }
  if (!isObject(j)) throw fail('a map is a JSON object with "rename" and/or "transpose"');
  const unknown = Object.keys(j).filter((k) => k !== 'rename' && k !== 'transpose');
  if (unknown.length) throw fail(`unknown key ${quote(unknown[0]!)} (a map has "rename" and "transpose")`);
  const re = (s: unknown, at: string): RegExp => {
    if (typeof s !== 'string') throw fail(`${at} must be a regular expression string, got ${show(s)}`);
    try { return new RegExp(`^(?:${s})$`); } catch { throw fail(`${at}: ${show(s)} is not a valid regular expression`); }
  };
  const rename = j.rename ?? [];
  const transpose = j.transpose ?? [];
  if (!Array.isArray(rename)) throw fail('"rename" must be an array of [pattern, replacement] pairs');
  if (!Array.isArray(transpose)) throw fail('"transpose" must be an array of patterns');
  return {
    rename: rename.map((r, i) => {
      if (!Array.isArray(r) || r.length !== 2 || typeof r[1] !== 'string') throw fail(`rename[${i}] must be [pattern, replacement], got ${show(r)}`);
      return [re(r[0], `rename[${i}]`), r[1] as string] as const;
    }),
    transpose: transpose.map((t, i) => re(t, `transpose[${i}]`)),
  };
}

export function loadCheckpointMap(path: string): CheckpointMap {
  let text: string;
  text = readJsonText(path, 'checkpoint maps'); // bounded size and nesting (src/runtime/fs-in.ts)
  return parseCheckpointMap(text, path);
}

function transpose2d(t: HostTensor): HostTensor {
  const [r, c] = t.shape as [number, number];
  const out = t.data instanceof Float32Array ? new Float32Array(t.data.length) : new Int32Array(t.data.length);
  const d = t.data;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = d[i * c + j]!;
  return hostTensor(t.dtype, [c, r], out);
}

/** A view of `r` with the map applied: names as the spec wants them, transposed tensors with swapped shapes. */
export function mapCheckpoint(r: CheckpointReader, map: CheckpointMap): CheckpointReader {
  const fail = (m: string): WeightsError => new WeightsError(`${r.path}: ${m}`);
  const fromName = new Map<string, string>();
  const flip = new Set<string>();
  const tensors = new Map<string, TensorInfo>();
  for (const [orig, info] of r.tensors) {
    const rule = map.rename.find(([re]) => re.test(orig));
    const name = rule ? orig.replace(rule[0], rule[1]) : orig;
    if (fromName.has(name)) throw fail(`the map renames both ${quote(fromName.get(name)!)} and ${quote(orig)} to ${quote(name)}`);
    fromName.set(name, orig);
    let shape = info.shape;
    if (map.transpose.some((re) => re.test(name))) {
      if (shape.length !== 2) throw fail(`the map transposes ${quote(name)}, which has shape [${shape.join(', ')}] (only 2-D tensors can be)`);
      shape = [shape[1]!, shape[0]!];
      flip.add(name);
    }
    tensors.set(name, { ...info, name, shape });
  }
  return {
    ...r, tensors, files: r.files, dataBytes: r.dataBytes, close: () => r.close(),
    read(name) {
      const orig = fromName.get(name);
      if (orig === undefined) throw fail(`no tensor named ${quote(name)} after mapping`);
      const t = r.read(orig);
      return flip.has(name) ? transpose2d(t) : t;
    },
  };
}

