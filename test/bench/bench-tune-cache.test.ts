import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dimConst } from '../../src/core/dim.js';
import { Builder } from '../../src/ir/builder.js';
import type { Graph, Node } from '../../src/ir/graph.js';
import type { KernelPlan, MatmulKernel } from '../../src/ir/kernel.js';
import { lowerGraph } from '../../src/ir/lower.js';
import {
  applyTuneCache, emptyTuneCache, kernelSignature, loadTuneCache, saveTuneCache, tuneKey, validSchedule, withSchedule, type TuneCache,
} from '../../src/runtime/tune-cache.js';
import { attentionCase } from '../../bench/cases.js';
import { WEBGPU_LIMITS } from '../../src/codegen-wgsl/wgsl.js';

const sh = (...n: number[]) => n.map(dimConst);

/** Two matmul layers with the same shapes (x @ w1) @ w2, so both kernels share one signature. */
function twoMatmuls(n: number): KernelPlan {
  const g = new Builder();
  const x = g.input('x', 'f32', sh(n, n));
  const y = g.matmul(g.matmul(x, g.param('w1', 'f32', sh(n, n), { kind: 'zeros' })), g.param('w2', 'f32', sh(n, n), { kind: 'zeros' }));
  const graph: Graph = { entry: 'f', inputs: [x] as Node<'input'>[], outputs: [{ name: 'y', node: y }] };
  return lowerGraph(graph, []);
}

const DEV = 'test adapter / Dawn Vulkan';
const tuned = { wgX: 16, wgY: 4, tm: 2, tn: 8, tk: 8, shared: false };

function cacheFor(plan: KernelPlan, device: string): TuneCache {
  const k = plan.kernels[0]!;
  const signature = kernelSignature(k);
  const c = emptyTuneCache();
  c.entries[tuneKey(signature, device)] = { signature, device, kind: k.kind, opKind: k.opKind, label: k.label, schedule: tuned, ms: 1, defaultMs: 2, dims: {}, tunedAt: 'now' };
  return c;
}

describe('kernelSignature', () => {
  it('ignores schedule and buffer numbering, but not the shapes', () => {
    const p = twoMatmuls(32);
    expect(p.kernels.filter((k) => k.kind === 'matmul')).toHaveLength(2);
    const [a, b] = p.kernels as MatmulKernel[];
    expect(a!.out).not.toBe(b!.out);
    expect(kernelSignature(a!)).toBe(kernelSignature(b!));
    expect(kernelSignature({ ...a!, schedule: tuned })).toBe(kernelSignature(a!));
    expect(kernelSignature(twoMatmuls(64).kernels[0]!)).not.toBe(kernelSignature(a!));
  });
});

describe('tune cache file', () => {
  let dir: string;
  let err: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfx-tune-'));
    err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => err.mockRestore());
  const warnings = () => err.mock.calls.map((c: unknown[]) => String(c[0]));

  it('round-trips through save and load', () => {
    const c = cacheFor(twoMatmuls(32), DEV);
    const path = join(dir, 'sub', 'tune.json');
    expect(saveTuneCache(c, path)).toBe(path);
    expect(loadTuneCache(path)).toEqual(c);
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1);
    expect(warnings()).toEqual([]);
  });

  it('a missing file is silently absent; TFX_TUNE_CACHE picks the path', () => {
    expect(loadTuneCache(join(dir, 'none.json'))).toBeUndefined();
    const path = join(dir, 'env.json');
    saveTuneCache(cacheFor(twoMatmuls(32), DEV), path);
    vi.stubEnv('TFX_TUNE_CACHE', path);
    try { expect(Object.keys(loadTuneCache()!.entries)).toHaveLength(1); } finally { vi.unstubAllEnvs(); }
    expect(warnings()).toEqual([]);
  });

  it.each([
    ['not JSON', '{"version": 1, "entr'],
    ['not a cache', '[1, 2, 3]'],
    ['another version', '{"version": 99, "entries": {}}'],
  ])('a corrupt file (%s) gives one warning line, not a crash', (_, text) => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, text);
    expect(loadTuneCache(path)).toBeUndefined();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toMatch(/^tfx: warning: tune cache .*bad\.json.*ignoring it\n$/);
  });

  it('malformed entries are dropped with a warning, good ones kept', () => {
    const good = cacheFor(twoMatmuls(32), DEV);
    const path = join(dir, 'mixed.json');
    writeFileSync(path, JSON.stringify({ version: 1, entries: { ...good.entries, x: { signature: 'x', schedule: { wgX: -1 } } } }));
    expect(loadTuneCache(path)!.entries).toEqual(good.entries);
    expect(warnings().join('')).toContain('ignored 1 malformed entry');
  });
});

