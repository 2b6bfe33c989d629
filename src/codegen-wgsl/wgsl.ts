/**
 * WGSL renderer of the kernel IR: op and statement tables plus declarations. Every kernel kind is built once
 * (src/ir/kernel-build.ts); this file only spells it. Buffers are bound as binding 0 = dims (the symbolic
 * sizes), then every buffer the kernel touches in id order; only bindings the code uses are declared (Dawn
 * rejects unused ones with layout 'auto'). f16 buffers are storage only: values are f32 in registers. A buffer
 * the kernel touches with vector loads or stores is bound as `array<vec4<f32>>` (one binding per buffer: WebGPU
 * forbids writable aliases), its scalar loads indexing a lane (scalar stores to it are refused: kernel-ir.ts).
 */
import type { DType } from '../core/dtype.js';
import { printStmts, type StmtTable, type TargetTable } from '../ir/kernel-emit.js';
import type { KBuffer, Kernel, KernelPlan } from '../ir/kernel.js';
import { dedupKernels } from '../ir/kernel-dedup.js';
import { buildKernel } from '../ir/kernel-build.js';
import { bodyResources, gridText, launchGrid, lowerBody, type KBody, type KGrid } from '../ir/kernel-ir.js';
import type { TargetLimits } from '../ir/schedule.js';
import { GELU_C, GELU_K, TANH_CLAMP } from '../ir/semantics.js';

const F32_MAX = 3.4028234663852886e38;
const TC = `-${TANH_CLAMP}.0f, ${TANH_CLAMP}.0f`;
/** x / 0 = x % 0 = 0 (the interpreter's rule): a literal zero folds, a divisor read at run time is guarded. */
function intDivMod(op: '/' | '%', a: string, b: string, t: DType): string {
  if (t !== 'i32') return `(${a} ${op} ${b})`;
  if (/^\(?-?0i?\)?$/.test(b)) return '0i';
  return isIntLiteral(b) ? `(${a} ${op} ${b})` : `select(${a} ${op} ${b}, 0i, ${b} == 0i)`;
}
const isIntLiteral = (s: string) => /^\(?-?\d+i?\)?$/.test(s) || /^dims\[\d+\]$/.test(s);

function f32Literal(v: number): string {
  if (Number.isNaN(v)) return '(0.0f / 0.0f)';
  const c = Math.max(-F32_MAX, Math.min(F32_MAX, v));
  let s = Math.fround(c) === c ? String(c) : String(Math.fround(c));
  if (!/[.eE]/.test(s)) s += '.0';
  return c < 0 ? `(${s}f)` : `${s}f`;
}

export const WGSL = {
  unary: {
    neg: (a) => `(-${a})`, exp: (a) => `exp(${a})`, log: (a) => `log(${a})`, sqrt: (a) => `sqrt(${a})`,
    rsqrt: (a) => `inverseSqrt(${a})`, tanh: (a) => `tanh(clamp(${a}, ${TC}))`,
    sigmoid: (a) => `(1.0f / (1.0f + exp(-(${a}))))`, silu: (a) => `(${a} / (1.0f + exp(-(${a}))))`,
    gelu: (a) => `(0.5f * ${a} * (1.0f + tanh(clamp(${GELU_K}f * (${a} + ${GELU_C}f * ${a} * ${a} * ${a}), ${TC}))))`,
    sin: (a) => `sin(${a})`, cos: (a) => `cos(${a})`, abs: (a) => `abs(${a})`, recip: (a) => `(1.0f / ${a})`,
    not: (a) => `(!${a})`, floor: (a, t) => (t === 'f32' ? `floor(${a})` : a), ceil: (a, t) => (t === 'f32' ? `ceil(${a})` : a),
  },
  binary: {
    add: (a, b) => `(${a} + ${b})`, sub: (a, b) => `(${a} - ${b})`, mul: (a, b) => `(${a} * ${b})`,
    div: (a, b, t) => intDivMod('/', a, b, t),
    mod: (a, b, t) => intDivMod('%', a, b, t),
    pow: (a, b) => `pow(${a}, ${b})`, max: (a, b) => `max(${a}, ${b})`, min: (a, b) => `min(${a}, ${b})`,
    lt: (a, b) => `(${a} < ${b})`, le: (a, b) => `(${a} <= ${b})`, gt: (a, b) => `(${a} > ${b})`, ge: (a, b) => `(${a} >= ${b})`,
    eq: (a, b) => `(${a} == ${b})`, ne: (a, b) => `(${a} != ${b})`, and: (a, b) => `(${a} && ${b})`, or: (a, b) => `(${a} || ${b})`,
  },
  where: (c, a, b) => `select(${b}, ${a}, ${c})`,
  cast: (a, from, to) => {
    if (to === 'bool') return from === 'f32' ? `(${a} != 0.0f)` : `(${a} != 0i)`;
    if (from === 'bool') return to === 'f32' ? `select(0.0f, 1.0f, ${a})` : `select(0i, 1i, ${a})`;
    // bf16 lives in f32 registers (and f32 storage): a cast rounds to nearest even by bits, NaN kept.
    if (to === 'bf16') { const u = `bitcast<u32>(f32(${a}))`; return `select(bitcast<f32>((${u} + 0x7fffu + ((${u} >> 16u) & 1u)) & 0xffff0000u), f32(${a}), f32(${a}) != f32(${a}))`; }
    // f16 lives in f32 registers: a cast rounds to f16 there too, by bits (Mesa folds f32(f16(x)) to x).
    return to === 'f16' ? `tfx_f16(f32(${a}))` : `${wgslType(to)}(${a})`;
  },
  literal: (v, t) => (t === 'bool' ? (v ? 'true' : 'false') : t === 'f32' || t === 'f16' || t === 'bf16' ? f32Literal(v) : v === -2147483648 ? 'i32(-2147483647 - 1)' : v < 0 ? `(${v}i)` : `${v}i`),
  type: (t) => wgslType(t),
  letDecl: (name, t, value) => `let ${name}: ${wgslType(t)} = ${value};`,
  load: (buf, at, t, vec) => (t === 'f16' ? `f32(buf${buf}[${at}])` : vec ? `buf${buf}[${vecElem(at)}]` : `buf${buf}[${at}]`),
  sym: (i) => `dims[${i}]`,
  special: (n) => (n === 'wlin' ? 'i32(wid.y * nwg.x + wid.x)' : n === 'lix' ? 'i32(lix)' : `i32(${n})`),
  aload: (arr, at) => `${arr}[${at}]`,
  fma: (a, b, c) => `fma(${a}, ${b}, ${c})`,
  bcast: (a, lane) => `subgroupBroadcast(${a}, ${lane}u)`,
} satisfies TargetTable;

