/**
 * The device's peak, measured rather than looked up (a software rasterizer has no datasheet): the best of a few
 * runs of a streaming vec4 copy (GB/s), a register-only FMA loop (GFLOP/s) and an empty dispatch (launch floor).
 * Cached per device in .tfx-cache/peak.json (TFX_PEAK_CACHE overrides the path), as a profile needs it each run.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeOutputFile } from '../fs-out.js';
import type { DevicePeak } from '../profile.js';
import type { GpuContext } from './device.js';
import { GpuExecutor } from './executor.js';

const COPY_VEC4 = 1 << 20;           // 16 MiB read + 16 MiB written
const FMA_THREADS = 1 << 16, FMA_ITERS = 256;
const FLOPS = FMA_THREADS * FMA_ITERS * 4 * 4 * 2;   // 4 vec4 FMAs per iteration, 2 flops per lane

const copyWgsl = `@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>) {
  let i = g.x + g.y * n.x * 256u;
  if (i < arrayLength(&dst)) { dst[i] = src[i]; }
}`;
const fmaWgsl = `@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var a = vec4<f32>(f32(g.x) * 1e-9); var b = a + 0.1; var c = a + 0.2; var d = a + 0.3;
  let m = vec4<f32>(0.999); let k = vec4<f32>(0.001);
  for (var i = 0u; i < ${FMA_ITERS}u; i++) { a = fma(a, m, k); b = fma(b, m, k); c = fma(c, m, k); d = fma(d, m, k); }
  dst[g.x] = a + b + c + d;
}`;
const emptyWgsl = `@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(1) fn main() { dst[0] = 0.0; }`;

export const peakCachePath = (): string => process.env['TFX_PEAK_CACHE'] || '.tfx-cache/peak.json';

function loadCached(device: string): DevicePeak | undefined {
  try {
    const all = JSON.parse(readFileSync(peakCachePath(), 'utf8')) as Record<string, DevicePeak>;
    const p = all[device];
    return p && [p.gflops, p.gbps, p.launchMs].every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0) ? p : undefined;
  } catch { return undefined; }
}

export async function measurePeak(ctx: GpuContext, o: { readonly useCache?: boolean } = {}): Promise<DevicePeak> {
  if (o.useCache !== false) { const hit = loadCached(ctx.deviceString); if (hit) return hit; }
  if (!ctx.hasTimestamps) throw new Error('this WebGPU adapter has no timestamp queries; cannot measure its peak');
  const ex = new GpuExecutor(ctx);
  try {
    ex.alloc('src', COPY_VEC4 * 16); ex.alloc('dst', COPY_VEC4 * 16); ex.alloc('one', 4);
    const copyGroups = COPY_VEC4 / 256;
    const wx = Math.min(copyGroups, 32768);
    const dispatches = [
      { label: 'copy', kind: 'peak', code: copyWgsl, entryPoint: 'main', bindings: ['src', 'dst'], workgroups: [wx, Math.ceil(copyGroups / wx), 1] as const },
      { label: 'fma', kind: 'peak', code: fmaWgsl, entryPoint: 'main', bindings: ['dst'], workgroups: [FMA_THREADS / 256, 1, 1] as const },
      { label: 'empty', kind: 'peak', code: emptyWgsl, entryPoint: 'main', bindings: ['one'], workgroups: [1, 1, 1] as const },
    ];
    const best = { copy: Infinity, fma: Infinity, empty: Infinity };
    for (let i = 0; i < 5; i++) {
      const r = await ex.run(dispatches, { profile: true });
      for (const t of r.timings) best[t.label as keyof typeof best] = Math.min(best[t.label as keyof typeof best], t.ms);
    }
    const peak: DevicePeak = {
      device: ctx.deviceString,
      gbps: (2 * COPY_VEC4 * 16) / (best.copy / 1e3) / 1e9,
      gflops: FLOPS / (best.fma / 1e3) / 1e9,
      launchMs: Math.max(best.empty, 1e-4),
    };
    if (o.useCache !== false) {
      let all: Record<string, DevicePeak> = {};
      try { all = JSON.parse(readFileSync(peakCachePath(), 'utf8')) as Record<string, DevicePeak>; } catch { /* a new cache */ }
      try { mkdirSync(dirname(peakCachePath()), { recursive: true }); writeOutputFile(peakCachePath(), JSON.stringify({ ...all, [ctx.deviceString]: peak }, null, 2) + '\n'); } catch { /* the cache is an optimization */ }
    }
    return peak;
  } finally {
    ex.destroy();
  }
}
