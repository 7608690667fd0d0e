/**
 * A real clickhouse-server for integration tests, private to one test file: its own temp directory,
 * config.xml and users.xml, bound to 127.0.0.1 on free ports.
 *
 * Findings about Debian bookworm's package (ClickHouse 18.16.1), which is what CI installs:
 *  - the server binary is /usr/sbin/clickhouse-server (not /usr/bin); upstream builds ship one
 *    `clickhouse` binary that is run as `clickhouse server`, which is supported as a fallback.
 *  - it runs as root without complaint and has no check that the data directory belongs to the
 *    effective user (newer upstream releases refuse to start when the owner differs). The helper
 *    creates the directory as the user that runs the server, so both versions are satisfied without
 *    runuser/setpriv.
 *  - users.xml is re-read while running, and password_sha256_hex is supported, so the plain password
 *    never has to be written to disk (nor XML-escaped).
 *  - it has no query parameters ({x:String} with param_x): param_x is rejected as an unknown setting.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { ClickHouseAccessError } from '../../src/clickhouse/client.js';
import {
  WaitTimeoutError,
  findExecutable,
  freePort,
  isExecutable,
  killProcess,
  spawnServer,
  stopProcess,
  waitUntil,
  type ServerProcess,
} from './process.js';

export interface ClickHouseUser {
  /** Plain password; stored only as its SHA-256 in users.xml. Empty means no password. */
  readonly password?: string;
  readonly readonly?: boolean;
}

export interface ClickHouseServerOptions {
  /** Users besides `default` (no password, 127.0.0.1 only). */
  readonly users?: Readonly<Record<string, ClickHouseUser>>;
  /** Per start, how long to wait for GET /ping to answer. */
  readonly readyTimeoutMs?: number;
  /** Files copied into users.d/ next to users.xml, which the server merges into it (a deployment's own users). */
  readonly usersFiles?: readonly string[];
  /** Extra environment of the server process (values for `from_env` in config files). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ClickHouseServer {
  /** http://127.0.0.1:<httpPort> */
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly dir: string;
  readonly binary: string;
  /** True while the process started by the last start() has not exited. */
  running(): boolean;
  /** SIGTERM, then wait for the process to exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** SIGKILL, then wait for the process to exit: a crash, as far as clients can tell. */
  kill(): Promise<void>;
  /** Start again on the same ports and data (after stop or kill); waits until /ping answers. */
  start(): Promise<void>;
  /** Stop and delete the temp directory. */
  dispose(): Promise<void>;
  /** The server's own log files, for assertions and for failure messages. */
  readLogs(): string;
}

export interface ServerBinary {
  readonly command: string;
  /** Arguments that come before --config-file (["server"] for the single upstream binary). */
  readonly prefixArgs: readonly string[];
}

// /usr/sbin is often missing from PATH for non-root users, yet it is where Debian puts the server.
const onPath = (name: string): string | undefined => findExecutable([name], ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin']);

export function findClickHouseServer(): ServerBinary | undefined {
  // Points the tests at another build; a path that is not executable counts as "not installed",
  // which is also how the skip/fail rule is exercised on a machine that has the package.
  const override = process.env.AGENTDRIFT_TEST_CLICKHOUSE_SERVER;
  if (override) {
    if (!isExecutable(override)) return undefined;
    return /(^|\/)clickhouse$/.test(override) ? { command: override, prefixArgs: ['server'] } : { command: override, prefixArgs: [] };
  }
  const server = onPath('clickhouse-server');
  if (server) return { command: server, prefixArgs: [] };
  const single = onPath('clickhouse');
  if (single) return { command: single, prefixArgs: ['server'] };
  return undefined;
}

/**
 * Whether the ClickHouse tests may be skipped. Only a developer machine without the server may skip;
 * in CI (.ci/run installs the package) a missing binary must fail loudly instead of passing vacuously.
 */
export function clickhouseSkip(): { skip: boolean; reason: string } {
  if (findClickHouseServer()) return { skip: false, reason: '' };
  const reason = 'clickhouse-server is not installed (apt-get install clickhouse-server, as .ci/run does)';
  return { skip: !process.env.CI, reason };
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function configXml(dir: string, httpPort: number, tcpPort: number): string {
  // Only http_port and tcp_port are set: 18.16 opens https, secure tcp, interserver (and newer
  // releases mysql/postgresql) ports only when they are configured, so nothing else is listening.
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${xml(join(dir, 'log', 'server.log'))}</log>
    <errorlog>${xml(join(dir, 'log', 'server.err.log'))}</errorlog>
    <size>50M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${xml(join(dir, 'data'))}/</path>
  <tmp_path>${xml(join(dir, 'tmp'))}/</tmp_path>
  <user_files_path>${xml(join(dir, 'user_files'))}/</user_files_path>
  <format_schema_path>${xml(join(dir, 'format_schemas'))}/</format_schema_path>
  <users_config>${xml(join(dir, 'users.xml'))}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>50</max_concurrent_queries>
  <!-- Caches are allocated on demand, but keep them small: CI machines run several servers. -->
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <!-- Shutdown waits for open connections, idle keep-alive ones included (up to shutdown_wait_unfinished
       seconds): keep both short so stop() in restart tests takes about a second, not eight. The client's
       idle-socket TTL (2.5 s) stays below the keep-alive timeout, so it never reuses a socket the server closed. -->
  <keep_alive_timeout>3</keep_alive_timeout>
  <shutdown_wait_unfinished>1</shutdown_wait_unfinished>
</yandex>
`;
}

function usersXml(users: Readonly<Record<string, ClickHouseUser>>): string {
  const quota = '<quota>default</quota><networks><ip>127.0.0.1</ip></networks>';
  const all: Record<string, ClickHouseUser> = { default: {}, ...users };
  const entries = Object.entries(all).map(([name, u]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid ClickHouse user name ${JSON.stringify(name)}`);
    const pw = u.password
      ? `<password_sha256_hex>${createHash('sha256').update(u.password, 'utf8').digest('hex')}</password_sha256_hex>`
      : '<password></password>';
    return `    <${name}>${pw}<profile>${u.readonly ? 'readonly' : 'default'}</profile>${quota}</${name}>`;
  });
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>2000000000</max_memory_usage></default>
    <readonly><readonly>1</readonly></readonly>
  </profiles>
  <users>