/** Element `at` of a buffer declared `array<vec4<f32>>`. */
const vecElem = (at: string) => `(${at}) >> 2u][(${at}) & 3i`;

const STMT = {
  let: (n, t, v) => `let ${n}: ${wgslType(t)} = ${v};`,
  var: (n, t, v) => `var ${n}: ${wgslType(t)} = ${v};`,
  set: (n, v) => `${n} = ${v};`,
  array: (n, t, size) => `var ${n}: array<${wgslType(t)}, ${size}>;`,
  aset: (a, at, v) => `${a}[${at}] = ${v};`,
  store: (buf, at, v, t) => `buf${buf}[${at}] = ${t === 'f16' ? `f16(${v})` : v};`,
  vload: (tmp, buf, at) => `let ${tmp}: vec4<f32> = buf${buf}[(${at}) >> 2u];`,
  lane: (tmp, l) => `${tmp}.${'xyzw'[l]}`,
  vstore: (buf, at, vs) => `buf${buf}[(${at}) >> 2u] = vec4<f32>(${vs.join(', ')});`,
  for: (v, from, to, step) => `for (var ${v}: i32 = ${from}; ${v} < ${to}; ${v} += ${step}i) {`,
  if: (c) => `if (${c}) {`,
  break: 'break;', continue: 'continue;', return: 'return;', barrier: 'workgroupBarrier();',
} satisfies StmtTable;

/**
 * A module using subgroups states what it needs in one comment line: subgroups of at least `lanes` lanes, and
 * `invocations` per workgroup (a multiple of the device's largest subgroup, so every subgroup is full).
 */
export const subgroupRequirementLine = (lanes: number, invocations: number) => `// tfx-subgroups: lanes ${lanes} invocations ${invocations}`;
export function subgroupRequirement(code: string): { lanes: number; invocations: number } | null {
  const m = /^\/\/ tfx-subgroups: lanes (\d+) invocations (\d+)$/m.exec(code);
  return m ? { lanes: Number(m[1]), invocations: Number(m[2]) } : null;
}

/** What every WebGPU device guarantees (the spec's minimum limits). */
export const WEBGPU_LIMITS: TargetLimits = {
  name: 'webgpu', workgroupBytes: 16384, invocations: 256, workgroupSize: [256, 256, 64], groupsPerDim: 65535, bindingBytes: 134217728, storageBuffers: 8, bf16Storage: false,
};

/** Round an f32 to the nearest f16 (ties to even, subnormals, overflow to Inf), kept in f32; declared where used. */
const ROUND_F16 = `fn tfx_f16(x: f32) -> f32 {
  let a = abs(x);
  if (a >= 65520.0f) { let big = 1e38f; return x * big * big; }
  if (a < 6.103515625e-5f) { return round(x * 16777216.0f) * 5.9604644775390625e-8f; }
  let u = bitcast<u32>(x);
  return bitcast<f32>((u + 0xfffu + ((u >> 13u) & 1u)) & 0xffffe000u);
}`;

