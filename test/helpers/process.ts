/**
 * What the helpers that run a real server for the tests (clickhouse-server, Prometheus, Alertmanager)
 * have in common: finding the binary, a free port on 127.0.0.1, spawning with the output kept for
 * failure messages, a bounded wait until the server answers, and stopping it (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first of `names` found as an executable in a PATH directory or, after those, in `extraDirs`
 * (directories such as /usr/sbin are often missing from PATH for non-root users).
 */
export function findExecutable(names: readonly string[], extraDirs: readonly string[]): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs];
  for (const name of names) {
    for (const d of dirs) {
      if (!d) continue;
      const p = join(d, name);
      if (isExecutable(p)) return p;
    }
  }
  return undefined;
}

/**
 * A port on 127.0.0.1 that was free a moment ago: bound on port 0, then released. Until someone binds
 * it, connections to it are refused. Someone else may take it before the caller binds it, so servers
 * started on it retry with a new port when the address is in use.
 */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Thrown by waitUntil when the time is up; callers that clean up before failing catch it. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Pause between probes. */
  readonly intervalMs: number;
  /** The WaitTimeoutError's message; a function is called only when the time is up. */
  readonly describe: string | (() => string);
}

/**
 * Calls `probe` until it returns something other than undefined or false, and returns that. The first
 * probe always runs; after each pause the next one runs only while the deadline has not passed. A
 * probe that throws ends the wait with its error (a server that exited need not be waited for).
 */
export async function waitUntil<T>(probe: () => T | false | undefined | Promise<T | false | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    await sleep(opts.intervalMs);
  }
  throw new WaitTimeoutError(typeof opts.describe === 'function' ? opts.describe() : opts.describe);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once `child` has exited, false if it is still running after `timeoutMs`. */
function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

/** SIGKILL, then wait (up to 5 s) for the process to be gone. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGKILL');
  await waitExit(child, 5_000);
}

/** SIGTERM; if the process is still running after `graceMs`, SIGKILL (and wait up to 5 s more). */
export async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, graceMs))) await killProcess(child);
}

// A test process that dies (timeout, crash) must not leave servers behind.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function killOnExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far; collection stops once `maxOutputChars` is reached. */
  output(): string;
  /** Set when the command could not be run at all (ENOENT, EACCES...). */
  spawnError(): Error | undefined;
  exited(): boolean;
}

/** Spawns a server with its output collected, and SIGKILLs it if the test process exits first. */
export function spawnServer(
  command: string,
  args: readonly string[],
  opts: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv; readonly maxOutputChars?: number } = {},
): ServerProcess {
  const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const max = opts.maxOutputChars ?? Infinity;
  let output = '';
  const collect = (b: Buffer): void => {
    if (output.length < max) output += b.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  return { child, output: () => output, spawnError: () => spawnError, exited: () => hasExited(child) };
}

/** Whether GET `url` answers 2xx within a second (false while nothing listens yet). */
async function answersOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Polls GET `url` (a readiness endpoint such as /-/ready) every 100 ms: true once it answers 2xx,
 * false when the process has exited (or could not be run) or `timeoutMs` has passed.
 */
export async function waitForHttpReady(p: ServerProcess, url: string, timeoutMs: number): Promise<boolean> {
  try {
    await waitUntil(
      () => {
        if (p.spawnError() || p.exited()) throw new Error(`${p.child.spawnfile} is not running`);
        return answersOk(url);
      },
      { timeoutMs, intervalMs: 100, describe: `${url} did not answer within ${timeoutMs} ms` },
    );
    return true;
  } catch {
    return false;
  }
}
