/**
 * `tfx bench --op attention-bwd`: attention backward (dq, dk, dv of one Transfusion-masked attention), FUSED
 * (attention_grad -> flash backward kernels, kind attention_bwd, with the forward's EMPTY/FULL/PARTIAL tile map)
 * against UNFUSED (decomposeBackward: S x S scores, softmax, matmuls), timed in the same run on the same inputs.
 * Before timing, a small case checks fused and unfused against the interpreter and against each other.
 */
import { dimConst } from '../src/core/dim.js';
import { hostTensor, type HostTensor } from '../src/core/tensor.js';
import { Builder } from '../src/ir/builder.js';
import type { Graph, Node } from '../src/ir/graph.js';
import { interpret } from '../src/ir/interpreter.js';
import type { KernelPlan } from '../src/ir/kernel.js';
import { decomposeBackward } from '../src/ir/autodiff/decompose.js';
import { Rng } from '../src/runtime/rng.js';
import { planMemory } from '../src/runtime/memory-plan.js';
import type { GpuContext } from '../src/runtime/webgpu/device.js';
import { TRANSFUSION_MASK, transfusionLayout, uniform } from './cases.js';
import { DoesNotFitError, PlanRunner, stats, type Timing } from './plan-runner.js';

export interface AttentionBwdRow {
  S: number; H: number; D: number; images: number; patches: number;
  fused: { median_ms: number; min_ms: number; max_ms: number; samples: number; kernels: number } | null;
  unfused: { median_ms: number; min_ms: number; max_ms: number; samples: number; kernels: number } | null;
  unfused_note?: string;
  /** fused median / unfused median (same run). */
  fused_over_unfused: number | null;
  tiles: { empty: number; full: number; partial: number; total: number; empty_share: number };
  peak_bytes_fused: number; peak_bytes_unfused: number;
}
export interface AttentionBwdCheck { S: number; H: number; patches: number; max_err_fused: number; max_err_unfused: number; max_diff_fused_unfused: number; correct: boolean }

interface BwdCase { graph: Graph; inputs: Map<string, HostTensor>; images: number; shape: string }

