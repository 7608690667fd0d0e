/**
 * The one ClickHouse access layer. Everything that touches data goes through `ClickHouse`, built on
 * @clickhouse/client for both targets: over HTTP(S) to a server, or in-process through chDB's
 * Connection implementation. Errors are classified (unavailable / auth / query) and scrubbed of the
 * password before they leave this module.
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { join, resolve } from 'node:path';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { describeTarget, type Target } from './target.js';
import { maskSecrets } from '../util/secrets.js';
import { ERR } from '../util/errors.js';

export type QueryParams = Record<string, unknown>;

export interface ClickHouse {
  readonly target: Target;
  /** SELECT returning rows as objects. Values only ever travel as bound parameters ({name:Type}). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams, opts?: QueryOptions): Promise<T[]>;
  /** DDL and other statements without a result. */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** Bulk insert: objects as JSONEachRow, or arrays in column order as JSONCompactEachRow (much cheaper to parse). */
  insert(table: string, rows: readonly object[], format?: 'JSONEachRow' | 'JSONCompactEachRow', opts?: InsertOptions): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface QueryOptions {
  readonly timeoutMs?: number;
  /** Cancels the query (the daemon's per-group evaluation timeout and shutdown). */
  readonly signal?: AbortSignal;
}

export interface InsertOptions {
  /**
   * Settings for this INSERT (names and values from code, never from input). Over HTTP they travel
   * with the request; chDB's Connection runs them as SET in the engine's one session, so there they
   * stay for later statements too (as date_time_input_format below does): pass only settings that
   * are harmless beyond the insert.
   */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface Credentials {
  readonly user?: string;
  readonly password?: string;
}

export type ClickHouseErrorKind = 'unavailable' | 'auth' | 'query' | 'setup';

export class ClickHouseAccessError extends Error {
  override readonly name = 'ClickHouseAccessError';
  readonly errorCode = ERR.CLICKHOUSE;
  constructor(
    readonly kind: ClickHouseErrorKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Credentials from the environment: the only place a password may come from besides ${ENV} in config. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  return { user: env.AGENTDRIFT_CLICKHOUSE_USER, password: env.AGENTDRIFT_CLICKHOUSE_PASSWORD };
}

const UNAVAILABLE = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|EPIPE|socket hang up|Timeout error|timed out|other side closed/i;
const AUTH_CODES = new Set(['192', '193', '194', '516', '497']); // UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED, ACCESS_DENIED
const AUTH_TEXT = /password is incorrect|Authentication failed|Unknown user|Wrong password|REQUIRED_PASSWORD|WRONG_PASSWORD|UNKNOWN_USER/i;
const READONLY_TEXT = /readonly mode|Cannot execute query in readonly|READONLY/i;

// Servers before the 19.x line write errors as "Code: 193, e.displayText() = DB::Exception: ..., e.what() = DB::Exception".
// @clickhouse/client only parses the newer "Code: 193. DB::Exception: ..." form, so for those servers (Debian's
// 18.16 package among them) its error has no `code`; recover it here so classification and callers can rely on it.
const LEGACY_ERROR = /^Code: (\d+), e\.displayText\(\) = ([^\n]*?)(?:, e\.what\(\) = [\w:]+)?\s*(?:\n|$)/;
// Bound parameters travel as param_<name> URL arguments; a server without query-parameter support
// (18.16 and older) takes them for settings and answers "Unknown setting param_x".
const NO_QUERY_PARAMS = /Unknown setting param_/;


export function classifyError(err: unknown, target: Target, secrets: readonly (string | undefined)[]): ClickHouseAccessError {
  const e = err as { message?: string; code?: string | number; type?: string };
  let raw = maskSecrets(String(e?.message ?? err), secrets).trim();
  let code = e?.code === undefined ? undefined : String(e.code);
  const legacy = LEGACY_ERROR.exec(raw);
  if (legacy) {
    code ??= legacy[1];
    raw = `Code: ${legacy[1]}. ${legacy[2]}`;
  }
  const where = describeTarget(target);
  if (code && AUTH_CODES.has(code) || AUTH_TEXT.test(raw)) {
    return new ClickHouseAccessError('auth', `ClickHouse at ${where} refused the credentials (check AGENTDRIFT_CLICKHOUSE_USER / AGENTDRIFT_CLICKHOUSE_PASSWORD): ${firstLine(raw)}`, code);
  }
  if ((code && UNAVAILABLE.test(code)) || UNAVAILABLE.test(raw)) {
    return new ClickHouseAccessError('unavailable', `ClickHouse at ${where} is unreachable: ${firstLine(raw)}`, code);
  }
  if (NO_QUERY_PARAMS.test(raw)) {
    return new ClickHouseAccessError(
      'setup',
      `ClickHouse at ${where} does not support bound query parameters ({name:Type}), which agentdrift uses for every value; ` +
        `upgrade to a newer ClickHouse server: ${firstLine(raw)}`,
      code,
    );
  }
  if (READONLY_TEXT.test(raw)) {
    return new ClickHouseAccessError('query', `ClickHouse at ${where} rejected a write (read-only user): ${firstLine(raw)}`, code);
  }
  const hint = /Unknown table|UNKNOWN_TABLE|doesn't exist/i.test(raw) ? ' (has `agentdrift migrate` run against this store?)' : '';
  return new ClickHouseAccessError('query', `ClickHouse query failed at ${where}: ${firstLine(raw)}${hint}`, code);
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}

export const CHDB_CONNECTION_MODULE = 'chdb/connection';

async function loadChdbConnection(path: string): Promise<unknown> {
  let mod: { createChdbConnection: (o: { path: string }) => unknown };
  try {
    // chdb is an optional dependency (it ships a ~500 MB engine): server users need not install it.
    // A computed specifier keeps the compiler from resolving the module: agentdrift must build and
    // run without chdb installed (npm ci --omit=optional).
    const specifier: string = CHDB_CONNECTION_MODULE;
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    throw new ClickHouseAccessError(
      'setup',
      'the embedded store needs the optional package "chdb", which is not installed. ' +
        'Run `npm install chdb` (or `npm ci` without --omit=optional), or point agentdrift at a server with ' +
        '--clickhouse http://host:8123/database. Cause: ' + firstLine(String((err as Error)?.message ?? err)),
    );
  }
  const dir = resolve(path);
  openableStoreDir(dir);
  try {
    return mod.createChdbConnection({ path: dir });
  } catch (err) {
    // chDB has already written the engine's own message to stderr; say what it means, once.
    const holder = storeHolder(dir);
    if (holder !== null) throw storeInUse(dir, holder);
    throw new ClickHouseAccessError('setup', `cannot open the embedded store ${dir}: ${firstLine(String((err as Error)?.message ?? err))}`);
  }
}

/**
 * Checks before chDB opens `dir`, whose engine would print a raw exception and fail: the directory
 * must be creatable and writable (chDB writes even to read), and no other live process may hold it.
 */
function openableStoreDir(dir: string): void {
  const elsewhere = 'or point clickhouse.target (--clickhouse) at another directory';
  const cannot = (why: string) => new ClickHouseAccessError('setup', `the embedded store directory ${dir} ${why}`);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    if (existsSync(join(dir, 'status'))) accessSync(join(dir, 'status'), constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw cannot(`is not writable (permission denied): chDB writes there even to read; give this user write access, ${elsewhere}`);
    if (code === 'EROFS') throw cannot(`is on a read-only file system: chDB writes there even to read; mount it read-write, ${elsewhere}`);
    if (code === 'ENOTDIR' || code === 'EEXIST') throw cannot(`cannot be created: a file is in the way; remove it, ${elsewhere}`);
    throw cannot(`cannot be used (${(err as Error).message}); ${elsewhere}`);
  }
  const holder = storeHolder(dir);
  if (holder !== null) throw storeInUse(dir, holder);
}

function storeInUse(dir: string, pid: number): ClickHouseAccessError {
  return new ClickHouseAccessError(
    'setup',
    `the embedded store ${dir} is in use by another process (pid ${pid}, probably another agentdrift): one process at a time may open a chDB directory; ` +
      'stop that one, or point both at a ClickHouse server',
  );
}

/**
 * The live process, other than this one, that holds a chDB directory, from the `status` file the
 * engine writes there ("PID: 1234") and removes on a clean close. A crashed holder leaves the file
 * behind with a dead pid; a pid that now belongs to something that is not node, chDB or ClickHouse
 * is a leftover too.
 */
export function storeHolder(dir: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(dir, 'status'), 'utf8');
  } catch {
    return null;
  }
  const pid = Number(/^PID:\s*(\d+)/m.exec(text)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null; // ESRCH: no such process
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!/node|chdb|clickhouse|python/i.test(cmdline)) return null;
  } catch {
    // No /proc (not Linux) or not ours to read: the pid is alive, assume it is the holder.
  }
  return pid;
}

