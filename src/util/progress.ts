/**
 * Progress of long work (seeding demo data, backtests): a bar on a terminal, a line every 10% on a
 * pipe so logs stay readable, or nothing.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  update(done: number): void;
  stop(): void;
}

/** A bar on a terminal; on a pipe, a line every 10% so logs stay readable: "<label>: 10/100 <unit> (10%)". */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, label = 'seeding', unit = 'runs'): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta_formatted} left`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    return { start: (t) => bar.start(t, 0), update: (d) => bar.update(d), stop: () => bar.stop() };
  }
  let total = 0;
  let nextMark = 0;
  return {
    start: (t) => {
      total = t;
      nextMark = 0;
    },
    update: (d) => {
      const pct = total === 0 ? 100 : Math.floor((d / total) * 100);
      if (pct >= nextMark) {
        stream.write(`${label}: ${d}/${total} ${unit} (${pct}%)\n`);
        nextMark = pct - (pct % 10) + 10;
      }
    },
    stop: () => undefined,
  };
}

export const silentProgress: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined };
