/**
 * A training step on the host: the gradient entry (`<entry>_grad`, autodiff/grad.ts) run by the reference
 * interpreter, global-norm clipping, the learning-rate schedule and AdamW in place on the parameters. This is
 * the CPU path and the oracle of the device trainer (device.ts).
 */
import type { HostTensor } from '../core/tensor.js';
import type { Graph } from '../ir/graph.js';
import { interpret } from '../ir/interpreter.js';
import { runGraphPipeline } from '../ir/pipeline.js';
import { adamwStep, clipByGlobalNorm, initAdamW, learningRate, type AdamWConfig, type AdamWState, type LrSchedule } from './optim.js';

export interface TrainConfig { readonly adamw: AdamWConfig; readonly schedule: LrSchedule; readonly clip: number }

export interface StepReport {
  readonly step: number;
  /** The entry's scalar outputs before the update (the loss and its parts). */
  readonly outputs: Readonly<Record<string, number>>;
  readonly gradNorm: number;
  readonly lr: number;
}

/** Wall time of the last step's parts, ms: the gradient entry, then clipping + the optimizer. */
export interface StepTimes { readonly grad: number; readonly optimizer: number }

export class HostTrainer {
  readonly state: AdamWState;
  last: StepTimes = { grad: 0, optimizer: 0 };
  private readonly graph: Graph;

  /** `grad` is a gradient entry (outputs: scalars, then `grad.<param>`); `params` are updated in place. */
  constructor(grad: Graph, readonly params: Map<string, HostTensor>, readonly cfg: TrainConfig, state?: AdamWState) {
    this.graph = runGraphPipeline(grad);
    this.state = state ?? initAdamW(params);
  }

  step(inputs: ReadonlyMap<string, HostTensor>, dims: Readonly<Record<string, number>>): StepReport {
    const t0 = performance.now();
    const outs = interpret(this.graph.outputs.map((o) => o.node), { inputs, params: this.params, dims });
    const t1 = performance.now();
    const scalars: Record<string, number> = {};
    const grads = new Map<string, HostTensor>();
    this.graph.outputs.forEach((o, i) => {
      if (o.name.startsWith('grad.')) grads.set(o.name.slice(5), outs[i]!);
      else if (outs[i]!.data.length === 1) scalars[o.name] = outs[i]!.data[0]!;
    });
    const clipped = clipByGlobalNorm(grads, this.cfg.clip);
    const s = this.state.step;
    const lr = learningRate(s, this.cfg.schedule);
    adamwStep(this.params, clipped.grads, this.state, lr, this.cfg.adamw);
    this.last = { grad: t1 - t0, optimizer: performance.now() - t1 };
    return { step: s, outputs: scalars, gradNorm: clipped.norm, lr };
  }
}
