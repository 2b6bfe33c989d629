// Peers are timed end to end per call: wall clock from launch until the result is readable on the
// host. That is the only timing every peer exposes publicly, so it is the one they all share.

import { performance } from 'node:perf_hooks';

export interface TimedRun {
  times_ms: number[];
  output: Float32Array;
}

/** Runs `call` warmup times untimed, then iters times timed; keeps the last output. */
export async function timeCalls(
  opts: { warmup: number; iters: number },
  call: () => Promise<Float32Array>,
): Promise<TimedRun> {
  if (!Number.isInteger(opts.iters) || opts.iters < 1) throw new Error(`iters must be a positive integer, got ${opts.iters}`);
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) throw new Error(`warmup must be a non-negative integer, got ${opts.warmup}`);
  let output: Float32Array | undefined;
  for (let i = 0; i < opts.warmup; i++) output = await call();
  const times_ms: number[] = [];
  for (let i = 0; i < opts.iters; i++) {
    const t0 = performance.now();
    output = await call();
    times_ms.push(performance.now() - t0);
  }
  // iters >= 1, so output is set; the check keeps the type honest.
  if (!output) throw new Error('internal error: no output after timed calls');
  return { times_ms, output };
}
