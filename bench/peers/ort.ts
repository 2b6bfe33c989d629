// ONNX Runtime: the web build on its WebGPU provider, and the native Node build on the CPU.
// Both run the same hand-built ONNX model (MatMul, or Transpose/MatMul/Mul/Add/Softmax/MatMul).

import { setFlagsFromString } from 'node:v8';
import type * as OrtCommon from 'onnxruntime-web';
import { attentionBias } from './attention-bias.js';
import { encodeModel, peerGraph } from './onnx-model.js';
import type { PeerCase, PreparedPeer } from './types.js';
import { allowSharedArrayBufferWrites, describeAdapter, ensureNavigatorGpu } from './webgpu-env.js';

// Only the parts of the two ORT packages used here; both expose the onnxruntime-common API.
interface OrtModule {
  InferenceSession: typeof OrtCommon.InferenceSession;
  Tensor: typeof OrtCommon.Tensor;
}

let webLoaded: Promise<typeof import('onnxruntime-web/webgpu')> | undefined;
let nodeLoaded: Promise<typeof import('onnxruntime-node')> | undefined;

async function loadOrtWeb(): Promise<typeof import('onnxruntime-web/webgpu')> {
  ensureNavigatorGpu();
  allowSharedArrayBufferWrites();
  // ORT's WebGPU build is a 26 MB asyncify wasm; V8's optimizing tier spends over a minute of CPU
  // on it during the first session.run (measured: 70 s vs 0.2 s). The baseline tier is enough,
  // since the GPU does the math. Process-wide, but nothing else in tfx runs wasm.
  setFlagsFromString('--liftoff-only');
  const ort = await import('onnxruntime-web/webgpu');
  // No wasm worker threads: the GPU does the work, and Node would need worker setup for them.
  ort.env.wasm.numThreads = 1;
  return ort;
}

function feeds(ort: OrtModule, c: PeerCase): Record<string, OrtCommon.Tensor> {
  if (c.op === 'matmul') {
    return { a: new ort.Tensor('float32', c.a, [c.m, c.k]), b: new ort.Tensor('float32', c.b, [c.k, c.n]) };
  }
  const shape = [c.b, c.h, c.s, c.d];
  return {
    q: new ort.Tensor('float32', c.q, shape),
    k: new ort.Tensor('float32', c.k, shape),
    v: new ort.Tensor('float32', c.v, shape),
    ...(c.mask ? { bias: new ort.Tensor('float32', attentionBias(c.mask, c.b, c.s), [c.b, 1, c.s, c.s]) } : {}),
  };
}

/** One session on one provider; the output is copied (ORT may reuse the view on the next call). */
async function prepareSession(ort: OrtModule, peer: PreparedPeer['peer'], c: PeerCase, ep: string, device: (() => Promise<string>)): Promise<PreparedPeer> {
  const session = await ort.InferenceSession.create(encodeModel(peerGraph(c)), { executionProviders: [ep] });
  const inputs = feeds(ort, c);
  return {
    peer,
    call: async () => {
      const out = await session.run(inputs);
      const y = out['y'];
      if (!y || !(y.data instanceof Float32Array)) throw new Error('ORT returned no float32 output "y"');
      return y.data.slice();
    },
    device,
    release: () => session.release(),
  };
}

export async function prepareOrtWebgpu(c: PeerCase): Promise<PreparedPeer> {
  webLoaded ??= loadOrtWeb();
  const ort = await webLoaded;
  return prepareSession(ort, 'ort-webgpu', c, 'webgpu', async () => {
    // env.webgpu.adapter stays unset with ORT's native WebGPU provider; the device knows its adapter.
    const device = (await ort.env.webgpu.device) as GPUDevice & { adapterInfo?: GPUAdapterInfo };
    return `${device.adapterInfo ? describeAdapter(device.adapterInfo) : 'unknown adapter'} (onnxruntime-web ${ort.env.versions.web} webgpu)`;
  });
}

/**
 * onnxruntime-node's native WebGPU execution provider: its own statically linked Dawn, which picks the
 * machine's Vulkan adapter (here the only one is lavapipe); it does not expose the adapter to JavaScript.
 */
export async function prepareOrtNodeWebgpu(c: PeerCase): Promise<PreparedPeer> {
  nodeLoaded ??= import('onnxruntime-node');
  const ort = await nodeLoaded;
  return prepareSession(ort, 'ort-node-webgpu', c, 'webgpu', async () => `onnxruntime-node ${ort.env.versions.node ?? '?'} WebGPU EP (own Dawn; adapter not exposed)`);
}

export async function prepareOrtCpu(c: PeerCase): Promise<PreparedPeer> {
  nodeLoaded ??= import('onnxruntime-node');
  const ort = await nodeLoaded;
  return prepareSession(ort, 'ort-cpu', c, 'cpu', async () => `cpu (onnxruntime-node ${ort.env.versions.node ?? '?'})`);
}
