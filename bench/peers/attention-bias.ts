import type { PeerCase } from './types.js';

// The additive mask users build for composed attention: 0 where allowed, a large negative elsewhere.
// Large-but-finite (not -Infinity) so a fully masked row gives a uniform softmax instead of NaN,
// which is what the peers' users typically write.
export const maskedScore = -1e9;

/** mask [b, s, s] (1 = allowed) -> bias [b, 1, s, s], broadcast over heads. */
export function attentionBias(mask: Uint8Array, b: number, s: number): Float32Array {
  if (mask.length !== b * s * s) {
    throw new Error(`attention mask has ${mask.length} elements, expected b*s*s = ${b * s * s}`);
  }
  const bias = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) bias[i] = mask[i] ? 0 : maskedScore;
  return bias;
}

/** Checks operand lengths once, so each peer can trust them. */
export function checkCaseSizes(c: PeerCase): void {
  const want = (name: string, got: number, n: number): void => {
    if (got !== n) throw new Error(`${name} has ${got} elements, expected ${n}`);
  };
  if (c.op === 'matmul') {
    want('a', c.a.length, c.m * c.k);
    want('b', c.b.length, c.k * c.n);
  } else {
    const n = c.b * c.h * c.s * c.d;
    want('q', c.q.length, n);
    want('k', c.k.length, n);
    want('v', c.v.length, n);
    if (c.mask) want('mask', c.mask.length, c.b * c.s * c.s);
  }
}
