/**
 * The structured kernel IR: what a kernel does, statement by statement, for one workgroup's invocation.
 * Builders (kernel-build.ts) turn an algorithm-level Kernel and its schedule into a KBody once; both renderers
 * print the same KBody through their statement and op tables, so WGSL and CUDA run the same algorithm.
 *
 * Semantics every renderer keeps:
 * - integers are i32, launch indices (`special`) are i32; `var`s and private `array`s start at zero;
 * - `for` runs v = from, from + step, ... while v < to; `to` is evaluated once before the loop;
 * - `unroll` loops are expanded here (expandUnrolled) before printing, and `registers` arrays whose every index
 *   is then a constant become scalars (scalarizeRegisters): renderers only ever see serial loops;
 * - a `barrier` is reached by every invocation of the workgroup (builders keep barriers in uniform control flow);
 * - `store` converts an f32 register value to the buffer's element type (f16/bf16 round to nearest even);
 * - `vload` / `vstore` move VEC (4) consecutive f32 elements at once: `at` is an element index the builder
 *   guarantees is a multiple of VEC and in bounds with all VEC elements (statically, or under a uniform guard),
 *   on an f32 buffer. A buffer a kernel touches with them is a vec4 array in WGSL (its scalar accesses
 *   become `buf[i >> 2][i & 3]`; every WebGPU allocation is padded to 16 bytes: executor.ts) and `float4` in
 *   CUDA (every buffer 256-byte aligned: cudaMalloc, and the emulation's posix_memalign). f16/bf16 stay scalar.
 */
import type { DType } from '../core/dtype.js';
import { evalSize, kbin, kcast, kconst, kun, kwhere, sizeText, walkK, type KExpr, type KernelPlan } from './kernel.js';

export type KStmt =
  | { readonly s: 'let'; readonly name: string; readonly value: KExpr }
  | { readonly s: 'var'; readonly name: string; readonly dtype: DType; readonly init: KExpr }
  | { readonly s: 'set'; readonly name: string; readonly value: KExpr }
  | { readonly s: 'array'; readonly name: string; readonly dtype: DType; readonly size: number; readonly registers: boolean }
  | { readonly s: 'aset'; readonly arr: string; readonly at: KExpr; readonly value: KExpr }
  | { readonly s: 'store'; readonly buf: number; readonly at: KExpr; readonly value: KExpr }
  // dst[l] = buf[at + l] and buf[at + l] = values[l] for each l < VEC (see the header: alignment, bounds)
  | { readonly s: 'vload'; readonly dst: readonly KDst[]; readonly buf: number; readonly at: KExpr }
  | { readonly s: 'vstore'; readonly buf: number; readonly at: KExpr; readonly values: readonly KExpr[] }
  | { readonly s: 'for'; readonly v: string; readonly from: KExpr; readonly to: KExpr; readonly step: number; readonly unroll: boolean; readonly body: readonly KStmt[] }
  | { readonly s: 'if'; readonly cond: KExpr; readonly then: readonly KStmt[] }
  | { readonly s: 'break' } | { readonly s: 'continue' } | { readonly s: 'return' } | { readonly s: 'barrier' };

/** Where a vector load puts one lane: an element of a private array, or (once registers are scalarized) a variable. */
export type KDst = { readonly arr: string; readonly at: KExpr } | { readonly name: string };
/** Lanes of a vector access (vec4 / float4). */
export const VEC = 4;

/** Workgroup counts: `linear` is one count spread over x and y (a 1-D grid past the per-dimension limit). */
export type KGrid = { readonly linear: KExpr } | { readonly xyz: readonly [KExpr, KExpr, KExpr] };

export interface KBody {
  readonly name: string;
  readonly label: string;
  readonly out: number;
  readonly workgroup: readonly [number, number, number];
  readonly shared: readonly { readonly name: string; readonly dtype: DType; readonly size: number }[];
  readonly grid: KGrid;
  readonly body: readonly KStmt[];
}

// ---- statement constructors (builders read like the kernels they write) ---------------------------------
export const let_ = (name: string, value: KExpr): KStmt => ({ s: 'let', name, value });
export const var_ = (name: string, dtype: DType, init: KExpr): KStmt => ({ s: 'var', name, dtype, init });
export const set = (name: string, value: KExpr): KStmt => ({ s: 'set', name, value });
export const array = (name: string, size: number, registers = false, dtype: DType = 'f32'): KStmt => ({ s: 'array', name, dtype, size, registers });
export const aset = (arr: string, at: KExpr, value: KExpr): KStmt => ({ s: 'aset', arr, at, value });
export const store = (buf: number, at: KExpr, value: KExpr): KStmt => ({ s: 'store', buf, at, value });
/** arr[base + l] = buf[at + l] for l < VEC. */
export const vload = (arr: string, base: KExpr, buf: number, at: KExpr): KStmt =>
  ({ s: 'vload', dst: Array.from({ length: VEC }, (_, l) => ({ arr, at: kbin('add', base, kconst(l)) })), buf, at });
