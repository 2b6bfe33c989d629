/**
 * Compiles CUDA source with nvcc (offline, no driver needed) and reports what ptxas says about
 * each kernel: registers, spills, static shared memory. Warnings are collected, not fatal, so a
 * renderer test can demand "no warnings" without nvcc refusing to produce a binary.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type CudaArch = 'sm_80' | 'sm_90';

export interface NvccOptions {
  arch: CudaArch;
  /** cubin (default) is a finished binary for `arch`; ptx is text the driver compiles at load time. */
  output?: 'cubin' | 'ptx';
  extraFlags?: string[];
}

export interface KernelStats {
  kernel: string;
  registers: number;
  spillStores: number;
  spillLoads: number;
  sharedBytes: number;
}

export interface NvccResult {
  ok: boolean;
  errors: string[];
  warnings: string[];
  stats: KernelStats[];
  binary?: Uint8Array;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findTool(name: string): string | null {
  const home = process.env.CUDA_HOME ?? process.env.CUDA_PATH;
  const candidates = [
    ...(home ? [join(home, 'bin', name)] : []),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name)),
    join('/usr/local/cuda/bin', name),
  ];
  return candidates.find(isExecutable) ?? null;
}

/** Path of nvcc: $TFX_NVCC, $CUDA_HOME/bin, PATH, /usr/local/cuda/bin; null when none. */
export function findNvcc(): string | null {
  const forced = process.env.TFX_NVCC;
  if (forced) return isExecutable(forced) ? forced : null;
  return findTool('nvcc');
}

export function nvccAvailable(): boolean {
  return findNvcc() !== null;
}

interface Proc { code: number; stdout: string; stderr: string }

function exec(file: string, args: string[], timeoutMs = 180_000): Promise<Proc> {
  return new Promise((done) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      done({ code, stdout, stderr: e && code === -1 && !stderr ? `${file}: ${e.message}` : stderr });
    });
  });
}

/**
 * Splits compiler output into diagnostics. A diagnostic is its header line plus the source line
 * and caret nvcc prints under it; ptxas info lines and nvcc's closing remarks are dropped.
 */
export function parseDiagnostics(text: string, sourcePath: string, shownAs = 'kernel.cu'): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  let current: { list: string[]; at: number } | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.split(sourcePath).join(shownAs).replace(/\s+$/, '');
    const header = /^(?:.*\(\d+\): (error|warning)|(?:nvcc|ptxas|nvlink)\s*(error|fatal|warning)\s*:)/.exec(line);
    if (header) {
      const list = (header[1] ?? header[2]) === 'warning' ? warnings : errors;
      current = { list, at: list.push(line) - 1 };
    } else if (current && line.startsWith(' ') && line.trim() !== '') {
      current.list[current.at] += `\n${line}`;
    } else {
      current = null;
    }
  }
  return { errors, warnings };
}

/** Reads `ptxas -v` output: one entry per entry function (kernel), in the order ptxas lists them. */
export function parsePtxasStats(text: string): KernelStats[] {
  const stats: KernelStats[] = [];
  let kernel: KernelStats | undefined;
  let propsFor: string | undefined;
  for (const line of text.split('\n')) {
    const entry = /Compiling entry function '([^']+)'/.exec(line);
    if (entry) {
      kernel = { kernel: entry[1]!, registers: 0, spillStores: 0, spillLoads: 0, sharedBytes: 0 };
      stats.push(kernel);
      propsFor = undefined;
      continue;
    }
    const props = /Function properties for (\S+)/.exec(line);
    if (props) {
      propsFor = props[1];
      continue;
    }
    const spill = /(\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (spill) {
      if (kernel && propsFor === kernel.kernel) {
        kernel.spillStores = Number(spill[1]);
        kernel.spillLoads = Number(spill[2]);
      }
      propsFor = undefined;
      continue;
    }
    const used = /Used (\d+) registers/.exec(line);
    if (used && kernel) {
      kernel.registers = Number(used[1]);
      const smem = /(\d+) bytes smem/.exec(line);
      kernel.sharedBytes = smem ? Number(smem[1]) : 0;
    }
  }
  return stats;
}

/** Turns `_Z...` names into C++ signatures through c++filt; extern "C" names pass unchanged. */
async function demangle(stats: KernelStats[]): Promise<void> {
  const mangled = stats.filter((s) => s.kernel.startsWith('_Z'));
  const filt = mangled.length ? findTool('cu++filt') ?? findTool('c++filt') : null;
  if (!filt) return;
  const r = await exec(filt, mangled.map((s) => s.kernel), 10_000);
  if (r.code !== 0) return;
  const names = r.stdout.split('\n');
  mangled.forEach((s, i) => { if (names[i]) s.kernel = names[i]!; });
}

/** Compiles `source` for one architecture; never throws for compile errors (see `ok`/`errors`). */
export async function nvccCompile(source: string, opts: NvccOptions): Promise<NvccResult> {
  const nvcc = findNvcc();
  if (!nvcc) return { ok: false, errors: ['nvcc not found (set CUDA_HOME or TFX_NVCC, or put nvcc on PATH)'], warnings: [], stats: [] };
  const output = opts.output ?? 'cubin';
  const dir = await mkdtemp(join(tmpdir(), 'tfx-nvcc-'));
  try {
    const src = join(dir, 'kernel.cu');
    const out = join(dir, `kernel.${output}`);
    await writeFile(src, source);
    const args = [`-${output}`, `-arch=${opts.arch}`, '-std=c++17', '-Xptxas', '-v', ...(opts.extraFlags ?? []), '-o', out, src];
    const r = await exec(nvcc, args);
    let text = `${r.stderr}\n${r.stdout}`;
    let ok = r.code === 0;
    // nvcc -ptx stops before ptxas; run it separately so PTX output gets the same stats and checks.
    if (ok && output === 'ptx') {
      const ptxas = findTool('ptxas');
      if (ptxas) {
        const p = await exec(ptxas, [`-arch=${opts.arch}`, '-v', '-o', join(dir, 'check.cubin'), out]);
        text += `\n${p.stderr}\n${p.stdout}`;
        ok = p.code === 0;
      }
    }
    const { errors, warnings } = parseDiagnostics(text, src);
    if (!ok && errors.length === 0) errors.push(`nvcc failed (exit ${r.code}): ${text.trim().split('\n').slice(-5).join('\n')}`);
    const stats = parsePtxasStats(text);
    await demangle(stats);
    const result: NvccResult = { ok, errors, warnings, stats };
    if (ok) result.binary = new Uint8Array(await readFile(out));
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
