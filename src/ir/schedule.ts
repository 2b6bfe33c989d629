/**
 * What a target allows a kernel: the limits schedules are validated against. Values live with each target
 * (codegen-wgsl: WEBGPU_LIMITS, codegen-cuda: CUDA_LIMITS); nothing in src/ir names a target constant.
 *
 * This is the one home of schedules: defaults, the tuner's candidate space, validation against a target's
 * limits, fitting, and applying a schedule to a plan. The algorithm never changes to get speed.
 */
import { dimAsConst, dimEval, type Dim } from '../core/dim.js';
import type { AttentionSchedule, Kernel, KernelPlan, MapSchedule, MatmulSchedule, RowSchedule } from './kernel.js';
export interface TargetLimits {
  readonly name: string;
  /** Workgroup (shared) memory per workgroup, bytes. */
  readonly workgroupBytes: number;
  /** Invocations per workgroup. */
  readonly invocations: number;
  readonly workgroupSize: readonly [number, number, number];
  /** Workgroups per grid dimension (a linear grid is spread over x and y). */
  readonly groupsPerDim: number;
  /** Largest storage binding, bytes. */
  readonly bindingBytes: number;
  /** Storage buffers one kernel may bind. */
  readonly storageBuffers: number;
  /** Whether buffers can hold bf16; if not, bf16 tensors are stored as f32 (exact: converted on upload). */
  readonly bf16Storage: boolean;
  /** Subgroup sizes the target may use (WebGPU: the adapter's subgroupMinSize / MaxSize); absent: no subgroups. */
  readonly subgroups?: { readonly min: number; readonly max: number };
}


export type Schedule = MapSchedule | RowSchedule | MatmulSchedule | AttentionSchedule;

// ---- defaults ---------------------------------------------------------------------------------------------
export const DEFAULT_MAP: MapSchedule = { wg: 64, perThread: 1 };
export const DEFAULT_ROW: RowSchedule = { wg: 64 };
export const DEFAULT_MATMUL: MatmulSchedule = { wgX: 8, wgY: 8, tm: 4, tn: 4, tk: 8, shared: false };
/**
 * Prefill attention: 4 query rows per invocation, 8 invocations per 32-row tile, keys read as broadcasts (the
 * register-tiled kind, built for CPU-like devices such as lavapipe, the device tfx is measured on). The staged
 * kind (rows 1: K/V tiles in workgroup memory shared by bq invocations) is in the tuner's space for real GPUs.
 */
export const DEFAULT_ATTENTION: AttentionSchedule = { bq: 32, bk: 16, sparse: true, rows: 4 };
/**
 * Prefill of a known length of at least LONG_ATTENTION query rows: 64-row tiles, 8 rows per invocation. On lavapipe
 * it ran 1.5x the 32 x 16 rows-4 default at S 2048 (154 vs 233 ms, bench/results/README.md); below that length
 * (and for a symbolic one) the smaller tile keeps more workgroups and finer block sparsity.
 */
export const DEFAULT_ATTENTION_LONG: AttentionSchedule = { bq: 64, bk: 16, sparse: true, rows: 8 };
export const LONG_ATTENTION = 256;
/** The flash backward's (stats, dq, dk, dv): rows per invocation of each part's own tile (query rows, key rows in dk / dv). */
export const DEFAULT_ATTENTION_BWD: AttentionSchedule = { bq: 32, bk: 32, sparse: true, rows: 4 };
/** The backward's for a known length >= LONG_ATTENTION: 64 x 64 tiles, 8 rows (fused / unfused 0.55 / 0.52 at S 1024 / 2048 on lavapipe vs 0.68 / 0.76). */
export const DEFAULT_ATTENTION_BWD_LONG: AttentionSchedule = { bq: 64, bk: 64, sparse: true, rows: 8 };
/** The staged kind's default (one query row per invocation, K/V tiles in workgroup memory). */
export const DEFAULT_ATTENTION_STAGED: AttentionSchedule = { bq: 16, bk: 16, sparse: true };
/** A handful of query rows (decode against a cache) cannot fill a workgroup: split the keys instead. */
export const DEFAULT_DECODE: AttentionSchedule = { bq: 1, bk: 16, sparse: true, splitk: 32 };