/** buf[at + l] = values[l] for l < VEC. */
export const vstore = (buf: number, at: KExpr, values: readonly KExpr[]): KStmt => {
  if (values.length !== VEC) throw new Error(`internal error: vstore of ${values.length} values`);
  return { s: 'vstore', buf, at, values };
};
export const loop = (v: string, from: KExpr | number, to: KExpr | number, body: readonly KStmt[], step = 1): KStmt =>
  ({ s: 'for', v, from: num(from), to: num(to), step, unroll: false, body });
export const unrolled = (v: string, n: number, body: readonly KStmt[]): KStmt => ({ s: 'for', v, from: kconst(0), to: kconst(n), step: 1, unroll: true, body });
export const if_ = (cond: KExpr, then: readonly KStmt[]): KStmt => ({ s: 'if', cond, then });
export const BREAK: KStmt = { s: 'break' }, CONTINUE: KStmt = { s: 'continue' }, RETURN: KStmt = { s: 'return' }, BARRIER: KStmt = { s: 'barrier' };
const num = (x: KExpr | number): KExpr => (typeof x === 'number' ? kconst(x) : x);

// ---- expression rewriting --------------------------------------------------------------------------------

/** Rebuild an expression bottom-up through `f` (smart constructors fold constants on the way). */
export function mapExpr(e: KExpr, f: (x: KExpr) => KExpr): KExpr {
  switch (e.k) {
    case 'load': return f({ ...e, at: mapExpr(e.at, f) });
    case 'aload': return f({ ...e, at: mapExpr(e.at, f) });
    case 'un': return f(kun(e.op, mapExpr(e.a, f), e.dtype));
    case 'cast': return f(kcast(mapExpr(e.a, f), e.dtype));
    case 'bin': return f(kbin(e.op, mapExpr(e.a, f), mapExpr(e.b, f), e.dtype));
    case 'where': return f(kwhere(mapExpr(e.c, f), mapExpr(e.a, f), mapExpr(e.b, f)));
    case 'fma': return f({ ...e, a: mapExpr(e.a, f), b: mapExpr(e.b, f), c: mapExpr(e.c, f) });
    case 'bcast': return f({ ...e, a: mapExpr(e.a, f) });
    default: return f(e);
  }
}

/** Replace variables by expressions (the builders bind an algorithm's m, n, q, acc ... this way: no shadowing). */
export function substitute(e: KExpr, env: Readonly<Record<string, KExpr>>): KExpr {
  return mapExpr(e, (x) => (x.k === 'var' && env[x.name] ? env[x.name]! : x));
}

/** One statement with `f` applied to its expressions and `body` to its nested statement lists. */
export function mapStmtExprs(st: KStmt, f: (e: KExpr) => KExpr, body: (b: readonly KStmt[]) => KStmt[]): KStmt {
  switch (st.s) {
    case 'let': case 'set': return { ...st, value: f(st.value) };
    case 'var': return { ...st, init: f(st.init) };
    case 'aset': return { ...st, at: f(st.at), value: f(st.value) };
    case 'store': return { ...st, at: f(st.at), value: f(st.value) };
    case 'vload': return { ...st, at: f(st.at), dst: st.dst.map((d) => ('arr' in d ? { arr: d.arr, at: f(d.at) } : d)) };
    case 'vstore': return { ...st, at: f(st.at), values: st.values.map(f) };
    case 'for': return { ...st, from: f(st.from), to: f(st.to), body: body(st.body) };
    case 'if': return { ...st, cond: f(st.cond), then: body(st.then) };
    default: return st;
  }
}

/** Statements with variables replaced by expressions (a loop body re-based, e.g. k -> k0 + u when unrolling by hand). */
export function substituteStmts(stmts: readonly KStmt[], env: Readonly<Record<string, KExpr>>): KStmt[] {
  const sub = (b: readonly KStmt[]): KStmt[] => b.map((x) => mapStmtExprs(x, (e) => substitute(e, env), sub));
  return sub(stmts);
}

// ---- passes (each: stmts -> stmts, run by lowerBody before rendering) -------------------------------------

