/**
 * The on-disk cache of rendered WGSL modules (src/runtime/webgpu/module-cache.ts): a second renderer (a second
 * process) reads back exactly what the first rendered; the adapter and the kernel are part of the key; a
 * corrupt entry of any kind is ignored and rewritten, never a crash. No GPU needed: this is about the text.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderWgslPlan } from '../../src/codegen-wgsl/wgsl.js';
import { compileFile } from '../../src/driver.js';
import { planEntry } from '../../src/ir/pipeline.js';
import { WEBGPU_LIMITS } from '../../src/codegen-wgsl/wgsl.js';
import { cachedRenderer, type ModuleCacheStats } from '../../src/runtime/webgpu/module-cache.js';

const { program } = compileFile('models/transfusion.tfx', {});
const fwd = program.entries.find((g) => g.entry === 'forward')!;
const { plan } = planEntry(fwd, program.symbols, { limits: WEBGPU_LIMITS });
const plain = renderWgslPlan(plan);
const dims = [2, 64, 3, 5, 7, 11, 13, 17].slice(0, Math.max(1, plan.symbols.length));
const ADAPTER = 'test adapter / Dawn Vulkan';

function render(dir: string, adapter = ADAPTER) {
  const stats: ModuleCacheStats = { hits: 0, misses: 0, writeErrors: 0 };
  const out = renderWgslPlan(plan, cachedRenderer(adapter, dir, stats));
  return { out, stats };
}

/** Same code, bindings, launch sizes and dispatch text as rendering without a cache. */
function expectSame(out: ReturnType<typeof renderWgslPlan>): void {
  expect(out.kernels.length).toBe(plain.kernels.length);
  out.kernels.forEach((k, i) => {
    const p = plain.kernels[i]!;
    expect(k.code).toBe(p.code);
    expect(k.bindings).toEqual(p.bindings);
    expect(k.dispatchText).toBe(p.dispatchText);
    expect(k.workgroups(dims)).toEqual(p.workgroups(dims));
  });
}

describe('rendered-module cache', () => {
  it('a second renderer reads every distinct kernel back, identical to rendering it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-modules-'));
    const first = render(dir);
    expect(first.stats).toEqual({ hits: 0, misses: plain.shaders.length, writeErrors: 0 });
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(plain.shaders.length);
    expectSame(first.out);
    const second = render(dir);
    expect(second.stats).toEqual({ hits: plain.shaders.length, misses: 0, writeErrors: 0 });
    expectSame(second.out);
  });

  it('another adapter does not read the entries of this one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-modules-'));
    render(dir);
    expect(render(dir, 'another adapter').stats.hits).toBe(0);
  });

  it('corrupt entries (truncated, not JSON, edited code, a bad grid, another key) are rebuilt, not trusted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-modules-'));
    render(dir);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThanOrEqual(5);
    const edit = (f: string, change: (e: Record<string, unknown>) => void) => {
      const e = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      change(e);
      writeFileSync(join(dir, f), JSON.stringify(e));
    };
    const text = readFileSync(join(dir, files[0]!), 'utf8');
    writeFileSync(join(dir, files[0]!), text.slice(0, text.length >> 1));
    writeFileSync(join(dir, files[1]!), '\u0000garbage');
    edit(files[2]!, (e) => { e['code'] = `${String(e['code'])}\nfn injected() {}`; });
    edit(files[3]!, (e) => { e['grid'] = { xyz: [{ k: 'nonsense' }, 1, 2] }; });
    edit(files[4]!, (e) => { e['key'] = 'f'.repeat(64); });
    const again = render(dir);
    expect(again.stats.misses).toBe(5);
    expect(again.stats.hits).toBe(plain.shaders.length - 5);
    expectSame(again.out);
    // Rewritten: a third renderer hits everything.
    expect(render(dir).stats.hits).toBe(plain.shaders.length);
  });

  it('an unwritable cache folder renders anyway', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-modules-'));
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const r = render(join(file, 'sub'));
    expect(r.stats.writeErrors).toBeGreaterThan(0);
    expectSame(r.out);
  });
});
