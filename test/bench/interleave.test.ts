/** Interleaved sampling (bench/interleave.ts): rotation, round count, and which participants may stop early. */
import { describe, expect, it } from 'vitest';
import { interleave, type Participant } from '../../bench/interleave.js';

/** Participants that log the order of their calls and return fixed times. */
function fake(times: number[], canWin = true) {
  const calls: number[] = [];
  const parts: Participant[] = times.map((t, i) => ({ warm: t, canWin, take: async () => { calls.push(i); return t; } }));
  return { parts, calls };
}

describe('interleave', () => {
  it('samples every participant once per round, the order rotated each round', async () => {
    const { parts, calls } = fake([10, 11, 12]);
    const ts = await interleave(parts, { minRounds: 3, maxRounds: 3, targetMs: 1 });
    expect(calls).toEqual([0, 1, 2, 1, 2, 0, 2, 0, 1]);
    expect(ts.map((t) => t.samples.length)).toEqual([3, 3, 3]);
    expect(ts.map((t) => t.median)).toEqual([10, 11, 12]);
  });

  it('takes about targetMs of the slowest participant, within [minRounds, maxRounds]', async () => {
    expect((await interleave(fake([1, 100]).parts, { minRounds: 2, maxRounds: 50, targetMs: 600 }))[0]!.samples).toHaveLength(6);
    expect((await interleave(fake([1, 2]).parts, { minRounds: 2, maxRounds: 50, targetMs: 600 }))[0]!.samples).toHaveLength(50);
    expect((await interleave(fake([1, 1000]).parts, { minRounds: 5, maxRounds: 50, targetMs: 600 }))[0]!.samples).toHaveLength(5);
  });

  it('drops a competitor more than 3x slower than the best after three rounds; non-competitors always run', async () => {
    const comp = fake([10, 29, 31]).parts;
    const peer = fake([100], false).parts;
    const ts = await interleave([...comp, ...peer], { minRounds: 8, maxRounds: 8, targetMs: 1 });
    expect(ts.map((t) => t.samples.length)).toEqual([8, 8, 3, 8]);
  });
});
