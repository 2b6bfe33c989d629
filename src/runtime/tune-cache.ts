/**
 * The autotuner's cache: the best schedule found per (kernel signature, device), as a versioned JSON file.
 * A kernel's signature hashes its IR without name, label, schedule and buffer numbering, so every layer's
 * identical matmul shares one entry; sizes stay symbolic (B, S), so an entry tuned at one batch applies to all.
 * A cache that cannot be read is ignored with a one-line warning: tuning is an optimisation, never a failure.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AttentionSchedule, KExpr, Kernel, KernelPlan, MapSchedule, MatmulSchedule, RowSchedule } from '../ir/kernel.js';

export const TUNE_CACHE_VERSION = 1;
export const DEFAULT_TUNE_CACHE = '.tfx-cache/tune.json';

import { scheduleViolation, withSchedule, type Schedule, type TargetLimits } from '../ir/schedule.js';
export type { Schedule };

export interface TuneEntry {
  readonly signature: string;
  readonly device: string;
  readonly kind: Kernel['kind'];
  readonly opKind: string;
  readonly label: string;
  readonly schedule: Schedule;
  /** Median GPU ms of the tuned and the default schedule, at `dims`. */
  readonly ms: number;
  readonly defaultMs: number;
  readonly dims: Readonly<Record<string, number>>;
  readonly tunedAt: string;
}

export interface TuneCache {
  readonly version: number;
  readonly entries: Record<string, TuneEntry>;
}

export const emptyTuneCache = (): TuneCache => ({ version: TUNE_CACHE_VERSION, entries: {} });
export const tuneCachePath = (path?: string): string => path ?? (process.env['TFX_TUNE_CACHE'] || DEFAULT_TUNE_CACHE);
export const tuneKey = (signature: string, device: string): string => `${signature}|${device}`;

const warn = (s: string) => process.stderr.write(`tfx: warning: ${s}\n`);

/** The cache at `path` (default: $TFX_TUNE_CACHE or .tfx-cache/tune.json); undefined if absent or unusable. */
export function loadTuneCache(path?: string): TuneCache | undefined {
  const p = tuneCachePath(path);
  let text: string;
  try { text = readFileSync(p, 'utf8'); } catch { return undefined; }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { warn(`tune cache ${p} is not valid JSON; ignoring it`); return undefined; }
  if (!isObj(raw) || typeof raw['version'] !== 'number' || !isObj(raw['entries'])) { warn(`tune cache ${p} is not a tune cache; ignoring it`); return undefined; }
  if (raw['version'] !== TUNE_CACHE_VERSION) { warn(`tune cache ${p} has version ${raw['version']}, this tfx reads version ${TUNE_CACHE_VERSION}; ignoring it`); return undefined; }
  const entries: Record<string, TuneEntry> = {};
  let bad = 0;
  for (const [k, e] of Object.entries(raw['entries'])) {
    if (validEntry(e) && k === tuneKey(e.signature, e.device)) entries[k] = e;
    else bad++;
  }
  if (bad) warn(`tune cache ${p}: ignored ${bad} malformed entr${bad === 1 ? 'y' : 'ies'}`);
  return { version: TUNE_CACHE_VERSION, entries };
}