/** Query heads per KV head sharing a workgroup under a gqa schedule (1 without; 0: head counts not constant). */
const groupOf = (k: Kernel, a: AttentionSchedule): number => {
  if (!a.gqa || k.kind !== 'attention') return 1;
  const hq = dimAsConst(k.Hq), hkv = dimAsConst(k.Hkv);
  return hq !== undefined && hkv !== undefined && hkv > 0 && hq % hkv === 0 ? hq / hkv : 0;
};

/** Rows per workgroup of a row schedule (1: one row per workgroup; wg: one row per invocation). */
export const rowsPerGroup = (r: RowSchedule): number => r.rows ?? 1;

/** Query rows per invocation of an attention schedule (1: the staged kind, unless the head dim is split). */
export const rowsOf = (a: AttentionSchedule): number => a.rows ?? 1;
/** Invocations sharing each row, splitting the head dim (1: no split). */
export const lanesOf = (a: AttentionSchedule): number => a.lanes ?? 1;
/** The register-tiled rows kind of the forward (several rows per invocation, or the head dim split across lanes). */
const rowsKind = (a: AttentionSchedule): boolean => rowsOf(a) > 1 || lanesOf(a) > 1;

/** The default attention schedule for these shapes. */
export function defaultAttention(Sq: Dim): AttentionSchedule {
  const sq = dimAsConst(Sq);
  return sq !== undefined && sq <= 4 ? DEFAULT_DECODE : sq !== undefined && sq >= LONG_ATTENTION ? DEFAULT_ATTENTION_LONG : DEFAULT_ATTENTION;
}

/** The default flash-backward schedule for these shapes (as the forward's: by query length). */
export function defaultAttentionBwd(Sq: Dim): AttentionSchedule {
  const sq = dimAsConst(Sq);
  return sq !== undefined && sq >= LONG_ATTENTION ? DEFAULT_ATTENTION_BWD_LONG : DEFAULT_ATTENTION_BWD;
}

// ---- names, the tuner's space, validation -----------------------------------------------------------------

/** Most f32 accumulators one matmul invocation keeps (16x16): past that every target spills. */
export const MAX_MATMUL_OUTPUTS = 256;

export function scheduleName(kind: Kernel['kind'], s: Schedule): string {
  switch (kind) {
    case 'map': case 'scatter': { const m = s as MapSchedule; return `wg${m.wg}x${m.perThread}`; }
    case 'row': { const r = s as RowSchedule; return `wg${r.wg}${rowsPerGroup(r) > 1 ? `_rows${r.rows}` : ''}`; }
    case 'matmul': { const m = s as MatmulSchedule; return `wg${m.wgX}x${m.wgY}_t${m.tm}x${m.tn}${m.shared ? `_shared${m.tk}` : ''}${(m.ku ?? 1) > 1 ? `_u${m.ku}` : ''}${m.sg ? `_sg${m.sg}` : ''}${m.vec ? '_v4' : ''}`; }
    case 'attention': case 'attention_bwd': { const a = s as AttentionSchedule; return `${a.sparse ? 'sparse' : 'dense'}_bq${a.bq}_bk${a.bk}${a.splitk ? `_splitk${a.splitk}` : ''}${rowsOf(a) > 1 ? `_rows${a.rows}` : ''}${a.gqa ? '_gqa' : ''}${lanesOf(a) > 1 ? `_lanes${a.lanes}` : ''}`; }
  }
}

