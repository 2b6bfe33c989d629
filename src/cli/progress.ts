/**
 * Progress for long work (init, weight loading): a bar on a terminal, and otherwise one line per stage, so
 * logs and CI output stay readable.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` of `total` units so far. */
  update(done: number, label?: string): void;
  /** Ends the stage with one line. */
  finish(line: string): void;
}

const GiB = 2 ** 30;
export const fmtSize = (b: number): string => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

export function progress(stage: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 0) {
    stream.write(`${stage} ...\n`);
    return { update() {}, finish(line) { stream.write(`${line}\n`); } };
  }
  const bar = new cliProgress.SingleBar({
    stream, hideCursor: true, clearOnComplete: true,
    format: `${stage} [{bar}] {percentage}% {eta_formatted} {label}`,
  }, cliProgress.Presets.legacy);
  bar.start(total, 0, { label: '' });
  return {
    update(done, label = '') { bar.update(done, { label }); },
    finish(line) { bar.stop(); stream.write(`${line}\n`); },
  };
}
