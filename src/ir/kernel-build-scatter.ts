/**
 * The deterministic scatter-add kernel kind (kernel.ts ScatterKernel), one body for WGSL and CUDA: one invocation
 * per output element, a serial loop nest over the free value axes in row-major order (the interpreter's order),
 * no atomics. Cost |out| x |free axes|, like the dense decomposition it replaces, without its reduction tree.
 */
import { delinearize, dimExpr, kbin, kconst, kvar, type KBuffer, type KExpr, type KSpecial, type ScatterKernel } from './kernel.js';
import { if_, let_, loop, set, store, var_, type KBody, type KStmt } from './kernel-ir.js';

interface Ctx { readonly buffers: readonly KBuffer[]; readonly symbols: readonly string[] }
const sp = (name: KSpecial): KExpr => ({ k: 'special', name, dtype: 'i32' });

export function buildScatter(k: ScatterKernel, c: Ctx): KBody {
  const wg = k.schedule.wg;
  const total = k.shape.reduce((a: KExpr, d) => kbin('mul', a, dimExpr(d, c.symbols)), kconst(1));
  const acc = kvar('acc', 'f32');
  const add: KStmt = set('acc', kbin('add', acc, k.value, 'f32'));
  let inner: KStmt[] = [k.cond ? if_(k.cond, [add]) : add];
  for (let j = k.free.length - 1; j >= 0; j--) inner = [loop(`f${j}`, 0, dimExpr(k.free[j]!, c.symbols), inner)];
  const body: KStmt[] = [
    let_('gid', kbin('add', kbin('mul', sp('wlin'), kconst(wg)), sp('lix'))),
    if_(kbin('lt', kvar('gid'), total), [
      ...delinearize(kvar('gid'), k.shape, c.symbols).map((e, j) => let_(`i${j}`, e)),
      var_('acc', 'f32', kconst(0, 'f32')),
      ...inner,
      store(k.out, kvar('gid'), acc),
    ]),
  ];
  return { name: k.name, label: k.label, out: k.out, workgroup: [wg, 1, 1], shared: [], grid: { linear: kbin('div', kbin('add', total, kconst(wg - 1)), kconst(wg)) }, body };
}
