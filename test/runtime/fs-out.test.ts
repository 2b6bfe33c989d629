/**
 * Safe outputs (src/runtime/fs-out.ts): a write never replaces a link, FIFO, device or folder, never leaves
 * half a file or a temporary behind (also when killed), and a folder output is swapped in whole.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TfxError } from '../../src/errors.js';
import { OUTPUT_MARKER, writeFileSafely, writeFolderSafely, writeOutputFile } from '../../src/runtime/fs-out.js';

const ROOT = join(import.meta.dirname, '../..');
const fresh = () => mkdtempSync(join(tmpdir(), 'tfx-fsout-'));
const codeOf = (f: () => unknown): string | undefined => {
  try { f(); } catch (e) { return e instanceof TfxError ? e.code : `not coded: ${String(e)}`; }
  return undefined;
};

describe('writeOutputFile', () => {
  it('writes a new file and replaces a regular one, keeping its mode, with no temporary left', () => {
    const d = fresh();
    const p = join(d, 'out.bin');
    writeOutputFile(p, 'one');
    chmodSync(p, 0o640);
    writeOutputFile(p, new Uint8Array([116, 119, 111]));
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect(readdirSync(d)).toEqual(['out.bin']);
  });

  it('refuses a symbolic link and leaves both the link and its target alone', () => {
    const d = fresh();
    writeFileSync(join(d, 'target'), 'keep');
    symlinkSync(join(d, 'target'), join(d, 'link'));
    expect(codeOf(() => writeOutputFile(join(d, 'link'), 'x'))).toBe('TFX8002');
    expect(lstatSync(join(d, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'target'), 'utf8')).toBe('keep');
  });

  it('refuses a FIFO and a device', () => {
    const d = fresh();
    execFileSync('mkfifo', [join(d, 'fifo')]);
    expect(codeOf(() => writeOutputFile(join(d, 'fifo'), 'x'))).toBe('TFX8002');
    expect(lstatSync(join(d, 'fifo')).isFIFO()).toBe(true);
    expect(codeOf(() => writeOutputFile('/dev/null', 'x'))).toBe('TFX8002');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('refuses a folder and a missing parent with TFX8003', () => {
    const d = fresh();
    expect(codeOf(() => writeOutputFile(d, 'x'))).toBe('TFX8003');
    expect(codeOf(() => writeOutputFile(join(d, 'no/such/out'), 'x'))).toBe('TFX8003');
  });

  it('leaves the old file whole when the writer fails halfway', () => {
    const d = fresh();
    const p = join(d, 'out');
    writeFileSync(p, 'old');
    expect(() => writeFileSafely(p, () => { throw new Error('writer failed'); })).toThrow('writer failed');
    expect(readFileSync(p, 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['out']);
  });

  it('removes temporaries of dead tfx processes before writing in a folder', () => {
    const d = fresh();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = join(d, `.w.safetensors.tfx-tmp-${dead}-0`);
    const mine = join(d, `.w.safetensors.tfx-tmp-${process.pid}-999`);
    const other = join(d, 'notes.tfx-tmp-1-0');
    for (const f of [stale, mine, other]) writeFileSync(f, 'x');
    writeOutputFile(join(d, 'w.safetensors'), 'new');
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(mine)).toBe(true); // a live process's temporary is not touched
    expect(existsSync(other)).toBe(true); // not one of ours
  });
});

describe('writeFolderSafely', () => {
  it('swaps in a complete new folder: no stale file of an earlier output survives', async () => {
    const d = fresh();
    const out = join(d, 'kernels');
    await writeFolderSafely(out, (t) => { writeFileSync(join(t, 'plan.json'), '1'); writeFileSync(join(t, 'k0.wgsl'), 'a'); });
    await writeFolderSafely(out, (t) => { writeFileSync(join(t, 'plan.json'), '2'); });
    expect(readdirSync(out).sort()).toEqual([OUTPUT_MARKER, 'plan.json']);
    expect(readFileSync(join(out, 'plan.json'), 'utf8')).toBe('2');
    expect(readdirSync(d)).toEqual(['kernels']);
  });

  it('keeps the previous output when filling fails', async () => {
    const d = fresh();
    const out = join(d, 'k');
    await writeFolderSafely(out, (t) => writeFileSync(join(t, 'plan.json'), 'old'));
    await expect(writeFolderSafely(out, () => { throw new Error('render failed'); })).rejects.toThrow('render failed');
    expect(readFileSync(join(out, 'plan.json'), 'utf8')).toBe('old');
    expect(readdirSync(d)).toEqual(['k']);
  });

  it('refuses a file, a link and a folder tfx did not write', async () => {
    const d = fresh();
    writeFileSync(join(d, 'file'), 'keep');
    mkdirSync(join(d, 'home'));
    writeFileSync(join(d, 'home', 'thesis.tex'), 'precious');
    symlinkSync(join(d, 'home'), join(d, 'link'));
    const code = async (p: string) => writeFolderSafely(p, () => {}).then(() => undefined, (e) => (e as TfxError).code);
    expect(await code(join(d, 'file'))).toBe('TFX8003');
    expect(await code(join(d, 'home'))).toBe('TFX8003');
    expect(await code(join(d, 'link'))).toBe('TFX8002');
    expect(readFileSync(join(d, 'home', 'thesis.tex'), 'utf8')).toBe('precious');
    expect(readlinkSync(join(d, 'link'))).toBe(join(d, 'home'));
  });

  it('removes its temporary folder when killed by SIGTERM mid-write', { timeout: 30_000 }, async () => {
    const d = fresh();
    const script = `import { register } from 'tsx/esm/api'; register();
const { writeFolderSafely } = await import(${JSON.stringify(join(ROOT, 'src/runtime/fs-out.ts'))});
await writeFolderSafely(${JSON.stringify(join(d, 'out'))}, async (t) => {
  const fs = await import('node:fs'); fs.writeFileSync(t + '/big', Buffer.alloc(1 << 20));
  process.stdout.write('filling\\n'); await new Promise((r) => setTimeout(r, 60_000));
});`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (b: Buffer) => { if (String(b).includes('filling')) resolve(); }));
    expect(readdirSync(d).some((n) => n.includes('.tfx-tmp-'))).toBe(true);
    child.kill('SIGTERM');
    const sig = await new Promise((resolve) => child.on('exit', (_c, s) => resolve(s)));
    expect(sig).toBe('SIGTERM');
    expect(readdirSync(d)).toEqual([]);
  });
});
