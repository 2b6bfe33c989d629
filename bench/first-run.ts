/**
 * First-run time of a fresh process (`tfx run FILE --backend webgpu`), with and without the two on-disk caches
 * it can find: tfx's rendered-module cache (src/runtime/webgpu/module-cache.ts, TFX_MODULE_CACHE) and the
 * driver's compiled-shader cache (Mesa's, MESA_SHADER_CACHE_DIR / MESA_SHADER_CACHE_DISABLE, on lavapipe). Both
 * caches live in private temporary folders, so "cold" means cold whatever ran on the machine before.
 *
 *   npx tsx bench/first-run.ts [FILE.tfx] [--preset P] [--json OUT.json]
 *
 * Each row is one child process; its figures come from the line tfx run prints for its first call (lowering,
 * rendering, pipeline compilation and the run) and the wall time of the whole process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeOutputFile } from '../src/runtime/fs-out.js';

interface Row { case: string; modules: string; driver: string; first_call_ms: number; process_ms: number }

const args = process.argv.slice(2);
const flag = (n: string) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1]!.startsWith('--'))) ?? 'models/transfusion.tfx';
const preset = flag('--preset'), jsonOut = flag('--json');

const modules = mkdtempSync(join(tmpdir(), 'tfx-first-run-modules-')), mesa = mkdtempSync(join(tmpdir(), 'tfx-first-run-mesa-'));

function run(name: string, env: Record<string, string>, moduleState: string, driverState: string): Row {
  const t0 = performance.now();
  const r = spawnSync('node', ['bin/tfx.mjs', 'run', file, '--backend', 'webgpu', ...(preset ? ['--preset', preset] : [])], {
    encoding: 'utf8', env: { ...process.env, ...env }, timeout: 900_000,
  });
  const process_ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${name}: tfx run exited ${r.status}: ${r.stderr.split('\n').slice(-5).join(' | ')}`);
  const num = (re: RegExp) => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const row = { case: name, modules: moduleState, driver: driverState, first_call_ms: num(/ran on webgpu in (\d+) ms/i), process_ms: Math.round(process_ms) };
  process.stderr.write(`${JSON.stringify(row)}\n`);
  return row;
}

const on = { TFX_MODULE_CACHE: modules, MESA_SHADER_CACHE_DIR: mesa };
const rows = [
  run('cold: both caches empty', on, 'empty', 'empty'),
  run('second process: both caches warm', on, 'warm', 'warm'),
  run('driver cache only (TFX_MODULE_CACHE=off)', { ...on, TFX_MODULE_CACHE: 'off' }, 'off', 'warm'),
  run('module cache only (MESA_SHADER_CACHE_DISABLE)', { ...on, MESA_SHADER_CACHE_DISABLE: 'true' }, 'warm', 'off'),
  run('no caches at all', { ...on, TFX_MODULE_CACHE: 'off', MESA_SHADER_CACHE_DISABLE: 'true' }, 'off', 'off'),
];
const lines = ['| case | rendered modules | driver shader cache | first call ms | whole process ms |', '| --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.case} | ${r.modules} | ${r.driver} | ${r.first_call_ms} | ${r.process_ms} |`)];
process.stdout.write(`first run of \`tfx run ${file}${preset ? ` --preset ${preset}` : ''} --backend webgpu\` in fresh processes (ms, lower is better; one process per row)\n\n${lines.join('\n')}\n`);
if (jsonOut) writeOutputFile(jsonOut, JSON.stringify({ date: new Date().toISOString(), file, preset: preset ?? null, rows }, null, 1) + '\n');
