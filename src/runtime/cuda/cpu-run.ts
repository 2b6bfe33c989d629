/**
 * Runs CUDA kernels on the CPU through src/codegen-cuda/emu/tfx_cuda_emu.h, so that generated
 * CUDA can be checked numerically on machines without a GPU.
 *
 * The generated main.cpp depends only on the structure of the run (kernel names, argument kinds,
 * buffer count, outputs); grid, block, shared bytes, scalar values and buffer sizes are read at run
 * time from a config file. So one compiled binary (cached by a hash of everything compiled) serves
 * every size and data set of the same kernels.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TfxError, type UserCode } from '../../errors.js';

export type LaunchArg = { buf: string } | { i32: number } | { u32: number } | { f32: number };

export interface Launch {
  kernel: string;
  grid: [number, number, number];
  block: [number, number, number];
  sharedBytes?: number;
  args: LaunchArg[];
}

export interface CpuRunOptions {
  /** Kill the program after this long (a barrier not reached by every thread hangs). Default 120 s. */
  timeoutMs?: number;
  /** Build with AddressSanitizer: any access outside a buffer fails the run with ASan's report. */
  sanitize?: 'address';
}

/** Compiling or running the emulated program failed; the message carries the compiler's or program's output. */
export class CudaCpuRunError extends TfxError {
  override name = 'CudaCpuRunError';
  constructor(message: string, code: UserCode = 'TFX6005') { super(code, message); }
}

export const EMU_HEADER = resolve(dirname(fileURLToPath(import.meta.url)), '../../codegen-cuda/emu/tfx_cuda_emu.h');
const CXX_FLAGS = ['-x', 'c++', '-std=c++17', '-fopenmp', '-O1', '-w'];
const CACHE_DIR = join(tmpdir(), 'tfx-cuda-cpu');
/** CUDA headers that generated code includes for nvcc; the emulation header already defines what they would. */
const CUDA_HEADER_STUBS = ['cuda_fp16.h', 'cuda_bf16.h', 'cuda_runtime.h', 'cuda.h', 'device_launch_parameters.h'];

/**
 * `extern __shared__ T name[];` has no C++ spelling; the header's TFX_DYNAMIC_SHARED stands in.
 * The rewrite keeps line numbers so compiler messages point at the user's source lines.
 */
export function prepareCudaForCpu(source: string): string {
  return source.replace(
    /\bextern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?([A-Za-z_][\w:]*(?:\s+[A-Za-z_]\w*)?)\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?([A-Za-z_]\w*)\s*\[\s*\]\s*;/g,
    (_m, type: string, name: string) => `TFX_DYNAMIC_SHARED(${type.trim()}, ${name});`,
  );
}

function validate(launches: Launch[], buffers: Record<string, ArrayBufferView>, outputs: string[]): void {
  for (const [i, l] of launches.entries()) {
    if (!/^[A-Za-z_]\w*$/.test(l.kernel)) throw new CudaCpuRunError(`launch ${i}: '${l.kernel}' is not a kernel name`);
    for (const d of [...l.grid, ...l.block]) {
      if (!Number.isInteger(d) || d < 1) throw new CudaCpuRunError(`launch ${i} (${l.kernel}): grid and block sizes must be positive integers`);
    }
    const threads = l.block[0] * l.block[1] * l.block[2];
    if (threads > 1024) throw new CudaCpuRunError(`launch ${i} (${l.kernel}): ${threads} threads per block, CUDA allows 1024`);
    for (const a of l.args) {
      if ('buf' in a && !(a.buf in buffers)) throw new CudaCpuRunError(`launch ${i} (${l.kernel}): no buffer named '${a.buf}'`);
    }
  }
  for (const o of outputs) if (!(o in buffers)) throw new CudaCpuRunError(`output '${o}' is not one of the buffers`);
}

