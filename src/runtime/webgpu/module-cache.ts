/**
 * The on-disk cache of rendered WGSL modules: one file per distinct kernel, keyed by a hash of the kernel's IR
 * (with its schedule and buffer element types), the adapter and the tfx version, so a second process renders
 * nothing it rendered before. Compiled pipelines are cached one level down, by the driver (Mesa's shader cache
 * on lavapipe, keyed by the shader and the driver build): Dawn's Node binding exposes no pipeline cache of its
 * own. `bench/first-run.ts` measures both.
 *
 * Folder: $TFX_MODULE_CACHE, else .tfx-cache/modules; TFX_MODULE_CACHE=off disables it. Entries are written
 * through fs-out (temporary file + rename). An entry that cannot be read, does not parse, has the wrong shape,
 * another key or code whose hash does not match is ignored and rewritten: the cache is an optimisation, never
 * a failure.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderWgsl, renderedKernel, type KernelRenderer, type RenderedKernel } from '../../codegen-wgsl/wgsl.js';
import type { KGrid } from '../../ir/kernel-ir.js';
import { evalSize, type KExpr } from '../../ir/kernel.js';
import { writeOutputFile } from '../fs-out.js';

/** Bumped when the stored form changes. */
const FORMAT = 1;
/** Larger entries are not read (a rendered kernel is a few KiB; a 16x16 unrolled matmul about 200 KiB). */
const MAX_ENTRY_BYTES = 8 << 20;

export const moduleCacheDir = (): string | undefined => {
  const d = process.env['TFX_MODULE_CACHE'];
  return d === 'off' ? undefined : d || join('.tfx-cache', 'modules');
};

let version: string | undefined;
function tfxVersion(): string {
  if (version === undefined) {
    try { version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version; } catch { version = '?'; }
  }
  return version;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface Stored { format: number; key: string; name: string; code: string; codeHash: string; bindings: number[]; grid: KGrid; dispatchText: string }

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
/** A grid whose expressions evaluate (on zero dims) is well formed enough to use. */
function gridOk(g: unknown): g is KGrid {
  if (typeof g !== 'object' || g === null) return false;
  const exprs: unknown[] = 'linear' in g ? [(g as { linear: unknown }).linear] : 'xyz' in g && Array.isArray((g as { xyz: unknown }).xyz) ? (g as { xyz: unknown[] }).xyz : [];
  if (!exprs.length || ('xyz' in g && exprs.length !== 3)) return false;
  try { exprs.forEach((e) => { if (!Number.isFinite(evalSize(e as KExpr, new Array(64).fill(1)))) throw new Error('not finite'); }); return true; } catch { return false; }
}

function read(path: string, key: string): RenderedKernel | undefined {
  let raw: unknown;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_ENTRY_BYTES) return undefined;
    raw = JSON.parse(buf.toString('utf8'));
  } catch { return undefined; }
  const s = raw as Partial<Stored>;
  if (typeof s !== 'object' || s === null || s.format !== FORMAT || s.key !== key || typeof s.name !== 'string' || typeof s.code !== 'string'
    || s.codeHash !== sha(s.code) || !Array.isArray(s.bindings) || !s.bindings.every(isInt) || typeof s.dispatchText !== 'string' || !gridOk(s.grid)) return undefined;
  return renderedKernel({ name: s.name, code: s.code, bindings: s.bindings, grid: s.grid, dispatchText: s.dispatchText });
}

export interface ModuleCacheStats { hits: number; misses: number; writeErrors: number }

/**
 * A renderer (for renderWgslPlan) that reads rendered kernels from the cache and writes the ones it renders.
 * `adapter` is part of the key (the device string), so a cache shared between machines never mixes them.
 */
export function cachedRenderer(adapter: string, dir = moduleCacheDir(), stats: ModuleCacheStats = { hits: 0, misses: 0, writeErrors: 0 }): KernelRenderer {
  if (dir === undefined) return renderWgsl;
  let made = false;
  return (k, buffers, symbols) => {
    const key = sha(JSON.stringify([FORMAT, tfxVersion(), adapter, k, buffers.map((b) => b.dtype), symbols]));
    const path = join(dir, `${key.slice(0, 32)}.json`);
    const hit = read(path, key);
    if (hit) { stats.hits++; return hit; }
    stats.misses++;
    const r = renderWgsl(k, buffers, symbols);
    const entry: Stored = { format: FORMAT, key, name: r.name, code: r.code, codeHash: sha(r.code), bindings: [...r.bindings], grid: r.grid, dispatchText: r.dispatchText };
    try {
      if (!made) { mkdirSync(dir, { recursive: true }); made = true; }
      writeOutputFile(path, JSON.stringify(entry));
    } catch { stats.writeErrors++; }
    return r;
  };
}
