/** The 'cpu' session backend: the reference interpreter, with "device" tensors held on the host. */
import type { DType } from '../core/dtype.js';
import { hostTensor, type HostTensor } from '../core/tensor.js';
import type { Program } from '../ir/graph.js';
import { interpret } from '../ir/interpreter.js';
import { isDeviceTensor, SessionError, type CallPlan, type DeviceTensor, type Engine, type WeightSource, type TensorArg } from './session.js';

class CpuTensor implements DeviceTensor {
  readonly kind = 'device';
  readonly backend = 'cpu';
  private t: HostTensor | undefined;
  constructor(t: HostTensor) { this.t = t; }
  get dtype(): DType { return this.host().dtype; }
  get shape(): readonly number[] { return this.host().shape; }
  get disposed(): boolean { return this.t === undefined; }
  host(): HostTensor {
    if (!this.t) throw new SessionError('use of a disposed device tensor');
    return this.t;
  }
  async read(): Promise<HostTensor> { return copyOf(this.host()); }
  dispose(): void { this.t = undefined; }
}

const copyOf = (t: HostTensor): HostTensor => hostTensor(t.dtype, t.shape, t.data.slice());
const hostOf = (t: TensorArg): HostTensor => (isDeviceTensor(t) ? (t as CpuTensor).host() : t);

export class CpuEngine implements Engine {
  readonly backend = 'cpu';
  private readonly params = new Map<string, CpuTensor>();
  private readonly owned = new Set<CpuTensor>();

  constructor(private readonly program: Program, weights: WeightSource) {
    for (const p of program.params) this.params.set(p.name, new CpuTensor(copyOf(weights.get(p.name)!)));
  }
  private own(t: HostTensor): CpuTensor { const d = new CpuTensor(t); this.owned.add(d); return d; }
  upload(t: HostTensor): DeviceTensor { return this.own(copyOf(t)); }
  zeros(dtype: DType, shape: readonly number[]): DeviceTensor { return this.own(hostTensor(dtype, shape)); }
  copy(t: TensorArg): DeviceTensor { return this.own(copyOf(hostOf(t))); }
  param(name: string): DeviceTensor {
    const p = this.params.get(name);
    if (!p) throw new SessionError(`no parameter '${name}'`);
    return p;
  }
  setParam(name: string, t: DeviceTensor): void { this.params.get(name)?.dispose(); this.params.set(name, t as CpuTensor); }

  async execute(c: CallPlan) {
    const assigned = Object.keys(c.assign ?? {});
    const want = [...new Set([...c.read, ...c.keep, ...c.written, ...assigned])];
    const nodes = want.map((n) => c.graph.outputs.find((o) => o.name === n)!.node);
    const inputs = new Map([...c.inputs].map(([k, t]) => [k, hostOf(t)]));
    const params = new Map([...this.params].map(([k, t]) => [k, t.host()]));
    const vals = interpret(nodes, { inputs, params, dims: c.dims });
    const outputs: Record<string, HostTensor> = {};
    const device: Record<string, DeviceTensor> = {};
    want.forEach((n, i) => {
      if (c.read.includes(n)) outputs[n] = vals[i]!;
      if (c.keep.includes(n) || c.written.includes(n) || assigned.includes(n)) device[n] = this.own(copyOf(vals[i]!));
    });
    return { outputs, device, timings: [] };
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    for (const t of this.params.values()) t.dispose();
    this.owned.clear();
    this.params.clear();
    void this.program;
  }
}
