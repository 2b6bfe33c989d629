/**
 * Seedable PRNG for weight initialization: xoshiro128** (32-bit ops only, so it is fast without BigInt),
 * seeded through splitmix64. Everything is integer arithmetic or exactly specified IEEE operations
 * (Math.log/sqrt/cos are not bit-exact across engines in theory, but V8 uses the same fdlibm port on every
 * platform), so a seed gives the same numbers on every run and machine.
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN64 = 0x9e3779b97f4a7c15n;

/** One splitmix64 step: advances `state` by the golden gamma and returns the mixed output. */
export function splitmix64(state: bigint): { value: bigint; next: bigint } {
  const next = (state + GOLDEN64) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { value: z ^ (z >> 31n), next };
}

/** 64-bit FNV-1a over the UTF-8 bytes of `s`. 64 bits so thousands of parameter names do not collide. */
export function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK64;
  return h;
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));
const TWO_POW_M53 = 2 ** -53;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  // Box–Muller makes two normals per draw; the second is kept for the next call.
  private spare: number | undefined;

  /** Raw xoshiro128** state (four u32, not all zero). Most callers want `Rng.seeded` or `rngFor`. */
  constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((x) => x >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
  }

  /** A generator from a 64-bit seed (a safe integer or a bigint; taken modulo 2^64). */
  static seeded(seed: number | bigint): Rng {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const a = splitmix64(BigInt.asUintN(64, BigInt(seed)));
    const b = splitmix64(a.next);
    // splitmix64 is a bijection of its counter, so two consecutive outputs are never both zero.
    return new Rng([Number(a.value & 0xffffffffn), Number(a.value >> 32n), Number(b.value & 0xffffffffn), Number(b.value >> 32n)]);
  }

  /** Next raw output, a u32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits; or in [lo, hi) when bounds are given. */
  uniform(lo = 0, hi = 1): number {
    const u = ((this.nextU32() >>> 5) * 2 ** 26 + (this.nextU32() >>> 6)) * TWO_POW_M53;
    return lo + (hi - lo) * u;
  }

  /** Uniform integer in [lo, hi), unbiased (rejection sampling). The range must be 1..2^32. */
  int(lo: number, hi: number): number {
    const n = hi - lo;
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || n < 1 || n > 2 ** 32) {
      throw new RangeError(`int(${lo}, ${hi}): need integers with 1 <= hi - lo <= 2^32`);
    }
    // Reject the top partial block of the u32 range so every residue is equally likely.
    const limit = 2 ** 32 - (2 ** 32 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return lo + (x % n);
    }
  }

  /** Normal sample (Box–Muller). */
  normal(mean = 0, std = 1): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return mean + std * z;
    }
    // 1 - u is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return mean + std * r * Math.cos(theta);
  }
}


/**
 * Fills `out` with the same values as `out.length` successive `g.normal(mean, std)` calls (same expressions,
 * so the results are bit-identical), without a call and a branch per element: initializing 7b draws 6.7e9.
 */
export function fillNormal(g: Rng, out: Float32Array | Int32Array, mean: number, std: number): void {
  const n = out.length;
  let i = 0;
  if (n > 0 && (g as unknown as { spare: number | undefined }).spare !== undefined) out[i++] = g.normal(mean, std);
  for (; i + 1 < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - g.uniform()));
    const theta = 2 * Math.PI * g.uniform();
    out[i] = mean + std * r * Math.cos(theta);
    out[i + 1] = mean + std * (r * Math.sin(theta));
  }
  if (i < n) out[i] = g.normal(mean, std);
}

/**
 * The stream for one named parameter: the seed's splitmix64 output mixed with the name's hash, so each
 * parameter's values depend only on (seed, name), not on which other parameters exist or their order.
 */
export function rngFor(seed: number | bigint, name: string): Rng {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const mixed = splitmix64(BigInt.asUintN(64, BigInt(seed))).value;
  return Rng.seeded(mixed ^ fnv1a64(name));
}
