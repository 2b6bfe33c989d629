/**
 * A training step on a device, through the session API: parameters and AdamW moments stay resident. Per step:
 * the gradient entry (`<entry>_grad`) runs with its gradients kept on the device (only the loss parts are read
 * back), then the optimizer entry (optim-graph.ts) clips by the global norm and applies AdamW, storing the
 * moments (session states) and the parameters (RunOptions.assign) in place; only the norm is read back.
 * HostTrainer (host.ts) is the oracle: same order, same semantics (optim.ts).
 */
import { hostTensor, type HostTensor } from '../core/tensor.js';
import { decomposeBackward } from '../ir/autodiff/decompose.js';
import { DEVICE_KERNELS, requireKernels } from '../ir/autodiff/grad.js';
import type { Program } from '../ir/graph.js';
import { openSession, type Backend, type DeviceTensor, type Session } from '../runtime/session.js';
import type { StepReport, StepTimes, TrainConfig } from './host.js';
import { learningRate, type AdamWState } from './optim.js';
import { gradName, mName, newName, optimizerGraph, OPTIMIZER_ENTRY, vName } from './optim-graph.js';

const scalar = (x: number) => hostTensor('f32', [], Float32Array.of(x));


export class DeviceTrainer {
  /** Steps taken so far (the moments live on the device; `state()` reads them back). */
  taken = 0;
  /** Wall times of the last step's parts (each awaited, so they include the device work). */
  last: StepTimes = { grad: 0, optimizer: 0 };
  private readonly assign: Record<string, string>;
  private readonly names: readonly string[];

  private constructor(readonly session: Session, private readonly gradEntry: string, readonly cfg: TrainConfig) {
    this.names = session.program.params.map((p) => p.name);
    this.assign = Object.fromEntries(this.names.map((n) => [newName(n), n]));
  }

  /**
   * Opens a session holding `params` (and `state`'s moments, when resuming) on `backend`. `program` has the
   * gradient entry as its first entry; on devices its attention and scatter gradients are rewritten into the
   * ops that have kernels (decompose.ts), as `tfx grad` does.
   */
  static async open(program: Program, params: ReadonlyMap<string, HostTensor>, cfg: TrainConfig, o: { backend?: Backend; state?: AdamWState } = {}): Promise<DeviceTrainer> {
    const backend = o.backend ?? 'webgpu';
    const g0 = program.entries[0]!;
    const grad = backend === 'cpu' ? g0 : decomposeBackward(g0, {}, DEVICE_KERNELS);
    if (backend !== 'cpu') requireKernels(grad, backend);
    const full: Program = { ...program, entries: [grad, optimizerGraph(program.params, cfg.adamw)] };
    const session = await openSession(full, { backend, weights: params });
    const t = new DeviceTrainer(session, grad.entry, cfg);
    if (o.state) {
      t.taken = o.state.step;
      for (const p of program.params) {
        const m = o.state.m.get(p.name), v = o.state.v.get(p.name);
        if (m) session.setState(mName(p.name), hostTensor('f32', p.shape, m));
        if (v) session.setState(vName(p.name), hostTensor('f32', p.shape, v));
      }
    }
    return t;
  }

  async step(inputs: ReadonlyMap<string, HostTensor>): Promise<StepReport> {
    const s = this.taken, t = s + 1;
    const lr = learningRate(s, this.cfg.schedule);
    const { beta1, beta2 } = this.cfg.adamw;
    const t0 = performance.now();
    const graph = this.session.program.entries[0]!;
    const scalars = graph.outputs.filter((o) => !o.name.startsWith('grad.') && o.node.shape.length === 0).map((o) => o.name);
    const g = await this.session.run(this.gradEntry, inputs, { outputs: scalars, keep: this.names.map(gradName) });
    const t1 = performance.now();
    const grads: Record<string, DeviceTensor> = g.device;
    try {
      const opt = await this.session.run(OPTIMIZER_ENTRY, {
        ...grads, lr: scalar(lr), c1: scalar(1 - beta1 ** t), c2: scalar(1 - beta2 ** t), clip: scalar(this.cfg.clip),
      }, { outputs: ['norm'], assign: this.assign });
      this.taken = t;
      this.last = { grad: t1 - t0, optimizer: performance.now() - t1 };
      const outputs = Object.fromEntries(scalars.map((n) => [n, g.outputs[n]!.data[0]!]));
      return { step: s, outputs, gradNorm: opt.outputs.norm!.data[0]!, lr };
    } finally {
      for (const d of Object.values(grads)) d.dispose();
    }
  }

  /** The parameters, read back from the device. */
  async params(): Promise<Map<string, HostTensor>> {
    const out = new Map<string, HostTensor>();
    for (const n of this.names) out.set(n, await this.session.param(n).read());
    return out;
  }

  /** The optimizer state, read back (moments not yet created by a step are zeros). */
  async state(): Promise<AdamWState> {
    const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
    for (const p of this.session.program.params) {
      const n = p.shape.reduce((a, b) => a * b, 1);
      const read = async (k: string) => { const d = this.session.state(k); return d ? Float32Array.from((await d.read()).data) : new Float32Array(n); };
      m.set(p.name, await read(mName(p.name)));
      v.set(p.name, await read(vName(p.name)));
    }
    return { step: this.taken, m, v };
  }

  dispose(): void { this.session.dispose(); }
}
