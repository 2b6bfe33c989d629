// TensorFlow.js on its WebGPU backend, through Dawn in Node. Attention is composed of tfjs ops,
// the way a tfjs user writes it: matMul(q, k^T) * scale + bias, softmax, matMul(., v).

import type * as Tf from '@tensorflow/tfjs-core';
import { attentionBias } from './attention-bias.js';
import type { PeerCase, PreparedPeer } from './types.js';
import { describeAdapter, ensureNavigatorGpu } from './webgpu-env.js';

let loaded: Promise<typeof Tf> | undefined;

async function loadTf(): Promise<typeof Tf> {
  ensureNavigatorGpu();
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-webgpu');
  // Otherwise small ops whose inputs are still on the host run on tfjs's CPU kernels.
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise its webgpu backend');
  await tf.ready();
  return tf;
}

/** Builds the op chain once; returns a function that launches one call and its output tensor. */
function prepare(tf: typeof Tf, c: PeerCase): { launch: () => Tf.Tensor; inputs: Tf.Tensor[] } {
  if (c.op === 'matmul') {
    const a = tf.tensor2d(c.a, [c.m, c.k]);
    const b = tf.tensor2d(c.b, [c.k, c.n]);
    return { launch: () => tf.matMul(a, b), inputs: [a, b] };
  }
  const shape: [number, number, number, number] = [c.b, c.h, c.s, c.d];
  const q = tf.tensor4d(c.q, shape);
  const k = tf.tensor4d(c.k, shape);
  const v = tf.tensor4d(c.v, shape);
  const scale = tf.scalar(1 / Math.sqrt(c.d));
  const bias = c.mask ? tf.tensor4d(attentionBias(c.mask, c.b, c.s), [c.b, 1, c.s, c.s]) : undefined;
  const launch = (): Tf.Tensor =>
    tf.tidy(() => {
      const scores = tf.mul(tf.matMul(q, k, false, true), scale);
      const p = tf.softmax(bias ? tf.add(scores, bias) : scores);
      return tf.matMul(p, v);
    });
  return { launch, inputs: [q, k, v, scale, ...(bias ? [bias] : [])] };
}

export async function prepareTfjsWebgpu(c: PeerCase): Promise<PreparedPeer> {
  loaded ??= loadTf();
  const tf = await loaded;
  const { launch, inputs } = prepare(tf, c);
  const adapter = (tf.backend() as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  return {
    peer: 'tfjs-webgpu',
    call: async () => {
      const y = launch();
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
    // GPU timestamps, where the adapter has timestamp queries; a separate call so the query readback does not
    // inflate the wall-clock times. kernelMs is { error } when the adapter lacks timestamp queries.
    kernelMs: async () => {
      const info = await tf.time(() => tf.dispose(launch()));
      return typeof info.kernelMs === 'number' ? info.kernelMs : undefined;
    },
    device: async () => `${adapter ? describeAdapter(adapter) : 'unknown adapter'} (tfjs ${tf.version_core} webgpu)`,
    release: async () => tf.dispose(inputs),
  };
}
