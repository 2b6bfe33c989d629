/**
 * CUDA driver API from Node through koffi (FFI), without nvrtc or a native addon: kernels arrive
 * as cubin/PTX from nvcc. Only the calls tfx needs are bound. On a machine without libcuda,
 * loadCudaDriver throws CudaUnavailableError with one line a user can act on.
 */
import { createRequire } from 'node:module';
import { TfxError, type UserCode } from '../../errors.js';

type Koffi = typeof import('koffi');

export const NO_DRIVER_MESSAGE =
  'no CUDA driver found (libcuda.so.1 could not be loaded): tfx --backend cuda needs an NVIDIA GPU with its driver installed';

/** No usable CUDA driver or device; the message is one line meant for the user. */
export class CudaUnavailableError extends TfxError {
  override name = 'CudaUnavailableError';
  constructor(message: string, code: UserCode = 'TFX6003') { super(code, message); }
}

/** A driver call returned an error code. */
export class CudaError extends TfxError {
  override name = 'CudaError';
  constructor(readonly call: string, readonly status: number, detail: string) {
    super('TFX6004', `${call} failed: ${detail}`);
  }
}

export interface CudaBuffer { readonly ptr: bigint; readonly bytes: number }
/** Opaque driver handles (CUmodule, CUfunction). */
export interface CudaModule { readonly handle: unknown }
export interface CudaFunction { readonly handle: unknown; readonly name: string }

export type KernelArg =
  | { buf: CudaBuffer } | { ptr: bigint } | { i32: number } | { u32: number } | { f32: number } | { u64: bigint };

type Dim3 = [number, number, number];

const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
const CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
const CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

const PROTOTYPES = {
  cuInit: 'int cuInit(unsigned int flags)',
  cuDeviceGet: 'int cuDeviceGet(_Out_ int *device, int ordinal)',
  cuDeviceGetCount: 'int cuDeviceGetCount(_Out_ int *count)',
  cuDeviceGetName: 'int cuDeviceGetName(_Out_ uint8_t *name, int len, int dev)',
  cuDeviceGetAttribute: 'int cuDeviceGetAttribute(_Out_ int *pi, int attrib, int dev)',
  cuCtxCreate_v2: 'int cuCtxCreate_v2(_Out_ CUctx **pctx, unsigned int flags, int dev)',
  cuCtxDestroy_v2: 'int cuCtxDestroy_v2(CUctx *ctx)',
  cuCtxSynchronize: 'int cuCtxSynchronize()',
  cuModuleLoadData: 'int cuModuleLoadData(_Out_ CUmod **module, const void *image)',
  cuModuleUnload: 'int cuModuleUnload(CUmod *module)',
  cuModuleGetFunction: 'int cuModuleGetFunction(_Out_ CUfunc **fn, CUmod *module, const char *name)',
  cuFuncSetAttribute: 'int cuFuncSetAttribute(CUfunc *fn, int attrib, int value)',
  cuMemAlloc_v2: 'int cuMemAlloc_v2(_Out_ uint64_t *dptr, size_t bytes)',
  cuMemFree_v2: 'int cuMemFree_v2(uint64_t dptr)',
  cuMemcpyHtoD_v2: 'int cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t bytes)',
  cuMemcpyDtoH_v2: 'int cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t bytes)',
  cuLaunchKernel:
    'int cuLaunchKernel(CUfunc *fn, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared, void *stream, void *params, void *extra)',
  cuEventCreate: 'int cuEventCreate(_Out_ CUevt **event, unsigned int flags)',
  cuEventDestroy_v2: 'int cuEventDestroy_v2(CUevt *event)',
  cuEventRecord: 'int cuEventRecord(CUevt *event, void *stream)',
  cuEventSynchronize: 'int cuEventSynchronize(CUevt *event)',
  cuEventElapsedTime: 'int cuEventElapsedTime(_Out_ float *ms, CUevt *start, CUevt *end)',
  cuGetErrorString: 'int cuGetErrorString(int error, _Out_ const char **str)',
  cuGetErrorName: 'int cuGetErrorName(int error, _Out_ const char **str)',
} as const;

type Bound = { [K in keyof typeof PROTOTYPES]: (...args: unknown[]) => number };

export interface LoadOptions {
  /** Load this library instead of libcuda.so.1 / libcuda.so (tests use a stand-in). */
  libraryPath?: string;
  device?: number;
}