/** Expand `unroll` loops (constant trip count) by substituting each value of the loop variable. */
export function expandUnrolled(stmts: readonly KStmt[]): KStmt[] {
  const out: KStmt[] = [];
  for (const st of stmts) {
    if (st.s === 'for' && st.unroll) {
      const from = evalSize(st.from, []), to = evalSize(st.to, []);
      for (let i = from; i < to; i += st.step) {
        const env = { [st.v]: kconst(i) };
        const sub = (b: readonly KStmt[]): KStmt[] => b.map((x) => mapStmtExprs(x, (e) => substitute(e, env), sub));
        out.push(...expandUnrolled(sub(st.body)));
      }
    } else out.push(mapStmtExprs(st, (e) => e, expandUnrolled));
  }
  return out;
}

/** Private arrays marked `registers`, indexed only by constants, become one scalar per element (name_i). */
export function scalarizeRegisters(stmts: readonly KStmt[]): KStmt[] {
  const regs = new Map<string, DType>();
  const find = (b: readonly KStmt[]) => b.forEach((st) => {
    if (st.s === 'array' && st.registers) regs.set(st.name, st.dtype);
    if (st.s === 'for') find(st.body);
    if (st.s === 'if') find(st.then);
  });
  find(stmts);
  if (!regs.size) return [...stmts];
  const idx = (arr: string, at: KExpr): number => {
    if (at.k !== 'const') throw new Error(`internal error: register array ${arr} indexed by a non-constant`);
    return at.v;
  };
  const ex = (e: KExpr): KExpr => mapExpr(e, (x) => (x.k === 'aload' && regs.has(x.arr) ? { k: 'var', name: `${x.arr}_${idx(x.arr, x.at)}`, dtype: x.dtype } : x));
  const walk = (b: readonly KStmt[]): KStmt[] => b.flatMap((st): KStmt[] => {
    if (st.s === 'array' && st.registers) return Array.from({ length: st.size }, (_, i) => var_(`${st.name}_${i}`, st.dtype, kconst(0, st.dtype)));
    if (st.s === 'aset' && regs.has(st.arr)) return [set(`${st.arr}_${idx(st.arr, ex(st.at))}`, ex(st.value))];
    if (st.s === 'vload') {
      const dst = st.dst.map((d) => ('arr' in d && regs.has(d.arr) ? { name: `${d.arr}_${idx(d.arr, ex(d.at))}` } : 'arr' in d ? { arr: d.arr, at: ex(d.at) } : d));
      return [{ ...st, at: ex(st.at), dst }];
    }
    return [mapStmtExprs(st, ex, walk)];
  });
  return walk(stmts);
}

/** Drop `let`s and `var`s nothing reads (with their assignments): nvcc warns about unused locals. */
export function dropUnused(stmts: readonly KStmt[]): KStmt[] {
  let cur = [...stmts];
  for (;;) {
    const read = new Set<string>();
    const see = (e: KExpr) => walkK(e, (x) => { if (x.k === 'var') read.add(x.name); });
    const scan = (b: readonly KStmt[]) => b.forEach((st) => {
      // A vector load writes all its lanes: the variables it writes stay declared.
      if (st.s === 'vload') st.dst.forEach((d) => { if ('name' in d) read.add(d.name); });
      mapStmtExprs(st, (e) => { see(e); return e; }, (x) => { scan(x); return [...x]; });
    });
    scan(cur);
    let changed = false;
    const prune = (b: readonly KStmt[]): KStmt[] => b.flatMap((st): KStmt[] => {
      if ((st.s === 'let' || st.s === 'var' || st.s === 'set') && !read.has(st.name)) { changed = true; return []; }
      if (st.s === 'for') return [{ ...st, body: prune(st.body) }];
      if (st.s === 'if') { const then = prune(st.then); if (!then.length) { changed = true; return []; } return [{ ...st, then }]; }
      return [st];
    });
    cur = prune(cur);
    if (!changed) return cur;
  }
}

/** What renderers print: unrolled loops expanded, register arrays scalarized, dead locals gone. */
export function lowerBody(b: KBody): KBody {
  return { ...b, body: dropUnused(scalarizeRegisters(expandUnrolled(b.body))) };
}

/**
 * Buffers (and whether dims[]) a body touches, for bindings and parameters; `subgroups`: the most lanes a
 * broadcast needs (0: none); `vectors`: the buffers it touches with vector loads or stores.
 */
