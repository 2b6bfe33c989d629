/**
 * A whole entry as one CUDA translation unit (so nvcc runs once per entry) and the launch table that goes
 * with it in plan.json. Kernels that are the same code up to buffer numbering can be deduplicated, which
 * keeps compile checks of big presets (hundreds of kernels, a few dozen distinct) quick.
 */
import type { KernelPlan } from '../ir/kernel.js';
import { CUDA_PRELUDE, type RenderedCudaKernel } from './cuda.js';

const printable = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

/** The .cu text of an entry: a header comment, the helpers, every kernel in launch order. */
export function renderCudaModule(plan: KernelPlan, kernels: readonly RenderedCudaKernel[]): string {
  const head = [
    `// tfx: entry '${printable(plan.entry)}', ${kernels.length} kernel(s). Generated code; do not edit.`,
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
    kernel: k.name, kind: plan.kernels[i]!.opKind, label: plan.kernels[i]!.label,
    params: k.params.map((p) => (p < 0 ? 'dims' : p)), block: k.block, grid: k.dispatchText,
    dynamicSharedBytes: k.sharedBytes, staticSharedBytes: k.staticSharedBytes,
  }));
}
