/**
 * Provenance: graph nodes carry the spec spans (and block call chain) they came from, through every pass, the
 * f16 rewrite and fusion into kernels; `tfx ir` and plan.json show them. Expected lines are found in the spec
 * text, not taken from the compiler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/driver.js';
import { graphNodes, type Node } from '../../src/ir/graph.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { runPipeline } from '../../src/ir/pipeline.js';
import { programToF16 } from '../../src/ir/precision.js';
import { collapsePaths, originsOf, summarizeOrigins, type Origin } from '../../src/ir/provenance.js';

const ROOT = join(import.meta.dirname, '../..');
const TF = 'models/transfusion.tfx';
const OTHER = 'test/cli/fixtures/other-dims.tfx';
/** 1-based line and column of the first occurrence of `text` in a file. */
function find(file: string, text: string): { line: number; col: number } {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  expect(i, `${text} in ${file}`).toBeGreaterThanOrEqual(0);
  return { line: i + 1, col: lines[i]!.indexOf(text) + 1 };
}
const has = (os: readonly Origin[], o: Partial<Origin>) => os.some((x) => Object.entries(o).every(([k, v]) => x[k as keyof Origin] === v));
const computed = (n: Node) => !['input', 'param', 'const'].includes(n.op);

describe('provenance through elaboration, passes and fusion', () => {
  it('a node records the span of the expression that made it and its block call chain', () => {
    const { program } = compileFile(OTHER);
    const at = find(OTHER, 'x @ w1');
    const mm = graphNodes(program.entries[0]!).filter((n) => n.op === 'matmul');
    expect(mm.some((n) => has(originsOf(n), { line: at.line, col: at.col, path: 'mix', block: 'mix' }))).toBe(true);
    const out = find(OTHER, 'h @ head');
    expect(mm.some((n) => has(originsOf(n), { line: out.line, col: out.col, path: '', block: 'main' }))).toBe(true);
  });

  it('every computed node keeps an origin through the whole pipeline and the f16 rewrite', () => {
    const { program } = compileFile(TF, { entries: ['forward', 'loss'] });
    for (const p of [runPipeline(program), runPipeline(programToF16(program))])
      for (const g of p.entries) {
        const bare = graphNodes(g).filter((n) => computed(n) && originsOf(n).length === 0);
        expect(bare.map((n) => `${g.entry}: ${n.op}`)).toEqual([]);
      }
  });

  it("a fused kernel carries the spans of every op it fused, with the repeat index in the call chain", () => {
    const { program } = compileFile(TF, { entries: ['forward'] });
    const plan = lowerGraph(runPipeline(program).entries[0]!, program.symbols);
    expect(plan.kernels.filter((k) => !(k.src ?? []).length).map((k) => k.name)).toEqual([]);
    const wq = find(TF, 'x @ wq'), ffn = find(TF, '(silu(x @ w1) * (x @ w3))');
    for (const layer of [0, 1]) {
      expect(plan.kernels.some((k) => k.kind === 'matmul' && has(k.src!, { line: wq.line, path: `layers.${layer}.attn`, block: 'self_attention' }))).toBe(true);
      // The SwiGLU gate: one matmul kernel whose epilogue fused silu and the product, all from the ffn line.
      const gate = plan.kernels.find((k) => k.kind === 'matmul' && /silu/.test(k.label) && has(k.src!, { path: `layers.${layer}.mlp` }));
      expect(gate?.label).toMatch(/matmul \+ .*mul/);
      expect(gate?.src?.every((o) => o.line === ffn.line)).toBe(true);
    }
  });

  it('kernels lowered together keep their own spans: the q rope copy is not tagged with the attention line', () => {
    const { program } = compileFile(TF, { entries: ['forward'] });
    const plan = lowerGraph(runPipeline(program).entries[0]!, program.symbols);
    const att = find(TF, 'return attention(q, k, v'), q = find(TF, 'let q = rope(');
    const flash = plan.kernels.filter((k) => k.kind === 'attention');
    expect(flash.length).toBe(2);
    for (const k of flash) expect(k.src!.map((o) => o.line)).toEqual([att.line]);
    const rope = plan.kernels.filter((k) => /rope/.test(k.label) && k.src!.some((o) => o.line === q.line));
    expect(rope.length).toBe(2);
    for (const k of rope) expect(k.src!.some((o) => o.line === att.line)).toBe(false);
  });

  it('summaries collapse repeated layers and list lines once', () => {
    expect(collapsePaths(['layers.0.attn', 'layers.1.attn', 'layers.2.attn', 'final'])).toEqual(['final', 'layers.{0..2}.attn']);
    expect(collapsePaths(['layers.0.mlp', 'layers.3.mlp'])).toEqual(['layers.{0,3}.mlp']);
    const o = (line: number, path: string): Origin => ({ line, col: 1, path, block: 'b' });
    expect(summarizeOrigins([o(58, 'layers.0.attn'), o(82, 'layers.1.attn'), o(58, 'layers.1.attn')], 'm.tfx')).toBe('layers.{0..1}.attn @ m.tfx:58, :82');
    expect(summarizeOrigins([o(9, '')], 'm.tfx')).toBe('m.tfx:9');
  });
});

describe('tfx ir and compile show provenance', () => {
  async function tfx(...args: string[]) {
    let out = '', err = '';
    const so = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
    const se = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    try { return { rc: await main(args), out, err }; } finally { so.mockRestore(); se.mockRestore(); }
  }

  it('ir --dump-after prints each node with its call chain and file:line:col', async () => {
    const wq = find(TF, 'x @ wq');
    for (const stage of ['elaborate', 'dce']) {
      const r = await tfx('ir', TF, '--entry', 'forward', '--dump-after', stage);
      expect(r.rc, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`= matmul .*# layers\\.1\\.attn \\(self_attention\\) models/transfusion\\.tfx:${wq.line}:${wq.col}$`, 'm'));
    }
  });
});
