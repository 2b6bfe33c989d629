import { mkdirSync, writeFileSync } from 'node:fs';
import { writeFolderSafely } from '../runtime/fs-out.js';
import { validateWithDawn } from './validate-wgsl.js';
import { join } from 'node:path';
import { byteSize } from '../core/dtype.js';
import { UsageError, compileFile } from '../driver.js';
import { WEBGPU_LIMITS, renderWgslPlan } from '../codegen-wgsl/wgsl.js';
import { CUDA_LIMITS } from '../codegen-cuda/cuda.js';
import { planEntry } from '../ir/pipeline.js';
import { graphNodes, type Graph, type Program } from '../ir/graph.js';
import type { KernelPlan } from '../ir/kernel.js';
import { formatOrigin } from '../ir/provenance.js';
import { programToF16 } from '../ir/precision.js';
import { planMemory } from '../runtime/memory-plan.js';
import { oneFile, str, tfxVersion, type Args } from './main.js';

const log = (s: string) => process.stderr.write(s + '\n');

/** Kernels a framework without fusion launches: one per op (attention: QK^T, mask, softmax, PV). */
export function unfusedKernelCount(g: Graph): number {
  return graphNodes(g).reduce((n, x) => n + (x.op === 'input' || x.op === 'param' || x.op === 'const' ? 0 : x.op === 'attention' ? 4 : 1), 0);
}

/** The plan as data: kernels, bindings, dispatch sizes over the symbols, buffers, schedules. */
export function planJson(plan: KernelPlan, files: readonly string[], bindings: readonly (readonly number[])[], dispatch: readonly string[], spec = '') {
  return {
    entry: plan.entry, symbols: plan.symbols,
    buffers: plan.buffers.map((b, i) => ({ id: i, name: b.name, kind: b.kind, dtype: b.dtype, numel: b.tileGrid ? `${b.tileGrid.B.key} * ceil(${b.tileGrid.Sq.key} / ${b.tileGrid.bq}) * ceil(${b.tileGrid.Sk.key} / ${b.tileGrid.bk})` : b.numel.key })),
    inputs: plan.inputs.map((i) => ({ name: i.name, buffer: i.buf, dtype: i.dtype, shape: i.shape.map((d) => d.key) })),
    params: plan.params.map((p) => ({ name: p.name, buffer: p.buf })),
    outputs: plan.outputs.map((o) => ({ name: o.name, buffer: o.buf, dtype: o.dtype, shape: o.shape.map((d) => d.key) })),
    tile_maps: plan.tileMaps.map((t) => ({ buffer: t.buf, kernel: t.kernel, bq: t.bq, bk: t.bk, mask: t.maskName })),
    kernels: plan.kernels.map((k, i) => ({
      name: k.name, file: files[i], kind: k.kind, op: k.opKind, label: k.label, src: (k.src ?? []).map((o) => formatOrigin(o, spec)),
      bindings: bindings[i]!.map((b) => (b < 0 ? 'dims' : b)), reads: k.reads, writes: k.out, dispatch: dispatch[i], schedule: k.schedule,
    })),
  };
}

export default async function compile(a: Args): Promise<number> {
  const file = oneFile(a);
  const target = str(a, 'target') ?? 'wgsl';
  if (target !== 'wgsl' && target !== 'cuda' && target !== 'ts') throw new UsageError(`unknown target '${target}' (wgsl, cuda or ts)`);
  if (target === 'ts') return (await import('./compile-ts.js')).compileTs(a, file);
  const entryFlag = str(a, 'entry');
  const compiled = compileFile(file, { preset: str(a, 'preset'), entries: entryFlag ? [entryFlag] : undefined }).program;
  const program = a.values.f16 ? programToF16(compiled) : compiled;
  // With --stats alone the statistics are the output; otherwise the kernels go to -o or MODEL-TARGET.
  const outDir = str(a, 'o') ?? (a.values.stats ? undefined : `${program.model}-${target}`);
  // The whole output is built in a temporary folder and swapped in (src/runtime/fs-out.ts), so no stale
  // kernel of an earlier compile survives next to a new plan.json and an interrupted compile changes nothing.
  let written: Manifest | undefined;
  if (outDir) await writeFolderSafely(outDir, async (tmp) => { written = await emit(a, file, program, target, tmp); });
  else await emit(a, file, program, target, undefined);
  if (outDir && written) {
    const m = written;
    const kernels = m.entries.reduce((n, e) => n + e.kernels, 0), files = m.entries.reduce((n, e) => n + e.files.length, 0);
    log(`wrote ${outDir}/: ${m.entries.map((e) => `${e.name}/ (${e.kernels} kernels in ${e.files.length} ${target === 'wgsl' ? 'distinct .wgsl files' : 'module.cu'}, plan.json)`).join(', ')}, manifest.json — ${kernels} kernels, ${files + m.entries.length + 1} files`);
  }
  return 0;
}

