#!/usr/bin/env node
// Builds dist/: JavaScript + .d.ts of src/ (the library and the CLI) and bench/ (tfx bench), the CUDA
// emulation header the CPU runner compiles against, and a package.json stub so dist/src/cli/main.js finds
// the version two folders up. `npm pack` runs it (prepack); the CLI in a checkout keeps running sources.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const t0 = Date.now();
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
const emu = join('src', 'codegen-cuda', 'emu');
mkdirSync(join(dist, emu), { recursive: true });
for (const f of readdirSync(join(root, emu))) if (f.endsWith('.h')) copyFileSync(join(root, emu, f), join(dist, emu, f));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
writeFileSync(join(dist, 'package.json'), JSON.stringify({ name: `${pkg.name}-dist`, version: pkg.version, private: true, type: 'module' }, null, 2) + '\n');
process.stderr.write(`built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
