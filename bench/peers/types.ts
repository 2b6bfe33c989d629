// Shared shapes of a peer benchmark: what is run, and what comes back.

export type PeerName = 'tfjs-webgpu' | 'ort-webgpu' | 'ort-node-webgpu' | 'ort-cpu';

/** ort-webgpu: onnxruntime-web (wasm + the browser WebGPU API on tfx's Dawn); ort-node-webgpu: onnxruntime-node's native WebGPU provider (its own Dawn). */
export const peerNames: readonly PeerName[] = ['tfjs-webgpu', 'ort-webgpu', 'ort-node-webgpu', 'ort-cpu'];

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

/**
 * A peer with its session and operands set up, so calls of several peers (and tfx) can be interleaved in one
 * run: each sample of every participant then sees the same machine load.
 */
export interface PreparedPeer {
  readonly peer: PeerName;
  /** One call end to end (launch through the result readable on the host); returns the output. */
  call(): Promise<Float32Array>;
  /** GPU-timestamp ms of one call, where the peer exposes it (tfjs); undefined where it does not. */
  kernelMs?: () => Promise<number | undefined>;
  /** The adapter or provider that ran the work (known after the first call for some peers). */
  device(): Promise<string>;
  release(): Promise<void>;
}