/** main.cpp for this run's structure; `names` fixes each buffer's index. */
function renderMain(launches: Launch[], names: string[], outputs: string[]): string {
  const lines = [
    `#include "${EMU_HEADER}"`,
    '#include "kernel.cu"',
    '#include <string>',
    'static FILE* cfg;',
    'static long long next() { long long v; if (std::fscanf(cfg, "%lld", &v) != 1) tfx_emu::fail("bad run config"); return v; }',
    'static std::string dir;',
    'static void* load(int i, std::size_t n) {',
    // Exactly n bytes (256-aligned), no padding: a read past a buffer is not hidden (AddressSanitizer sees it).
    '  void* p = nullptr;',
    '  if (posix_memalign(&p, 256, n ? n : 1) != 0) p = nullptr;',
    '  FILE* f = std::fopen((dir + "/in" + std::to_string(i) + ".bin").c_str(), "rb");',
    '  if (!p || !f || std::fread(p, 1, n, f) != n) tfx_emu::fail("cannot read an input buffer");',
    '  std::fclose(f);',
    '  return p;',
    '}',
    'static void save(int i, const void* p, std::size_t n) {',
    '  FILE* f = std::fopen((dir + "/out" + std::to_string(i) + ".bin").c_str(), "wb");',
    '  if (!f || std::fwrite(p, 1, n, f) != n) tfx_emu::fail("cannot write an output buffer");',
    '  std::fclose(f);',
    '}',
    'static dim3 next_dim() {\n  const unsigned x = unsigned(next());\n  const unsigned y = unsigned(next());\n  const unsigned z = unsigned(next());\n  return dim3(x, y, z);\n}',
    'int main(int argc, char** argv) {',
    '  if (argc != 2) tfx_emu::fail("usage: prog RUN_DIR");',
    '  dir = argv[1];',
    '  cfg = std::fopen((dir + "/config.txt").c_str(), "r");',
    '  if (!cfg) tfx_emu::fail("cannot open the run config");',
    `  std::size_t size[${Math.max(1, names.length)}]; void* buf[${Math.max(1, names.length)}];`,
  ];
  names.forEach((_n, i) => lines.push(`  size[${i}] = std::size_t(next()); buf[${i}] = load(${i}, size[${i}]);`));
  for (const l of launches) {
    // Scalars are read into locals first: C++ leaves the order of evaluating call arguments open.
    const reads: string[] = [];
    const args = l.args.map((a, j) => {
      if ('buf' in a) return `tfx_emu::DevicePtr{buf[${names.indexOf(a.buf)}]}`;
      const read = 'i32' in a ? 'int32_t(next())' : 'u32' in a ? 'uint32_t(next())' : 'tfx_emu::f32_from_bits(uint32_t(next()))';
      reads.push(`    const auto a${j} = ${read};`);
      return `a${j}`;
    });
    lines.push('  {', '    const dim3 g = next_dim();', '    const dim3 b = next_dim();', '    const std::size_t sh = std::size_t(next());', ...reads);
    lines.push(`    tfx_launch(${l.kernel}, g, b, sh${args.map((a) => `, ${a}`).join('')});`, '  }');
  }
  outputs.forEach((o, i) => {
    const k = names.indexOf(o);
    lines.push(`  save(${i}, buf[${k}], size[${k}]);`);
  });
  lines.push('  return 0;', '}', '');
  return lines.join('\n');
}

/** The numbers main.cpp reads, in the order it reads them. */
function renderConfig(launches: Launch[], names: string[], buffers: Record<string, ArrayBufferView>): string {
  const nums: (number | bigint)[] = names.map((n) => buffers[n]!.byteLength);
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (const l of launches) {
    nums.push(...l.grid, ...l.block, l.sharedBytes ?? 0);
    for (const a of l.args) {
      if ('i32' in a) nums.push(a.i32 | 0);
      else if ('u32' in a) nums.push(a.u32 >>> 0);
      else if ('f32' in a) { f32[0] = a.f32; nums.push(u32[0]!); }
    }
  }
  return nums.join(' ') + '\n';
}

function run(file: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; timedOut: boolean }>((done) => {
    execFile(file, args, { timeout: opts.timeoutMs, maxBuffer: 64 << 20, env: opts.env ?? process.env, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string }) | null;
        if (e && typeof e.code === 'string') {
          done({ code: -1, signal: null, stdout, stderr: `${file}: ${e.message}`, timedOut: false });
          return;
        }
        done({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr,
          timedOut: !!e?.killed && e.signal === 'SIGKILL' });
      });
  });
}

const inFlight = new Map<string, Promise<string>>();

