/**
 * Valid random batches for an entry, from one of the named input generators:
 *  - `random`: every symbolic dim bound (--dim NAME=VALUE, else 4), values by dtype (floats standard normal,
 *    ints in [0, 8), bools 0/1) or in the range a `# @range NAME LO HI` directive declares;
 *  - `transfusion`: a real mixed-modality Transfusion batch over the dims B (batch), S (sequence) and N (image
 *    slots) for inputs named tokens, img, img_pos, img_start, len, t (several sequence lengths with right
 *    padding, text tokens, images wrapped in BOI/EOI at random places, consistent image metadata, random
 *    timesteps); any other input as `random` does it. Those names are the generator's documented interface.
 * The generator is chosen explicitly or by the spec's `# @inputs NAME` directive, never guessed from names.
 */
import { dimEval } from '../core/dim.js';
import { isFloat } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import type { Graph, Node, Program } from '../ir/graph.js';
import { Rng } from './rng.js';
import { TfxError, type UserCode } from '../errors.js';

export class ExampleError extends TfxError {
  override name = 'ExampleError';
  constructor(message: string, code: UserCode = 'TFX5002') { super(code, message); }
}

export const GENERATORS = ['random', 'transfusion'] as const;
export type GeneratorName = (typeof GENERATORS)[number];

/** Size of a dim no one bound, for the `random` generator. */
export const DEFAULT_DIM = 4;
export const MAX_DIM = 1 << 20;
/** Most elements generated across all inputs (64 Mi: 256 MB as f32). */
export const MAX_EXAMPLE_ELEMENTS = 1 << 26;

export interface ExampleOptions {
  /** Values for symbolic dims by name; the rest get the generator's defaults. */
  readonly dims?: Readonly<Record<string, number>>;
  /** Input generator; default: the spec's `# @inputs` directive, else `random`. */
  readonly generator?: GeneratorName;
  /** Transfusion shorthands: batch, sequence length and image slots (the dims of tokens and img_start). */
  readonly batch?: number;
  readonly seq?: number;
  readonly images?: number;
}

/** The generator to use and why (for the CLI's message). */
export function chooseGenerator(program: Program, explicit?: GeneratorName): { name: GeneratorName; why: string } {
  if (explicit) return { name: explicit, why: 'chosen with --generator' };
  const d = program.directives?.inputs;
  if (!d) return { name: 'random', why: 'the default; a spec picks another with a `# @inputs NAME` line' };
  if (!(GENERATORS as readonly string[]).includes(d.name))
    throw new ExampleError(`line ${d.line}: '# @inputs ${d.name}' names no input generator (there are ${GENERATORS.join(', ')})`);
  return { name: d.name as GeneratorName, why: `from the spec's '# @inputs ${d.name}' (line ${d.line})` };
}

/** Every symbolic dim of the program bound: given values first, then the generator's defaults. */
export function exampleDims(program: Program, graph: Graph, generator: GeneratorName, o: ExampleOptions = {}): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const [k, v] of Object.entries(o.dims ?? {})) {
    if (!program.symbols.includes(k)) throw new ExampleError(`'${k}' is not a dimension of this spec (it has ${program.symbols.join(', ') || 'none'})`);
    if (!(Number.isInteger(v) && v >= 1 && v <= MAX_DIM)) throw new ExampleError(`dimension ${k} must be an integer in 1..${MAX_DIM}, got ${v}`);
    dims[k] = v;
  }
  if (generator === 'transfusion') {
    // The generator's contract: the layout dims are the spec's B (batch), S (sequence) and N (image slots).
    const nPatches = program.config.n_patches ?? 0;
    const seqDefault = nPatches > 0 ? Math.max(64, 2 * (nPatches + 2) + 16) : 64;
    for (const [sym, shorthand, dflt] of [['B', o.batch, 2], ['S', o.seq, seqDefault], ['N', o.images, 2]] as const)
      if (program.symbols.includes(sym)) dims[sym] ??= shorthand ?? dflt;
  }
  for (const s of program.symbols) dims[s] ??= DEFAULT_DIM;
  return dims;
}

/** A declared `# @range` bound: a number or a config key. */
function bound(program: Program, input: string, text: string, line: number): number {
  const v = /^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i.test(text) ? Number(text) : program.config[text];
  if (v === undefined || !Number.isFinite(v)) throw new ExampleError(`line ${line}: '# @range ${input}': '${text}' is neither a number nor a config key`);
  return v;
}

/** Values of one input from the `random` generator: by declared range, else by dtype. */
function randomValues(program: Program, inp: Node<'input'>, n: number, rng: Rng): number[] | Float32Array {
  const name = inp.arg.name;
  const r = program.directives?.ranges[name];
  if (r) {
    const lo = bound(program, name, r.lo, r.line), hi = bound(program, name, r.hi, r.line);
    if (isFloat(inp.dtype)) {
      if (!(hi > lo)) throw new ExampleError(`line ${r.line}: '# @range ${name}' is empty (${lo} .. ${hi})`);
      const f = new Float32Array(n); for (let i = 0; i < n; i++) f[i] = rng.uniform(lo, hi); return f;
    }
    const a = Math.ceil(lo), b = Math.ceil(hi);
    if (!(b > a)) throw new ExampleError(`line ${r.line}: '# @range ${name}' holds no integer (${lo} .. ${hi}, high bound excluded)`);
    return Array.from({ length: n }, () => rng.int(a, b));
  }
  if (isFloat(inp.dtype)) { const f = new Float32Array(n); for (let i = 0; i < n; i++) f[i] = rng.normal(); return f; }
  if (inp.dtype === 'bool') return Array.from({ length: n }, () => rng.int(0, 2));
  return Array.from({ length: n }, () => rng.int(0, 8));
}

