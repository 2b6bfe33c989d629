/**
 * The package as a user gets it: `npm pack` (which builds dist/), the tarball installed into an empty
 * temporary project (no access to src/), and a plain ESM script there that compiles models/transfusion.tfx,
 * opens sessions and runs forward on WebGPU and on the CPU interpreter, type-checked against the shipped .d.ts
 * (and a script with a wrong backend name must fail that check). The installed CLI must run too.
 *
 * No network: the tarball is installed with `npm install --offline` from the local npm cache. When the cache
 * cannot supply the dependencies (a fresh CI machine after `npm ci` may not have them all cached), the
 * tarball is unpacked into node_modules/tfx by hand and the dependencies are symlinked from this checkout's
 * node_modules, which is what an install would have put there (same versions, from package-lock.json).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'tfx-pack-'));
const proj = join(dir, 'app');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let how = '';

const SCRIPT = `import { compileFile, exampleInputs, inspect, loadSafetensors, openSession, saveSafetensors } from 'tfx';
import { fileURLToPath } from 'node:url';

const spec = fileURLToPath(import.meta.resolve('tfx/package.json').replace(/package\\.json$/, 'models/transfusion.tfx'));
const compiled = compileFile(spec, { preset: 'tiny' });
const about = inspect(compiled);
const forward = compiled.program.entries.find((g) => g.entry === 'forward');
if (!forward) throw new Error('no forward entry');
const inputs = exampleInputs(compiled.program, forward, 1);
/** @type {Record<string, import('tfx').HostTensor>} */
const logits = {};
for (const backend of /** @type {const} */ (['webgpu', 'cpu'])) {
  const session = await openSession(compiled, { backend, seed: 3 });
  const { outputs } = await session.run('forward', inputs, { outputs: ['logits'] });
  session.dispose();
  const t = outputs['logits'];
  if (!t) throw new Error('no logits');
  logits[backend] = t;
}
saveSafetensors('out.safetensors', logits);
const back = loadSafetensors('out.safetensors');
const a = back.get('webgpu'), b = back.get('cpu');
if (!a || !b) throw new Error('lost a tensor');
let err = 0, scale = 0;
for (let i = 0; i < a.data.length; i++) { err = Math.max(err, Math.abs((a.data[i] ?? 0) - (b.data[i] ?? 0))); scale = Math.max(scale, Math.abs(b.data[i] ?? 0)); }
console.log(JSON.stringify({ model: about.model, parameters: about.parameterCount, entries: about.entries.map((e) => e.name), shape: a.shape, err, scale }));
`;

function sh(cmd: string, args: string[], cwd: string, timeout = 300_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

describe('npm pack -> install into an empty project -> import tfx', () => {
  beforeAll(() => {
    const packed = sh('npm', ['pack', '--pack-destination', dir, '--silent'], ROOT, 400_000);
    expect(packed.code, packed.out).toBe(0);
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    mkdirSync(proj);
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const inst = sh('npm', ['install', '--offline', '--ignore-scripts', '--no-package-lock', join(dir, tgz)], proj, 180_000);
    if (inst.code === 0 && existsSync(join(proj, 'node_modules/chevrotain'))) how = 'npm install --offline';
    else {
      // Offline cache incomplete: unpack the tarball and link the dependencies an install would have put there.
      mkdirSync(join(proj, 'node_modules/tfx'), { recursive: true });
      execFileSync('tar', ['-xzf', join(dir, tgz), '-C', join(proj, 'node_modules/tfx'), '--strip-components=1']);
      const deps = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies);
      for (const d of deps) {
        mkdirSync(join(proj, 'node_modules', d, '..'), { recursive: true });
        if (!existsSync(join(proj, 'node_modules', d))) symlinkSync(join(ROOT, 'node_modules', d), join(proj, 'node_modules', d));
      }
      how = `tarball unpacked, dependencies linked (npm install --offline: ${inst.out.split('\n').find((l) => /ENOTCACHED|ERR!/.test(l))?.trim() ?? `exit ${inst.code}`})`;
    }
    // Only for type-checking the script: Node's own types, as any TypeScript user has them.
    mkdirSync(join(proj, 'node_modules/@types'), { recursive: true });
    if (!existsSync(join(proj, 'node_modules/@types/node'))) symlinkSync(join(ROOT, 'node_modules/@types/node'), join(proj, 'node_modules/@types/node'));
    writeFileSync(join(proj, 'main.mjs'), SCRIPT);
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, allowJs: true, checkJs: true, noEmit: true, types: ['node'], skipLibCheck: true },
      include: ['main.mjs'],
    }));
  }, 600_000);

  it('installs dist and bin, never src', () => {
    process.stderr.write(`pack test: ${how}\n`);
    const pkg = join(proj, 'node_modules/tfx');
    expect(existsSync(join(pkg, 'dist/src/index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist/src/index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'src'))).toBe(false);
    const r = sh(process.execPath, [join(pkg, 'bin/tfx.mjs'), 'check', join(pkg, 'models/transfusion.tfx'), '--preset', 'tiny'], proj);
    expect(r.code, r.out).toBe(0);
    // The peer runtimes are development dependencies: an installed tfx says what --peers needs.
    const peers = sh(process.execPath, [join(pkg, 'bin/tfx.mjs'), 'bench', join(pkg, 'models/transfusion.tfx'), '--peers', '--quick'], proj);
    expect(peers.code, peers.out).toBe(1);
    expect(peers.out).toMatch(/error TFX8101: --peers needs onnxruntime-node, onnxruntime-web, @tensorflow\/tfjs-core, @tensorflow\/tfjs-backend-webgpu/);
  });

  it('the script type-checks against the shipped .d.ts, and a wrong backend name does not', () => {
    const ok = sh(process.execPath, [TSC, '-p', proj], proj);
    expect(ok.code, ok.out).toBe(0);
    writeFileSync(join(proj, 'bad.mjs'), SCRIPT.replace("['webgpu', 'cpu']", "['webgpu', 'tpu']"));
    writeFileSync(join(proj, 'tsconfig.bad.json'), JSON.stringify({ extends: './tsconfig.json', include: ['bad.mjs'] }));
    const bad = sh(process.execPath, [TSC, '-p', join(proj, 'tsconfig.bad.json')], proj);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/bad\.mjs.*'"tpu"' is not assignable to type 'Backend/s);
  });

  it('runs forward through the public API on WebGPU and the CPU interpreter, which agree', () => {
    const r = sh(process.execPath, ['main.mjs'], proj);
    expect(r.code, r.out).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(res.model).toBe('transfusion');
    expect(res.entries).toContain('forward');
    expect(res.parameters).toBeGreaterThan(0);
    expect(res.shape[2]).toBe(259);
    expect(res.err).toBeLessThan(1e-4 * Math.max(1, res.scale));
  });
});
