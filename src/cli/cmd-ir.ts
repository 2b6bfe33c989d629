import { compileFile, readSpec, UsageError } from '../driver.js';
import { parse } from '../dsl/parse.js';
import { CUDA_LIMITS } from '../codegen-cuda/cuda.js';
import { renderCudaModule } from '../codegen-cuda/module.js';
import { WEBGPU_LIMITS, renderWgslPlan } from '../codegen-wgsl/wgsl.js';
import type { Graph } from '../ir/graph.js';
import { buildKernel } from '../ir/kernel-build.js';
import { dedupKernels } from '../ir/kernel-dedup.js';
import { printBody, printPlan } from '../ir/kernel-ir.js';
import type { KernelPlan } from '../ir/kernel.js';
import { allStageNames, planEntry } from '../ir/pipeline.js';
import { printGraph } from '../ir/print.js';
import { planMemory } from '../runtime/memory-plan.js';
import { oneFile, str, type Args } from './main.js';

/** Sizes of the symbolic dims for the memory stage's dump (the plan is symbolic; slots need numbers). */
const EXAMPLE_DIM = 16;

/**
 * `tfx ir`: the IR of each entry after the whole pipeline, or after the stage named by --dump-after: the syntax
 * tree, the graph after any pass, the fused plan, the kernel IR per distinct kernel, the memory plan, the source.
 */
export default async function ir(a: Args): Promise<number> {
  const file = oneFile(a);
  const after = str(a, 'dump-after');
  const stages = allStageNames();
  if (after !== undefined && !stages.includes(after))
    throw new UsageError(`unknown stage '${after}' for --dump-after; the stages are ${stages.join(', ')}`);
  const target = str(a, 'target') ?? 'wgsl';
  if (target !== 'wgsl' && target !== 'cuda') throw new UsageError(`unknown target '${target}' (wgsl or cuda)`);
  if (after === 'parse') {
    const r = parse(readSpec(file));
    process.stdout.write(`${JSON.stringify(r.module, null, 1)}\n`);
    return 0;
  }
  const entry = str(a, 'entry');
  const { program } = compileFile(file, { preset: str(a, 'preset'), entries: entry === undefined ? undefined : [entry] });
  const stage = after ?? 'dce';
  const out: string[] = [];
  for (const g of program.entries) {
    let dumped: Graph | KernelPlan | undefined;
    if (stage === 'elaborate') dumped = g;
    const { graph, plan } = planEntry(g, program.symbols, {
      limits: target === 'cuda' ? CUDA_LIMITS : WEBGPU_LIMITS,
      onStage: (s, x) => { if (s === stage) dumped = x; },
    });
    switch (stage) {
      case 'fuse': out.push(printPlan(dumped as KernelPlan)); break;
      case 'schedule': {
        const { distinct, instances } = dedupKernels(plan);
        out.push(`# entry ${g.entry}: ${plan.kernels.length} kernels, ${distinct.length} distinct; kernel IR for ${target}`);
        distinct.forEach((d, i) => {
          const users = instances.flatMap((x, j) => (x.of === i ? [plan.kernels[j]!.name] : []));
          out.push(`# launched as ${users.join(', ')}\n${printBody(buildKernel(d.kernel, d.buffers, program.symbols))}`);
        });
        break;
      }
      case 'memory': {
        const dims = Object.fromEntries(program.symbols.map((s) => [s, EXAMPLE_DIM]));
        const m = planMemory(plan, dims);
        out.push(`# entry ${g.entry}: memory at ${program.symbols.map((s) => `${s}=${EXAMPLE_DIM}`).join(', ') || '(no symbols)'}: ${m.plannedBytes} bytes planned, ${m.naiveBytes} with one buffer each`);
        m.slotBytes.forEach((b, s) => out.push(`slot${s} ${b} bytes: ${plan.buffers.flatMap((x, i) => (m.slotOf[i] === s ? [`buf${i} (${x.name})`] : [])).join(', ')}`));
        break;
      }
      case 'render':
        if (target === 'cuda') out.push(renderCudaModule(plan, program).source);
        else for (const s of renderWgslPlan(plan).shaders) out.push(s.code);
        break;
      // Each node with the spec spans it came from (block call chain, file:line:col).
      default: out.push(printGraph((dumped as Graph | undefined) ?? graph, { origins: file }));
    }
  }
  process.stdout.write(`# model ${program.model}, preset ${program.preset}, after ${stage}\n${out.join('\n\n')}\n`);
  return 0;
}
