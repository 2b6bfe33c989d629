/**
 * A whole entry as one CUDA translation unit (so nvcc runs once per entry) and the launch table that goes
 * with it in plan.json. Structurally identical kernels (src/ir/kernel-dedup.ts) are rendered and compiled
 * once and launched many times: a 7b entry has hundreds of kernels and a few dozen distinct ones.
 */
import type { Program } from '../ir/graph.js';
import type { KernelPlan } from '../ir/kernel.js';
import { dedupKernels } from '../ir/kernel-dedup.js';
import { CUDA_PRELUDE, renderCuda, type RenderedCudaKernel } from './cuda.js';

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

export interface CudaModule {
  /** The whole entry as one .cu translation unit. */
  readonly source: string;
  /** Every kernel in launch order (parameters, launch shapes); `fn` names the function it launches. */
  readonly kernels: readonly RenderedCudaKernel[];
  /** How many distinct functions the module defines. */
  readonly distinct: number;
}

/** Renders each distinct kernel of a plan once and assembles the entry's .cu module. */
export function renderCudaModule(plan: KernelPlan, program?: Program): CudaModule {
  const { distinct, instances } = dedupKernels(plan);
  const fns = distinct.map((d) => renderCuda(d.kernel, d.buffers, plan.symbols));
  const kernels = instances.map(({ of, buffers }, i): RenderedCudaKernel => ({
    ...fns[of]!, name: plan.kernels[i]!.name, params: fns[of]!.params.map((p) => (p < 0 ? p : buffers[p]!)),
  }));
  return { source: assembleCudaModule(plan, fns, program, kernels.length), kernels, distinct: fns.length };
}

/** The .cu text of an entry: a header comment, the helpers, the given functions in order. */
export function assembleCudaModule(plan: KernelPlan, kernels: readonly RenderedCudaKernel[], program?: Program, launches = kernels.length): string {
  const from = program ? ` of model '${printable(program.model)}', preset '${printable(program.preset)}'` : '';
  const head = [
    `// tfx: entry '${printable(plan.entry)}'${from}, ${launches} kernel launch(es) of ${kernels.length} function(s). Generated code; do not edit.`,
    `// dims[] holds the symbolic sizes in this order: ${plan.symbols.length ? plan.symbols.map((s, i) => `${i}=${printable(s)}`).join(', ') : '(none)'}.`,
    '// Buffers are named g<id> after the kernel plan; parameters list only the buffers a kernel touches.',
    '',
  ];
  return [...head, CUDA_PRELUDE, ...kernels.map((k) => k.code)].join('\n');
}

/** The code with its kernel name and buffer ids replaced by placeholders numbered in order of appearance. */
export function kernelFingerprint(k: RenderedCudaKernel): string {
  const ids = new Map<string, number>();
  return k.code
    .replace(/^\/\/.*\n/, '')
    .split(k.name).join('KERNEL')
    .replace(/\bg(\d+)\b/g, (_m, id: string) => {
      if (!ids.has(id)) ids.set(id, ids.size);
      return `g@${ids.get(id)}`;
    });
}

/** The first kernel of every distinct fingerprint, in order. */
export function dedupeKernels(kernels: readonly RenderedCudaKernel[]): RenderedCudaKernel[] {
  const seen = new Set<string>();
  return kernels.filter((k) => {
    const f = kernelFingerprint(k);
    if (seen.has(f)) return false;
    seen.add(f);
    return true;
  });
}

export interface CudaLaunchInfo {
  readonly kernel: string;
  /** The module function it launches (shared by structurally identical kernels). */
  readonly function: string;
  readonly kind: string;
  readonly label: string;
  /** 'dims' or the buffer id of each parameter. */
  readonly params: readonly (number | 'dims')[];
  readonly block: readonly [number, number, number];
  readonly grid: string;
  readonly dynamicSharedBytes: number;
  readonly staticSharedBytes: number;
}

/** The launch table of an entry, for plan.json and reports. */
export function cudaLaunchTable(plan: KernelPlan, kernels: readonly RenderedCudaKernel[]): CudaLaunchInfo[] {
  return kernels.map((k, i) => ({
    kernel: k.name, function: k.fn, kind: plan.kernels[i]!.opKind, label: plan.kernels[i]!.label,
    params: k.params.map((p) => (p < 0 ? 'dims' : p)), block: k.block, grid: k.dispatchText,
    dynamicSharedBytes: k.sharedBytes, staticSharedBytes: k.staticSharedBytes,
  }));
}

export interface CudaKernelStats { kernel: string; registers: number; spillStores: number; spillLoads: number; sharedBytes: number }

/**
 * Registers, spills and shared memory of every kernel of a module, as ptxas reports them (one nvcc run).
 * Throws with nvcc's messages when it is missing or the module does not compile.
 */
export async function cudaStats(source: string, arch: 'sm_80' | 'sm_90' = 'sm_80'): Promise<CudaKernelStats[]> {
  // Loaded on demand: rendering needs no compiler, and the toolchain wrapper lives with the runtime.
  const { nvccCompile } = await import('../runtime/cuda/nvcc.js');
  const r = await nvccCompile(source, { arch });
  if (!r.ok) throw new Error(`nvcc could not compile the module for ${arch}:\n${r.errors.join('\n')}`);
  return r.stats;
}
