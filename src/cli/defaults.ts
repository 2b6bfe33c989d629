/** Defaults the CLI derives from the spec itself, so a spec works with no flags beyond its file. */
import { entriesOf, UsageError } from '../driver.js';

/** `--entry`, else the spec's only entry, else its first (with a note naming the others). */
export function chooseEntry(source: string, file: string, flag: string | undefined): { entry: string; note?: string } {
  if (flag !== undefined) return { entry: flag };
  const names = entriesOf(source);
  if (names.length === 0) throw new UsageError(`'${file}' declares no entry point`);
  if (names.length === 1) return { entry: names[0]! };
  return { entry: names[0]!, note: `entry ${names[0]} (the first of ${names.join(', ')}; --entry picks another)` };
}

/** `--dim NAME=VALUE` flags (repeatable) as a record; the names are checked against the spec by the caller. */
export function parseDimFlags(values: readonly string[]): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const v of values) {
    const m = /^([A-Za-z_]\w*)=(\d+)$/.exec(v);
    if (!m) throw new UsageError(`--dim wants NAME=VALUE with a positive integer VALUE, got '${v}'`);
    if (dims[m[1]!] !== undefined) throw new UsageError(`--dim ${m[1]} is given twice`);
    dims[m[1]!] = Number(m[2]);
  }
  return dims;
}

/** Natural order: digit runs compare as numbers, so layers.2 sorts before layers.10. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [], pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!, y = pb[i]!;
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    if (nx && ny) { const d = Number(x) - Number(y); if (d !== 0) return d; if (x.length !== y.length) return x.length - y.length; }
    else if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
