import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CudaError, CudaUnavailableError, NO_DRIVER_MESSAGE, loadCudaDriver } from '../../src/runtime/cuda/driver.js';

// Whether this machine has a driver, asked of the dynamic loader directly rather than of driver.ts.
const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
const HAVE_LIBCUDA = ['libcuda.so.1', 'libcuda.so'].some((name) => {
  try { koffi.load(name); return true; } catch { return false; }
});

describe.skipIf(HAVE_LIBCUDA)(`without a CUDA driver${HAVE_LIBCUDA ? ' [SKIPPED: libcuda is installed here]' : ''}`, () => {
  it('loadCudaDriver throws CudaUnavailableError with the one-line message, and nothing else', () => {
    let caught: unknown;
    try { loadCudaDriver(); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(CudaUnavailableError);
    const msg = (caught as Error).message;
    expect(msg).toBe('no CUDA driver found (libcuda.so.1 could not be loaded): tfx --backend cuda needs an NVIDIA GPU with its driver installed');
    expect(msg).toBe(NO_DRIVER_MESSAGE);
    expect(msg).not.toContain('\n');
  });
});

/**
 * A stand-in libcuda (host memory, one known kernel) checks the FFI marshalling that a real GPU
 * would otherwise be needed for: out-parameters, 64-bit device pointers, the void** kernelParams
 * table, event timing, and error strings.
 */
const FAKE_LIBCUDA = String.raw`
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
static int ctx_obj, mod_obj, fn_axpy;
static float gpu_clock;
int cuInit(unsigned f) { return getenv("FAKE_CUDA_NO_DEVICE") ? 100 : (f == 0 ? 0 : 1); }
int cuDeviceGetCount(int* c) { *c = 1; return 0; }
int cuDeviceGet(int* d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
int cuDeviceGetName(char* name, int len, int dev) { strncpy(name, "Fake GPU 9000", len); return dev == 0 ? 0 : 101; }
int cuDeviceGetAttribute(int* v, int attr, int dev) {
  if (attr == 75) *v = 9; else if (attr == 76) *v = 0; else return 1;
  return 0;
}
int cuCtxCreate_v2(void** c, unsigned flags, int dev) { *c = &ctx_obj; return 0; }
int cuCtxDestroy_v2(void* c) { return c == &ctx_obj ? 0 : 201; }
int cuCtxSynchronize(void) { return 0; }
int cuModuleLoadData(void** m, const void* image) {
  const unsigned char* p = (const unsigned char*)image;
  int elf = p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F';
  if (!elf && strncmp((const char*)p, ".version", 8) != 0) return 218;
  *m = &mod_obj;
  return 0;
}
int cuModuleUnload(void* m) { return m == &mod_obj ? 0 : 400; }
int cuModuleGetFunction(void** f, void* m, const char* name) {
  if (m != &mod_obj) return 400;
  if (strcmp(name, "axpy") != 0) return 500;
  *f = &fn_axpy;
  return 0;
}
int cuFuncSetAttribute(void* f, int attr, int value) { return f == &fn_axpy ? 0 : 400; }
int cuMemAlloc_v2(uint64_t* p, size_t n) { *p = (uint64_t)(uintptr_t)malloc(n) + 0x100000000000ull; return 0; }
int cuMemFree_v2(uint64_t p) { free((void*)(uintptr_t)(p - 0x100000000000ull)); return 0; }
int cuMemcpyHtoD_v2(uint64_t d, const void* s, size_t n) { memcpy((void*)(uintptr_t)(d - 0x100000000000ull), s, n); return 0; }
int cuMemcpyDtoH_v2(void* d, uint64_t s, size_t n) { memcpy(d, (void*)(uintptr_t)(s - 0x100000000000ull), n); return 0; }
/* axpy(float* y, const float* x, float a, int n, unsigned keep): y = a*x + keep*y over the launched threads */
int cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void* stream, void** params, void** extra) {
  if (f != &fn_axpy) return 400;
  if (extra || stream || shared != 16) return 1;
  float* y = (float*)(uintptr_t)(*(uint64_t*)params[0] - 0x100000000000ull);
  const float* x = (const float*)(uintptr_t)(*(uint64_t*)params[1] - 0x100000000000ull);
  float a = *(float*)params[2];
  int n = *(int*)params[3];
  unsigned keep = *(unsigned*)params[4];
  long threads = (long)gx * gy * gz * bx * by * bz;
  for (long i = 0; i < threads && i < n; ++i) y[i] = a * x[i] + (float)keep * y[i];
  gpu_clock += 0.5f;
  return 0;
}
int cuEventCreate(void** e, unsigned flags) { *e = calloc(1, sizeof(float)); return 0; }
int cuEventDestroy_v2(void* e) { free(e); return 0; }
int cuEventRecord(void* e, void* stream) { *(float*)e = gpu_clock; return 0; }
int cuEventSynchronize(void* e) { return 0; }
int cuEventElapsedTime(float* ms, void* start, void* end) { *ms = *(float*)end - *(float*)start; return 0; }
int cuGetErrorName(int e, const char** s) {
  *s = e == 500 ? "CUDA_ERROR_NOT_FOUND" : e == 100 ? "CUDA_ERROR_NO_DEVICE" : e == 218 ? "CUDA_ERROR_INVALID_PTX" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
int cuGetErrorString(int e, const char** s) {
  *s = e == 500 ? "named symbol not found" : e == 100 ? "no CUDA-capable device is detected" : "unknown error";
  return 0;
}
`;

describe('driver binding against a stand-in libcuda', () => {
  let dir = '';
  let lib = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tfx-fake-cuda-'));
    writeFileSync(join(dir, 'fake.c'), FAKE_LIBCUDA);
    lib = join(dir, 'libfakecuda.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', lib, join(dir, 'fake.c')]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a device, moves memory, launches with mixed argument kinds, times with events', () => {
    const cu = loadCudaDriver({ libraryPath: lib });
    expect(cu.deviceName).toBe('Fake GPU 9000');
    expect(cu.computeCapability).toEqual([9, 0]);
    const n = 10;
    const x = Float32Array.from({ length: n }, (_, i) => i + 1);
    const y0 = Float32Array.from({ length: n }, (_, i) => 100 * i);
    const dx = cu.alloc(4 * n);
    const dy = cu.alloc(4 * n);
    expect(dx.ptr).toBeGreaterThan(0x100000000000n); // above 2^44: must survive as 64 bits
    cu.upload(dx, x);
    cu.upload(dy, y0);
    expect([...new Float32Array(cu.download(dx).buffer)]).toEqual([...x]);
    const fn = cu.getFunction(cu.loadModule(new TextEncoder().encode('.version 8.0\n.target sm_90\n')), 'axpy');
    // 2 blocks of 4 threads cover only 8 of the 10 elements.
    const args = [{ buf: dy }, { buf: dx }, { f32: 0.25 }, { i32: n }, { u32: 1 }];
    const ms = cu.time(() => {
      cu.launch(fn, [2, 1, 1], [4, 1, 1], 16, args);
      cu.launch(fn, [2, 1, 1], [4, 1, 1], 16, args);
    });
    expect(ms).toBe(1); // the stand-in's clock advances 0.5 per launch
    cu.synchronize();
    const y = new Float32Array(cu.download(dy).buffer);
    expect([...y]).toEqual([...y0].map((v, i) => (i < 8 ? v + 2 * 0.25 * x[i]! : v)));
    cu.free(dx);
    cu.free(dy);
    cu.close();
  });

  it('turns error codes into CudaError with the driver name and text', () => {
    const cu = loadCudaDriver({ libraryPath: lib });
    const mod = cu.loadModule(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]));
    expect(() => cu.getFunction(mod, 'missing')).toThrow(CudaError);
    expect(() => cu.getFunction(mod, 'missing')).toThrow("cuModuleGetFunction('missing') failed: CUDA_ERROR_NOT_FOUND (500): named symbol not found");
    expect(() => cu.loadModule(new TextEncoder().encode('garbage'))).toThrow(/cuModuleLoadData failed: CUDA_ERROR_INVALID_PTX \(218\)/);
    cu.close();
  });

  it('reports a driver without a device as CudaUnavailableError', () => {
    process.env.FAKE_CUDA_NO_DEVICE = '1';
    try {
      expect(() => loadCudaDriver({ libraryPath: lib })).toThrow(CudaUnavailableError);
      expect(() => loadCudaDriver({ libraryPath: lib })).toThrow('the CUDA driver is installed but cuInit failed: CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected');
    } finally {
      delete process.env.FAKE_CUDA_NO_DEVICE;
    }
  });
});
