/** Runs the real `agentdrift` launcher (bin/agentdrift.js over dist/, built by `npm test`). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve(__dirname, '../../bin/agentdrift.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running command whose output lines are collected as they come. */
export interface LiveProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pred: (line: string) => boolean, timeoutMs: number): Promise<string>;
  exited: Promise<number | null>;
}

export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, as: { uid?: number; gid?: number } = {}): LiveProcess {
  return startLauncher(BIN, args, cwd, env, as);
}

/** A launcher (this repository's, or an installed package's) as a live process whose lines can be awaited. */
export function startLauncher(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, as: { uid?: number; gid?: number } = {}): LiveProcess {
  const child = spawn(process.execPath, [bin, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...as });
  const lines: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  const onData = (buf: Buffer, carry: { rest: string }) => {
    carry.rest += buf.toString('utf8');
    const parts = carry.rest.split('\n');
    carry.rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters]) if (w.pred(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  };
  const out = { rest: '' };
  const err = { rest: '' };
  child.stdout!.on('data', (b: Buffer) => onData(b, out));
  child.stderr!.on('data', (b: Buffer) => onData(b, err));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return {
    child,
    lines,
    exited,
    waitFor(pred, timeoutMs) {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`)), timeoutMs);
        waiters.push({ pred, resolve: (l) => { clearTimeout(t); res(l); } });
        // A process whose output has ended will not print the line: say so now, not at the timeout.
        // ('close', not 'exit': output can still arrive after 'exit'.)
        void closed.then((code) => { clearTimeout(t); rej(new Error(`exited (${code}) while waiting; last lines:\n${lines.slice(-15).join('\n')}`)); });
      });
    },
  };
}

/** The /metrics URL a daemon logged when it started serving. */
export async function metricsUrlOf(p: LiveProcess, timeoutMs = 60_000): Promise<string> {
  const line = await p.waitFor((l) => l.includes('serving /alerts, /metrics'), timeoutMs);
  return `${String((JSON.parse(line) as { url: string }).url)}/metrics`;
}

/** The value of one sample in a daemon's /metrics (0 when absent). */
export async function scrapeValue(metricsUrl: string, sample: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

/**
 * Waits until a daemon has completed `n` evaluations of a group, by its own counter: an event to wait
 * for, instead of a sleep that hopes the evaluation is done. Polls at most `timeoutMs`.
 */
export async function waitForEvaluations(metricsUrl: string, group: string, n: number, timeoutMs = 30_000): Promise<void> {
  const sample = `agentdrift_group_evaluations_total{group="${group}"}`;
  const end = Date.now() + timeoutMs;
  while ((await scrapeValue(metricsUrl, sample)) < n) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${n} evaluations of ${group}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