export interface LayoutOptions { readonly batch: number; readonly seq: number; readonly images: number }

export interface Layout {
  readonly len: number[];
  readonly tokens: number[][];
  readonly img: number[][];
  readonly imgPos: number[][];
  readonly imgStart: number[][];   // [B][N], -1 for empty slots
}

/** A Transfusion batch layout: per sequence, text with 0..N images (BOI, n patches, EOI) at random offsets. */
export function makeLayout(rng: Rng, o: LayoutOptions, nPatches: number, vocab: number, boi: number, eoi: number): Layout {
  const { batch: B, seq: S, images: N } = o;
  const textVocab = Math.max(1, Math.min(vocab, boi, eoi, 256));
  const L: Layout = { len: [], tokens: [], img: [], imgPos: [], imgStart: [] };
  for (let b = 0; b < B; b++) {
    // Lengths vary between sequences; the first is full so the batch uses all of S.
    const len = b === 0 ? S : Math.max(1, S - rng.int(0, Math.floor(S / 3) + 1));
    const tokens = new Array<number>(S).fill(0), img = new Array<number>(S).fill(-1), imgPos = new Array<number>(S).fill(-1);
    const starts = new Array<number>(N).fill(-1);
    const span = nPatches + 2;
    const maxImages = Math.min(N, Math.floor(len / (span + 1)));
    const nImg = maxImages === 0 ? 0 : rng.int(b === 0 ? 1 : 0, maxImages + 1);
    // Random gaps of text before, between and after the images.
    const free = len - nImg * span;
    const cuts = Array.from({ length: nImg }, () => rng.int(0, free + 1)).sort((x, y) => x - y);
    let pos = 0, used = 0;
    for (let j = 0; j < nImg; j++) {
      const gap = cuts[j]! - used;
      for (let i = 0; i < gap; i++) tokens[pos++] = rng.int(0, textVocab);
      used = cuts[j]!;
      tokens[pos++] = boi;
      starts[j] = pos;
      for (let p = 0; p < nPatches; p++) { img[pos] = j; imgPos[pos] = p; pos++; }
      tokens[pos++] = eoi;
    }
    while (pos < len) tokens[pos++] = rng.int(0, textVocab);
    L.len.push(len); L.tokens.push(tokens); L.img.push(img); L.imgPos.push(imgPos); L.imgStart.push(starts);
  }
  return L;
}

export function exampleInputs(program: Program, graph: Graph, seed: number, o: ExampleOptions = {}): Map<string, HostTensor> {
  const generator = chooseGenerator(program, o.generator).name;
  const dims = exampleDims(program, graph, generator, o);
  // Bounded before anything is generated (--batch 4096 --seq 1048576 used to abort out of memory): docs/errors.md.
  const total = graph.inputs.reduce((acc, inp) => acc + inp.shape.reduce((a, d) => a * Math.max(0, dimEval(d, dims)), 1), 0);
  if (total > MAX_EXAMPLE_ELEMENTS) {
    throw new ExampleError(`the inputs at ${Object.entries(dims).map(([k, v]) => `${k} = ${v}`).join(', ')} have ${total} elements; example inputs are limited to ${MAX_EXAMPLE_ELEMENTS}`, 'TFX7002');
  }
  const rng = Rng.seeded(seed);
  const cfg = program.config;
  let layout: Layout | undefined;
  if (generator === 'transfusion') {
    const B = dims.B ?? o.batch ?? 2, S = dims.S ?? o.seq ?? 64, N = dims.N ?? o.images ?? 2;
    if (!(B >= 1 && S >= 1 && N >= 1)) throw new ExampleError('batch, sequence length and image slots must be at least 1');
    layout = makeLayout(rng, { batch: B, seq: S, images: N }, cfg.n_patches ?? 0, cfg.vocab ?? 256, cfg.boi ?? 0, cfg.eoi ?? 0);
  }
  const T = cfg.T ?? 1000;
  const out = new Map<string, HostTensor>();
  for (const inp of graph.inputs) {
    const name = inp.arg.name;
    const shape = inp.shape.map((d) => dimEval(d, dims));
    const n = shape.reduce((a, b) => a * b, 1);
    let data: number[] | Float32Array;
    if (layout && name === 'tokens') data = layout.tokens.flat();
    else if (layout && name === 'img') data = layout.img.flat();
    else if (layout && name === 'img_pos') data = layout.imgPos.flat();
    else if (layout && name === 'img_start') data = layout.imgStart.flat();
    else if (layout && name === 'len') data = layout.len;
    else if (layout && name === 't') data = Array.from({ length: n }, () => rng.int(0, T));
    else data = randomValues(program, inp, n, rng);
    if (data.length !== n) throw new ExampleError(`input '${name}': layout gives ${data.length} values, shape [${shape.join(', ')}] needs ${n}`);
    out.set(name, hostTensor(inp.dtype, shape, data instanceof Float32Array ? data : isFloat(inp.dtype) ? Float32Array.from(data) : Int32Array.from(data)));
  }
  return out;
}