export function bodyResources(b: KBody): { buffers: number[]; dims: boolean; subgroups: number; vectors: Set<number> } {
  const bufs = new Set<number>(), vectors = new Set<number>(), scalarStores = new Set<number>();
  let dims = false, subgroups = 0;
  const see = (e: KExpr) => walkK(e, (x) => {
    if (x.k === 'load') bufs.add(x.buf);
    if (x.k === 'sym') dims = true;
    if (x.k === 'bcast') subgroups = Math.max(subgroups, x.lane + 1);
    if (x.k === 'special' && x.name === 'sgid') subgroups = Math.max(subgroups, 1);
  });
  const scan = (s: readonly KStmt[]) => s.forEach((st) => {
    if (st.s === 'store') { bufs.add(st.buf); scalarStores.add(st.buf); }
    if (st.s === 'vload' || st.s === 'vstore') { bufs.add(st.buf); vectors.add(st.buf); }
    mapStmtExprs(st, (e) => { see(e); return e; }, (x) => { scan(x); return [...x]; });
  });
  scan(b.body);
  // A buffer stored to as vectors is never stored to by single lanes (see buildMatmulVec: a WGSL component store
  // may write the whole vector).
  for (const x of vectors) if (scalarStores.has(x)) throw new Error(`internal error: ${b.name} stores buffer ${x} both as vectors and as scalars`);
  return { buffers: [...bufs].sort((x, y) => x - y), dims, subgroups, vectors };
}

// ---- launch --------------------------------------------------------------------------------------------

/** Workgroup counts once dims are bound; a linear grid is spread over x and y so neither passes `maxPerDim`. */
export function launchGrid(b: KBody, dims: readonly number[], maxPerDim: number): [number, number, number] {
  if ('linear' in b.grid) {
    const n = evalSize(b.grid.linear, dims);
    if (n <= maxPerDim) return [Math.max(1, n), 1, 1];
    const y = Math.ceil(n / maxPerDim);
    if (y > maxPerDim) throw new Error(`${b.name} needs ${n} workgroups, more than ${maxPerDim}^2`);
    return [Math.ceil(n / y), y, 1];
  }
  const [x, y, z] = b.grid.xyz.map((e) => evalSize(e, dims)) as [number, number, number];
  if (x > maxPerDim || y > maxPerDim || z > maxPerDim) throw new Error(`${b.name}: grid ${x} x ${y} x ${z} exceeds ${maxPerDim} workgroups per dimension`);
  return [Math.max(1, x), Math.max(1, y), Math.max(1, z)];
}

export function gridText(b: KBody, symbols: readonly string[]): string {
  return 'linear' in b.grid ? `${sizeText(b.grid.linear, symbols)} workgroups` : `[${b.grid.xyz.map((e) => sizeText(e, symbols)).join(', ')}]`;
}

// ---- printer (tfx ir --dump-after schedule) ----------------------------------------------------------------

