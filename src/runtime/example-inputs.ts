/**
 * Valid random batches for an entry. Inputs named after the Transfusion layout (tokens, img, img_pos,
 * img_start, len, t, latents / x0 / noise) get a real mixed-modality layout: several sequence lengths with
 * right padding, text tokens, images wrapped in BOI/EOI at random places, consistent image metadata, random
 * timesteps. Any other input gets random values of its dtype.
 */
import { dimEval } from '../core/dim.js';
import { isFloat } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import type { Graph, Program } from '../ir/graph.js';
import { Rng } from './rng.js';
import { TfxError, type UserCode } from '../errors.js';

export class ExampleError extends TfxError {
  override name = 'ExampleError';
  constructor(message: string, code: UserCode = 'TFX5002') { super(code, message); }
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

export function exampleInputs(program: Program, graph: Graph, seed: number, o: Partial<LayoutOptions> = {}): Map<string, HostTensor> {
  const rng = Rng.seeded(seed);
  const cfg = program.config;
  const nPatches = cfg.n_patches ?? 0;
  const seqDefault = nPatches > 0 ? Math.max(64, 2 * (nPatches + 2) + 16) : 64;
  const B = o.batch ?? 2, S = o.seq ?? seqDefault, N = o.images ?? 2;
  if (!(B >= 1 && S >= 1 && N >= 1)) throw new ExampleError('batch, sequence length and image slots must be at least 1');
  const dims: Record<string, number> = {};
  for (const s of program.symbols) dims[s] = s === 'B' ? B : s === 'S' ? S : s === 'N' ? N : 4;
  const layout = nPatches > 0 ? makeLayout(rng, { batch: B, seq: S, images: N }, nPatches, cfg.vocab ?? 256, cfg.boi ?? 0, cfg.eoi ?? 0) : undefined;
  const T = cfg.T ?? 1000;
  const out = new Map<string, HostTensor>();
  for (const inp of graph.inputs) {
    const name = inp.arg.name;
    const shape = inp.shape.map((d) => dimEval(d, dims));
    const n = shape.reduce((a, b) => a * b, 1);
    const flat2 = (rows: number[][]) => rows.flat();
    let data: number[] | Float32Array;
    if (layout && name === 'tokens') data = flat2(layout.tokens);
    else if (layout && name === 'img') data = flat2(layout.img);
    else if (layout && name === 'img_pos') data = flat2(layout.imgPos);
    else if (layout && name === 'img_start') data = flat2(layout.imgStart);
    else if (layout && name === 'len') data = layout.len;
    else if (layout && name === 't') data = Array.from({ length: n }, () => rng.int(0, T));
    else if (isFloat(inp.dtype)) { const f = new Float32Array(n); for (let i = 0; i < n; i++) f[i] = rng.normal(); data = f; }
    else if (inp.dtype === 'bool') data = Array.from({ length: n }, () => rng.int(0, 2));
    else data = Array.from({ length: n }, () => rng.int(0, 8));
    if (data.length !== n) throw new ExampleError(`input '${name}': layout gives ${data.length} values, shape [${shape.join(', ')}] needs ${n}`);
    out.set(name, hostTensor(inp.dtype, shape, data instanceof Float32Array ? data : isFloat(inp.dtype) ? Float32Array.from(data) : Int32Array.from(data)));
  }
  return out;
}