function storageType(t: DType): string { return t === 'f16' ? 'f16' : wgslType(t); }
function wgslType(t: DType): string {
  return t === 'bool' ? 'bool' : t === 'f32' || t === 'f16' || t === 'bf16' ? 'f32' : 'i32';
}

export interface RenderedKernel {
  readonly name: string;
  readonly code: string;
  /** Buffer ids in binding order; -1 stands for the dims buffer. */
  readonly bindings: readonly number[];
  /** Workgroup counts once dims are bound. */
  readonly workgroups: (dims: readonly number[]) => [number, number, number];
  /** The dispatch as text over the symbols, for plan.json. */
  readonly dispatchText: string;
  /** Workgroup counts over the symbols (what `workgroups` evaluates; kept so a rendered kernel can be stored). */
  readonly grid: KGrid;
}

/** A rendered kernel from its stored parts (src/runtime/webgpu/module-cache.ts): `workgroups` re-derived from the grid. */
export function renderedKernel(p: { name: string; code: string; bindings: readonly number[]; grid: KGrid; dispatchText: string }): RenderedKernel {
  const b = { name: p.name, grid: p.grid } as const;
  return { ...p, workgroups: (dims) => launchGrid(b as KBody, dims, WEBGPU_LIMITS.groupsPerDim) };
}

export function renderWgsl(k: Kernel, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  return renderWgslBody(buildKernel(k, buffers, symbols), buffers, symbols);
}

/** How a plan's distinct kernels are rendered: renderWgsl, or through a cache of rendered modules. */
export type KernelRenderer = (k: Kernel, buffers: readonly KBuffer[], symbols: readonly string[]) => RenderedKernel;

/**
 * Every kernel of a plan, each distinct one rendered once (src/ir/kernel-dedup.ts): instances share the shader
 * text (`shader` indexes the distinct list) and bind their own buffers.
 */
export function renderWgslPlan(plan: KernelPlan, render: KernelRenderer = renderWgsl): { kernels: (RenderedKernel & { shader: number })[]; shaders: RenderedKernel[] } {
  const { distinct, instances } = dedupKernels(plan);
  const shaders = distinct.map((d) => render(d.kernel, d.buffers, plan.symbols));
  const kernels = instances.map(({ of, buffers }, i) => ({
    ...shaders[of]!, name: plan.kernels[i]!.name, shader: of, bindings: shaders[of]!.bindings.map((b) => (b < 0 ? b : buffers[b]!)),
  }));
  return { kernels, shaders };
}

/** Declarations (bindings for exactly the buffers used, workgroup arrays), the entry point, the body. */
export function renderWgslBody(built: KBody, buffers: readonly KBuffer[], symbols: readonly string[]): RenderedKernel {
  const b = lowerBody(built);
  const res = bodyResources(b);
  const decl: string[] = [];
  const bindings: number[] = [];
  if (res.dims) { decl.push('@group(0) @binding(0) var<storage, read> dims: array<i32>;'); bindings.push(-1); }
  for (const id of res.buffers) {
    const t = res.vectors.has(id) ? 'vec4<f32>' : storageType(buffers[id]!.dtype);
    decl.push(`@group(0) @binding(${bindings.length}) var<storage, ${id === b.out ? 'read_write' : 'read'}> buf${id}: array<${t}>;`);
    bindings.push(id);
  }
  if (res.buffers.some((id) => buffers[id]!.dtype === 'f16')) decl.unshift('enable f16;');
  // Subgroups (an optional feature): the requirement line is what the runtime checks against the device
  // before creating the pipeline (src/runtime/webgpu/check.ts, subgroupRequirement).
  if (res.subgroups) decl.unshift('enable subgroups;', subgroupRequirementLine(res.subgroups, b.workgroup[0] * b.workgroup[1] * b.workgroup[2]));
  for (const a of b.shared) decl.push(`var<workgroup> ${a.name}: array<${wgslType(a.dtype)}, ${a.size}>;`);
  const body = printStmts(b, WGSL, STMT, (id) => buffers[id]!.dtype, '  ', res.vectors);
  if (body.some((l) => l.includes('tfx_f16('))) decl.push(ROUND_F16);
  const code = [
    `// ${b.name}: ${b.label.replace(/[^\x20-\x7e]/g, '?')}`, ...decl,
    `@compute @workgroup_size(${b.workgroup.join(', ')})`,
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lix: u32${res.subgroups ? ', @builtin(subgroup_invocation_id) sgid: u32' : ''}) {`,
    ...body, '}', '',
  ].join('\n');
  return renderedKernel({ name: b.name, code, bindings, grid: b.grid, dispatchText: gridText(b, symbols) });
}