${entries.join('\n')}
  </users>
  <quotas>
    <default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default>
  </quotas>
</yandex>
`;
}

// No keep-alive: the server's shutdown waits for open connections, idle ones included.
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/ping', agent: false, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolvePing(res.statusCode === 200 && body.startsWith('Ok')));
      res.on('error', () => resolvePing(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePing(false));
  });
}

export async function startClickHouseServer(opts: ClickHouseServerOptions = {}): Promise<ClickHouseServer> {
  const binary = findClickHouseServer();
  if (!binary) {
    throw new Error(`cannot start ClickHouse for the tests: ${clickhouseSkip().reason}`);
  }
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-ch-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'users.xml'), usersXml(opts.users ?? {}), { mode: 0o600 });
  if (opts.usersFiles?.length) {
    mkdirSync(join(dir, 'users.d'));
    for (const f of opts.usersFiles) copyFileSync(f, join(dir, 'users.d', basename(f)));
  }

  let httpPort = 0;
  let tcpPort = 0;
  let proc: ServerProcess | undefined;

  const readLogs = (): string => {
    const parts: string[] = [];
    for (const f of ['server.err.log', 'server.log']) {
      const p = join(dir, 'log', f);
      if (existsSync(p)) parts.push(`--- ${f}\n${readFileSync(p, 'utf8')}`);
    }
    const output = proc?.output() ?? '';
    if (output) parts.push(`--- stdout/stderr\n${output}`);
    return parts.join('\n');
  };
  const tail = (s: string, n = 3000) => (s.length > n ? `...${s.slice(-n)}` : s);

  const spawnAndWait = async (): Promise<void> => {
    const p = spawnServer(binary.command, [...binary.prefixArgs, `--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir,
      env: { ...process.env, ...opts.env, TZ: 'UTC' },
      maxOutputChars: 20_000,
    });
    proc = p;
    const url = `http://127.0.0.1:${httpPort}`;
    try {
      await waitUntil(
        async () => {
          const spawnError = p.spawnError();
          if (spawnError) throw new Error(`could not run ${binary.command}: ${spawnError.message}`);
          if (p.exited()) {
            throw new Error(
              `clickhouse-server exited during startup (code ${p.child.exitCode}, signal ${p.child.signalCode}):\n${tail(readLogs())}`,
            );
          }
          return pingOnce(httpPort);
        },
        { timeoutMs: readyTimeoutMs, intervalMs: 200, describe: `clickhouse-server did not answer ${url}/ping within ${readyTimeoutMs} ms` },
      );
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      await killProcess(p.child);
      throw new Error(`${err.message}:\n${tail(readLogs())}`);
    }
  };

  const isRunning = () => !!proc && !proc.exited();

  const server: ClickHouseServer = {
    get url() {
      return `http://127.0.0.1:${httpPort}`;
    },
    get httpPort() {
      return httpPort;
    },
    get tcpPort() {
      return tcpPort;
    },
    dir,
    binary: [binary.command, ...binary.prefixArgs].join(' '),
    running: isRunning,
    async stop() {
      if (proc) await stopProcess(proc.child, 20_000);
    },
    async kill() {
      if (proc) await killProcess(proc.child);
    },
    async start() {
      if (isRunning()) return;
      await spawnAndWait();
    },
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    readLogs,
  };

  // A free port can be taken by someone else between probing and binding: retry with new ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    httpPort = await freePort();
    tcpPort = await freePort();
    if (tcpPort === httpPort) continue;
    writeFileSync(join(dir, 'config.xml'), configXml(dir, httpPort, tcpPort));
    try {
      await spawnAndWait();
      return server;
    } catch (err) {
      lastError = err;
      if (!/Address already in use|Cannot assign requested address/i.test(String((err as Error)?.message))) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

/** The ClickHouseAccessError a call fails with; the test fails if the call succeeds or throws something else. */
export async function clickHouseFailure(p: Promise<unknown>): Promise<ClickHouseAccessError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ClickHouseAccessError);
    return err as ClickHouseAccessError;
  }
  throw new Error('expected the call to fail');
}