const SYM: Partial<Record<string, string>> = { add: '+', sub: '-', mul: '*', div: '/', mod: '%', lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=', and: '&&', or: '||' };

export function exprText(e: KExpr): string {
  switch (e.k) {
    case 'var': return e.name;
    case 'const': return e.dtype === 'f32' ? (Number.isInteger(e.v) ? `${e.v}.0` : String(e.v)) : String(e.v);
    case 'sym': return `dims[${e.i}]`;
    case 'special': return e.name;
    case 'load': return `buf${e.buf}[${exprText(e.at)}]`;
    case 'aload': return `${e.arr}[${exprText(e.at)}]`;
    case 'un': return `${e.op}(${exprText(e.a)})`;
    case 'bin': return SYM[e.op] ? `(${exprText(e.a)} ${SYM[e.op]} ${exprText(e.b)})` : `${e.op}(${exprText(e.a)}, ${exprText(e.b)})`;
    case 'where': return `select(${exprText(e.c)}, ${exprText(e.a)}, ${exprText(e.b)})`;
    case 'cast': return `${e.dtype}(${exprText(e.a)})`;
    case 'fma': return `fma(${exprText(e.a)}, ${exprText(e.b)}, ${exprText(e.c)})`;
    case 'bcast': return `broadcast(${exprText(e.a)}, lane ${e.lane})`;
  }
}

export function printBody(b: KBody): string {
  const lines = [`kernel ${b.name} (${b.label}) workgroup [${b.workgroup.join(', ')}] grid ${'linear' in b.grid ? `linear ${exprText(b.grid.linear)}` : `[${b.grid.xyz.map(exprText).join(', ')}]`}`];
  for (const s of b.shared) lines.push(`  shared ${s.name}: ${s.dtype}[${s.size}]`);
  const walk = (ss: readonly KStmt[], ind: string) => ss.forEach((st) => {
    switch (st.s) {
      case 'let': lines.push(`${ind}let ${st.name} = ${exprText(st.value)}`); break;
      case 'var': lines.push(`${ind}var ${st.name}: ${st.dtype} = ${exprText(st.init)}`); break;
      case 'set': lines.push(`${ind}${st.name} = ${exprText(st.value)}`); break;
      case 'array': lines.push(`${ind}${st.registers ? 'registers' : 'local'} ${st.name}: ${st.dtype}[${st.size}]`); break;
      case 'aset': lines.push(`${ind}${st.arr}[${exprText(st.at)}] = ${exprText(st.value)}`); break;
      case 'store': lines.push(`${ind}store buf${st.buf}[${exprText(st.at)}] = ${exprText(st.value)}`); break;
      case 'vload': lines.push(`${ind}(${st.dst.map((d) => ('arr' in d ? `${d.arr}[${exprText(d.at)}]` : d.name)).join(', ')}) = vload buf${st.buf}[${exprText(st.at)}]`); break;
      case 'vstore': lines.push(`${ind}vstore buf${st.buf}[${exprText(st.at)}] = (${st.values.map(exprText).join(', ')})`); break;
      case 'for':
        lines.push(`${ind}for ${st.v} in ${exprText(st.from)}..${exprText(st.to)}${st.step !== 1 ? ` step ${st.step}` : ''}${st.unroll ? ' unrolled' : ''}:`);
        walk(st.body, ind + '  ');
        break;
      case 'if': lines.push(`${ind}if ${exprText(st.cond)}:`); walk(st.then, ind + '  '); break;
      default: lines.push(`${ind}${st.s}`);
    }
  });
  walk(b.body, '  ');
  return lines.join('\n');
}

/** A plan after fusion: buffers, then each kernel with what it computes (tfx ir --dump-after fuse). */
export function printPlan(plan: KernelPlan): string {
  const lines = [`plan ${plan.entry}: ${plan.kernels.length} kernels, ${plan.buffers.length} buffers`];
  plan.buffers.forEach((b, i) => lines.push(`  buf${i}: ${b.kind} ${b.dtype}[${b.tileGrid ? 'tile classes' : b.numel.key}]  ${b.name}`));
  for (const k of plan.kernels) {
    lines.push(`${k.name} ${k.kind} (${k.opKind}: ${k.label}) reads ${k.reads.map((r) => `buf${r}`).join(' ') || '-'} -> buf${k.out}  schedule ${JSON.stringify(k.schedule)}`);
    const show = (what: string, e: KExpr | null) => { if (e) lines.push(`  ${what} = ${exprText(e)}`); };
    switch (k.kind) {
      case 'map': lines.push(`  over [${k.shape.map((d) => d.key).join(', ')}]`); show('value', k.value); break;
      case 'scatter': lines.push(`  out [${k.shape.map((d) => d.key).join(', ')}], summed in order over [${k.free.map((d) => d.key).join(', ')}]`); show('where', k.cond); show('value', k.value); break;
      case 'row':
        lines.push(`  rows [${k.rows.map((d) => d.key).join(', ')}], r < ${k.len.key}`);
        k.reds.forEach((r, j) => show(`red${j} = ${r.op} over r of`, r.value));
        show(k.store.perElement ? 'per element: store at' : 'per row: store at', k.store.at); show('  value', k.store.value);
        break;
      case 'matmul':
        lines.push(`  batch [${k.batch.map((d) => d.key).join(', ')}], M ${k.M.key}, N ${k.N.key}, K ${k.K.key}`);
        show('a(m, k)', k.a); show('b(k, n)', k.b); show('epilogue(acc)', k.epilogue); show('at', k.at);
        break;
      case 'attention':
        lines.push(`  q buf${k.q}, k buf${k.kbuf}, v buf${k.v}; B ${k.B.key}, H ${k.Hq.key}/${k.Hkv.key}, Sq ${k.Sq.key}, Sk ${k.Sk.key}, D ${k.D}/${k.Dv}, scale ${k.scale}${k.tiles !== null ? `, tile classes buf${k.tiles}` : ''}`);
        show('mask(b0, q, kv)', k.mask);
        break;
      case 'attention_bwd':
        lines.push(`  ${k.part}: q buf${k.q}, k buf${k.kbuf}, v buf${k.v}, o buf${k.o}, dO buf${k.dO}, stats buf${k.stats}; B ${k.B.key}, H ${k.Hq.key}/${k.Hkv.key}, Sq ${k.Sq.key}, Sk ${k.Sk.key}, D ${k.D}/${k.Dv}, scale ${k.scale}${k.tiles !== null ? `, tile classes buf${k.tiles}` : ''}`);
        show('mask(b0, q, kv)', k.mask);
        break;
    }
  }
  return lines.join('\n');
}
