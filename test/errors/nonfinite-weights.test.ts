/** `tfx run` warns (TFX4004) about NaN, infinite and huge weights instead of running silently. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensor } from '../../src/core/tensor.js';
import { compileSource, readSpec } from '../../src/driver.js';
import { scanNonFinite } from '../../src/runtime/finite.js';
import { saveSafetensors } from '../../src/runtime/safetensors.js';
import { initParams } from '../../src/runtime/weights.js';

const ROOT = join(import.meta.dirname, '../..');
const SPEC = join(ROOT, 'models/transfusion.tfx');

describe('non-finite weights', () => {
  it('counts NaN, infinities and huge values per tensor', () => {
    const t = hostTensor('f32', [5], [1, NaN, Infinity, -1e30, 2]);
    expect(scanNonFinite(new Map([['a', t], ['b', hostTensor('f32', [1], [3])]]))).toEqual([{ name: 'a', nan: 1, inf: 1, huge: 1 }]);
  });

  it('tfx run --backend cpu warns and still exits 0', { timeout: 240_000 }, () => {
    const { program } = compileSource(readSpec(SPEC), SPEC, { preset: 'tiny', entries: ['forward'] });
    const w = initParams(program.params, 1);
    const [name, t] = [...w].find(([, x]) => x.data.length > 4)!;
    const data = Float32Array.from(t.data);
    data[0] = NaN; data[1] = Infinity;
    w.set(name, hostTensor(t.dtype, t.shape, data));
    const dir = mkdtempSync(join(tmpdir(), 'tfx-nan-'));
    saveSafetensors(join(dir, 'w.safetensors'), w);
    const r = spawnSync(process.execPath, ['bin/tfx.mjs', 'run', SPEC, '--preset', 'tiny', '--backend', 'cpu', '--weights', join(dir, 'w.safetensors')], { cwd: ROOT, encoding: 'utf8', timeout: 230_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`warning TFX4004: .*w\\.safetensors: 1 NaN, 1 infinite and 0 values past 1e20 in ${name.replace(/\./g, '\\.')}`));
  });

  it('tfx inspect --weights --verify (default preset, no --preset) counts them and exits 1', { timeout: 240_000 }, () => {
    const { program } = compileSource(readSpec(SPEC), SPEC);
    const w = initParams(program.params, 2);
    const [name, t] = [...w].find(([, x]) => x.data.length > 4)!;
    const data = Float32Array.from(t.data);
    data[2] = NaN; data[3] = -Infinity; data[4] = NaN;
    w.set(name, hostTensor(t.dtype, t.shape, data));
    const dir = mkdtempSync(join(tmpdir(), 'tfx-nan-'));
    saveSafetensors(join(dir, 'w.safetensors'), w);
    const r = spawnSync(process.execPath, ['bin/tfx.mjs', 'inspect', SPEC, '--weights', join(dir, 'w.safetensors'), '--verify'], { cwd: ROOT, encoding: 'utf8', timeout: 230_000 });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/2 NaN, 1 infinite values/);
  });
});
