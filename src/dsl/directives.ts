/**
 * Directive comments: `# @NAME args` lines that tell tools about the spec without changing the model (so the
 * grammar stays free of tool concerns). Read by input generation only:
 *   # @inputs transfusion          the named input generator for every entry (runtime/example-inputs.ts)
 *   # @range tokens 0 vocab        values of input `tokens` in [0, vocab) (numbers or config keys)
 */
export interface RangeDirective { readonly lo: string; readonly hi: string; readonly line: number }
export interface SpecDirectives {
  readonly inputs?: { readonly name: string; readonly line: number };
  readonly ranges: Readonly<Record<string, RangeDirective>>;
  /** Directive lines that could not be read: `line: message`. */
  readonly problems: readonly string[];
}

export function parseDirectives(source: string): SpecDirectives {
  let inputs: SpecDirectives['inputs'];
  const ranges: Record<string, RangeDirective> = {};
  const problems: string[] = [];
  source.split(/\r\n|\r|\n/).forEach((text, i) => {
    const m = /^\s*#\s*@([A-Za-z_]\w*)\b(.*)$/.exec(text);
    if (!m) return;
    const line = i + 1, args = m[2]!.trim().split(/\s+/).filter(Boolean);
    if (m[1] === 'inputs') {
      if (args.length !== 1) problems.push(`${line}: '# @inputs' takes one generator name`);
      else if (inputs) problems.push(`${line}: a second '# @inputs' (the first is on line ${inputs.line})`);
      else inputs = { name: args[0]!, line };
    } else if (m[1] === 'range') {
      if (args.length !== 3) problems.push(`${line}: '# @range' takes an input name, a low and a high bound`);
      else ranges[args[0]!] = { lo: args[1]!, hi: args[2]!, line };
    } else problems.push(`${line}: unknown directive '@${m[1]}' (known: @inputs, @range)`);
  });
  return { ...(inputs ? { inputs } : {}), ranges, problems };
}
