#!/usr/bin/env node
// Entry point of the `tfx` command. In a checkout the TypeScript sources run through tsx (no build step);
// an installed package has no src/ and runs the built JavaScript in dist/ (npm pack builds it).
import { existsSync } from 'node:fs';

const src = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(src.href));
} else {
  ({ main } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href));
}
process.exitCode = await main(process.argv.slice(2));
