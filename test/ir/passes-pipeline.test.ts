import { describe, expect, it, vi } from 'vitest';
import { hostTensor, type HostTensor } from '../../src/core/tensor.js';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/driver.js';
import { Builder } from '../../src/ir/builder.js';
import { graphNodes, type Graph } from '../../src/ir/graph.js';
import { interpret } from '../../src/ir/interpreter.js';
import { allStageNames, PassError, PIPELINE, runGraphPipeline, runPipeline } from '../../src/ir/pipeline.js';
import { printGraph } from '../../src/ir/print.js';
import { verifyGraph } from '../../src/ir/verify.js';
import { B, graph, raw, sh } from './cases/graph-helpers.js';

const SPEC = 'models/transfusion.tfx';

function small(): Graph {
  const b = new Builder();
  const x = b.input('x', 'f32', sh(B, 3));
  return graph([x], { y: b.unary('neg', b.unary('neg', b.binary('mul', x, b.binary('add', b.const(0.5), b.const(0.5))))) });
}

describe('pipeline', () => {
  it('is one table of named stages, elaborate first', () => {
    expect(PIPELINE.map((s) => s.name)).toEqual(['elaborate', 'specializeShapes', 'foldConstants', 'simplify', 'cse', 'dce']);
  });

  it('dumps after a named stage: elaborate shows the input, later stages show each rewrite', () => {
    const g = small();
    const dumps = new Map<string, string>();
    for (const s of PIPELINE) runGraphPipeline(g, { dumpAfter: s.name, onDump: (n, d) => dumps.set(n, printGraph(d)) });
    expect(dumps.get('elaborate')).toBe(printGraph(g));
    expect(dumps.get('foldConstants')).toContain('const 1.0 : f32[]');
    expect(dumps.get('foldConstants')).toContain('neg');
    expect(dumps.get('simplify')).toBe('entry main {\n  %0 = input "x" : f32[B, 3]\n  out y = %0\n}');
    expect(printGraph(runGraphPipeline(g))).toBe(dumps.get('simplify'));
    expect(() => runGraphPipeline(g, { dumpAfter: 'fuse' })).toThrow(PassError);
  });

  it('verifies after every pass and names the pass that broke an invariant', () => {
    const breaks = { name: 'breakShapes', summary: '', run: (g: Graph) => ({ ...g, outputs: [{ name: 'y', node: raw('unary', 'f32', sh(7), [g.inputs[0]!], { op: 'exp' }) }] }) };
    expect(() => runGraphPipeline(small(), { stages: [...PIPELINE, breaks] })).toThrow(/pass 'breakShapes' broke an IR invariant in entry 'main': %1 \(unary\): shape should be \[B, 3\]/);
  });

  it('runs the Transfusion tiny entries without verifier errors, never adding nodes', () => {
    const { program } = compileFile(SPEC, { preset: 'tiny' });
    for (const dims of [undefined, { B: 2, S: 64, N: 2 }]) {
      const out = runPipeline(program, { dims });
      program.entries.forEach((g, i) => {
        const after = out.entries[i]!;
        expect(verifyGraph(after)).toEqual([]);
        expect(after.outputs.map((o) => o.name)).toEqual(g.outputs.map((o) => o.name));
        expect(graphNodes(after).length).toBeLessThanOrEqual(graphNodes(g).length);
      });
      if (dims) expect(printGraph(out.entries[0]!)).not.toMatch(/\b[BSN]\b/);
    }
  });

  it('keeps what the Transfusion tiny forward computes (interpreter, before vs after, B=1 S=12 N=1)', () => {
    const { program } = compileFile(SPEC, { preset: 'tiny', entries: ['forward'] });
    const g = program.entries[0]!;
    const dims = { B: 1, S: 12, N: 1 };
    let seed = 7;
    const rnd = () => { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 2 ** 32; };
    const params = new Map<string, HostTensor>(program.params.map((p) => {
      const n = p.shape.reduce((a, c) => a * c, 1);
      return [p.name, hostTensor(p.dtype, p.shape, Float32Array.from({ length: n }, () => (rnd() - 0.5) * 0.2))];
    }));
    const ints: Record<string, () => number> = { tokens: () => Math.floor(rnd() * 259), img: () => (rnd() < 0.5 ? -1 : 0), img_pos: () => Math.floor(rnd() * 16), img_start: () => 2, len: () => 10, t: () => Math.floor(rnd() * 1000) };
    const inputs = new Map<string, HostTensor>(g.inputs.map((n) => {
      const shape = n.shape.map((d) => Number(d.key.replace(/[BSN]/g, (s) => String(dims[s as 'B']))));
      const len = shape.reduce((a, c) => a * c, 1);
      const gen = ints[n.arg.name];
      return [n.arg.name, gen ? hostTensor('i32', shape, Int32Array.from({ length: len }, gen)) : hostTensor('f32', shape, Float32Array.from({ length: len }, rnd))];
    }));
    const before = interpret(g.outputs.map((o) => o.node), { inputs, params, dims });
    for (const d of [undefined, dims]) {
      const after = runGraphPipeline(g, { dims: d });
      const got = interpret(after.outputs.map((o) => o.node), { inputs, params, dims });
      got.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(before[i]!.data)));
    }
  });
});

