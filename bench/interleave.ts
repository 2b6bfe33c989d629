/**
 * Interleaved sampling: every participant (kernel variants, whole plans, tfx and its peers) takes one sample per
 * round, in an order rotated each round, so changes in machine load hit all of them alike and the ratios of one
 * run are fair on a shared machine.
 */
import { stats, type Timing } from './plan-runner.js';

export interface Participant {
  /** The first timed call, ms (sets the number of rounds). */
  readonly warm: number;
  /** Whether it competes for "fastest" (variants of one kernel): only those may stop early. */
  readonly canWin: boolean;
  /** One sample, ms. */
  take(): Promise<number>;
}

export interface Rounds {
  readonly minRounds: number; readonly maxRounds: number;
  /** Rounds: about this many ms of the slowest participant's warm-up time, within [minRounds, maxRounds]. */
  readonly targetMs: number;
}

/**
 * Samples of each participant, in its order. After three rounds a competing participant more than 3x slower
 * than the fastest competitor is not sampled again (its sample count says so); the others take every round.
 */
export async function interleave(parts: readonly Participant[], r: Rounds, progress?: { add(n: number): void; tick(round: number, of: number): void }): Promise<Timing[]> {
  const slowest = Math.max(...parts.map((p) => p.warm), 0.01);
  const rounds = Math.max(r.minRounds, Math.min(r.maxRounds, Math.floor(r.targetMs / slowest)));
  const samples = parts.map(() => [] as number[]);
  const live = parts.map(() => true);
  progress?.add(rounds);
  for (let round = 0; round < rounds; round++) {
    for (let j = 0; j < parts.length; j++) {
      const at = (j + round) % parts.length;
      if (live[at]) samples[at]!.push(await parts[at]!.take());
    }
    if (round === 2) {
      const best = Math.min(...parts.map((p, j) => (p.canWin ? stats(samples[j]!).median : Infinity)));
      parts.forEach((p, j) => { if (p.canWin && stats(samples[j]!).median > 3 * best) live[j] = false; });
    }
    progress?.tick(round + 1, rounds);
  }
  return samples.map((x) => stats(x));
}