/** Writes atomically (temp file + rename) so a crash never leaves half a cache. */
export function saveTuneCache(cache: TuneCache, path?: string): string {
  const p = tuneCachePath(path);
  mkdirSync(dirname(p), { recursive: true });
  const tmp = `${p}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: TUNE_CACHE_VERSION, entries: cache.entries }, null, 2) + '\n');
  renameSync(tmp, p);
  return p;
}

/** sha256 (hex, 16 chars) of the kernel's IR with buffers renumbered by first use; schedule-independent. */
export function kernelSignature(k: Kernel): string {
  const ids = new Map<number, number>();
  const buf = (b: number) => { if (!ids.has(b)) ids.set(b, ids.size); return ids.get(b)!; };
  const ex = (e: KExpr | null): unknown => {
    if (e === null) return null;
    switch (e.k) {
      case 'load': return ['load', buf(e.buf), ex(e.at), e.dtype];
      case 'un': return ['un', e.op, ex(e.a), e.dtype];
      case 'bin': return ['bin', e.op, ex(e.a), ex(e.b), e.dtype];
      case 'where': return ['where', ex(e.c), ex(e.a), ex(e.b), e.dtype];
      case 'cast': return ['cast', ex(e.a), e.dtype];
      case 'var': return ['var', e.name, e.dtype];
      case 'const': return ['const', e.v, e.dtype];
      case 'sym': return ['sym', e.i];
    }
  };
  const dims = (s: readonly { key: string }[]) => s.map((d) => d.key);
  let body: unknown;
  switch (k.kind) {
    case 'map': body = [dims(k.shape), ex(k.value)]; break;
    case 'scatter': body = [dims(k.shape), dims(k.free), k.cond && ex(k.cond), ex(k.value)]; break;
    case 'row': body = [dims(k.rows), k.len.key, k.reds.map((r) => [r.op, ex(r.value)]), k.store.perElement, ex(k.store.at), ex(k.store.value)]; break;
    case 'matmul': body = [dims(k.batch), k.M.key, k.N.key, k.K.key, ex(k.a), ex(k.b), ex(k.epilogue), ex(k.at)]; break;
    case 'attention': body = [[k.B, k.Hq, k.Hkv, k.Sq, k.Sk].map((d) => d.key), k.D, k.Dv, buf(k.q), buf(k.kbuf), buf(k.v), ex(k.mask), k.scale]; break;
    case 'attention_bwd': body = [k.part, [k.B, k.Hq, k.Hkv, k.Sq, k.Sk].map((d) => d.key), k.D, k.Dv, [k.q, k.kbuf, k.v, k.o, k.dO, k.stats].map(buf), ex(k.mask), k.scale]; break;
  }
  const json = JSON.stringify([k.kind, k.opKind, body, buf(k.out)]);
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

export { withSchedule };

/**
 * The plan with every kernel that has a cache entry for this device rescheduled; the same object if none. With
 * `limits`, an entry whose schedule does not fit the kernel on them (scheduleViolation: e.g. lanes not dividing
 * this kernel's head dim, a subgroup schedule on a device without subgroups) is ignored like a missing one.
 */
export function applyTuneCache(plan: KernelPlan, cache: TuneCache, deviceString: string, limits?: TargetLimits): KernelPlan {
  let out = plan;
  plan.kernels.forEach((k, i) => {
    const e = cache.entries[tuneKey(kernelSignature(k), deviceString)];
    if (!e || e.device !== deviceString || e.kind !== k.kind || !validSchedule(k.kind, e.schedule)) return;
    if (limits && scheduleViolation(k, e.schedule, limits) !== null) return;
    if (JSON.stringify(e.schedule) === JSON.stringify(k.schedule)) return;
    out = withSchedule(out, i, e.schedule);
  });
  return out;
}

// ---- validation of what comes from disk ------------------------------------------------------------------

function isObj(x: unknown): x is Record<string, unknown> { return typeof x === 'object' && x !== null && !Array.isArray(x); }
const posInt = (x: unknown, max = 4096): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 1 && x <= max;
const pow2 = (x: unknown): boolean => posInt(x) && ((x as number) & ((x as number) - 1)) === 0;

export function validSchedule(kind: Kernel['kind'], s: unknown): s is Schedule {
  if (!isObj(s)) return false;
  switch (kind) {
    case 'map': case 'scatter': return posInt(s['wg'], 1024) && posInt(s['perThread'], 64);
    case 'row': return pow2(s['wg']) && (s['wg'] as number) <= 1024 && (s['rows'] === undefined || (pow2(s['rows']) && (s['rows'] as number) <= (s['wg'] as number)));  // the tree reduction halves wg / rows
    case 'matmul': return posInt(s['wgX'], 1024) && posInt(s['wgY'], 1024) && posInt(s['tm'], 16) && posInt(s['tn'], 16) && posInt(s['tk']) && typeof s['shared'] === 'boolean' && (s['ku'] === undefined || posInt(s['ku'], 16));
    case 'attention': case 'attention_bwd': return posInt(s['bq'], 1024) && posInt(s['bk'], 1024) && typeof s['sparse'] === 'boolean' && (s['splitk'] === undefined || posInt(s['splitk'], 1024)) && (s['lanes'] === undefined || posInt(s['lanes'], 64));
  }
}

function validEntry(e: unknown): e is TuneEntry {
  if (!isObj(e)) return false;
  const kind = e['kind'];
  return typeof e['signature'] === 'string' && typeof e['device'] === 'string' && typeof e['opKind'] === 'string'
    && (kind === 'map' || kind === 'row' || kind === 'matmul' || kind === 'attention') && validSchedule(kind, e['schedule'])
    && typeof e['ms'] === 'number' && typeof e['defaultMs'] === 'number';
}