/** q, k, v, o (the forward's output, from the interpreter), dO and the mask inputs -> dq, dk, dv via attention_grad. */
export function attentionBwdCase(S: number, H: number, D: number, patches: number, seed = 5): BwdCase {
  const rng = Rng.seeded(seed);
  const { img, nImg } = transfusionLayout(rng, S, patches, 1);
  const sh = [1, H, S, D].map(dimConst);
  const n = H * S * D, scale = 1 / Math.sqrt(D);
  const data = { q: uniform(rng, n), k: uniform(rng, n), v: uniform(rng, n), dO: uniform(rng, n) };
  const t = (x: Float32Array) => hostTensor('f32', [1, H, S, D], x);
  const inputs = new Map<string, HostTensor>([['q', t(data.q)], ['k', t(data.k)], ['v', t(data.v)], ['len', hostTensor('i32', [1], [S])], ['img', hostTensor('i32', [1, S], img)]]);
  // o = attention(q, k, v) on the interpreter, so the backward sees the true forward output.
  {
    const f = new Builder();
    const q = f.input('q', 'f32', sh), k = f.input('k', 'f32', sh), v = f.input('v', 'f32', sh);
    const len = f.input('len', 'i32', [dimConst(1)]), im = f.input('img', 'i32', [dimConst(1), dimConst(S)]);
    const o = interpret([f.attention(q, k, v, [len, im], TRANSFUSION_MASK, 'transfusion', scale)], { inputs, params: new Map(), dims: {} })[0]!;
    inputs.set('o', o);
  }
  inputs.set('dO', t(data.dO));
  const g = new Builder();
  const q = g.input('q', 'f32', sh), k = g.input('k', 'f32', sh), v = g.input('v', 'f32', sh), o = g.input('o', 'f32', sh), dO = g.input('dO', 'f32', sh);
  const len = g.input('len', 'i32', [dimConst(1)]), im = g.input('img', 'i32', [dimConst(1), dimConst(S)]);
  const grad = (wrt: 'q' | 'k' | 'v') => g.attentionGrad(wrt, q, k, v, o, dO, [len, im], TRANSFUSION_MASK, 'transfusion', scale);
  const graph: Graph = { entry: 'attention_bwd', inputs: [q, k, v, o, dO, len, im] as Node<'input'>[], outputs: [{ name: 'dq', node: grad('q') }, { name: 'dk', node: grad('k') }, { name: 'dv', node: grad('v') }] };
  return { graph, inputs, images: nImg, shape: `B1 H${H} S${S} D${D}` };
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

export async function benchAttentionBwd(ctx: GpuContext, lower: (g: Graph) => KernelPlan, o: {
  shapes: readonly number[]; H: number; D: number; patches: number; samples: number; cutAfterS: number;
  check: { S: number; patches: number }; tick: (label: string) => void; notes: string[];
}): Promise<{ check: AttentionBwdCheck; rows: AttentionBwdRow[] }> {
  const plans = (c: BwdCase) => ({ fused: lower(c.graph), unfused: lower(decomposeBackward(c.graph)) });
  const outputsOf = async (c: BwdCase, plan: KernelPlan) => {
    const r = new PlanRunner(ctx, c.graph, plan, {}, c.inputs, new Map());
    try { await r.use(plan); return await r.runAll(); } finally { r.destroy(); }
  };

  // 1. Small case: fused and unfused on WebGPU against the interpreter and against each other.
  const sc = attentionBwdCase(o.check.S, o.H, o.D, o.check.patches);
  const ref = interpret(sc.graph.outputs.map((x) => x.node), { inputs: sc.inputs, params: new Map(), dims: {} });
  const sp = plans(sc);
  if (!sp.fused.kernels.some((k) => k.kind === 'attention_bwd')) throw new Error('attention-bwd: the fused plan has no attention_bwd kernel');
  if (sp.unfused.kernels.some((k) => k.kind === 'attention_bwd' || k.kind === 'attention')) throw new Error('attention-bwd: the unfused plan still has a fused attention kernel');
  const fo = await outputsOf(sc, sp.fused), uo = await outputsOf(sc, sp.unfused);
  let ef = 0, eu = 0, dfu = 0, ok = true;
  sc.graph.outputs.forEach((out, i) => {
    const w = ref[i]!.data, a = fo.get(out.name)!.data, b = uo.get(out.name)!.data;
    for (let j = 0; j < w.length; j++) {
      const e1 = Math.abs(a[j]! - w[j]!), e2 = Math.abs(b[j]! - w[j]!), e3 = Math.abs(a[j]! - b[j]!);
      if (!(e1 <= 1e-3 * (1 + Math.abs(w[j]!))) || !(e2 <= 1e-3 * (1 + Math.abs(w[j]!)))) ok = false;
      ef = Math.max(ef, Number.isNaN(e1) ? Infinity : e1); eu = Math.max(eu, Number.isNaN(e2) ? Infinity : e2); dfu = Math.max(dfu, Number.isNaN(e3) ? Infinity : e3);
    }
  });
  const check: AttentionBwdCheck = { S: o.check.S, H: o.H, patches: o.check.patches, max_err_fused: ef, max_err_unfused: eu, max_diff_fused_unfused: dfu, correct: ok };
  o.tick(`check S=${o.check.S}: ${ok ? 'ok' : 'MISMATCH'}`);
  if (!ok) { o.notes.push(`attention-bwd: fused and unfused disagree at S=${o.check.S} (max err fused ${ef}, unfused ${eu}); nothing timed`); return { check, rows: [] }; }

  // 2. Timing: warm-up (compiles the pipelines), then `samples` timed iterations, fused and unfused alternately.
  const rows: AttentionBwdRow[] = [];
  for (const S of o.shapes) {
    const c = attentionBwdCase(S, o.H, o.D, o.patches);
    const p = plans(c);
    const runners: Partial<Record<'fused' | 'unfused', PlanRunner>> = {};
    const notes: Partial<Record<'fused' | 'unfused', string>> = {};
    let tiles = { empty: 0, full: 0, partial: 0 };
    try {
      for (const which of ['fused', 'unfused'] as const) {
        try { runners[which] = new PlanRunner(ctx, c.graph, p[which], {}, c.inputs, new Map()); } catch (e) {
          if (!(e instanceof DoesNotFitError)) throw e;
          notes[which] = `does not fit: ${e.message}`; continue;
        }
        await runners[which]!.use(p[which]);
        if (which === 'fused') tiles = [...runners.fused!.tileCounts.values()][0] ?? tiles;
      }
      const samples: Record<'fused' | 'unfused', number[]> = { fused: [], unfused: [] };
      const all = (w: 'fused' | 'unfused') => p[w].kernels.map((_, j) => j);
      // Warm-up once each; a path whose single call is too slow for `samples` of them in the cut budget is cut.
      const warm: Partial<Record<'fused' | 'unfused', number>> = {};
      for (const w of ['fused', 'unfused'] as const) {
        if (!runners[w]) continue;
        warm[w] = (await runners[w]!.time(all(w), 1, 1)).median;
        o.tick(`S=${S} ${w} warm-up ${warm[w]!.toFixed(0)} ms`);
      }
      for (let it = 0; it < o.samples; it++) for (const w of ['fused', 'unfused'] as const) {
        if (!runners[w] || (S > o.cutAfterS && w === 'unfused' && warm[w]! * o.samples > 240_000)) continue;
        samples[w].push((await runners[w]!.time(all(w), 0, 1)).median);
        o.tick(`S=${S} ${w} sample ${it + 1}/${o.samples}`);
      }
      const summary = (w: 'fused' | 'unfused') => {
        if (!samples[w].length) return null;
        const t: Timing = stats(samples[w]);
        return { median_ms: r4(t.median), min_ms: r4(t.min), max_ms: r4(t.max), samples: t.samples.length, kernels: p[w].kernels.length };
      };
      if (runners.unfused && !samples.unfused.length) notes.unfused = `cut: one call took ${(warm.unfused! / 1000).toFixed(0)} s, ${o.samples} samples would exceed 4 minutes`;
      const fu = summary('fused'), un = summary('unfused');
      const total = tiles.empty + tiles.full + tiles.partial;
      rows.push({
        S, H: o.H, D: o.D, images: c.images, patches: o.patches, fused: fu, unfused: un, ...(notes.unfused ? { unfused_note: notes.unfused } : {}),
        fused_over_unfused: fu && un ? Math.round((fu.median_ms / un.median_ms) * 1000) / 1000 : null,
        tiles: { ...tiles, total, empty_share: total ? Math.round((tiles.empty / total) * 1000) / 1000 : 0 },
        peak_bytes_fused: planMemory(p.fused, {}).plannedBytes, peak_bytes_unfused: planMemory(p.unfused, {}).plannedBytes,
      });
      if (notes.fused) o.notes.push(`attention-bwd S=${S} fused: ${notes.fused}`);
    } finally { for (const r of Object.values(runners)) r.destroy(); }
  }
  return { check, rows };
}

export function attentionBwdText(check: AttentionBwdCheck | undefined, rows: readonly AttentionBwdRow[]): string[] {
  const L: string[] = [];
  if (check) L.push('', `attention backward check S=${check.S} H${check.H}: fused max err ${check.max_err_fused.toExponential(1)}, unfused ${check.max_err_unfused.toExponential(1)}, fused vs unfused ${check.max_diff_fused_unfused.toExponential(1)} -> ${check.correct ? 'agree' : 'DISAGREE'}`);
  if (rows.length) L.push('attention backward (dq, dk, dv; B1, Transfusion layout): median [min-max] ms (samples), fused / unfused, EMPTY tiles skipped');
  const t = (x: AttentionBwdRow['fused']) => (x ? `${x.median_ms.toFixed(1)} [${x.min_ms.toFixed(1)}-${x.max_ms.toFixed(1)}] ms (n=${x.samples}, ${x.kernels} kernels)` : '-');
  for (const r of rows) L.push(`  S=${r.S} H${r.H} D${r.D} (${r.images} img of ${r.patches}): fused ${t(r.fused)}; unfused ${r.unfused ? t(r.unfused) : r.unfused_note ?? '-'}; fused/unfused ${r.fused_over_unfused ?? '-'}; EMPTY ${(100 * r.tiles.empty_share).toFixed(1)}% of ${r.tiles.total} tiles (FULL ${r.tiles.full}, PARTIAL ${r.tiles.partial}); peak ${(r.peak_bytes_fused / 2 ** 20).toFixed(1)} / ${(r.peak_bytes_unfused / 2 ** 20).toFixed(1)} MiB`);
  return L;
}
