/**
 * Provenance: the spec spans each graph node came from, with the block call chain (`layers.3.attn`). Nodes are
 * immutable and interned (one node can come from several places), so origins live in a side table keyed by the
 * node object, filled by the Builder from its current origin (set by elaboration per expression, and by passes
 * to the origins of the node they rewrite). Kernels carry the union over the nodes they fused.
 */
import type { Node } from './graph.js';

export interface Origin {
  readonly line: number;
  readonly col: number;
  /** Parameter-name prefix of the block call chain (`layers.3.attn`); '' at entry level. */
  readonly path: string;
  /** The block (or entry) whose body holds the expression. */
  readonly block: string;
}

/** Enough to name every layer of a big preset, small enough that one shared node cannot grow without bound. */
const MAX_ORIGINS = 256;
const table = new WeakMap<Node, { readonly list: Origin[]; readonly keys: Set<string> }>();

export const originKey = (o: Origin) => `${o.path}|${o.block}|${o.line}|${o.col}`;

export function originsOf(n: Node): readonly Origin[] {
  return table.get(n)?.list ?? [];
}

export function addOrigins(n: Node, os: readonly Origin[]): void {
  if (!os.length) return;
  let e = table.get(n);
  if (!e) { e = { list: [], keys: new Set() }; table.set(n, e); }
  for (const o of os) {
    if (e.list.length >= MAX_ORIGINS) return;
    const k = originKey(o);
    if (!e.keys.has(k)) { e.keys.add(k); e.list.push(o); }
  }
}

/** The union of origins of several nodes, in first-seen order. */
export function unionOrigins(nodes: Iterable<Node>): Origin[] {
  const out: Origin[] = [];
  const seen = new Set<string>();
  for (const n of nodes) for (const o of originsOf(n)) if (!seen.has(originKey(o))) { seen.add(originKey(o)); out.push(o); }
  return out;
}

/** `layers.3.attn (self_attention) models/transfusion.tfx:58:11` */
export function formatOrigin(o: Origin, file = ''): string {
  const where = `${file ? `${file}:` : 'line '}${o.line}:${o.col}`;
  return `${o.path ? `${o.path} ` : ''}(${o.block}) ${where}`;
}

/**
 * A short summary of many origins: spec lines in order, and the call paths with numbered parts collapsed
 * (`layers.{0..15}.attn`): `layers.{0..1}.attn @ spec.tfx:58, :59`.
 */
export function summarizeOrigins(os: readonly Origin[], file = ''): string {
  if (!os.length) return '';
  const lines = [...new Set(os.map((o) => o.line))].sort((a, b) => a - b);
  const paths = collapsePaths([...new Set(os.map((o) => o.path))]);
  const at = lines.slice(0, 4).map((l, i) => `${i === 0 ? file : ''}:${l}`).join(', ') + (lines.length > 4 ? `, +${lines.length - 4} lines` : '');
  const who = paths.filter(Boolean);
  return `${who.length ? `${who.slice(0, 2).join(', ')}${who.length > 2 ? ` +${who.length - 2}` : ''} @ ` : ''}${at}`;
}

/** `layers.0.attn`, `layers.1.attn` -> `layers.{0..1}.attn`; non-contiguous numbers listed. */
export function collapsePaths(paths: readonly string[]): string[] {
  const groups = new Map<string, number[]>();
  const plain: string[] = [];
  for (const p of paths) {
    const m = /^(.*?)\.(\d+)(\..*)?$/.exec(p);
    if (!m) { plain.push(p); continue; }
    const key = `${m[1]}.#${m[3] ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), Number(m[2])]);
  }
  const out = [...plain];
  for (const [key, nums] of groups) {
    const ns = [...new Set(nums)].sort((a, b) => a - b);
    const contiguous = ns.every((n, i) => i === 0 || n === ns[i - 1]! + 1);
    const label = ns.length === 1 ? String(ns[0]) : contiguous ? `{${ns[0]}..${ns[ns.length - 1]}}` : `{${ns.join(',')}}`;
    out.push(key.replace('#', label));
  }
  return out;
}
