/**
 * The graph pass pipeline: one table of named stages, run in order on every entry, the IR verified after each.
 * `tfx ir --dump-after NAME` prints the IR after any stage.
 */
import type { Graph, Program } from './graph.js';
import { cse } from './passes/cse.js';
import { dce } from './passes/dce.js';
import { foldConstants } from './passes/fold-constants.js';
import { PassError, type PassContext } from './passes/rebuild.js';
import { simplify } from './passes/simplify.js';
import { specializeShapes } from './passes/specialize-shapes.js';
import { verifyGraph } from './verify.js';

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
  }
  return cur;
}

/** The program with every entry graph run through the pipeline; config and params are unchanged. */
export function runPipeline(program: Program, opts: PipelineOptions = {}): Program {
  return { ...program, entries: program.entries.map((g) => runGraphPipeline(g, opts)) };
}
