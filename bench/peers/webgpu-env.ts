// Puts a Dawn-backed `navigator.gpu` on globalThis for peers written for browsers (tfjs, ORT web).
// If another part of the process (e.g. tfx's runtime) already installed one, it is reused: two
// Dawn instances in one process work, but sharing one keeps adapter choice consistent.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, globals } from 'webgpu';

// Dawn crashes the process later if its GPU object is garbage collected: keep it for good.
let gpu: GPU | undefined;

export function ensureNavigatorGpu(): GPU {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!process.env['XDG_RUNTIME_DIR']) {
    // Mesa's Vulkan drivers (lavapipe) want a private runtime dir; mkdtemp makes it 0700.
    process.env['XDG_RUNTIME_DIR'] = mkdtempSync(join(tmpdir(), 'tfx-xdg-'));
  }
  Object.assign(globalThis, globals);
  gpu ??= create([]);
  if (nav) nav.gpu = gpu;
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return gpu;
}

export function describeAdapter(info: { vendor?: string; architecture?: string; device?: string; description?: string }): string {
  return [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(' ') || 'unknown adapter';
}

const patched = Symbol.for('tfx.bench.sharedWriteBuffer');

/**
 * ORT web's wasm heap is always a SharedArrayBuffer (its builds are threaded even at one thread),
 * and it uploads with queue.writeBuffer(view of that heap). Dawn's Node binding rejects such
 * views (ORT sees "Invalid argument"; a direct call can segfault). Copy shared data into an
 * ordinary buffer first. Non-shared writes are passed through untouched, so other users of the
 * same Dawn instance (tfx's runtime, tfjs) see no change.
 */
export function allowSharedArrayBufferWrites(): void {
  const proto = GPUQueue.prototype as GPUQueue & { [patched]?: true };
  if (proto[patched]) return;
  const original = proto.writeBuffer;
  proto.writeBuffer = function (this: GPUQueue, buffer, bufferOffset, data, dataOffset?, size?) {
    return original.call(this, buffer, bufferOffset, unshare(data), dataOffset, size);
  } satisfies GPUQueue['writeBuffer'];
  proto[patched] = true;
}

// Same element type and length, so dataOffset/size keep their meaning (elements for typed
// arrays, bytes for DataView and raw buffers).
function unshare(data: GPUAllowSharedBufferSource): GPUAllowSharedBufferSource {
  if (data instanceof SharedArrayBuffer) return new Uint8Array(data).slice().buffer;
  if (!ArrayBuffer.isView(data) || !(data.buffer instanceof SharedArrayBuffer)) return data;
  if (data instanceof DataView) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return (data as unknown as { slice(): ArrayBufferView }).slice() as GPUAllowSharedBufferSource;
}
