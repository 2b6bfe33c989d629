/**
 * Training checkpoints: one safetensors file with every parameter under its name, the AdamW state
 * (`adam.m.<p>`, `adam.v.<p>`, `adam.step`) and, in the metadata, what a resumed run must repeat (data source,
 * batch size, schedule). Resuming restores all of it, so a resumed run computes what the uninterrupted one would.
 */
import type { HostTensor } from '../core/tensor.js';
import { TfxError } from '../errors.js';
import type { ParamInfo } from '../ir/graph.js';
import { openCheckpoint } from '../runtime/checkpoint.js';
import { saveSafetensors } from '../runtime/safetensors.js';
import { adamwStateFrom, adamwStateTensors, type AdamWState } from './optim.js';

export interface TrainMeta { readonly [k: string]: string }

export function saveTrainingCheckpoint(path: string, params: ReadonlyMap<string, HostTensor>, state: AdamWState, meta: TrainMeta): void {
  const shapes = new Map([...params].map(([k, t]) => [k, t.shape]));
  const all = new Map<string, HostTensor>([...params, ...adamwStateTensors(state, shapes)]);
  saveSafetensors(path, all, { ...meta, kind: 'tfx-train', step: String(state.step) });
}

export function loadTrainingCheckpoint(path: string, params: readonly ParamInfo[]): { params: Map<string, HostTensor>; state: AdamWState; meta: TrainMeta } {
  const r = openCheckpoint(path);
  try {
    if (r.metadata.kind !== 'tfx-train') throw new TrainError(`${path} is not a training checkpoint (no optimizer state); start from it with --weights instead`);
    const out = new Map<string, HostTensor>(), opt = new Map<string, HostTensor>();
    for (const name of r.tensors.keys()) (name.startsWith('adam.') ? opt : out).set(name, r.read(name));
    const missing = params.filter((p) => !out.has(p.name)).map((p) => p.name);
    if (missing.length) throw new TrainError(`${path} lacks parameter(s) ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    return { params: out, state: adamwStateFrom(opt), meta: r.metadata };
  } finally { r.close(); }
}

/** A checkpoint that cannot be resumed from: error TFX4002 (weights do not match). */
export class TrainError extends TfxError {
  override name = 'TrainError';
  constructor(message: string) { super('TFX4002', message); }
}
