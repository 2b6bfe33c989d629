/** The peer runtimes of `tfx bench --peers` are development dependencies: their absence is detected and named. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PEER_PACKAGES, missingPeers } from '../../src/cli/cmd-bench.js';

describe('bench --peers dependencies', () => {
  it('are development dependencies, not dependencies of the package', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    for (const p of PEER_PACKAGES) {
      expect(pkg.dependencies[p], p).toBeUndefined();
      expect(pkg.devDependencies[p], p).toBeDefined();
    }
  });
  it('missing ones are named; in this checkout none is missing', () => {
    expect(missingPeers((p) => { if (p.startsWith('onnxruntime')) throw new Error('not found'); return p; })).toEqual(['onnxruntime-node', 'onnxruntime-web']);
    expect(missingPeers()).toEqual([]);
  });
});
