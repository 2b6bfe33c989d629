/**
 * Choosing the next token from logits: greedy (temperature 0), or temperature sampling restricted to the top k
 * tokens and to the smallest set whose probability reaches top_p. Each sequence draws from its own seeded
 * stream, so a seed gives the same tokens run to run, whatever the batch around it.
 */
import { Rng } from '../runtime/rng.js';

export interface SamplingOptions {
  /** 0 = greedy (argmax, lowest id on ties). */
  readonly temperature: number;
  /** Keep the k most likely tokens; 0 = all. */
  readonly topK: number;
  /** Keep the smallest most-likely set with total probability >= p; 1 = all. */
  readonly topP: number;
}

export const GREEDY: SamplingOptions = { temperature: 0, topK: 0, topP: 1 };

/** `logits[off .. off + V)`; tokens in `banned` are never chosen. */
export function sampleToken(logits: Float32Array, off: number, V: number, o: SamplingOptions, rng: Rng, banned: ReadonlySet<number> = new Set()): number {
  const ids: number[] = [];
  for (let i = 0; i < V; i++) if (!banned.has(i) && !Number.isNaN(logits[off + i]!)) ids.push(i);
  if (ids.length === 0) throw new Error('internal error: every token is banned');
  // Highest logit first; ties keep the lower id first (stable sort), so greedy is deterministic.
  ids.sort((a, b) => logits[off + b]! - logits[off + a]!);
  if (o.temperature <= 0) return ids[0]!;
  const kept = o.topK > 0 ? ids.slice(0, o.topK) : ids;
  const top = logits[off + kept[0]!]!;
  const w = kept.map((i) => Math.exp((logits[off + i]! - top) / o.temperature));
  let total = w.reduce((a, b) => a + b, 0);
  let n = kept.length;
  if (o.topP < 1) {
    let acc = 0;
    for (n = 0; n < kept.length; ) { acc += w[n]!; n++; if (acc >= o.topP * total) break; }
    total = w.slice(0, n).reduce((a, b) => a + b, 0);
  }
  let u = rng.uniform() * total;
  for (let j = 0; j < n; j++) { u -= w[j]!; if (u < 0) return kept[j]!; }
  return kept[n - 1]!;
}

export function checkSampling(o: SamplingOptions): string | undefined {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) return `temperature must be a number >= 0, got ${o.temperature}`;
  if (!Number.isInteger(o.topK) || o.topK < 0) return `top-k must be an integer >= 0, got ${o.topK}`;
  if (!(o.topP > 0 && o.topP <= 1)) return `top-p must be in (0, 1], got ${o.topP}`;
  return undefined;
}
