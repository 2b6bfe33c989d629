/**
 * Run, compile and bench go through the one pipeline (src/ir/pipeline.ts planEntry): for the same spec they
 * produce the same kernel IR and the same source. Each path is called as its command calls it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { benchPlan } from '../../bench/suite.js';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/driver.js';
import { buildKernel } from '../../src/ir/kernel-build.js';
import { printBody } from '../../src/ir/kernel-ir.js';
import type { KernelPlan } from '../../src/ir/kernel.js';
import { compileCudaEntry } from '../../src/runtime/cuda/program.js';
import { compileEntry } from '../../src/runtime/webgpu/program.js';

const SPEC = 'models/transfusion.tfx';
const dir = mkdtempSync(join(tmpdir(), 'tfx-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kernelIr = (p: KernelPlan) => p.kernels.map((k) => printBody(buildKernel(k, p.buffers, p.symbols)));

async function cli(args: string[]): Promise<number> {
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try { return await main(args); } finally { o.mockRestore(); e.mockRestore(); }
}

describe('run, compile and bench share the pipeline', () => {
  const { program } = compileFile(SPEC, { preset: 'tiny' });
  const run = compileEntry(program, 'forward');

  it('bench measures the kernel IR that run executes', () => {
    const bench = benchPlan(SPEC, 'tiny', 'forward');
    expect(kernelIr(bench.plan)).toEqual(kernelIr(run.plan));
  });

  it('compile writes the WGSL that run executes, one file per distinct kernel', async () => {
    expect(await cli(['compile', SPEC, '--preset', 'tiny', '--entry', 'forward', '-o', join(dir, 'wgsl')])).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, 'wgsl', 'forward', 'plan.json'), 'utf8')) as { kernels: { name: string; file: string }[] };
    expect(plan.kernels.map((k) => k.name)).toEqual(run.plan.kernels.map((k) => k.name));
    expect(new Set(plan.kernels.map((k) => k.file)).size).toBeLessThan(plan.kernels.length);
    plan.kernels.forEach((k, i) => {
      const text = readFileSync(join(dir, 'wgsl', 'forward', k.file), 'utf8').replace(/^\/\/ shared by .*\n/, '');
      expect(text, k.name).toBe(run.kernels[i]!.code);
    });
  });

  it('compile --target cuda writes the module the CUDA backend runs', async () => {
    expect(await cli(['compile', SPEC, '--preset', 'tiny', '--entry', 'forward', '--target', 'cuda', '-o', join(dir, 'cu')])).toBe(0);
    expect(readFileSync(join(dir, 'cu', 'forward', 'module.cu'), 'utf8')).toBe(compileCudaEntry(program, 'forward').source);
  });
});
