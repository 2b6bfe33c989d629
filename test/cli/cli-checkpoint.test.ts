/**
 * Checkpoints through the CLI: `init --dtype bf16` into shards, `run` from an index or its folder, and
 * `--map` reading a checkpoint with other names and [out, in] layouts (tiny preset, CPU backend).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { openCheckpoint } from '../../src/runtime/checkpoint.js';
import { loadSafetensors, saveSafetensors } from '../../src/runtime/safetensors.js';
import { bf16BitsToF32, f32ToBf16Bits } from '../../src/runtime/weights.js';

const SPEC = 'models/transfusion.tfx';
const dir = mkdtempSync(join(tmpdir(), 'tfx-cli-ckpt-'));
const p = (f: string) => join(dir, f);
function tfx(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tfx.mjs', ...args], { encoding: 'utf8', timeout: 240_000 });
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const run = (weights: string, out: string, ...extra: string[]) =>
  tfx('run', SPEC, '--preset', 'tiny', '--backend', 'cpu', '--weights', weights, '--inputs', p('in.safetensors'), '-o', out, ...extra);

describe('sharded, bf16 and mapped checkpoints', () => {
  beforeAll(() => {
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '7', '-o', p('w.safetensors')).code).toBe(0);
    expect(tfx('example-inputs', SPEC, '--preset', 'tiny', '--seed', '3', '-o', p('in.safetensors')).code).toBe(0);
    expect(run(p('w.safetensors'), p('o0.safetensors')).code).toBe(0);
  }, 300_000);

  it('init --dtype bf16 --shard-size writes shards holding the f32 init rounded to bf16', () => {
    mkdirSync(p('s'));
    const r = tfx('init', SPEC, '--preset', 'tiny', '--seed', '7', '--dtype', 'bf16', '--shard-size', '40KiB', '-o', p('s/m.safetensors.index.json'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/wrote \d+ tensors .* to \d+ shards and/);
    expect(readdirSync(p('s')).filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(1);
    const f32 = loadSafetensors(p('w.safetensors'));
    const ck = openCheckpoint(p('s'));
    expect([...ck.tensors.keys()].sort()).toEqual([...f32.keys()].sort());
    for (const [k, t] of f32) {
      const b = ck.read(k);
      expect(b.dtype).toBe('bf16');
      expect(Array.from(b.data)).toEqual(Array.from(t.data, (x) => bf16BitsToF32(f32ToBf16Bits(x))));
    }
    ck.close();
    const ins = tfx('inspect', SPEC, '--preset', 'tiny', '--weights', p('s/m.safetensors.index.json'), '--verify');
    expect(ins.code, ins.err).toBe(0);
    expect(ins.out).toMatch(/tensors in \d+ file\(s\), .* bf16\); names, shapes and dtypes match preset tiny\n  every tensor read: 0 NaN, 0 infinite values/);
    const wrong = tfx('inspect', SPEC, '--preset', '0.16b', '--weights', p('s'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/does not match preset '0.16b'/);
    const o = run(p('s'), p('o1.safetensors'));
    expect(o.code, o.err).toBe(0);
    expect(o.err).toMatch(/loaded \d+ tensors from \d+ file\(s\)/);
  });

  it('--map renames and transposes a checkpoint saved with other names and [out, in] weights', () => {
    const w = loadSafetensors(p('w.safetensors'));
    const foreign = new Map<string, HostTensor>();
    for (const [k, t] of w) {
      if (/\.attn\.w[qkvo]$/.test(k)) {
        const [r, c] = t.shape as [number, number];
        const d = new Float32Array(t.data.length);
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) d[j * r + i] = t.data[i * c + j]!;
        foreign.set(`model.${k}.weight`, hostTensor(t.dtype, [c, r], d));
      } else foreign.set(`model.${k}`, t);
    }
    saveSafetensors(p('foreign.safetensors'), foreign);
    writeFileSync(p('map.json'), JSON.stringify({ rename: [['model\\.(.*)\\.weight', '$1'], ['model\\.(.*)', '$1']], transpose: ['layers\\.\\d+\\.attn\\.w[qkvo]'] }));
    expect(run(p('foreign.safetensors'), p('o2.safetensors')).code).toBe(1); // without the map: names do not match
    const r = run(p('foreign.safetensors'), p('o2.safetensors'), '--map', p('map.json'));
    expect(r.code, r.err).toBe(0);
    const a = loadSafetensors(p('o0.safetensors')), b = loadSafetensors(p('o2.safetensors'));
    for (const [k, t] of a) expect(Array.from(b.get(k)!.data)).toEqual(Array.from(t.data));
  });

  it('bad flags are usage errors', () => {
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '1', '--dtype', 'i32', '-o', p('x.safetensors')).code).toBe(2);
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '1', '--shard-size', '1MB', '-o', p('x.safetensors')).code).toBe(2);
    expect(tfx('init', SPEC, '--preset', 'tiny', '--seed', '1', '--shard-size', 'big', '-o', p('x.safetensors.index.json')).code).toBe(2);
  });
});