describe('applyTuneCache', () => {
  it('reschedules every kernel with a matching signature on the same device', () => {
    const p = twoMatmuls(32);
    const out = applyTuneCache(p, cacheFor(p, DEV), DEV);
    expect(out.kernels.map((k) => k.schedule)).toEqual([tuned, tuned]);
    expect(p.kernels[0]!.schedule).not.toEqual(tuned); // the input plan is not mutated
  });

  it('does not apply an entry tuned on another device, and returns the same plan', () => {
    const p = twoMatmuls(32);
    expect(applyTuneCache(p, cacheFor(p, 'some other GPU / Dawn D3D12'), DEV)).toBe(p);
  });

  it('with the device limits, ignores an entry whose schedule does not fit them (a damaged or foreign cache)', () => {
    const p = twoMatmuls(32);
    // 16 x 4 = 64 invocations: fits WebGPU's default 256, not a device that allows 32 per workgroup.
    const small = { ...WEBGPU_LIMITS, invocations: 32 };
    expect(applyTuneCache(p, cacheFor(p, DEV), DEV, small)).toBe(p);
    expect(applyTuneCache(p, cacheFor(p, DEV), DEV, WEBGPU_LIMITS).kernels.map((k) => k.schedule)).toEqual([tuned, tuned]);
  });

  it('does not apply an entry for another kernel (other shapes)', () => {
    const p = twoMatmuls(32);
    expect(applyTuneCache(twoMatmuls(64), cacheFor(p, DEV), DEV).kernels.map((k) => k.schedule)).not.toContainEqual(tuned);
  });
});

describe('withSchedule on block-sparse attention', () => {
  const plan = lowerGraph(attentionCase({ S: 64, H: 1, D: 8, patches: 8 }).graph, []);
  const i = plan.kernels.findIndex((k) => k.kind === 'attention');
  const k = plan.kernels[i]!;
  it('resizes the tile map with bq/bk', () => {
    expect(k.kind === 'attention' && k.tiles).not.toBe(null);
    const p = withSchedule(plan, i, { bq: 32, bk: 8, sparse: true });
    expect(p.tileMaps[0]).toMatchObject({ bq: 32, bk: 8 });
    expect(p.buffers[p.tileMaps[0]!.buf]!.tileGrid).toMatchObject({ bq: 32, bk: 8 });
  });
  it('dense drops the tile map', () => {
    const p = withSchedule(plan, i, { bq: 16, bk: 16, sparse: false });
    expect(p.tileMaps).toEqual([]);
    expect(p.kernels[i]).toMatchObject({ tiles: null, schedule: { sparse: false } });
  });
});

describe('validSchedule (what a cache file may hold)', () => {
  it('row schedules: several rows per workgroup a power of two dividing the workgroup, or none', () => {
    for (const s of [{ wg: 64 }, { wg: 64, rows: 8 }, { wg: 64, rows: 64 }, { wg: 8, rows: 1 }]) expect(validSchedule('row', s), JSON.stringify(s)).toBe(true);
    for (const s of [{ wg: 48 }, { wg: 64, rows: 3 }, { wg: 64, rows: 128 }, { wg: 64, rows: 0 }, { wg: 64, rows: '8' }]) expect(validSchedule('row', s), JSON.stringify(s)).toBe(false);
  });
});
