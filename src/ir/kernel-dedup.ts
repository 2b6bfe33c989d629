/**
 * Deduplication of structurally identical kernels (same algorithm, same schedule, same buffer element types, up
 * to buffer numbering): the 32 layers of a 7b model lower to 424 kernels of which a few dozen are distinct.
 * Each distinct kernel is built and rendered once, over canonical buffer ids (0, 1, ... in order of first
 * use), and every instance maps those ids back to its own buffers. Renderers never see a duplicate.
 */
import { mapExpr } from './kernel-ir.js';
import { walkK, type KBuffer, type KExpr, type Kernel, type KernelPlan } from './kernel.js';

export interface DistinctKernel {
  /** The kernel over canonical buffer ids, named after its first instance. */
  readonly kernel: Kernel;
  /** Buffers indexed by canonical id (element types of the first instance; equal for all by construction). */
  readonly buffers: readonly KBuffer[];
}

export interface KernelInstances {
  readonly distinct: readonly DistinctKernel[];
  /** Per plan kernel: which distinct kernel it launches and its buffer id for each canonical id. */
  readonly instances: readonly { readonly of: number; readonly buffers: readonly number[] }[];
}

/** The kernel with every buffer id passed through `f` (loads, operands, tile map, output). */
function renumber(k: Kernel, f: (b: number) => number): Kernel {
  const ex = (e: KExpr): KExpr => mapExpr(e, (x) => (x.k === 'load' ? { ...x, buf: f(x.buf) } : x));
  const base = { out: f(k.out), reads: k.reads.map(f) };
  switch (k.kind) {
    case 'map': return { ...k, ...base, value: ex(k.value) };
    case 'scatter': return { ...k, ...base, value: ex(k.value), cond: k.cond && ex(k.cond) };
    case 'row': return { ...k, ...base, reds: k.reds.map((r) => ({ ...r, value: ex(r.value) })), store: { ...k.store, at: ex(k.store.at), value: ex(k.store.value) } };
    case 'matmul': return { ...k, ...base, a: ex(k.a), b: ex(k.b), epilogue: ex(k.epilogue), at: ex(k.at) };
    case 'attention': return { ...k, ...base, q: f(k.q), kbuf: f(k.kbuf), v: f(k.v), mask: k.mask && ex(k.mask), tiles: k.tiles === null ? null : f(k.tiles) };
    case 'attention_bwd': return { ...k, ...base, q: f(k.q), kbuf: f(k.kbuf), v: f(k.v), o: f(k.o), dO: f(k.dO), stats: f(k.stats), mask: k.mask && ex(k.mask), tiles: k.tiles === null ? null : f(k.tiles) };
  }
}

/** Canonical ids in a fixed visiting order (operands, then expressions in field order, output last). */
function canonicalIds(k: Kernel): number[] {
  const order: number[] = [];
  const see = (b: number) => { if (!order.includes(b)) order.push(b); };
  const ex = (e: KExpr | null) => { if (e) walkK(e, (x) => { if (x.k === 'load') see(x.buf); }); };
  switch (k.kind) {
    case 'map': ex(k.value); break;
    case 'scatter': ex(k.cond); ex(k.value); break;
    case 'row': k.reds.forEach((r) => ex(r.value)); ex(k.store.at); ex(k.store.value); break;
    case 'matmul': ex(k.a); ex(k.b); ex(k.epilogue); ex(k.at); break;
    case 'attention': see(k.q); see(k.kbuf); see(k.v); if (k.tiles !== null) see(k.tiles); ex(k.mask); break;
    case 'attention_bwd': [k.q, k.kbuf, k.v, k.o, k.dO, k.stats].forEach(see); if (k.tiles !== null) see(k.tiles); ex(k.mask); break;
  }
  k.reads.forEach(see);
  see(k.out);
  return order;
}

const INSTANCE_FIELDS = ['name', 'label', 'src'];

/** Group a plan's kernels into distinct ones and instances. */
export function dedupKernels(plan: KernelPlan): KernelInstances {
  const distinct: DistinctKernel[] = [];
  const byKey = new Map<string, number>();
  const instances = plan.kernels.map((k) => {
    const ids = canonicalIds(k);
    const canon = new Map(ids.map((b, i) => [b, i]));
    const ck = renumber(k, (b) => canon.get(b)!);
    const bufs = ids.map((b) => plan.buffers[b]!);
    // Names, labels and spec origins describe an instance; everything else is what the code depends on.
    const rest: Record<string, unknown> = { ...ck };
    for (const f of INSTANCE_FIELDS) delete rest[f];
    const key = JSON.stringify([rest, bufs.map((b) => b.dtype)]);
    let of = byKey.get(key);
    if (of === undefined) {
      of = distinct.length;
      byKey.set(key, of);
      distinct.push({ kernel: ck, buffers: bufs });
    }
    return { of, buffers: ids };
  });
  return { distinct, instances };
}