/** The matmul schedule a name stands for (the inverse of scheduleName for matmul; bench scripts take names). */
export function parseMatmulSchedule(name: string): MatmulSchedule {
  const m = /^wg(\d+)x(\d+)_t(\d+)x(\d+)(?:_shared(\d+))?(?:_u(\d+))?(?:_sg(\d+))?(_v4)?$/.exec(name);
  if (!m) throw new Error(`not a matmul schedule name: ${name}`);
  const s: MatmulSchedule = { wgX: +m[1]!, wgY: +m[2]!, tm: +m[3]!, tn: +m[4]!, tk: m[5] ? +m[5] : 8, shared: !!m[5], ...(m[6] ? { ku: +m[6] } : {}), ...(m[7] ? { sg: +m[7] } : {}), ...(m[8] ? { vec: true } : {}) };
  if (scheduleName('matmul', s) !== name) throw new Error(`${name} reads back as ${scheduleName('matmul', s)}`);
  return s;
}

/** Workgroup memory a kernel's schedule needs, bytes (what the builders declare). */
export function workgroupBytes(k: Kernel, s: Schedule): number {
  switch (k.kind) {
    case 'map': case 'scatter': return 0;
    case 'row': { const r = s as RowSchedule; return r.wg === rowsPerGroup(r) ? 0 : 4 * r.wg * new Set(k.reds.map((x) => x.value.dtype === 'f32')).size; }
    case 'matmul': { const m = s as MatmulSchedule; return m.shared ? 4 * m.tk * (m.wgY * m.tm + m.wgX * m.tn) : 0; }
    case 'attention': {
      // Split head dim: every lane's partial dots of its rows' scores (bq * G rows, a bk-key tile, L lanes).
      const a = s as AttentionSchedule;
      return a.splitk ? 4 * a.splitk * (2 + k.Dv) : lanesOf(a) > 1 ? 4 * a.bq * Math.max(1, groupOf(k, a)) * lanesOf(a) * a.bk : rowsOf(a) > 1 ? 0 : 4 * a.bk * (k.D + k.Dv);
    }
    case 'attention_bwd': { const a = s as AttentionSchedule; return rowsOf(a) > 1 ? 0 : 4 * (k.part === 'dk' || k.part === 'dv' ? a.bq : a.bk) * (k.D + k.Dv); }
  }
}

const invocations = (k: Kernel, s: Schedule): [number, number] => {
  switch (k.kind) {
    case 'map': case 'scatter': return [(s as MapSchedule).wg, 1];
    case 'row': return [(s as RowSchedule).wg, 1];
    case 'matmul': return [(s as MatmulSchedule).wgX, (s as MatmulSchedule).wgY];
    case 'attention': { const a = s as AttentionSchedule; return [a.splitk ?? (a.bq / (rowsOf(a) / groupOf(k, a))) * lanesOf(a), 1]; }
    case 'attention_bwd': { const a = s as AttentionSchedule; return [(k.part === 'dk' || k.part === 'dv' ? a.bk : a.bq) / rowsOf(a), 1]; }
  }
};

/** Storage buffers a kernel binds (reads and output): fixed by the kernel, not by its schedule. */
export const storageBindings = (k: Kernel): number => new Set([...k.reads, k.out]).size;

