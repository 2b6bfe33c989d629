// Shared shapes of a peer benchmark: what is run, and what comes back.

export type PeerName = 'tfjs-webgpu' | 'ort-webgpu' | 'ort-cpu';

export const peerNames: readonly PeerName[] = ['tfjs-webgpu', 'ort-webgpu', 'ort-cpu'];

/** Row-major f32 operands. Attention tensors are [b, h, s, d]; mask is [b, s, s] with 1 = allowed. */
export type PeerCase =
  | { op: 'matmul'; m: number; k: number; n: number; a: Float32Array; b: Float32Array }
  | {
      op: 'attention';
      b: number;
      h: number;
      s: number;
      d: number;
      q: Float32Array;
      k: Float32Array;
      v: Float32Array;
      mask?: Uint8Array;
    };

export interface PeerResult {
  peer: PeerName;
  available: boolean;
  /** One line: why the peer could not run. */
  reason?: string;
  /** Wall-clock ms per call, end to end: launch through the result being readable on the host. */
  times_ms: number[];
  /** GPU-timestamp kernel time per call, where the peer exposes it (tfjs `tf.time().kernelMs`). */
  kernel_ms?: number[];
  output?: Float32Array;
  /** Adapter or provider that ran the work, e.g. "mesa software (webgpu)". */
  device?: string;
}

export interface PeerOptions {
  warmup: number;
  iters: number;
}
