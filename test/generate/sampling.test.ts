/** Token sampling: greedy, top-k, top-p and temperature against their definitions. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/runtime/rng.js';
import { checkSampling, sampleToken } from '../../src/generate/sampling.js';

const logits = Float32Array.from([1, 3, 2, 3, -1]);

describe('sampleToken', () => {
  it('greedy picks the largest logit, the lowest id on ties, skipping banned ids', () => {
    const g = { temperature: 0, topK: 0, topP: 1 };
    expect(sampleToken(logits, 0, 5, g, Rng.seeded(1))).toBe(1);
    expect(sampleToken(logits, 0, 5, g, Rng.seeded(1), new Set([1]))).toBe(3);
    expect(sampleToken(Float32Array.from([0, 0, 9, 0, 1, 5]), 3, 3, g, Rng.seeded(1))).toBe(2);
  });

  it('top-k 1 and a tiny top-p are greedy at any temperature', () => {
    for (let s = 0; s < 20; s++) {
      expect(sampleToken(logits, 0, 5, { temperature: 5, topK: 1, topP: 1 }, Rng.seeded(s))).toBe(1);
      expect(sampleToken(logits, 0, 5, { temperature: 5, topK: 0, topP: 1e-6 }, Rng.seeded(s))).toBe(1);
    }
  });

  it('samples from softmax(logits / T) restricted to the top k', () => {
    const rng = Rng.seeded(7);
    const n = 20000, T = 2;
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(logits, 0, 5, { temperature: T, topK: 3, topP: 1 }, rng)]++;
    // Top 3 by logit: ids 1, 3 (3.0) and 2 (2.0); ids 0 and 4 are never drawn.
    const w = [3, 2, 3].map((l) => Math.exp(l / T)), z = w.reduce((a, b) => a + b, 0);
    expect(counts[0]).toBe(0);
    expect(counts[4]).toBe(0);
    expect(counts[1] / n).toBeCloseTo(w[0]! / z, 1);
    expect(counts[2] / n).toBeCloseTo(w[1]! / z, 1);
    expect(counts[3] / n).toBeCloseTo(w[2]! / z, 1);
  });

  it('top-p keeps the smallest most likely set reaching p', () => {
    // Probabilities at T = 1: id 0 ~0.665, id 1 ~0.245, id 2 ~0.09. p = 0.8 keeps ids 0 and 1 only.
    const l = Float32Array.from([2, 1, 0]);
    const rng = Rng.seeded(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(sampleToken(l, 0, 3, { temperature: 1, topK: 0, topP: 0.8 }, rng));
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('rejects bad options with a message', () => {
    expect(checkSampling({ temperature: -1, topK: 0, topP: 1 })).toMatch(/temperature/);
    expect(checkSampling({ temperature: 1, topK: 1.5, topP: 1 })).toMatch(/top-k/);
    expect(checkSampling({ temperature: 1, topK: 0, topP: 0 })).toMatch(/top-p/);
    expect(checkSampling({ temperature: 1, topK: 0, topP: 1 })).toBeUndefined();
  });
});

describe('decode_choose (the token chosen in the spec)', () => {
  it('is the argmax of logits / T + noise, lowest id on ties; banned ids (noise -1e30) are never chosen', async () => {
    const { compileFile } = await import('../../src/driver.js');
    const { hostTensor } = await import('../../src/core/tensor.js');
    const { CpuEngine } = await import('../../src/generate/engine.js');
    const { initParams } = await import('../../src/runtime/weights.js');
    const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny', entries: ['decode_choose'] });
    const e = new CpuEngine(program, initParams(program.params, 4), ['decode_choose']);
    const V = program.config.vocab!, B = 3, C = 6;
    e.reset({ B, C });
    const rng = Rng.seeded(8);
    const noise = Float32Array.from({ length: B * V }, () => rng.normal());
    noise.fill(0, 0, V);                       // row 0: greedy
    const temp = Float32Array.from([0, 0.5, 2]);
    const inputs = (n: Float32Array) => new Map([
      ['tokens', hostTensor('i32', [B, 1], [5, 6, 7])], ['pos', hostTensor('i32', [B, 1], [0, 0, 0])], ['len', hostTensor('i32', [B], [1, 1, 1])],
      ['seq_img', hostTensor('i32', [B, C], new Int32Array(B * C).fill(-1))], ['noise', hostTensor('f32', [B, 1, V], n)], ['temp', hostTensor('f32', [B], temp)],
    ]);
    const out = await e.run('decode_choose', inputs(noise));
    const logits = out.get('logits')!.data, next = out.get('next')!.data;
    const pick = (b: number, n: Float32Array) => {
      let best = 0, bv = -Infinity;
      for (let v = 0; v < V; v++) {
        const s = (temp[b]! > 0 ? logits[b * V + v]! / temp[b]! : logits[b * V + v]!) + n[b * V + v]!;
        if (s > bv) { bv = s; best = v; }
      }
      return best;
    };
    expect([...next]).toEqual([0, 1, 2].map((b) => pick(b, noise)));
    // Ban each row's choice: the runner-up is chosen.
    e.reset({ B, C });
    const banned = noise.slice();
    for (let b = 0; b < B; b++) banned[b * V + next[b]!] = -1e30;
    const again = (await e.run('decode_choose', inputs(banned))).get('next')!.data;
    for (let b = 0; b < B; b++) { expect(again[b]).not.toBe(next[b]); expect(again[b]).toBe(pick(b, banned)); }
  });
});
