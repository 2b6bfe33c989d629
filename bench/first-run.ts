/**
 * First-run time of a fresh process (`tfx run FILE --backend webgpu`), with and without the two on-disk caches
 * it can find: tfx's rendered-module cache (src/runtime/webgpu/module-cache.ts, TFX_MODULE_CACHE) and the
 * driver's compiled-shader cache (Mesa's, MESA_SHADER_CACHE_DIR / MESA_SHADER_CACHE_DISABLE, on lavapipe). Both
 * caches live in private temporary folders, so "cold" means cold whatever ran on the machine before.
 *
 *   npx tsx bench/first-run.ts [FILE.tfx] [--preset P] [--rounds 3] [--json OUT.json]
 *
 * Each row is one child process; its figures come from the line tfx run prints for its first call (lowering,
 * rendering, pipeline compilation and the run) and the wall time of the whole process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOutputFile } from '../src/runtime/fs-out.js';

interface Row { case: string; modules: string; driver: string; first_call_ms: number; process_ms: number }

const args = process.argv.slice(2);
const flag = (n: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--'))) ?? 'models/transfusion.tfx';
const preset = flag('--preset'), jsonOut = flag('--json'), rounds = Number(flag('--rounds') ?? 3);

function run(name: string, env: Record<string, string>, moduleState: string, driverState: string): Row {
  const t0 = performance.now();
  const r = spawnSync('node', ['bin/tfx.mjs', 'run', file, '--backend', 'webgpu', ...(preset ? ['--preset', preset] : [])], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 900_000,
  });
  const process_ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${name}: tfx run exited ${r.status}: ${r.stderr.split('\n').slice(-5).join(' | ')}`);
  const row = { case: name, modules: moduleState, driver: driverState, first_call_ms: Number(/ran on webgpu in (\d+) ms/i.exec(r.stderr)?.[1] ?? NaN), process_ms: Math.round(process_ms) };
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

// Per round: fresh cache folders, the cold process (which fills both), then the four warm combinations in an
// order rotated each round (the machine is shared: its load changes during the run).
const rows: Row[] = [];
for (let r = 0; r < rounds; r++) {
  const on = { TFX_MODULE_CACHE: mkdtempSync(join(tmpdir(), 'tfx-first-run-modules-')), MESA_SHADER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'tfx-first-run-mesa-')) };
  rows.push(run('cold: both caches empty', on, 'empty', 'empty'));
  const warm: [string, Record<string, string>, string, string][] = [
    ['second process: both caches warm', on, 'warm', 'warm'],
    ['driver cache only (TFX_MODULE_CACHE=off)', { ...on, TFX_MODULE_CACHE: 'off' }, 'off', 'warm'],
    ['module cache only (MESA_SHADER_CACHE_DISABLE)', { ...on, MESA_SHADER_CACHE_DISABLE: 'true' }, 'warm', 'off'],
    ['no caches at all', { ...on, TFX_MODULE_CACHE: 'off', MESA_SHADER_CACHE_DISABLE: 'true' }, 'off', 'off'],
  ];
  for (let j = 0; j < warm.length; j++) rows.push(run(...warm[(j + r) % warm.length]!));
}
const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2; };
const spread = (xs: number[]) => `${med(xs).toFixed(0)} [${Math.min(...xs)}-${Math.max(...xs)}] (${xs.length})`;
const cases = [...new Set(rows.map((r) => r.case))];
const lines = ['| case | rendered modules | driver shader cache | first call ms | whole process ms |', '| --- | --- | --- | --- | --- |',
  ...cases.map((c) => { const rs = rows.filter((r) => r.case === c); return `| ${c} | ${rs[0]!.modules} | ${rs[0]!.driver} | ${spread(rs.map((r) => r.first_call_ms))} | ${spread(rs.map((r) => r.process_ms))} |`; })];
process.stdout.write(`first call of \`tfx run ${file}${preset ? ` --preset ${preset}` : ''} --backend webgpu\` in fresh processes: ms median [min-max] (processes), lower is better; load average ${loadavg()[0]!.toFixed(2)} at the end\n\n${lines.join('\n')}\n`);
if (jsonOut) writeOutputFile(jsonOut, JSON.stringify({ date: new Date().toISOString(), file, preset: preset ?? null, rounds, rows }, null, 1) + '\n');