/** Why a schedule cannot run on this target for this kernel (at these sizes, when given), or null if it can. */
export function scheduleViolation(k: Kernel, s: Schedule, lim: TargetLimits, dims?: Readonly<Record<string, number>>): string | null {
  const [x, y] = invocations(k, s);
  if (x * y > lim.invocations) return `workgroup ${x}x${y} > ${lim.invocations} invocations`;
  if (x > lim.workgroupSize[0] || y > lim.workgroupSize[1]) return 'workgroup side > target max';
  const bytes = workgroupBytes(k, s);
  if (bytes > lim.workgroupBytes) return `needs ${bytes} B of workgroup memory > ${lim.workgroupBytes}`;
  if (k.kind === 'row') {
    const r = s as RowSchedule, n = rowsPerGroup(r);
    if ((r.wg & (r.wg - 1)) !== 0) return 'row workgroup must be a power of two';
    if (!Number.isInteger(n) || n < 1 || (n & (n - 1)) !== 0 || n > r.wg) return `rows per workgroup ${n} must be a power of two dividing the workgroup of ${r.wg}`;
  }
  if (k.kind === 'attention' && !!(s as AttentionSchedule).splitk !== !!k.schedule.splitk) return 'split-K and row schedules are different algorithms for different shapes';
  if (k.kind === 'matmul') {
    const m = s as MatmulSchedule, ku = m.ku ?? 1;
    if (!Number.isInteger(ku) || ku < 1 || ku > 16) return `K unroll ${ku} not in 1..16`;
    if (m.shared && m.tk % ku !== 0) return `K unroll ${ku} does not divide the workgroup-memory tile depth ${m.tk}`;
    if (m.tm * m.tn > MAX_MATMUL_OUTPUTS) return `${m.tm}x${m.tn} outputs per invocation > ${MAX_MATMUL_OUTPUTS}`;
    if (m.vec) {
      if (m.tn % 4 !== 0 || (m.shared && m.tk % 4 !== 0)) return 'vec4 needs tn (and the workgroup-memory tile depth) a multiple of 4';
      if (m.sg || (!m.shared && ku > 1)) return 'vec4 register tiles step K by 4 already (no K unroll) and have no subgroup broadcast';
    }
    if (m.sg) {
      if (m.shared || ku > 1 || m.wgY !== 1) return 'subgroup broadcast is a register-tile schedule with wgY 1 and no K unroll';
      if (!Number.isInteger(Math.log2(m.sg)) || m.sg < 2 || m.sg > 64) return `subgroup chunk ${m.sg} not a power of two in 2..64`;
      if (!lim.subgroups) return `${lim.name} has no subgroups`;
      // Lanes 0..sg-1 must exist in every subgroup, and every subgroup must be full (no inactive lanes).
      if (m.sg > lim.subgroups.min) return `subgroup chunk ${m.sg} > the smallest subgroup (${lim.subgroups.min} lanes)`;
      if ((x * y) % lim.subgroups.max !== 0) return `workgroup of ${x * y} is not a multiple of the largest subgroup (${lim.subgroups.max})`;
    }
  }
  if (k.kind === 'attention' || k.kind === 'attention_bwd') {
    const a = s as AttentionSchedule, r = rowsOf(a);
    const tile = k.kind === 'attention_bwd' && (k.part === 'dk' || k.part === 'dv') ? a.bk : a.bq;
    if (r > 1 && (a.splitk || tile % r !== 0)) return `rows ${r} must divide the tile of ${tile} rows (and split-K has one row)`;
    if (a.gqa) {
      const g = k.kind === 'attention' ? groupOf(k, a) : 0;
      if (!g || r % g !== 0 || a.bq % (r / g) !== 0) return 'gqa needs the rows kind of the forward, constant head counts, and the group dividing the rows';
    }
    const L = lanesOf(a);
    if (L > 1 && (k.kind !== 'attention' || a.splitk || !Number.isInteger(L) || k.D % L !== 0 || k.Dv % L !== 0)) return `head dim split across ${L} lanes needs the forward's rows kind and ${L} dividing the head dims (${k.D}, ${k.Dv})`;
  }
  const bufs = storageBindings(k);
  if (bufs > lim.storageBuffers) return `binds ${bufs} storage buffers > ${lim.storageBuffers} per stage`;
  if (!dims) return null;
  if (k.kind === 'matmul') {
    const m = s as MatmulSchedule;
    const gx = Math.ceil(dimEval(k.N, dims) / (m.wgX * m.tn)), gy = Math.ceil(dimEval(k.M, dims) / (m.wgY * m.tm));
    if (gx > lim.groupsPerDim || gy > lim.groupsPerDim) return `grid ${gx} x ${gy} > ${lim.groupsPerDim} per dimension`;
  }
  if (k.kind === 'attention' && Math.ceil(dimEval(k.Sq, dims) / (s as AttentionSchedule).bq) > lim.groupsPerDim) return 'too many query tiles';
  return null;
}