describe('tfx ir', () => {
  async function run(args: string[]) {
    let out = '', err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
    try { return { rc: await main(args), out, err }; } finally { o.mockRestore(); e.mockRestore(); }
  }

  it('prints the IR of one entry after the pipeline or after a named pass', async () => {
    const all = await run(['ir', SPEC, '--entry', 'forward']);
    expect(all.rc).toBe(0);
    expect(all.out).toMatch(/^# model transfusion, preset \w+, after dce\nentry forward \{\n  %0 = input "tokens" : i32\[B, S\]/);
    expect(all.out).toContain('out logits = %');
    expect(all.out).not.toContain('entry loss');
    const early = await run(['ir', SPEC, '--dump-after', 'elaborate']);
    expect(early.rc).toBe(0);
    expect(early.out).toContain('after elaborate\nentry forward {');
    expect(early.out).toContain('\n\nentry loss {');
  });

  it('rejects an unknown stage with the list of stages', async () => {
    const r = await run(['ir', SPEC, '--dump-after', 'nosuchstage']);
    expect(r.rc).toBe(2);
    expect(r.err).toContain("tfx ir: unknown stage 'nosuchstage' for --dump-after; the stages are parse, elaborate, specializeShapes, foldConstants, simplify, cse, dce, fuse, schedule, memory, render");
  });

  // What each stage's dump must show: its own IR, not the last one's.
  const marks: Record<string, RegExp> = {
    parse: /"decls": \[/, elaborate: /entry forward \{/, specializeShapes: /entry forward \{/, foldConstants: /entry forward \{/,
    simplify: /entry forward \{/, cse: /entry forward \{/, dce: /entry forward \{/,
    fuse: /plan forward: \d+ kernels[\s\S]*k\d+_matmul matmul[\s\S]*epilogue\(acc\) = /,
    // Kernel IR: the attention kernel's tile loop, and a workgroup reduction's shared array and barrier.
    schedule: /^(?=[\s\S]*kernel k\d+_attention [\s\S]*for t in 0\.\.nkt:)(?=[\s\S]*sh_f32\[lix\] = [^\n]*\n\s*barrier)/,
    memory: /slot0 \d+ bytes: buf\d+/, render: /@compute @workgroup_size\(/,
  };
  it('reaches every stage of the pipeline by --dump-after', async () => {
    expect(Object.keys(marks)).toEqual(allStageNames());
    for (const stage of allStageNames()) {
      const r = await run(['ir', SPEC, '--entry', 'forward', '--dump-after', stage]);
      expect(r.rc, `${stage}: ${r.err}`).toBe(0);
      expect(r.out, stage).toMatch(marks[stage]!);
    }
    const cu = await run(['ir', SPEC, '--entry', 'forward', '--dump-after', 'render', '--target', 'cuda']);
    expect(cu.out).toContain('extern "C" __global__');
  });
});
