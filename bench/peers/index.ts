// Runs an established library ("peer") on the same case tfx runs, so `tfx bench` can print ratios.
// Peers are timed end to end per call (launch through host-readable result): that is the only
// timing all of them expose. tfjs additionally reports GPU-timestamp kernel time as kernel_ms.
// A peer that cannot load or run reports available: false with a one-line reason; runPeer never throws.
// preparePeer sets one up for interleaved timing (bench/suite.ts alternates tfx and every peer call by call).

import { checkCaseSizes } from './attention-bias.js';
import { prepareOrtCpu, prepareOrtNodeWebgpu, prepareOrtWebgpu } from './ort.js';
import { prepareTfjsWebgpu } from './tfjs-webgpu.js';
import { timeCalls } from './timing.js';
import type { PeerCase, PeerName, PeerOptions, PeerResult, PreparedPeer } from './types.js';

export type { PeerCase, PeerName, PeerOptions, PeerResult, PreparedPeer } from './types.js';
export { peerNames } from './types.js';

const preparers = {
  'tfjs-webgpu': prepareTfjsWebgpu,
  'ort-webgpu': prepareOrtWebgpu,
  'ort-node-webgpu': prepareOrtNodeWebgpu,
  'ort-cpu': prepareOrtCpu,
} satisfies Record<PeerName, (c: PeerCase) => Promise<PreparedPeer>>;

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n').find((l) => l.trim()) ?? 'unknown error').trim();
}

/** The peer set up for `c`, or the one-line reason it cannot be. */
export async function preparePeer(peer: PeerName, c: PeerCase): Promise<PreparedPeer | { reason: string }> {
  try {
    checkCaseSizes(c);
    return await preparers[peer](c);
  } catch (e) {
    return { reason: `${peer}: ${oneLine(e)}` };
  }
}

export const peerFailure = (peer: PeerName, e: unknown): string => `${peer}: ${oneLine(e)}`;

/** One peer alone: warm-up calls, timed calls, then (where it has them) as many GPU-timestamp calls. */
export async function runPeer(peer: PeerName, c: PeerCase, opts: PeerOptions): Promise<PeerResult> {
  const p = await preparePeer(peer, c);
  if ('reason' in p) return { peer, available: false, reason: p.reason, times_ms: [] };
  try {
    const run = await timeCalls(opts, () => p.call());
    const kernel_ms: number[] = [];
    for (let i = 0; p.kernelMs && i < opts.iters; i++) {
      const t = await p.kernelMs();
      if (t === undefined) break;
      kernel_ms.push(t);
    }
    return { peer, available: true, ...run, ...(kernel_ms.length === opts.iters ? { kernel_ms } : {}), device: await p.device() };
  } catch (e) {
    return { peer, available: false, reason: peerFailure(peer, e), times_ms: [] };
  } finally {
    await p.release().catch(() => undefined);
  }
}
