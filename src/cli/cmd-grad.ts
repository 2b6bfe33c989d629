/**
 * `tfx grad`: the gradient of an entry's scalar output (its `loss`) with respect to every parameter, written
 * under each parameter's name. The gradient entry comes from the autodiff pass (src/ir/autodiff).
 */
import type { HostTensor } from '../core/tensor.js';
import { compileFile } from '../driver.js';
import { UsageError } from '../errors.js';
import { decomposeBackward } from '../ir/autodiff/decompose.js';
import { DEVICE_KERNELS, GRAD_SUFFIX, requireKernels } from '../ir/autodiff/grad.js';
import { interpret } from '../ir/interpreter.js';
import { bindDims } from '../runtime/bind.js';
import { loadSafetensors, saveSafetensors } from '../runtime/safetensors.js';
import { checkInputs, loadWeights } from './cmd-run.js';
import { need, oneFile, str, type Args } from './main.js';

const log = (s: string) => process.stderr.write(s + '\n');


export default async function grad(a: Args): Promise<number> {
  const file = oneFile(a);
  const backend = str(a, 'backend') ?? 'cpu';
  if (!['cpu', 'webgpu'].includes(backend)) throw new UsageError(`unknown backend '${backend}' (cpu or webgpu)`);
  const entry = str(a, 'entry') ?? 'loss';
  const wPath = need(a, 'weights'), iPath = need(a, 'inputs'), out = need(a, 'o');
  const t0 = performance.now();
  const compiled = compileFile(file, { preset: str(a, 'preset'), entries: [entry + GRAD_SUFFIX] }).program;
  // WebGPU: attention_grad where the fused flash backward does not apply rewritten into ops it has kernels for
  // (decompose.ts); scatter_add and the rest of attention_grad lower to their kernel kinds.
  const program = backend === 'webgpu' ? { ...compiled, entries: [decomposeBackward(compiled.entries[0]!, {}, DEVICE_KERNELS)] } : compiled;
  const g = program.entries[0]!;
  log(`differentiated entry ${entry} of ${file} (preset ${program.preset}) in ${(performance.now() - t0).toFixed(0)} ms`);
  const weights = loadWeights(program, wPath);
  const inputs = loadSafetensors(iPath);
  checkInputs(g, inputs, iPath);
  const dims = bindDims(g.inputs.map((i) => ({ name: i.arg.name, dtype: i.dtype, shape: i.shape })), inputs, program.symbols);

  let res: Map<string, HostTensor>;
  if (backend === 'webgpu') {
    requireKernels(g, 'WebGPU');
    const { runWebGpuCli } = await import('./run-webgpu.js');
    res = await runWebGpuCli(program, g.entry, weights, inputs, { profile: false, useCache: false });
  } else {
    const vals = interpret(g.outputs.map((o) => o.node), { inputs, params: weights, dims });
    res = new Map(g.outputs.map((o, i) => [o.name, vals[i]!]));
  }
  const grads = new Map<string, HostTensor>();
  let sq = 0;
  for (const [name, t] of res) {
    if (!name.startsWith('grad.')) { log(`  ${name} = ${t.data[0]}`); continue; }
    grads.set(name.slice('grad.'.length), t);
    for (let i = 0; i < t.data.length; i++) sq += t.data[i]! * t.data[i]!;
  }
  log(`  ${grads.size} parameter gradients, global norm ${Math.sqrt(sq).toPrecision(6)} (${backend})`);
  saveSafetensors(out, grads, { model: program.model, entry, backend, kind: 'gradients' });
  log(`wrote ${out}`);
  return 0;
}