/** Every candidate schedule of a kernel (before limits), its own first. A decode kernel stays split-K. */
export function scheduleCandidates(k: Kernel): Schedule[] {
  const out: Schedule[] = [k.schedule];
  switch (k.kind) {
    case 'map': case 'scatter':
      // Up to 8 elements per invocation and workgroups of 32 too: fewer, fuller workgroups (lavapipe runs a
      // dispatch's workgroups one after another: bench/tiny-forward-profile.ts).
      for (const wg of [64, 128, 256, 32]) for (const perThread of [1, 2, 4, 8]) out.push({ wg, perThread });
      break;
    case 'row': {
      // One row per workgroup (a tree reduction in workgroup memory); several rows per workgroup: one row per
      // invocation (serial, no barrier) or 4 / 8 / 16 lanes per row (trees of 2-4 steps); small single-row
      // workgroups. Short rows (constant length <= 256) take the multi-row ones first: a workgroup barrier
      // costs about 0.35 us per 64-invocation workgroup on lavapipe (bench/tiny-forward-profile.ts), and a
      // short row gives few elements per lane to pay for it. Long rows take the single-row trees first.
      const single: RowSchedule[] = [32, 64, 128, 256].map((wg) => ({ wg }));
      const multi: RowSchedule[] = ([[64, 64], [64, 8], [32, 32], [64, 16], [128, 128], [16, 16], [32, 4], [128, 16], [8], [16]] as const)
        .map(([wg, rows]) => (rows ? { wg, rows } : { wg }));
      const len = dimAsConst(k.len);
      out.push(...(len !== undefined && len <= 256 ? [...multi, ...single] : [...single, ...multi]));
      break;
    }
    case 'matmul': {
      // Four families, each sorted likeliest first, then taken in turn, so a search capped at N candidates tries
      // all of them: register tiles, register tiles with the K loop unrolled 4x, workgroup-memory tiles (tk 8
      // or 16), and those unrolled. Tiles up to 16x16 per invocation (bounded by MAX_MATMUL_OUTPUTS).
      // A fifth: subgroup broadcast of A (wgY 1; offered only where the target has subgroups: scheduleViolation).
      // Sixth and seventh: the vec4 kinds of register and workgroup-memory tiles (tn a multiple of 4; operands and C
      // read / written four at a time where the layout allows, else the same kernel as the scalar kind).
      // Eighth: register tiles one invocation tall (wgY 1: every invocation of the workgroup reads the same rows
      // of A, which llvmpipe then loads once for all its SIMD lanes; wg16x1_t8x8 was among the best there).
      const fams: MatmulSchedule[][] = [[], [], [], [], [], [], [], []];
      for (const wgX of [4, 8, 16]) for (const wgY of [4, 8, 16]) for (const tm of [1, 2, 4, 8, 16]) for (const tn of [1, 2, 4, 8, 16]) {
        if (tm * tn > MAX_MATMUL_OUTPUTS) continue;
        fams[0]!.push({ wgX, wgY, tm, tn, tk: k.schedule.tk, shared: false });
        fams[1]!.push({ wgX, wgY, tm, tn, tk: k.schedule.tk, shared: false, ku: 4 });
        for (const tk of [8, 16]) {
          fams[2]!.push({ wgX, wgY, tm, tn, tk, shared: true });
          fams[3]!.push({ wgX, wgY, tm, tn, tk, shared: true, ku: tk });
          if (tn % 4 === 0) fams[6]!.push({ wgX, wgY, tm, tn, tk, shared: true, vec: true });
        }
        if (tn % 4 === 0) fams[5]!.push({ wgX, wgY, tm, tn, tk: k.schedule.tk, shared: false, vec: true });
      }
      for (const wgX of [16, 32, 64]) for (const tm of [8, 16]) for (const tn of [4, 8]) {
        fams[7]!.push({ wgX, wgY: 1, tm, tn, tk: k.schedule.tk, shared: false }, { wgX, wgY: 1, tm, tn, tk: k.schedule.tk, shared: false, vec: true });
      }
      for (const wgX of [16, 32, 64, 128]) for (const tm of [4, 8, 16]) for (const tn of [1, 2, 4, 8, 16]) for (const sg of [4, 8, 16, 32]) {
        if (tm * tn <= MAX_MATMUL_OUTPUTS) fams[4]!.push({ wgX, wgY: 1, tm, tn, tk: k.schedule.tk, shared: false, sg });
      }
      // Likeliest first: about 64 threads and 64..128 outputs per thread (8x8 to 16x8: what lavapipe rewarded in
      // bench/results), then smaller tiles; square-ish. Register tiles take every other slot.
      const score = (m: MatmulSchedule) => Math.abs(Math.log2(m.wgX * m.wgY) - 6) + Math.abs(Math.log2(m.tm * m.tn) - 6.5) + 0.1 * Math.abs(Math.log2(m.tm / m.tn)) + (m.tk === 16 ? 0.25 : 0) + (m.sg ? 0.25 * Math.abs(Math.log2(m.sg) - 3) : 0);
      for (const f of fams) f.sort((a, b) => score(a) - score(b));
      fams[7]!.sort((a, b) => a.wgX - b.wgX || score(a) - score(b));   // narrowest first (wg64x1 lost to wg16x1)
      // Measured on lavapipe (bench/results/README.md): plain and vec4 register tiles first, then one-row tiles and
      // workgroup memory; K unrolling, subgroup broadcast and the unrolled staged kind, which lost there, later.
      const at = [0, 0, 0, 0, 0, 0, 0, 0];
      const order = [0, 5, 7, 0, 5, 0, 2, 6, 0, 5, 4, 1, 3];
      for (let left = fams.reduce((t, f) => t + f.length, 0); left > 0;) {
        for (const fi of order) { const x = fams[fi]![at[fi]!]; if (x) { out.push(x); at[fi]!++; left--; } }
      }
      break;
    }
    case 'attention': {
      const sparse = k.tiles !== null;
      for (const s of sparse ? [true, false] : [false]) {
        if (k.schedule.splitk) for (const splitk of [32, 16, 64]) for (const bk of [16, 32, 8]) out.push({ bq: k.schedule.bq, bk, sparse: s, splitk });
        else {
          // Register-tiled rows (CPU-like devices) first, then the staged kind (real GPUs).
          for (const [bq, bk, rows] of [[64, 16, 8], [32, 16, 4], [64, 8, 8], [32, 8, 4], [64, 16, 4], [128, 16, 8]] as const) out.push({ bq, bk, sparse: s, rows });
          // The head dim split across lanes (GPUs: more invocations per row, fewer registers each; on lavapipe
          // it adds two barriers and L-fold softmax work per tile: bench/results/README.md).
          for (const [bq, bk, rows, lanes] of [[32, 16, 4, 4], [64, 16, 8, 4], [32, 16, 2, 8], [16, 16, 1, 16]] as const) out.push({ bq, bk, sparse: s, ...rows > 1 ? { rows } : {}, lanes });
          // GQA: the query heads of a group in one workgroup, sharing each key / value read.
          const g = groupOf(k, { bq: 1, bk: 1, sparse: s, gqa: true });
          if (g > 1 && g <= 8) for (const [bq, bk, rp] of [[32, 16, 4], [16, 16, 2]] as const) out.push({ bq, bk, sparse: s, rows: rp * g, gqa: true });
          for (const bq of [16, 32, 8]) for (const bk of [16, 32, 8]) out.push({ bq, bk, sparse: s });
        }
      }
      break;
    }
  }
  return out;
}