export async function openClickHouse(target: Target, creds: Credentials = credentialsFromEnv()): Promise<ClickHouse> {
  const secrets = [creds.password];
  let client: ClickHouseClient;
  // The client's own logger prints every failed request to the console (raw server text and stack, outside
  // the structured log and its redaction). Failures are thrown from here classified and scrubbed instead,
  // and the caller logs them once.
  const log = { level: ClickHouseLogLevel.OFF };
  if (target.kind === 'chdb') {
    const connection = await loadChdbConnection(target.path);
    // The `connection` hook is typed against client-common's internal contract; chdb implements it.
    client = createClient({ connection, database: target.database, log } as never);
  } else {
    client = createClient({
      url: target.url,
      database: target.database,
      username: creds.user ?? 'default',
      password: creds.password ?? '',
      request_timeout: 30_000,
      // Old servers (and read-only users) reject unknown settings; send none by default.
      compression: { request: false, response: false },
      application: 'agentdrift',
      log,
    });
  }
  return wrap(client, target, secrets);
}

function wrap(client: ClickHouseClient, target: Target, secrets: readonly (string | undefined)[]): ClickHouse {
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ClickHouseAccessError) throw err;
      throw classifyError(err, target, secrets);
    }
  };
  let closed = false;
  // In-process (chDB) work cannot be cancelled: an abort only stops waiting for it. Closing the engine
  // while such a query still runs on a native thread crashes the process, so close() waits for them.
  const native = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    if (target.kind !== 'chdb') return p;
    native.add(p);
    const done = () => native.delete(p);
    p.then(done, done);
    return p;
  };
  const assertOpen = () => {
    if (closed) throw new ClickHouseAccessError('unavailable', `ClickHouse client for ${describeTarget(target)} is closed`);
  };
  return {
    target,
    query: <T>(sql: string, params?: QueryParams, opts?: QueryOptions) =>
      guard(async () => {
        assertOpen();
        const signals = [opts?.signal, opts?.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter((x): x is AbortSignal => !!x);
        const abort = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
        if (target.kind === 'http') {
          // Over HTTP an abort closes the request and the server cancels the query.
          const rs = await client.query({ query: sql, query_params: params, format: 'JSONEachRow', abort_signal: abort });
          return (await rs.json()) as T[];
        }
        const work = track(client.query({ query: sql, query_params: params, format: 'JSONEachRow' }).then((rs) => rs.json() as Promise<T[]>));
        if (!abort) return await work;
        abort.throwIfAborted();
        return await new Promise<T[]>((resolve, reject) => {
          const onAbort = () => reject(abort.reason ?? new Error('query aborted'));
          abort.addEventListener('abort', onAbort, { once: true });
          work.then(resolve, reject).finally(() => abort.removeEventListener('abort', onAbort));
        });
      }),
    command: (sql: string, params?: QueryParams) =>
      guard(async () => {
        assertOpen();
        await track(client.command({ query: sql, query_params: params }));
      }),
    insert: (table: string, rows: readonly object[], format: 'JSONEachRow' | 'JSONCompactEachRow' = 'JSONEachRow', opts?: InsertOptions) =>
      guard(async () => {
        assertOpen();
        if (rows.length === 0) return;
        // best_effort: timestamps travel as ISO-8601 with an explicit Z, so the server's timezone cannot shift them.
        await track(client.insert({
          table,
          values: rows as object[],
          format,
          clickhouse_settings: { ...opts?.settings, date_time_input_format: 'best_effort' },
        }));
      }),
    ping: () =>
      guard(async () => {
        // /ping answers without authentication; a real query also proves the credentials work.
        assertOpen();
        await track(client.query({ query: 'SELECT 1 AS ok', format: 'JSONEachRow' }).then((rs) => rs.json()));
      }),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...native]);
      await client.close();
    },
  };
}