function loadKoffi(): Koffi {
  try {
    return createRequire(import.meta.url)('koffi') as Koffi;
  } catch {
    throw new CudaUnavailableError('the koffi FFI module could not be loaded (run npm ci): tfx --backend cuda needs it to reach the CUDA driver');
  }
}

function bind(koffi: Koffi, libraryPath?: string): Bound {
  let lib: ReturnType<Koffi['load']> | undefined;
  for (const name of libraryPath ? [libraryPath] : ['libcuda.so.1', 'libcuda.so']) {
    try {
      lib = koffi.load(name);
      break;
    } catch {
      // try the next name
    }
  }
  if (!lib) throw new CudaUnavailableError(NO_DRIVER_MESSAGE);
  // Named opaque types are registered once per process; a second load reuses them.
  for (const t of ['CUctx', 'CUmod', 'CUfunc', 'CUevt']) {
    try { koffi.opaque(t); } catch { /* already registered */ }
  }
  const out = {} as Bound;
  for (const [key, proto] of Object.entries(PROTOTYPES)) {
    try {
      (out as Record<string, unknown>)[key] = lib.func(proto);
    } catch {
      throw new CudaUnavailableError(`the CUDA driver lacks ${key} (driver too old?): tfx --backend cuda needs a current NVIDIA driver`);
    }
  }
  return out;
}

/** One device, one context. Calls are synchronous; launches are asynchronous until synchronize/download. */
export class CudaDriver {
  readonly deviceName: string;
  readonly computeCapability: [number, number];
  private ctx: unknown;

