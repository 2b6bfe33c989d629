/**
 * Safe outputs. Every file tfx writes goes through here:
 *  - the data goes to a temporary file in the same folder, which is renamed over the target only when complete,
 *    so an interrupted write never leaves half a file;
 *  - the target must be a new path or a regular file: a symbolic link, folder, FIFO, device or socket is refused
 *    (TFX8002), never replaced (`-o /dev/null` as root used to turn /dev/null into a regular file);
 *  - temporary files are removed on exit and on SIGINT/SIGTERM/SIGHUP, and temporaries of dead tfx processes are
 *    removed from a folder before tfx writes there again;
 *  - a folder output (compile -o) is built complete under a temporary name and swapped in; an existing folder is
 *    replaced only if it is empty or was written by tfx (it holds the marker file or a plan.json).
 */
import {
  closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync, chmodSync,
  writeFileSync, existsSync, type Stats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TfxError } from '../errors.js';

const TMP_TAG = '.tfx-tmp-';
/** Written into every folder output so a later compile knows it may replace the folder. */
export const OUTPUT_MARKER = '.tfx-output';

const live = new Set<string>();
let hooked = false;

function removeLive(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}

function onSignal(sig: NodeJS.Signals): void {
  removeLive();
  // Re-raise with the default action so the exit status still says which signal ended the process.
  process.removeListener(sig, onSignal);
  process.kill(process.pid, sig);
}

function track(p: string): void {
  if (!hooked) {
    hooked = true;
    process.on('exit', removeLive);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  }
  live.add(p);
}

function untrack(p: string): void { live.delete(p); }

const errText = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? (e instanceof Error ? e.message : String(e));

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Removes `.NAME.tfx-tmp-PID-N` leftovers of tfx processes that no longer run (a killed write). */
export function removeStaleTemps(folder: string): number {
  let names: string[];
  try { names = readdirSync(folder); } catch { return 0; }
  let n = 0;
  for (const name of names) {
    const m = /\.tfx-tmp-(\d+)-\d+$/.exec(name);
    if (!m || !name.startsWith('.')) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    rmSync(join(folder, name), { recursive: true, force: true });
    n++;
  }
  return n;
}

let counter = 0;
const tempName = (path: string): string => join(dirname(path), `.${basename(path)}${TMP_TAG}${process.pid}-${counter++}`);

function lstatOrUndefined(path: string): Stats | undefined {
  try { return lstatSync(path); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TfxError('TFX8003', `cannot write '${path}': ${errText(e)}`);
  }
}

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Refuses a target that is not a new path or a regular file. Returns the existing file's stats (to keep its mode).
 * A folder where a file was asked for is TFX8003; links and special files are TFX8002.
 */
export function checkFileTarget(path: string): Stats | undefined {
  const st = lstatOrUndefined(path);
  if (st === undefined || st.isFile()) return st;
  if (st.isDirectory()) throw new TfxError('TFX8003', `cannot write '${path}': it is a folder`);
  throw new TfxError('TFX8002', `refusing to write '${path}': it is ${kindOf(st)}; tfx writes only new paths or regular files${st.isSymbolicLink() ? ' (give the link\'s target instead)' : ''}`);
}

/**
 * Writes a file through a temporary file in the same folder and a rename. `write` receives the open descriptor
 * (for streaming writers); the file is complete and synced before it replaces `path`.
 */
export function writeFileSafely(path: string, write: (fd: number) => void): void {
  const old = checkFileTarget(path);
  removeStaleTemps(dirname(path));
  const tmp = tempName(path);
  let fd: number;
  try { fd = openSync(tmp, 'wx', old ? old.mode & 0o777 : 0o666); } catch (e) {
    throw new TfxError('TFX8003', `cannot write '${path}': ${errText(e)}`);
  }
  track(tmp);
  try {
    try { write(fd); fsyncSync(fd); } finally { closeSync(fd); }
    if (old) chmodSync(tmp, old.mode & 0o777);
    checkFileTarget(path); // the target may have changed while we wrote
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof TfxError) throw e;
    if ((e as NodeJS.ErrnoException)?.code) throw new TfxError('TFX8003', `cannot write '${path}': ${errText(e)}`);
    throw e;
  } finally {
    untrack(tmp);
  }
}

/** writeFileSafely for data held in memory. */
export function writeOutputFile(path: string, data: string | Uint8Array): void {
  writeFileSafely(path, (fd) => {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, Math.min(bytes.byteLength - off, 1 << 30));
  });
}

function mayReplaceFolder(dir: string): boolean {
  const names = readdirSync(dir);
  if (names.length === 0 || names.includes(OUTPUT_MARKER) || names.includes('plan.json')) return true;
  // A multi-entry compile writes one sub-folder per entry, each with its plan.json.
  return names.every((n) => { try { return lstatSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'plan.json')); } catch { return false; } });
}

/**
 * Builds a folder output complete under a temporary name in the same parent, then swaps it in for `dir`.
 * An existing `dir` must be a real folder that is empty or a previous tfx output; a file, link or special file
 * there is refused, and so is a folder tfx did not write (it is never deleted).
 */
export async function writeFolderSafely(dir: string, fill: (tmpDir: string) => void | Promise<void>): Promise<void> {
  const st = lstatOrUndefined(dir);
  if (st && !st.isDirectory()) {
    throw new TfxError(st.isFile() ? 'TFX8003' : 'TFX8002', `refusing to write the folder '${dir}': it is ${st.isFile() ? 'a file' : kindOf(st)}`);
  }
  if (st && !mayReplaceFolder(dir)) {
    throw new TfxError('TFX8003', `refusing to replace the folder '${dir}': it holds files tfx did not write (choose a new or empty folder)`);
  }
  const parent = dirname(dir);
  try { mkdirSync(parent, { recursive: true }); } catch (e) { throw new TfxError('TFX8003', `cannot write '${dir}': ${errText(e)}`); }
  removeStaleTemps(parent);
  const tmp = tempName(dir);
  try { mkdirSync(tmp); } catch (e) { throw new TfxError('TFX8003', `cannot write '${dir}': ${errText(e)}`); }
  track(tmp);
  let old: string | undefined;
  try {
    writeFileSync(join(tmp, OUTPUT_MARKER), 'written by tfx; a later tfx compile -o may replace this folder\n');
    await fill(tmp);
    if (st) { old = tempName(dir); renameSync(dir, old); track(old); }
    renameSync(tmp, dir);
    if (old) rmSync(old, { recursive: true, force: true });
  } catch (e) {
    if (old && !existsSync(dir)) renameSync(old, dir); // put the previous output back
    rmSync(tmp, { recursive: true, force: true });
    if (e instanceof TfxError) throw e;
    if ((e as NodeJS.ErrnoException)?.code) throw new TfxError('TFX8003', `cannot write '${dir}': ${errText(e)}`);
    throw e;
  } finally {
    untrack(tmp);
    if (old) untrack(old);
  }
}
