import { compileFile, UsageError } from '../driver.js';
import type { Graph } from '../ir/graph.js';
import { runPipeline, stageNames } from '../ir/pipeline.js';
import { printGraph } from '../ir/print.js';
import { oneFile, str, type Args } from './main.js';

/** `tfx ir`: the graph IR of each entry after the whole pipeline, or after the stage named by --dump-after. */
export default async function ir(a: Args): Promise<number> {
  const file = oneFile(a);
  const after = str(a, 'dump-after');
  if (after !== undefined && !stageNames().includes(after))
    throw new UsageError(`unknown pass '${after}' for --dump-after; the passes are ${stageNames().join(', ')}`);
  const entry = str(a, 'entry');
  const { program } = compileFile(file, { preset: str(a, 'preset'), entries: entry === undefined ? undefined : [entry] });
  const dumps: Graph[] = [];
  const done = runPipeline(program, { dumpAfter: after, onDump: (_s, g) => dumps.push(g) });
  const graphs = after === undefined ? done.entries : dumps;
  const stage = after ?? stageNames()[stageNames().length - 1]!;
  // Each node with the spec spans it came from (block call chain, file:line:col).
  const text = graphs.map((g) => printGraph(g, { origins: file })).join('\n\n');
  process.stdout.write(`# model ${program.model}, preset ${program.preset}, after ${stage}\n${text}\n`);
  return 0;
}