  constructor(private readonly koffi: Koffi, private readonly cu: Bound, device: number) {
    const init = cu.cuInit(0);
    if (init !== 0) throw new CudaUnavailableError(`the CUDA driver is installed but cuInit failed: ${this.describe(init)}`);
    const count = [0];
    this.check('cuDeviceGetCount', cu.cuDeviceGetCount(count));
    if (device >= (count[0] ?? 0)) throw new CudaUnavailableError(`CUDA device ${device} does not exist (${count[0]} found)`);
    const dev = [0];
    this.check('cuDeviceGet', cu.cuDeviceGet(dev, device));
    const name = new Uint8Array(256);
    this.check('cuDeviceGetName', cu.cuDeviceGetName(name, name.length, dev[0]));
    this.deviceName = new TextDecoder().decode(name.subarray(0, Math.max(0, name.indexOf(0))));
    const major = [0], minor = [0];
    this.check('cuDeviceGetAttribute', cu.cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev[0]));
    this.check('cuDeviceGetAttribute', cu.cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev[0]));
    this.computeCapability = [major[0]!, minor[0]!];
    const ctx: unknown[] = [null];
    this.check('cuCtxCreate_v2', cu.cuCtxCreate_v2(ctx, 0, dev[0]));
    this.ctx = ctx[0];
  }

  private describe(code: number): string {
    const name: (string | null)[] = [null], text: (string | null)[] = [null];
    this.cu.cuGetErrorName(code, name);
    this.cu.cuGetErrorString(code, text);
    return `${name[0] ?? 'CUDA error'} (${code})${text[0] ? `: ${text[0]}` : ''}`;
  }

  private check(call: string, code: number): void {
    if (code !== 0) throw new CudaError(call, code, this.describe(code));
  }

  alloc(bytes: number): CudaBuffer {
    const p: unknown[] = [null];
    this.check('cuMemAlloc_v2', this.cu.cuMemAlloc_v2(p, Math.max(1, bytes)));
    return { ptr: BigInt(p[0] as number | bigint), bytes };
  }

  free(buf: CudaBuffer): void {
    this.check('cuMemFree_v2', this.cu.cuMemFree_v2(buf.ptr));
  }

  upload(buf: CudaBuffer, data: ArrayBufferView): void {
    if (data.byteLength > buf.bytes) throw new RangeError(`upload of ${data.byteLength} bytes into a ${buf.bytes}-byte buffer`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.check('cuMemcpyHtoD_v2', this.cu.cuMemcpyHtoD_v2(buf.ptr, bytes, bytes.byteLength));
  }

  /** Copies `bytes` (default: all) back; waits for the work queued before it. */
  download(buf: CudaBuffer, bytes = buf.bytes): Uint8Array {
    const out = new Uint8Array(bytes);
    this.check('cuMemcpyDtoH_v2', this.cu.cuMemcpyDtoH_v2(out, buf.ptr, bytes));
    return out;
  }

  /** A cubin (ELF) or PTX text; PTX gets the NUL terminator the driver expects. */
  loadModule(image: Uint8Array): CudaModule {
    const isElf = image[0] === 0x7f && image[1] === 0x45 && image[2] === 0x4c && image[3] === 0x46;
    let data = image;
    if (!isElf && image[image.length - 1] !== 0) {
      data = new Uint8Array(image.length + 1);
      data.set(image);
    }
    const mod: unknown[] = [null];
    this.check('cuModuleLoadData', this.cu.cuModuleLoadData(mod, data));
    return { handle: mod[0] };
  }

  unloadModule(mod: CudaModule): void {
    this.check('cuModuleUnload', this.cu.cuModuleUnload(mod.handle));
  }

  getFunction(mod: CudaModule, name: string): CudaFunction {
    const fn: unknown[] = [null];
    this.check(`cuModuleGetFunction('${name}')`, this.cu.cuModuleGetFunction(fn, mod.handle, name));
    return { handle: fn[0], name };
  }

  /** Needed before launching with more than 48 KiB of dynamic shared memory. */
  setMaxDynamicShared(fn: CudaFunction, bytes: number): void {
    this.check('cuFuncSetAttribute', this.cu.cuFuncSetAttribute(fn.handle, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes));
  }

  /**
   * cuLaunchKernel takes `void** kernelParams`: an array of pointers, each to one argument's
   * bytes. Both live in native memory (8 bytes per argument) for the duration of the call; the
   * driver copies the values at launch, so they are freed right after.
   */
  launch(fn: CudaFunction, grid: Dim3, block: Dim3, sharedBytes: number, args: KernelArg[]): void {
    const { koffi } = this;
    const n = Math.max(1, args.length);
    const storage = koffi.alloc('uint64_t', n);
    const table = koffi.alloc('uint64_t', n);
    try {
      const values = new DataView(koffi.view(storage, 8 * n));
      const pointers = new DataView(koffi.view(table, 8 * n));
      const base = koffi.address(storage);
      args.forEach((a, i) => {
        const at = 8 * i;
        if ('buf' in a) values.setBigUint64(at, a.buf.ptr, true);
        else if ('ptr' in a) values.setBigUint64(at, a.ptr, true);
        else if ('u64' in a) values.setBigUint64(at, a.u64, true);
        else if ('i32' in a) values.setInt32(at, a.i32, true);
        else if ('u32' in a) values.setUint32(at, a.u32, true);
        else values.setFloat32(at, a.f32, true);
        pointers.setBigUint64(at, base + BigInt(at), true);
      });
      this.check(`cuLaunchKernel(${fn.name})`,
        this.cu.cuLaunchKernel(fn.handle, grid[0], grid[1], grid[2], block[0], block[1], block[2], sharedBytes, null, table, null));
    } finally {
      koffi.free(storage);
      koffi.free(table);
    }
  }

  synchronize(): void {
    this.check('cuCtxSynchronize', this.cu.cuCtxSynchronize());
  }

  /** GPU time in milliseconds of the work `fn` queues, measured with events on the default stream. */
  time(fn: () => void): number {
    const start: unknown[] = [null], end: unknown[] = [null];
    this.check('cuEventCreate', this.cu.cuEventCreate(start, 0));
    this.check('cuEventCreate', this.cu.cuEventCreate(end, 0));
    try {
      this.check('cuEventRecord', this.cu.cuEventRecord(start[0], null));
      fn();
      this.check('cuEventRecord', this.cu.cuEventRecord(end[0], null));
      this.check('cuEventSynchronize', this.cu.cuEventSynchronize(end[0]));
      const ms = [0];
      this.check('cuEventElapsedTime', this.cu.cuEventElapsedTime(ms, start[0], end[0]));
      return ms[0]!;
    } finally {
      this.cu.cuEventDestroy_v2(start[0]);
      this.cu.cuEventDestroy_v2(end[0]);
    }
  }

  close(): void {
    if (this.ctx) this.cu.cuCtxDestroy_v2(this.ctx);
    this.ctx = null;
  }
}

/** Loads libcuda and opens a context on `device` (default 0). Throws CudaUnavailableError without a driver. */
export function loadCudaDriver(opts: LoadOptions = {}): CudaDriver {
  const koffi = loadKoffi();
  return new CudaDriver(koffi, bind(koffi, opts.libraryPath), opts.device ?? 0);
}
