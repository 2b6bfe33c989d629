/**
 * Commands that write go through src/runtime/fs-out.ts: `-o` onto a link or device is refused with TFX8002
 * (exit 1) and nothing is replaced; `compile -o` onto a file is TFX8003. In a child process, as a user runs tfx.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const tfx = (...args: string[]) => spawnSync(process.execPath, ['bin/tfx.mjs', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, TFX_DEBUG: '' } });

describe.concurrent('safe outputs from the CLI', { timeout: 150_000 }, () => {
  it('init -o onto a symbolic link: TFX8002, the link and its target untouched', () => {
    const d = mkdtempSync(join(tmpdir(), 'tfx-cli-out-'));
    writeFileSync(join(d, 'target'), 'keep');
    symlinkSync(join(d, 'target'), join(d, 'w.safetensors'));
    const r = tfx('init', 'models/transfusion.tfx', '--preset', 'tiny', '--seed', '1', '-o', join(d, 'w.safetensors'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tfx init: error TFX8002: refusing to write '.*w\.safetensors': it is a symbolic link/m);
    expect(readlinkSync(join(d, 'w.safetensors'))).toBe(join(d, 'target'));
    expect(readFileSync(join(d, 'target'), 'utf8')).toBe('keep');
  });

  it('example-inputs -o /dev/null: TFX8002, /dev/null stays a device', () => {
    const r = tfx('example-inputs', 'models/transfusion.tfx', '--preset', 'tiny', '-o', '/dev/null');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error TFX8002: refusing to write '\/dev\/null': it is a device/);
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('compile -o onto a regular file: TFX8003, the file untouched', () => {
    const d = mkdtempSync(join(tmpdir(), 'tfx-cli-out-'));
    writeFileSync(join(d, 'out'), 'keep');
    const r = tfx('compile', 'models/transfusion.tfx', '--preset', 'tiny', '--entry', 'forward', '-o', join(d, 'out'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error TFX8003: refusing to write the folder '.*out': it is a file/);
    expect(readFileSync(join(d, 'out'), 'utf8')).toBe('keep');
  });
});