/** manifest.json: what a compile wrote, so tools need not list folders. */
export interface Manifest {
  readonly tfx: string; readonly model: string; readonly preset: string; readonly target: string; readonly f16: boolean; readonly spec: string;
  readonly entries: { readonly name: string; readonly plan: string; readonly kernels: number; readonly files: readonly string[] }[];
}

/**
 * WGSL kernels that are the same shader up to their header comment and buffer variable names (bindings are
 * positional) share one file, named after the first of them.
 */
export function wgslFingerprint(code: string): string {
  const ids = new Map<string, number>();
  return code.replace(/^\/\/.*\n/, '').replace(/\bbuf(\d+)\b/g, (_m, id: string) => {
    if (!ids.has(id)) ids.set(id, ids.size);
    return `buf@${ids.get(id)}`;
  });
}

async function emit(a: Args, file: string, program: Program, target: string, outDir: string | undefined): Promise<Manifest> {
  const entries: Manifest['entries'][number][] = [];
  const toValidate: { name: string; code: string }[] = [];
  for (const g of program.entries) {
    const { plan } = planEntry(g, program.symbols, { limits: target === 'cuda' ? CUDA_LIMITS : WEBGPU_LIMITS });
    // One folder per entry, whatever the number of entries, so paths do not depend on the spec's other entries.
    const dir = outDir ? join(outDir, g.entry) : undefined;
    if (dir) mkdirSync(dir, { recursive: true });
    let files: string[] = [], bindings: number[][] = [], dispatch: string[] = [];
    let cudaStats: { kernel: string; registers: number; spillStores: number; spillLoads: number }[] | undefined;
    if (target === 'wgsl') {
      // Structurally identical kernels share one shader (src/ir/kernel-dedup.ts), named after the first of them.
      const { kernels: rendered, shaders } = renderWgslPlan(plan);
      const byShader = shaders.map(() => ({ file: '', code: '', users: [] as string[] }));
      rendered.forEach((r) => {
        const d = byShader[r.shader]!;
        if (!d.users.length) { d.file = `${r.name}.wgsl`; d.code = r.code; }
        d.users.push(r.name);
        files.push(d.file);
      });
      const byPrint = byShader;
      bindings = rendered.map((r) => [...r.bindings]);
      dispatch = rendered.map((r) => r.dispatchText);
      if (dir) for (const d of byPrint) {
        const head = d.users.length > 1 ? `// shared by ${d.users.length} kernels with the same code (bindings are positional): ${d.users.join(', ')}\n` : '';
        writeFileSync(join(dir, d.file), head + d.code);
      }
      if (dir) toValidate.push(...byPrint.map((d) => ({ name: `${g.entry}/${d.file}`, code: d.code })));
    } else {
      const cuda = await import('../codegen-cuda/module.js');
      const mod = cuda.renderCudaModule(plan, program);
      files = plan.kernels.map(() => 'module.cu');
      bindings = mod.kernels.map((k) => [...k.params]);
      dispatch = mod.kernels.map((k) => k.dispatchText);
      if (dir) writeFileSync(join(dir, 'module.cu'), mod.source);
      if (a.values.stats) cudaStats = await cuda.cudaStats(mod.source);
    }
    if (dir) writeFileSync(join(dir, 'plan.json'), JSON.stringify(planJson(plan, files, bindings, dispatch, file), null, 2) + '\n');
    if (a.values.stats) printStats(program, g, plan, cudaStats);
    entries.push({ name: g.entry, plan: `${g.entry}/plan.json`, kernels: plan.kernels.length, files: [...new Set(files)].map((f) => `${g.entry}/${f}`) });
  }
  await validateWithDawn(toValidate, log);
  const manifest: Manifest = { tfx: tfxVersion(), model: program.model, preset: program.preset, target, f16: a.values.f16 === true, spec: file, entries };
  if (outDir) writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

function printStats(program: Program, g: Graph, plan: KernelPlan, cuda?: { kernel: string; registers: number; spillStores: number; spillLoads: number }[]): void {
  const dims: Record<string, number> = { B: 1, S: 2048, N: 2 };
  for (const s of program.symbols) dims[s] ??= 16;
  const mem = planMemory(plan, dims);
  const kinds = new Map<string, number>();
  for (const k of plan.kernels) kinds.set(k.opKind, (kinds.get(k.opKind) ?? 0) + 1);
  const out = [
    `entry ${g.entry} (preset ${program.preset}):`,
    `  kernels: ${unfusedKernelCount(g)} before fusion (one per op), ${plan.kernels.length} after fusion`,
    `  by kind: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `  memory at ${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(', ')}: intermediates ${mb(mem.tempPlannedBytes)} planned vs ${mb(mem.tempNaiveBytes)} with one buffer each; total ${mb(mem.plannedBytes)}`,
  ];
  if (cuda) for (const s of cuda) out.push(`  ${s.kernel}: ${s.registers} registers, spills ${s.spillStores}/${s.spillLoads} bytes (store/load)`);
  process.stdout.write(out.join('\n') + '\n');
  void byteSize;
}
const mb = (b: number) => `${(b / (1 << 20)).toFixed(2)} MiB`;
