// Correctness of the peer harnesses (not timings): each peer's matmul and masked attention must
// match a plain JS reference. A peer that cannot load here fails its test: all three must work
// on this machine (lavapipe WebGPU, onnxruntime-node's bundled CPU binary).

import { mkdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { peerNames, runPeer, type PeerCase, type PeerResult } from '../../bench/peers/index.js';

process.env['XDG_RUNTIME_DIR'] ??= '/tmp/xdg';
mkdirSync(process.env['XDG_RUNTIME_DIR'], { recursive: true, mode: 0o700 });

// Deterministic values in [-1, 1) (a small LCG), so failures reproduce.
function values(n: number, seed: number): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 31 - 1;
  });
}

function refMatmul(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a[i * k + p]! * b[p * n + j]!;
      y[i * n + j] = acc;
    }
  return y;
}

// Masked entries are dropped outright (not given a bias), so this does not share the harness's
// additive-bias trick it is checking.
function refAttention(c: Extract<PeerCase, { op: 'attention' }>): Float32Array {
  const { b, h, s, d } = c;
  const y = new Float32Array(b * h * s * d);
  for (let bi = 0; bi < b; bi++)
    for (let hi = 0; hi < h; hi++) {
      const base = (bi * h + hi) * s * d;
      for (let i = 0; i < s; i++) {
        const allowed = [...Array(s).keys()].filter((j) => !c.mask || c.mask[(bi * s + i) * s + j] === 1);
        const scores = allowed.map((j) => {
          let dot = 0;
          for (let t = 0; t < d; t++) dot += c.q[base + i * d + t]! * c.k[base + j * d + t]!;
          return dot / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const w = scores.map((x) => Math.exp(x - max));
        const sum = w.reduce((p, q) => p + q, 0);
        for (let t = 0; t < d; t++) {
          let acc = 0;
          allowed.forEach((j, idx) => (acc += (w[idx]! / sum) * c.v[base + j * d + t]!));
          y[base + i * d + t] = acc;
        }
      }
    }
  return y;
}

function expectClose(r: PeerResult, want: Float32Array): void {
  expect(r.reason).toBeUndefined();
  expect(r.available).toBe(true);
  expect(r.times_ms).toHaveLength(2);
  expect(r.times_ms.every((t) => t > 0)).toBe(true);
  const got = r.output;
  if (!got) throw new Error(`${r.peer} returned no output`);
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(1e-3);
}

const mm = { op: 'matmul', m: 64, k: 48, n: 32, a: values(64 * 48, 1), b: values(48 * 32, 2) } as const;
const [B, H, S, D] = [1, 2, 16, 8];
const causal = Uint8Array.from({ length: B * S * S }, (_, idx) => (idx % S <= Math.floor(idx / S) % S ? 1 : 0));
const att: Extract<PeerCase, { op: 'attention' }> = {
  op: 'attention', b: B, h: H, s: S, d: D,
  q: values(B * H * S * D, 3), k: values(B * H * S * D, 4), v: values(B * H * S * D, 5), mask: causal,
};
const opts = { warmup: 1, iters: 2 };

describe.each(peerNames)('peer %s', (peer) => {
  it('matmul 64x48x32 matches the JS reference', async () => {
    expectClose(await runPeer(peer, mm, opts), refMatmul(mm.a, mm.b, mm.m, mm.k, mm.n));
  });

  it('causal masked attention (b=1, h=2, s=16, d=8) matches the JS reference', async () => {
    expectClose(await runPeer(peer, att, opts), refAttention(att));
  });
});

describe('reference sanity', () => {
  it('the causal mask really masks: first query row attends only to key 0', () => {
    // Row 0 of a causal mask sees only itself, so its output is v's row 0 exactly.
    const y = refAttention(att);
    for (let t = 0; t < D; t++) expect(y[t]).toBeCloseTo(att.v[t]!, 6);
  });
});

describe('runPeer failures', () => {
  it('reports a wrong-sized operand as unavailable with a one-line reason instead of throwing', async () => {
    const r = await runPeer('ort-cpu', { ...mm, a: new Float32Array(3) }, opts);
    expect(r.available).toBe(false);
    expect(r.reason).toMatch(/a has 3 elements, expected 3072/);
    expect(r.reason).not.toContain('\n');
  });
});
