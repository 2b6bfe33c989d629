import { mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import type { ParamInfo } from '../../src/ir/graph.js';
import { mapCheckpoint, openCheckpoint, parseCheckpointMap, writeCheckpoint } from '../../src/runtime/checkpoint.js';
import { fillNormal, rngFor } from '../../src/runtime/rng.js';
import { loadSafetensors, openSafetensors, writeSafetensors, writeSafetensorsFile, type TensorSpec } from '../../src/runtime/safetensors.js';
import { WeightsError, f32ToBf16Bits, bf16BitsToF32, initParam, initParams } from '../../src/runtime/weights.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tfx-ckpt-'));
const ramp = (dtype: HostTensor['dtype'], shape: number[], k = 1): HostTensor =>
  hostTensor(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === 'f32' || dtype === 'f16' || dtype === 'bf16' ? (i * k) / 8 - 1 : i * k - 3)));
const TENSORS = new Map<string, HostTensor>([
  ['a', ramp('f32', [3, 5])], ['b', ramp('bf16', [7])], ['c', ramp('i32', [2, 2], 5)], ['d', ramp('f16', [4, 3])], ['e', hostTensor('bool', [3], [1, 0, 1])],
]);
const specs = (m: ReadonlyMap<string, HostTensor>): TensorSpec[] => [...m].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
const same = (a: HostTensor, b: HostTensor) => { expect(b.dtype).toBe(a.dtype); expect(b.shape).toEqual(a.shape); expect(Array.from(b.data)).toEqual(Array.from(a.data)); };
function thrown(f: () => unknown): string {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(WeightsError); return (e as Error).message; }
  throw new Error('expected a WeightsError');
}