/** Compiles (or reuses) the program for this source and main.cpp; returns the binary's path. */
async function compileCached(kernelSource: string, main: string, extraFlags: readonly string[] = []): Promise<string> {
  const header = await readFile(EMU_HEADER, 'utf8');
  const key = createHash('sha256').update([...CXX_FLAGS, ...extraFlags].join(' ')).update(CUDA_HEADER_STUBS.join(' ')).update('\0').update(header).update('\0')
    .update(kernelSource).update('\0').update(main).digest('hex').slice(0, 24);
  const dir = join(CACHE_DIR, key);
  const bin = join(dir, 'prog');
  if (existsSync(bin)) return bin;
  const pending = inFlight.get(key);
  if (pending) return pending;
  const job = (async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'kernel.cu'), kernelSource);
    await writeFile(join(dir, 'main.cpp'), main);
    await mkdir(join(dir, 'stubs'), { recursive: true });
    await Promise.all(CUDA_HEADER_STUBS.map((h) =>
      writeFile(join(dir, 'stubs', h), `#pragma once\n// ${h}: its contents come from tfx_cuda_emu.h on the CPU.\n`)));
    // Another process may compile the same key: build under a private name, then rename (atomic).
    const tmp = `${bin}.${process.pid}.${Date.now()}`;
    const r = await run('g++', [...CXX_FLAGS, ...extraFlags, '-I', join(dir, 'stubs'), join(dir, 'main.cpp'), '-o', tmp], { timeoutMs: 300_000 });
    if (r.code !== 0) {
      const msg = (r.stderr || r.stdout).trim().split('\n').slice(0, 40).join('\n');
      throw new CudaCpuRunError(`g++ could not compile the CUDA source for CPU emulation:\n${msg}`);
    }
    await rename(tmp, bin);
    return bin;
  })();
  inFlight.set(key, job);
  try {
    return await job;
  } finally {
    inFlight.delete(key);
  }
}

/**
 * Compiles `source` (CUDA kernels) for the CPU, uploads `buffers`, performs `launches` in order
 * and returns the bytes of the buffers named in `outputs`.
 */
export async function runCudaOnCpu(
  source: string,
  launches: Launch[],
  buffers: Record<string, ArrayBufferView>,
  outputs: string[],
  opts: CpuRunOptions = {},
): Promise<Record<string, Uint8Array>> {
  validate(launches, buffers, outputs);
  const names = Object.keys(buffers);
  const asan = opts.sanitize === 'address' ? ['-fsanitize=address', '-fno-omit-frame-pointer'] : [];
  const bin = await compileCached(prepareCudaForCpu(source), renderMain(launches, names, outputs), asan);
  await mkdir(CACHE_DIR, { recursive: true });
  const runDir = await mkdtemp(join(CACHE_DIR, 'run-'));
  try {
    await writeFile(join(runDir, 'config.txt'), renderConfig(launches, names, buffers));
    await Promise.all(names.map((n, i) => {
      const v = buffers[n]!;
      return writeFile(join(runDir, `in${i}.bin`), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    }));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    // Passive waiting: a block's threads far outnumber the cores, and spinning at barriers starves the ones with work.
    const env = { ...process.env, OMP_WAIT_POLICY: 'passive', OMP_DYNAMIC: 'false', OMP_MAX_ACTIVE_LEVELS: '1', ...(asan.length ? { ASAN_OPTIONS: 'detect_leaks=0' } : {}) };
    const r = await run(bin, [runDir], { timeoutMs, env });
    if (r.timedOut) {
      throw new CudaCpuRunError(`CPU emulation timed out after ${timeoutMs / 1000} s (a __syncthreads() or warp shuffle that not every thread of a block reaches hangs it)`);
    }
    if (r.code !== 0) {
      const why = r.signal ? `crashed with ${r.signal}` : `exited with status ${r.code}`;
      // An AddressSanitizer report: its first lines (what, where) matter, not the shadow-byte legend at the end.
      const asanReport = r.stderr.split('\n').filter((l) => /AddressSanitizer|^\s+#[0-4] /.test(l)).slice(0, 8);
      const tail = asanReport.length ? asanReport.join('\n') : r.stderr.trim().split('\n').slice(-20).join('\n');
      throw new CudaCpuRunError(`CPU emulation of the CUDA program ${why}${tail ? `:\n${tail}` : ''}`);
    }
    const out: Record<string, Uint8Array> = {};
    await Promise.all(outputs.map(async (o, i) => {
      out[o] = new Uint8Array(await readFile(join(runDir, `out${i}.bin`)));
    }));
    return out;
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
