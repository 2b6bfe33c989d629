/**
 * Command-line parsing on top of node:util `parseArgs`: every flag is declared once with its help text and an
 * example, and that one table drives parsing, `--help`, docs checks and "did you mean" suggestions.
 * Misuse is reported as one line (UsageError); nothing here prints.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder for the value in help text (`--preset P`). */
  readonly value?: string;
  readonly help: string;
  /** A complete example use of the flag (`--preset 0.16b`). */
  readonly example: string;
}
export type FlagTable = Readonly<Record<string, FlagSpec>>;

export type Args = { positionals: string[]; values: Record<string, string | boolean | string[] | undefined> };

export interface Command {
  readonly summary: string;
  /** What follows the command name before the flags, e.g. `FILE.tfx`. */
  readonly operands: string;
  readonly flags: FlagTable;
  readonly examples: readonly string[];
  /** A paragraph printed after the flags (defaults, output files). */
  readonly notes?: string;
  readonly run: (a: Args) => Promise<number>;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate to `word`: a unique prefix match, or the nearest within a third of its length. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const prefixed = candidates.filter((c) => w.length >= 2 && c.startsWith(w));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const dist = editDistance(w, c.toLowerCase());
    if (dist < bestD) { best = c; bestD = dist; }
  }
  return bestD <= Math.max(1, Math.floor(w.length / 3)) ? best : undefined;
}

const flagName = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

/** Parse `argv` against `flags`; misuse (unknown or repeated flag, missing value) throws a one-line UsageError. */
export function parseCommandLine(argv: readonly string[], flags: FlagTable): Args {
  const options = Object.fromEntries(Object.entries(flags).map(([k, f]) => [k, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]));
  const { tokens, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: false, tokens: true });
  const values: Args['values'] = {};
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = flags[t.name];
    if (!spec) {
      const hint = didYouMean(t.name, Object.keys(flags));
      throw new UsageError(`unknown flag '${t.rawName}'${hint ? ` (did you mean ${flagName(hint)}?)` : ''}`);
    }
    const shown = flagName(t.name);
    if (spec.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${shown} takes no value (got '${t.value}')`);
      if (values[t.name] !== undefined) throw new UsageError(`${shown} is given twice`);
      values[t.name] = true;
      continue;
    }
    const v = t.value;
    if (v === undefined || (!t.inlineValue && v.startsWith('--') && v.length > 2))
      throw new UsageError(`${shown} needs a value, e.g. ${spec.example}`);
    if (spec.multiple) { const prev = values[t.name]; values[t.name] = [...(Array.isArray(prev) ? prev : []), v]; continue; }
    if (values[t.name] !== undefined) throw new UsageError(`${shown} is given twice`);
    values[t.name] = v;
  }
  return { positionals, values };
}

function wrap(text: string, width: number, indent: string): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + w.length > width) { out.push(line); line = w; } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out.map((l, i) => (i === 0 ? l : indent + l));
}

/** `tfx help NAME` / `tfx NAME --help`: synopsis, every flag with its meaning and an example, examples. */
export function commandHelp(name: string, c: Command): string {
  const head = (f: string, s: FlagSpec) => `${s.short && s.short !== f ? `-${s.short}, ` : ''}${flagName(f)}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}`;
  const entries: [string, string, string][] = [
    ...Object.entries(c.flags).map(([f, s]): [string, string, string] => [head(f, s), s.help + (s.multiple ? ' (may be repeated)' : ''), `tfx ${name} ${c.operands} ${s.example}`]),
    ['-h, --help', 'print this help', `tfx ${name} --help`],
  ];
  const w = Math.min(26, Math.max(...entries.map((e) => e[0].length)));
  const pad = ' '.repeat(w + 4);
  const lines = [`tfx ${name}: ${c.summary}`, '', `usage: tfx ${name} ${c.operands}${Object.keys(c.flags).length ? ' [flags]' : ''}`, '', 'flags:'];
  for (const [h, text, ex] of entries) {
    const body = wrap(text, 76, pad);
    lines.push(h.length > w ? `  ${h}\n${pad}${body.join('\n')}` : `  ${h.padEnd(w)}  ${body.join('\n')}`);
    lines.push(`${pad}e.g. ${ex}`);
  }
  if (c.notes) lines.push('', ...wrap(c.notes, 100, ''));
  if (c.examples.length) lines.push('', 'examples:', ...c.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
