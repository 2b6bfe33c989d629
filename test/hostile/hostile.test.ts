/**
 * The standing corpus of hostile specs (test/hostile/corpus, one per file) and a mutation fuzzer over the whole
 * path: parse, check, lower, render WGSL and CUDA, and (for a sample) validate the WGSL with Dawn. Every input
 * either compiles or fails with a coded user error (SpecError, TfxError, UsageError); anything else is a tfx bug.
 *
 * Corpus headers:   # expect: ok | TFXnnnn            outcome of check + compile
 *                   # dims: B=2 S=4 -> TFXnnnn        binding these dims is refused with that code
 *                   # entries: f g                    the entries the spec must have
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCudaModule } from '../../src/codegen-cuda/module.js';
import { renderWgsl } from '../../src/codegen-wgsl/wgsl.js';
import { SpecError, UsageError, compileSource, readSpec } from '../../src/driver.js';
import { splitLines } from '../../src/dsl/diagnostics.js';
import { tfxLexer } from '../../src/dsl/lexer.js';
import { TfxError } from '../../src/errors.js';
import type { Program } from '../../src/ir/graph.js';
import { lowerGraph } from '../../src/ir/lower.js';
import { checkRequirements } from '../../src/runtime/bind.js';

const DIR = join(import.meta.dirname, 'corpus');
const ROOT = join(import.meta.dirname, '../..');

/** The whole compile path; returns the WGSL it rendered, or the code of the user error it stopped at. */
function wholePath(source: string, file: string): { program?: Program; wgsl: string[]; code?: string } {
  let program: Program;
  try { program = compileSource(source, file).program; } catch (e) { return { wgsl: [], code: outcomeOf(e, source) }; }
  const wgsl: string[] = [];
  for (const g of program.entries) {
    const plan = lowerGraph(g, program.symbols);
    for (const k of plan.kernels) wgsl.push(renderWgsl(k, plan.buffers, plan.symbols).code);
    renderCudaModule(plan, program);
  }
  return { program, wgsl };
}

function outcomeOf(e: unknown, source: string): string {
  if (e instanceof SpecError) return e.diagnostics[0]!.code;
  if (e instanceof TfxError) return e.code;
  if (e instanceof UsageError) return 'misuse';
  throw new Error(`internal error (${(e as Error)?.constructor?.name}): ${(e as Error)?.message?.slice(0, 300)}\ninput: ${JSON.stringify(source.slice(0, 600))}`);
}

describe('hostile corpus', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.tfx')).sort();
  it('is not empty', () => expect(files.length).toBeGreaterThanOrEqual(10));
  for (const f of files) {
    it(f, () => {
      const source = readSpec(join(DIR, f));
      const header = (k: string) => splitLines(source).flatMap((l) => (l.startsWith(`# ${k}: `) ? [l.slice(k.length + 4)] : []))[0];
      const want = header('expect');
      expect(want, 'a corpus file starts with # expect:').toBeDefined();
      const r = wholePath(source, f);
      expect(r.code ?? 'ok').toBe(want);
      const entries = header('entries');
      if (entries) expect(r.program!.entries.map((g) => g.entry)).toEqual(entries.split(' '));
      const dims = header('dims');
      if (dims) {
        const [bind, code] = dims.split(' -> ') as [string, string];
        const d = Object.fromEntries(bind.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
        const got = (() => { try { for (const g of r.program!.entries) checkRequirements(g.requires, d); return 'ok'; } catch (e) { return outcomeOf(e, source); } })();
        expect(got).toBe(code);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Mutation fuzzer: random token edits of the corpus and of models/transfusion.tfx.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0; return s / 2 ** 32; };
}
const HOSTILE_NUMBERS = ['0', '1', '-1', '4096', '65536', '2147483647', '2147483648', '4294967296', '1099511627776', '1e30', '0.0'];

function mutate(source: string, r: () => number, maxEdits = 3): string {
  const toks = tfxLexer.tokenize(source).tokens;
  if (toks.length === 0) return source;
  let out = source;
  const edits = 1 + Math.floor(r() * maxEdits);
  for (let e = 0; e < edits; e++) {
    const t = toks[Math.floor(r() * toks.length)]!;
    const other = toks[Math.floor(r() * toks.length)]!;
    const at = t.startOffset, end = t.endOffset! + 1;
    if (end > out.length) continue;
    const kind = r();
    const repl = kind < 0.25 ? '' // delete
      : kind < 0.45 ? `${t.image} ${t.image}` // duplicate
      : kind < 0.7 ? other.image // swap in another token of the file
      : t.tokenType.name === 'Int' || t.tokenType.name === 'Float' || r() < 0.3 ? HOSTILE_NUMBERS[Math.floor(r() * HOSTILE_NUMBERS.length)]!
      : other.image;
    out = out.slice(0, at) + repl + out.slice(end); // offsets past `at` shift; later edits may land mid-token, also fine
  }
  return out;
}

/** One integer literal replaced by a hostile size (the sizes class: extents, config values, repeat counts). */
function mutateNumber(source: string, r: () => number): string {
  const ints = tfxLexer.tokenize(source).tokens.filter((t) => t.tokenType.name === 'Int');
  const t = ints[Math.floor(r() * ints.length)]!;
  return source.slice(0, t.startOffset) + HOSTILE_NUMBERS[Math.floor(r() * HOSTILE_NUMBERS.length)]! + source.slice(t.endOffset! + 1);
}

describe('mutation fuzzer over the whole path', () => {
  const seeds = readdirSync(DIR).filter((f) => f.endsWith('.tfx')).map((f) => readSpec(join(DIR, f)))
    .filter((s) => /# expect: ok/.test(s));
  const transfusion = readSpec(join(ROOT, 'models/transfusion.tfx'));

  it('every mutant of the corpus compiles or fails with a coded user error', () => {
    const r = rng(12);
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const src = mutate(seeds[i % seeds.length]!, r);
      const o = wholePath(src, 'mutant.tfx').code ?? 'ok';
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
    }
    // Not vacuous: some mutants still compile all the way, and some fail.
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(5);
    expect([...outcomes.keys()].length).toBeGreaterThan(3);
  });

  it('mutants of models/transfusion.tfx (tiny) compile or fail with a coded user error', { timeout: 120_000 }, () => {
    expect(wholePath(transfusion, 'transfusion.tfx').code).toBeUndefined();
    const r = rng(7);
    let compiled = 0;
    for (let i = 0; i < 10; i++) if (wholePath(i % 2 ? mutateNumber(transfusion, r) : mutate(transfusion, r, 1), 'transfusion-mutant.tfx').code === undefined) compiled++;
    expect(compiled).toBeGreaterThan(0);
  });

  it('Dawn accepts the WGSL of a sample of compiling mutants', { timeout: 120_000 }, async () => {
    const { gpu } = await import('../numeric/helpers.js');
    const { checkWgsl } = await import('../../src/runtime/webgpu/check.js');
    const ctx = await gpu();
    const r = rng(99);
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 12; i++) {
      for (const code of wholePath(mutate(seeds[i % seeds.length]!, r, 1), 'mutant.tfx').wgsl) {
        if (seen.size >= 12 || seen.has(code)) continue;
        seen.add(code);
        const c = await checkWgsl(ctx, code);
        expect(c.errors, code).toEqual([]);
      }
    }
    expect(seen.size).toBeGreaterThan(3);
  });
});
