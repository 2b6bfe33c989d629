// Runs an established library ("peer") on the same case tfx runs, so `tfx bench` can print ratios.
// Peers are timed end to end per call (launch through host-readable result): that is the only
// timing all of them expose. tfjs additionally reports GPU-timestamp kernel time as kernel_ms.
// A peer that cannot load or run reports available: false with a one-line reason; runPeer never throws.

import { checkCaseSizes } from './attention-bias.js';
import { runOrtCpu, runOrtWebgpu } from './ort.js';
import { runTfjsWebgpu } from './tfjs-webgpu.js';
import type { PeerCase, PeerName, PeerOptions, PeerResult } from './types.js';

export type { PeerCase, PeerName, PeerOptions, PeerResult } from './types.js';
export { peerNames } from './types.js';

const runners = {
  'tfjs-webgpu': runTfjsWebgpu,
  'ort-webgpu': runOrtWebgpu,
  'ort-cpu': runOrtCpu,
} satisfies Record<PeerName, (c: PeerCase, opts: PeerOptions) => Promise<PeerResult>>;

function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return (msg.split('\n').find((l) => l.trim()) ?? 'unknown error').trim();
}

export async function runPeer(peer: PeerName, c: PeerCase, opts: PeerOptions): Promise<PeerResult> {
  try {
    checkCaseSizes(c);
    return await runners[peer](c, opts);
  } catch (e) {
    return { peer, available: false, reason: `${peer}: ${oneLine(e)}`, times_ms: [] };
  }
}