describe('streaming safetensors', () => {
  it('writes the same bytes as the in-memory encoder, asking for one tensor at a time', () => {
    const d = tmp(), f = join(d, 'w.safetensors');
    const asked: string[] = [];
    writeSafetensorsFile(f, specs(TENSORS), (s) => { asked.push(s.name); return TENSORS.get(s.name)!; }, { metadata: { k: 'v' } });
    expect(Buffer.compare(readFileSync(f), Buffer.from(writeSafetensors(TENSORS, { k: 'v' })))).toBe(0);
    expect(asked).toEqual(['a', 'c', 'b', 'd', 'e']); // file order: 4-byte, then 2-byte, then 1-byte elements
    expect(readdirSync(d)).toEqual(['w.safetensors']);
  });

  it('reads tensors one by one from the header alone', () => {
    const d = tmp(), f = join(d, 'w.safetensors');
    writeFileSync(f, writeSafetensors(TENSORS));
    const r = openSafetensors(f);
    expect([...r.tensors.values()].map((t) => [t.name, t.dtype, t.bytes])).toEqual([['a', 'f32', 60], ['c', 'i32', 16], ['b', 'bf16', 14], ['d', 'f16', 24], ['e', 'bool', 3]]);
    same(TENSORS.get('d')!, r.read('d'));
    r.close();
    for (const [k, t] of loadSafetensors(f)) same(TENSORS.get(k)!, t);
  });

  it('a producer that throws or lies leaves nothing behind', () => {
    const d = tmp(), f = join(d, 'w.safetensors');
    expect(() => writeSafetensorsFile(f, specs(TENSORS), (s) => { if (s.name === 'b') throw new Error('boom'); return TENSORS.get(s.name)!; })).toThrow('boom');
    expect(thrown(() => writeSafetensorsFile(f, specs(TENSORS), (s) => (s.name === 'c' ? ramp('i32', [4]) : TENSORS.get(s.name)!)))).toMatch(/produced i32 \[4\], announced i32 \[2, 2\]/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('a file truncated after the header is rejected when opened', () => {
    const d = tmp(), f = join(d, 'w.safetensors');
    writeFileSync(f, writeSafetensors(TENSORS));
    truncateSync(f, readFileSync(f).length - 2);
    expect(thrown(() => openSafetensors(f))).toMatch(/run past the data region/);
  });
});

describe('sharded checkpoints', () => {
  it('splits at the shard limit, gives an oversized tensor its own shard, and reads back through the index', () => {
    const d = tmp(), idx = join(d, 'm.safetensors.index.json');
    const res = writeCheckpoint(idx, specs(TENSORS), (s) => TENSORS.get(s.name)!, { shardBytes: 40, metadata: { model: 'x' } });
    // a (60 bytes) alone; c + b (30); d (24) then e (3) fit with it.
    expect(readdirSync(d).sort()).toEqual(['m-00001-of-00003.safetensors', 'm-00002-of-00003.safetensors', 'm-00003-of-00003.safetensors', 'm.safetensors.index.json']);
    expect(res.files).toHaveLength(4);
    const index = JSON.parse(readFileSync(idx, 'utf8'));
    expect(index.metadata.total_size).toBe(60 + 16 + 14 + 24 + 3);
    expect(index.weight_map).toEqual({ a: 'm-00001-of-00003.safetensors', c: 'm-00002-of-00003.safetensors', b: 'm-00002-of-00003.safetensors', d: 'm-00003-of-00003.safetensors', e: 'm-00003-of-00003.safetensors' });
    for (const p of [idx, d]) {
      const r = openCheckpoint(p);
      expect(r.files).toHaveLength(3);
      expect(r.metadata.model).toBe('x');
      for (const [k, t] of TENSORS) same(t, r.read(k));
      r.close();
    }
  });

  it('rejects indexes that point outside their folder or disagree with their shards', () => {
    const d = tmp(), idx = join(d, 'm.safetensors.index.json');
    writeCheckpoint(idx, specs(TENSORS), (s) => TENSORS.get(s.name)!, { shardBytes: 40 });
    const index = JSON.parse(readFileSync(idx, 'utf8'));
    const bad = (wm: unknown) => { writeFileSync(idx, JSON.stringify({ weight_map: wm })); return thrown(() => openCheckpoint(idx)); };
    expect(bad({ ...index.weight_map, a: '../m-00001-of-00003.safetensors' })).toMatch(/shard must be a file name next to the index/);
    expect(bad({ ...index.weight_map, a: 'm-00002-of-00003.safetensors' })).toMatch(/"a" is listed in m-00002-of-00003.safetensors, which does not hold it/);
    const { e: _e, ...noE } = index.weight_map;
    expect(bad(noE)).toMatch(/holds "e", which the index does not list there/);
    expect(bad([1])).toMatch(/weight_map/);
  });

  it('a failure in a later shard removes the shards already written', () => {
    const d = tmp(), idx = join(d, 'm.safetensors.index.json');
    expect(() => writeCheckpoint(idx, specs(TENSORS), (s) => { if (s.name === 'e') throw new Error('late'); return TENSORS.get(s.name)!; }, { shardBytes: 40 })).toThrow('late');
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('--map', () => {
  it('renames by the first matching rule and transposes [out, in] tensors', () => {
    const d = tmp(), f = join(d, 'w.safetensors');
    const w = ramp('f32', [2, 3]);
    writeFileSync(f, writeSafetensors({ 'model.layers.0.q_proj.weight': w, 'model.norm.weight': ramp('f32', [3]), keep: ramp('i32', [1]) }));
    const map = parseCheckpointMap(JSON.stringify({ rename: [['model\\.layers\\.(\\d+)\\.q_proj\\.weight', 'layers.$1.attn.wq'], ['model\\.(.*)\\.weight', '$1']], transpose: ['layers\\.\\d+\\.attn\\.w[qkvo]'] }), 'map.json');
    const r = mapCheckpoint(openCheckpoint(f), map);
    expect([...r.tensors.keys()].sort()).toEqual(['keep', 'layers.0.attn.wq', 'norm']);
    expect(r.tensors.get('layers.0.attn.wq')!.shape).toEqual([3, 2]);
    const t = r.read('layers.0.attn.wq');
    expect(t.shape).toEqual([3, 2]);
    // w = [[-1, -0.875, -0.75], [-0.625, -0.5, -0.375]] transposed:
    expect(Array.from(t.data)).toEqual([-1, -0.625, -0.875, -0.5, -0.75, -0.375]);
    r.close();
  });

  it('reports bad maps and collisions', () => {
    expect(thrown(() => parseCheckpointMap('{"rename": [["(", "x"]]}', 'm.json'))).toMatch(/m.json: rename\[0\]: "\(" is not a valid regular expression/);
    expect(thrown(() => parseCheckpointMap('{"renames": []}', 'm.json'))).toMatch(/unknown key "renames"/);
    const d = tmp(), f = join(d, 'w.safetensors');
    writeFileSync(f, writeSafetensors({ x1: ramp('f32', [2]), x2: ramp('f32', [2]) }));
    expect(thrown(() => mapCheckpoint(openCheckpoint(f), parseCheckpointMap('{"rename": [["x\\\\d", "x"]]}', 'm')))).toMatch(/renames both "x1" and "x2" to "x"/);
    expect(thrown(() => mapCheckpoint(openCheckpoint(f), parseCheckpointMap('{"transpose": ["x1"]}', 'm')))).toMatch(/only 2-D/);
  });
});

describe('init at another precision', () => {
  const p: ParamInfo = { name: 'w', dtype: 'f32', shape: [33, 7], init: { kind: 'normal', mean: 0.5, std: 2 } } as ParamInfo;
  it('--dtype bf16 is the f32 init rounded to bf16', () => {
    const f = initParam(p, 9), b = initParam(p, 9, 'bf16');
    expect(b.dtype).toBe('bf16');
    expect(Array.from(b.data)).toEqual(Array.from(f.data, (x) => bf16BitsToF32(f32ToBf16Bits(x))));
    expect(Array.from(b.data)).not.toEqual(Array.from(f.data));
    expect(initParams([p, { ...p, name: 'i', dtype: 'i32', init: { kind: 'zeros' } } as ParamInfo], 9, 'f16').get('i')!.dtype).toBe('i32');
  });
  it('fillNormal draws exactly what successive normal() calls draw', () => {
    for (const n of [0, 1, 2, 7]) for (const pre of [0, 1]) {
      const a = rngFor(3, 'q'), b = rngFor(3, 'q');
      for (let k = 0; k < pre; k++) { a.normal(0.1, 2); b.normal(0.1, 2); }
      const x = new Float32Array(n);
      fillNormal(a, x, 0.1, 2);
      expect(Array.from(x)).toEqual(Array.from({ length: n }, () => Math.fround(b.normal(0.1, 2))));
      expect(a.normal()).toBe(b.normal());
    }
  });
});