/** An attention schedule fitted to the target: the workgroup within the invocation limit; in the staged kind the key tile halves until K and V tiles fit workgroup memory. */
export function fitAttention(s: AttentionSchedule, D: number, Dv: number, lim: TargetLimits): AttentionSchedule {
  let out = s;
  while ((out.bq / rowsOf(out)) * lanesOf(out) > lim.invocations) out = { ...out, bq: out.bq / 2 };
  while (!out.splitk && !rowsKind(out) && out.bk > 1 && 4 * out.bk * (D + Dv) > lim.workgroupBytes) out = { ...out, bk: out.bk / 2 };
  return out;
}

/**
 * The plan with the schedule of kernel `i` replaced. Attention tiles follow the schedule: a new bq/bk resizes
 * the tile map; sparse: false drops the map's use; sparse: true needs a map the plan already has (else ignored).
 * The schedule is taken whole (a decode kernel's split-K survives re-applying its own schedule).
 */
export function withSchedule(plan: KernelPlan, i: number, s: Schedule): KernelPlan {
  const k = plan.kernels[i];
  if (!k) throw new Error(`internal error: no kernel ${i}`);
  const kernels = [...plan.kernels];
  if (k.kind !== 'attention' && k.kind !== 'attention_bwd') {
    kernels[i] = { ...k, schedule: s } as Kernel;
    return { ...plan, kernels };
  }
  const a = s as AttentionSchedule;
  const sparse = a.sparse && k.tiles !== null;
  kernels[i] = { ...k, schedule: { ...a, sparse }, tiles: sparse ? k.tiles : null };
  let { buffers, tileMaps } = plan;
  if (k.tiles !== null) {
    if (sparse) {
      const t = k.tiles;
      buffers = buffers.map((b, j) => (j === t && b.tileGrid ? { ...b, tileGrid: { ...b.tileGrid, bq: a.bq, bk: a.bk } } : b));
      tileMaps = tileMaps.map((m) => (m.buf === t ? { ...m, bq: a.bq, bk: a.bk } : m));
    } else tileMaps = tileMaps.filter((m) => m.buf !== k.tiles);
  }
  return { ...plan, kernels, buffers, tileMaps };
}

