/** The CUDA op table and kernel signatures, without a compiler: what the printed text must say and why. */
import { describe, expect, it } from 'vitest';
import { dimConst, dimSym } from '../../src/core/dim.js';
import { CUDA, f32Literal, renderCuda } from '../../src/codegen-cuda/cuda.js';
import { dedupeKernels, kernelFingerprint, renderCudaModule } from '../../src/codegen-cuda/module.js';
import { Builder } from '../../src/ir/builder.js';
import { lowerGraph } from '../../src/ir/lower.js';

describe('CUDA literals and operators', () => {
  it('prints floats so the f32 value survives a round trip, and non-finite values through their bits', () => {
    expect(f32Literal(1)).toBe('1.0f');
    expect(f32Literal(-2)).toBe('(-2.0f)');
    expect(f32Literal(1e-5)).toBe(`${Math.fround(1e-5)}f`);
    expect(Math.fround(Number(f32Literal(0.1).slice(0, -1)))).toBe(Math.fround(0.1));
    expect(f32Literal(NaN)).toBe('__int_as_float(0x7fc00000)');
    expect(f32Literal(-Infinity)).toBe('(-__int_as_float(0x7f800000))');
    expect(CUDA.literal(-2147483648, 'i32')).toBe('(-2147483647 - 1)');
    expect(CUDA.literal(1, 'bool')).toBe('true');
  });

  it('guards integer division and remainder unless the divisor is a positive literal', () => {
    expect(CUDA.binary.div('a', '4', 'i32')).toBe('(a / 4)');
    expect(CUDA.binary.div('a', 'dims[0]', 'i32')).toBe('tfx_idiv(a, dims[0])');
    expect(CUDA.binary.mod('a', '(-3)', 'i32')).toBe('tfx_imod(a, (-3))');
    expect(CUDA.binary.mod('a', 'b', 'f32')).toBe('fmodf(a, b)');
    expect(CUDA.binary.div('a', 'b', 'f32')).toBe('(a / b)');
  });

  it('uses the precise math functions, so CPU emulation and GPU agree', () => {
    expect(CUDA.unary.exp('x')).toBe('expf(x)');
    expect(CUDA.unary.silu('x')).not.toContain('__expf');
    expect(CUDA.cast('x', 'f32', 'i32')).toBe('tfx_f2i(x)');
    expect(CUDA.cast('x', 'bool', 'f32')).toBe('(x ? 1.0f : 0.0f)');
  });
});

describe('CUDA kernel signatures', () => {
  const g = new Builder();
  const S = dimSym('S');
  const x = g.input('x', 'f32', [S, dimConst(8)]);
  const w = g.input('w', 'f32', [dimConst(8), dimConst(8)]);
  const y = g.unary('exp', g.binary('add', x, g.const(1)));
  const z = g.unary('exp', g.binary('add', g.matmul(x, w), g.const(1)));
  const graph = { entry: 'e', inputs: [x, w], outputs: [{ name: 'y', node: y }, { name: 'z', node: z }] };
  const plan = lowerGraph(graph, ['S'], {});
  const mod = renderCudaModule(plan);

  it('take dims first, then the buffers they touch in id order; only the output is writable', () => {
    const k = mod.kernels[0]!;
    expect(k.params[0]).toBe(-1);
    expect(k.params.slice(1)).toEqual([...k.params.slice(1)].sort((a, b) => a - b));
    const out = plan.kernels[0]!.out;
    expect(k.code).toContain(`float* __restrict__ g${out}`);
    expect(k.code).not.toContain(`const float* __restrict__ g${out}`);
    expect(k.code).toMatch(/^\/\/ k0_\w+: .*\nextern "C" __global__ void __launch_bounds__\(\d+\) k0_\w+\(const int\* __restrict__ dims/);
  });

  it('launch shapes follow the bound sizes', () => {
    const mm = mod.kernels.find((k) => k.name.includes('matmul'))!;
    expect(mm.block).toEqual([8, 8, 1]);
    expect(mm.grid([100])).toEqual([1, 4, 1]);       // N = 8 -> 1 column of 32; M = 100 -> 4 rows of 32
    const map = mod.kernels.find((k) => k.name.includes('map'))!;
    expect(map.grid([100])).toEqual([13, 1, 1]);     // 800 elements / 64
    expect(mod.source.match(/extern "C" __global__/g)!.length).toBe(plan.kernels.length);
  });

  it('fingerprints ignore kernel names and buffer numbering only', () => {
    const a = mod.kernels[0]!;
    const renamed = { ...a, name: 'k9_map', code: a.code.split(a.name).join('k9_map').replace(/\bg(\d+)\b/g, (_m, d: string) => `g${Number(d) + 40}`) };
    expect(kernelFingerprint(renamed)).toBe(kernelFingerprint(a));
    expect(dedupeKernels([a, renamed])).toEqual([a]);
    const changed = { ...a, code: a.code.replace('expf', 'logf') };
    expect(dedupeKernels([a, changed]).length).toBe(2);
    expect(renderCuda(plan.kernels[0]!, plan.buffers, plan.symbols).code).toBe(a.code);
  });
});
