/**
 * Every CUDA kernel of the Transfusion spec compiles with nvcc for sm_80 and sm_90 with no warnings, and
 * ptxas reports registers and spills for each. Tiny preset: the forward and loss modules whole (fused
 * attention), plus the kernels the unfused lowering adds. The 0.16b and 7b presets: their forward modules,
 * which define one function per distinct kernel (hundreds of launches, a few dozen functions).
 */
import { describe, expect, it } from 'vitest';
import { renderCuda, type RenderedCudaKernel } from '../../src/codegen-cuda/cuda.js';
import { assembleCudaModule, dedupeKernels, kernelFingerprint, renderCudaModule } from '../../src/codegen-cuda/module.js';
import { compileFile } from '../../src/driver.js';
import type { Program } from '../../src/ir/graph.js';
import type { KernelPlan } from '../../src/ir/kernel.js';
import { lowerGraph, type LowerOptions } from '../../src/ir/lower.js';
import { programToF16 } from '../../src/ir/precision.js';
import { nvccAvailable, nvccCompile, type CudaArch } from '../../src/runtime/cuda/nvcc.js';

const haveNvcc = nvccAvailable();
if (!haveNvcc) console.warn('test/cuda/render-transfusion: nvcc not found (set CUDA_HOME or TFX_NVCC): CUDA compile checks skipped');
const ARCHS: CudaArch[] = ['sm_80', 'sm_90'];
const T = 600_000;

function plan(program: Program, entry: string, opts: LowerOptions = {}): KernelPlan {
  return lowerGraph(program.entries.find((g) => g.entry === entry)!, program.symbols, opts);
}

/** Compiles `source` and checks: no errors, no warnings, one stats line per kernel, nothing absurd in them. */
async function compileClean(source: string, kernels: readonly RenderedCudaKernel[], arch: CudaArch) {
  const t0 = Date.now();
  const r = await nvccCompile(source, { arch });
  const seconds = (Date.now() - t0) / 1000;
  expect(r.errors, `nvcc errors for ${arch}`).toEqual([]);
  expect(r.warnings, `nvcc warnings for ${arch}`).toEqual([]);
  expect(r.ok).toBe(true);
  // One function per distinct kernel: instances launch the function of the first of their kind.
  expect(r.stats.map((s) => s.kernel).sort()).toEqual([...new Set(kernels.map((k) => k.fn))].sort());
  for (const s of r.stats) {
    expect(s.registers, s.kernel).toBeGreaterThan(0);
    expect(s.registers, s.kernel).toBeLessThanOrEqual(255);
    expect(Number.isInteger(s.spillStores) && Number.isInteger(s.spillLoads), s.kernel).toBe(true);
    const k = kernels.find((x) => x.fn === s.kernel)!;
    expect(s.sharedBytes, s.kernel).toBeGreaterThanOrEqual(k.staticSharedBytes);
  }
  return { stats: r.stats, seconds };
}

describe.skipIf(!haveNvcc)('CUDA modules of the tiny Transfusion compile cleanly', () => {
  const { program } = compileFile('models/transfusion.tfx', { preset: 'tiny' });
  for (const entry of ['forward', 'loss']) {
    for (const arch of ARCHS) {
      it.concurrent(`${entry}, fused attention, ${arch}: the whole module`, async () => {
        const p = plan(program, entry);
        const mod = renderCudaModule(p, program);
        const { stats, seconds } = await compileClean(mod.source, mod.kernels, arch);
        const spilled = stats.filter((s) => s.spillStores + s.spillLoads > 0);
        console.log(`tiny ${entry} ${arch}: ${stats.length} kernels in ${seconds.toFixed(1)} s; max ${Math.max(...stats.map((s) => s.registers))} registers; spills in ${spilled.length}`);
      }, T);
    }
    for (const arch of ARCHS) {
      it.concurrent(`${entry}, unfused attention, ${arch}: the kernels the fused module lacks`, async () => {
        const fused = new Set(renderCudaModule(plan(program, entry), program).kernels.map(kernelFingerprint));
        const p = plan(program, entry, { attention: 'unfused' });
        const all = p.kernels.map((k) => renderCuda(k, p.buffers, p.symbols));
        const extra = dedupeKernels(all).filter((k) => !fused.has(kernelFingerprint(k)));
        expect(extra.some((k) => k.name.includes('masked_softmax'))).toBe(true);
        await compileClean(assembleCudaModule(p, extra, program), extra, arch);
      }, T);
    }
  }
});

describe.skipIf(!haveNvcc)('CUDA module of the tiny Transfusion in f16 storage', () => {
  it.concurrent('forward, sm_90: half loads and stores convert explicitly', async () => {
    const program = programToF16(compileFile('models/transfusion.tfx', { preset: 'tiny' }).program);
    const mod = renderCudaModule(plan(program, 'forward'), program);
    expect(mod.source).toContain('__float2half_rn(');
    await compileClean(mod.source, mod.kernels, 'sm_90');
  }, T);
});

// 0.16b has head dim 64 like 0.37b and 0.76b; 7b has head dim 128 like 1.4b, which changes the attention
// kernel (and the register pressure of every tile), so both families are compiled.
for (const preset of ['0.16b', '7b']) describe.skipIf(!haveNvcc)(`CUDA module of the ${preset} Transfusion forward`, () => {
  const { program } = compileFile('models/transfusion.tfx', { preset });
  const p = plan(program, 'forward');
  const mod = renderCudaModule(p, program);
  const fns = new Set(mod.kernels.map((k) => k.fn));

  it('has many kernels but few distinct ones, and every kind', () => {
    expect(mod.kernels.length).toBeGreaterThan(150);
    expect(fns.size).toBe(mod.distinct);
    expect(fns.size).toBeLessThan(40);
    expect(new Set(p.kernels.filter((k) => fns.has(k.name)).map((k) => k.kind))).toEqual(new Set(['map', 'row', 'matmul', 'attention']));
    // Structurally identical kernels share code: the module has one function per distinct kernel.
    expect(mod.source.match(/__global__/g)!.length).toBe(fns.size);
  });

  for (const arch of ARCHS) {
    it.concurrent(`compiles for ${arch} (the whole module)`, async () => {
      const { seconds } = await compileClean(mod.source, mod.kernels, arch);
      console.log(`${preset} forward ${arch}: ${fns.size} functions for ${mod.kernels.length} kernels in ${seconds.toFixed(1)} s`);
    }, T);
  }
});