/**
 * The scheduling stage: every kernel's schedule fitted to the target (attention key tiles shrink to fit
 * workgroup memory) and validated, a schedule that still cannot run being a compiler bug; bf16 buffers become
 * f32 on targets without bf16 storage (the values, all representable, are converted when uploaded).
 */
export function scheduleForTarget(plan: KernelPlan, lim: TargetLimits): KernelPlan {
  let out = lim.bf16Storage || !plan.buffers.some((b) => b.dtype === 'bf16')
    ? plan : { ...plan, buffers: plan.buffers.map((b) => (b.dtype === 'bf16' ? { ...b, dtype: 'f32' as const } : b)) };
  plan.kernels.forEach((k, i) => {
    if (k.kind === 'attention') {
      const fit = fitAttention(k.schedule, k.D, k.Dv, lim);
      if (fit !== k.schedule) out = withSchedule(out, i, fit);
    }
    if (k.kind === 'attention_bwd') {
      // The staged tile (keys for stats/dq, queries for dk/dv) halves until it fits workgroup memory.
      let fit = k.schedule;
      while (workgroupBytes(k, fit) > lim.workgroupBytes && fit.bq > 1 && fit.bk > 1) fit = k.part === 'dk' || k.part === 'dv' ? { ...fit, bq: fit.bq / 2 } : { ...fit, bk: fit.bk / 2 };
      if (fit !== k.schedule) out = withSchedule(out, i, fit);
    }
    // Binding counts are the kernel's, not the schedule's: the flash backward's dq / dk bind 9 with a two-input
    // mask, over WebGPU's default of 8 (Dawn raises it to the adapter's; the tuner checks the device's own).
    // Subgroups likewise: a target that may have them (WebGPU: an optional feature) is checked per device, when
    // the pipeline is created (src/runtime/webgpu/check.ts) and by the tuner; sg is then bounded only by 64 lanes.
    const why = scheduleViolation(out.kernels[i]!, out.kernels[i]!.schedule, { ...lim, storageBuffers: Infinity, subgroups: lim.subgroups ?? { min: 64, max: 1 } });
    if (why) throw new Error(`internal error: ${k.name}: schedule ${JSON.stringify(out.kernels[i]!.schedule)} cannot run on ${lim.name}: ${why}`);
  });
  return out;
}
