/**
 * The pipeline: one table of named graph passes, run in order on every entry, the IR verified after each; then
 * fusion and scheduling (planEntry). STAGES lists every stage from spec to source; `tfx ir --dump-after NAME`
 * prints the IR after any of them.
 */
import type { Graph, Program } from './graph.js';
import { cse } from './passes/cse.js';
import { dce } from './passes/dce.js';
import { foldConstants } from './passes/fold-constants.js';
import { PassError, type PassContext } from './passes/rebuild.js';
import { simplify } from './passes/simplify.js';
import { specializeShapes } from './passes/specialize-shapes.js';
import { verifyGraph } from './verify.js';
import type { KernelPlan } from './kernel.js';
import { lowerGraph, type LowerOptions } from './lower.js';
import { scheduleForTarget, type TargetLimits } from './schedule.js';

export { PassError, type PassContext } from './passes/rebuild.js';

export interface Stage {
  readonly name: string;
  readonly summary: string;
  readonly run: (g: Graph, ctx: PassContext) => Graph;
}

export const PIPELINE: readonly Stage[] = [
  // Elaboration (AST -> graph, blocks inlined) happens in compileFile, before a Graph exists, so it cannot be
  // re-run here; as a stage it is the identity, listed so that `--dump-after elaborate` shows the input IR.
  { name: 'elaborate', summary: 'the graph as elaborated from the spec (blocks inlined)', run: (g) => g },
  { name: 'specializeShapes', summary: 'substitute concrete sizes for dimension symbols (only when dims are given)', run: specializeShapes },
  { name: 'foldConstants', summary: 'evaluate elementwise ops of constants', run: foldConstants },
  { name: 'simplify', summary: 'algebraic identities (x*1, --x, reshape of reshape, ...)', run: simplify },
  { name: 'cse', summary: 'merge structurally equal nodes and IExpr-equal computes', run: cse },
  { name: 'dce', summary: 'drop sources no IExpr reads, and what only they reached', run: dce },
];

export const stageNames = (): string[] => PIPELINE.map((s) => s.name);

export interface PipelineOptions {
  /** Concrete dimension sizes; specialization runs only when given. */
  readonly dims?: Readonly<Record<string, number>> | undefined;
  /** Call `onDump` with each entry's graph after this stage. */
  readonly dumpAfter?: string | undefined;
  readonly onDump?: ((stage: string, g: Graph) => void) | undefined;
  /** Call with the graph after every stage (planEntry's stage hook). */
  readonly onStage?: ((stage: string, g: Graph) => void) | undefined;
  /** Replace the stage table (tests of the pipeline machinery); PIPELINE by default. */
  readonly stages?: readonly Stage[] | undefined;
}

/** Run every stage on `g`, verifying after each. A pass that breaks an invariant is a compiler bug. */
export function runGraphPipeline(g: Graph, opts: PipelineOptions = {}): Graph {
  const stages = opts.stages ?? PIPELINE;
  if (opts.dumpAfter !== undefined && !stages.some((s) => s.name === opts.dumpAfter))
    throw new PassError(`unknown pass '${opts.dumpAfter}'; the passes are ${stages.map((s) => s.name).join(', ')}`);
  const ctx: PassContext = { dims: opts.dims };
  let cur = g;
  for (const stage of stages) {
    cur = stage.run(cur, ctx);
    const errs = verifyGraph(cur);
    if (errs.length)
      throw new Error(`pass '${stage.name}' broke an IR invariant in entry '${g.entry}': ${errs[0]}${errs.length > 1 ? ` (and ${errs.length - 1} more)` : ''}`);
    if (stage.name === opts.dumpAfter) opts.onDump?.(stage.name, cur);
    opts.onStage?.(stage.name, cur);
  }
  return cur;
}

/** The program with every entry graph run through the pipeline; config and params are unchanged. */
export function runPipeline(program: Program, opts: PipelineOptions = {}): Program {
  return { ...program, entries: program.entries.map((g) => runGraphPipeline(g, opts)) };
}

// ---- the whole pipeline, spec to source -------------------------------------------------------------------

/**
 * Every named stage from spec to source, in order. Parsing and elaboration run in compileFile, the graph passes
 * above, fusion and scheduling in planEntry (every command and backend goes through it), the memory plan and
 * rendering where a target is known. `tfx ir --dump-after NAME` prints the IR after any of them.
 */
export const STAGES: readonly { readonly name: string; readonly summary: string }[] = [
  { name: 'parse', summary: 'the syntax tree as parsed (JSON)' },
  ...PIPELINE.map((s) => ({ name: s.name, summary: s.summary })),
  { name: 'fuse', summary: 'kernels after fusion: what each computes (fused expressions), which buffers it reads and writes' },
  { name: 'schedule', summary: 'the kernel IR of each distinct kernel under its schedule for the target: loops, indices, loads, barriers' },
  { name: 'memory', summary: 'logical buffers assigned to memory slots (at example sizes)' },
  { name: 'render', summary: 'the generated source: WGSL shaders or the CUDA module' },
];
export const allStageNames = (): string[] => STAGES.map((s) => s.name);

export interface PlanOptions {
  readonly limits: TargetLimits;
  readonly lower?: LowerOptions | undefined;
  readonly dims?: Readonly<Record<string, number>> | undefined;
  /** Replaces schedules after the target's defaults (the tune cache). */
  readonly tune?: ((plan: KernelPlan) => KernelPlan) | undefined;
  /** Called with the graph after each graph pass and the plan after fusion and scheduling. */
  readonly onStage?: ((stage: string, ir: Graph | KernelPlan) => void) | undefined;
}

/** Graph passes, fusion, scheduling for a target: the one path from an elaborated entry to a kernel plan. */
export function planEntry(g: Graph, symbols: readonly string[], opts: PlanOptions): { graph: Graph; plan: KernelPlan } {
  const graph = runGraphPipeline(g, { dims: opts.dims, onStage: opts.onStage });
  const fused = lowerGraph(graph, symbols, opts.lower ?? {});
  opts.onStage?.('fuse', fused);
  let plan = scheduleForTarget(fused, opts.limits);
  if (opts.tune) plan = opts.tune(plan);
  opts.onStage?.('schedule', plan);
  return { graph, plan };
}
