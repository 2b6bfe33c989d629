/** `tfx inspect --weights W [--map M] [--verify]`: open a checkpoint of any size and check it against the spec. */
import type { Program } from '../ir/graph.js';
import { loadCheckpointMap, mapCheckpoint, openCheckpoint } from '../runtime/checkpoint.js';
import { WeightsError, checkParams } from '../runtime/weights.js';
import { fmtSize, progress } from './progress.js';

export interface WeightsReport {
  readonly path: string; readonly files: number; readonly tensors: number; readonly bytes: number;
  readonly dtypes: Record<string, number>; readonly metadata: Record<string, string>;
  /** Present with `verify`: every tensor was read; counts of NaN and infinite values. */
  readonly verified?: { readonly nan: number; readonly inf: number; readonly seconds: number };
}

/**
 * Headers are checked against the spec first (names, shapes, dtype kinds); with `verify` every tensor is then
 * read, one at a time, and its values scanned, so peak memory stays about one tensor whatever the size.
 */
export function reportWeights(program: Program, path: string, mapPath: string | undefined, verify: boolean): WeightsReport {
  let r = openCheckpoint(path);
  try {
    if (mapPath !== undefined) r = mapCheckpoint(r, loadCheckpointMap(mapPath));
    const problems = checkParams(program.params, r.tensors);
    if (problems.length) throw new WeightsError(`${path} does not match preset '${program.preset}':\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... and ${problems.length - 20} more` : ''}`, 'TFX4002');
    const dtypes: Record<string, number> = {};
    for (const t of r.tensors.values()) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    const base = { path, files: r.files.length, tensors: r.tensors.size, bytes: r.dataBytes, dtypes, metadata: { ...r.metadata } };
    if (!verify) return base;
    const t0 = performance.now();
    const bar = progress(`reading ${r.tensors.size} tensors (${fmtSize(r.dataBytes)})`, r.dataBytes);
    let nan = 0, inf = 0, done = 0;
    for (const [name, info] of r.tensors) {
      const d = r.read(name).data;
      for (let i = 0; i < d.length; i++) { const x = d[i]!; if (x !== x) nan++; else if (x === Infinity || x === -Infinity) inf++; }
      done += info.bytes;
      bar.update(done, name);
    }
    const seconds = (performance.now() - t0) / 1000;
    bar.finish(`read ${fmtSize(r.dataBytes)} in ${seconds.toFixed(1)} s`);
    return { ...base, verified: { nan, inf, seconds } };
  } finally {
    r.close();
  }
}

export function weightsLines(w: WeightsReport, preset: string): string[] {
  return [
    `weights ${w.path}: ${w.tensors} tensors in ${w.files} file(s), ${fmtSize(w.bytes)} (${Object.entries(w.dtypes).map(([k, v]) => `${v} ${k}`).join(', ')}); names, shapes and dtypes match preset ${preset}`,
    ...(w.verified ? [`  every tensor read: ${w.verified.nan} NaN, ${w.verified.inf} infinite values`] : []),
  ];
}
