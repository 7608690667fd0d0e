/**
 * Commands beside a running daemon. One process at a time may open an embedded (chDB) store, and a
 * running `agentdrift start` holds it; `eval`, `explain`, `backtest` and `status` then ask the daemon
 * for their report (POST /api/v1/commands/<name>, http/commandsHandler.ts) and print it with the
 * printer they use alone (report/commands.ts), so they print the same either way.
 *
 * Which daemon: `--server URL`, else the `url` the daemon recorded in its state file's lock
 * (persist/stateLock.ts) when the pid holding the store is that lock's live owner on this host.
 * chooseRoute decides from facts (pure); routeFor gathers them (files, pids); askDaemon asks.
 */
import { hostname } from 'node:os';
import { ClickHouseAccessError, storeHolder } from '../clickhouse/client.js';
import type { Config } from '../config/load.js';
import { lockPathOf, pidAlive, readOwner, type LockOwner } from '../persist/stateLock.js';
import { CATALOGUE, type ErrorCode } from '../util/errors.js';
import { UsageError } from './context.js';
import type { CommandName } from '../http/commandsHandler.js';

export type Route = { readonly kind: 'direct' } | { readonly kind: 'daemon'; readonly url: string; readonly from: '--server' | 'lock' };

export interface RouteFacts {
  /** --server, when given. */
  readonly server?: string | undefined;
  /** The embedded store's directory, null for a ClickHouse server (any number of clients). */
  readonly storeDir: string | null;
  /** The live process, other than this one, that holds the embedded store; null when none does. */
  readonly holder: number | null;
  /** The state file's lock: its owner, null when unreadable, 'gone' when there is none. */
  readonly lock: LockOwner | null | 'gone';
  readonly lockPath: string;
  readonly host: string;
  readonly isAlive: (pid: number) => boolean;
}

/** `http://host:port`, no trailing slash; a usage error when `text` is not an http(s) URL. */
export function serverUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`--server must be the daemon's URL such as http://127.0.0.1:9464, got ${JSON.stringify(text)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--server must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/**
 * Direct unless the store is held: then the daemon that holds it, or one line saying who holds it and
 * what to do. --server always wins (a daemon elsewhere, or one whose lock this config does not name).
 */
export function chooseRoute(f: RouteFacts): Route {
  if (f.server !== undefined) return { kind: 'daemon', url: serverUrl(f.server), from: '--server' };
  if (f.storeDir === null || f.holder === null) return { kind: 'direct' };
  const lock = typeof f.lock === 'object' && f.lock !== null ? f.lock : null;
  const daemon = lock !== null && lock.host === f.host && lock.pid === f.holder && f.isAlive(lock.pid) ? lock : null;
  if (daemon?.url) return { kind: 'daemon', url: daemon.url, from: 'lock' };
  const why =
    daemon !== null
      ? `the agentdrift daemon (pid ${f.holder}) holds it but has not recorded its HTTP address in ${f.lockPath} yet (still starting: try again in a moment)`
      : `pid ${f.holder} holds it, and ${f.lockPath} names no daemon of that pid on this host`;
  return refuse(f.storeDir, `${why}; pass --server URL if it is an agentdrift daemon serving elsewhere`);
}

function refuse(dir: string, why: string): never {
  // The same error (and exit code) as opening the held store directly, with where to go instead.
  throw new ClickHouseAccessError('setup', `the embedded store ${dir} is in use by another process: ${why}, or stop it (one process at a time may open a chDB directory)`);
}

/** The route of a command with `config`: reads the store's holder and the state file's lock. */
export async function routeFor(config: Config, server: string | undefined): Promise<Route> {
  const target = config.clickhouse.target;
  const storeDir = target.kind === 'chdb' ? target.path : null;
  const holder = storeDir === null || server !== undefined ? null : storeHolder(storeDir);
  const lockPath = lockPathOf(config.stateFile);
  const lock = holder === null ? 'gone' : await readOwner(lockPath);
  return chooseRoute({ server, storeDir, holder, lock, lockPath, host: hostname(), isAlive: pidAlive });
}

/** The url a live daemon of this host recorded in the state file's lock, or null. */
export async function advertisedUrl(config: Pick<Config, 'stateFile'>): Promise<string | null> {
  const lock = await readOwner(lockPathOf(config.stateFile));
  if (lock === null || lock === 'gone' || lock.url === undefined || lock.host !== hostname() || !pidAlive(lock.pid)) return null;
  return lock.url;
}

/** --rules names files the daemon has not loaded: refused, not quietly ignored. */
export function refuseRulesViaDaemon(route: Route, rules: readonly string[] | undefined): void {
  if (route.kind === 'daemon' && rules !== undefined) {
    throw new UsageError(`--rules cannot be used through the daemon at ${route.url}: it evaluates the rules it loaded (its config's rules, reloaded on change); drop --rules, or stop the daemon`);
  }
}

/** An error the daemon answered with a catalogue code: the same message and exit code as running alone. */
class DaemonError extends Error {
  override readonly name = 'DaemonError';
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** `{"error": {"code", "message"}}` of an API answer, else the text itself. */
export function apiError(text: string): { code: string | null; message: string } {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string') return { code: null, message: e };
    if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') {
      const code = (e as { code?: unknown }).code;
      return { code: typeof code === 'string' ? code : null, message: (e as { message: string }).message };
    }
  } catch {
    // not JSON: the text as it is
  }
  return { code: null, message: text.trim() };
}

/** The error a failed answer becomes: a catalogued one as the daemon said it, anything else naming the daemon. */
export function answerError(url: string, status: number, text: string): Error {
  const { code, message } = apiError(text);
  if (code !== null && code in CATALOGUE) return new DaemonError(code as ErrorCode, message);
  const hint = status === 404 && code === 'not_found' ? ' (is it an older agentdrift? update it, or stop it and run the command alone)' : '';
  return new Error(`the daemon at ${url} refused: ${status} ${message}${hint}`);
}

/**
 * POSTs `body` to the daemon's report of `command` and returns it. The token of `api.token_file`
 * goes along when the config has one (the daemon's guard asks for it), as `agentdrift accept` does.
 */
export async function askDaemon<T>(route: Extract<Route, { kind: 'daemon' }>, config: Pick<Config, 'api'>, command: CommandName, body: unknown): Promise<T> {
  const url = `${route.url}/api/v1/commands/${command}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(config.api ? { Authorization: `Bearer ${config.api.token}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch (e) {
    const cause = ((e as Error).cause as Error | undefined)?.message ?? (e as Error).message;
    const where = route.from === 'lock' ? 'found in the state file\'s lock' : 'from --server';
    throw new UsageError(`cannot reach the daemon at ${route.url} (${where}): ${cause}`);
  }
  const text = await res.text();
  if (!res.ok) throw answerError(route.url, res.status, text);
  return JSON.parse(text) as T;
}
