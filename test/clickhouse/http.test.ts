/**
 * The HTTP path of the ClickHouse access layer against a real clickhouse-server (Debian bookworm ships
 * 18.16, which is what CI runs). Covers the failures an operator actually meets: wrong credentials, a
 * server that is down, a read-only account, and secrets that must not leak into messages or logs.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClickHouseAccessError, credentialsFromEnv, openClickHouse, type ClickHouse } from '../../src/clickhouse/client.js';
import { describeTarget, parseTarget } from '../../src/clickhouse/target.js';
import { createLogger } from '../../src/log.js';
import { clickHouseFailure, clickhouseSkip, startClickHouseServer, type ClickHouseServer } from '../helpers/clickhouseServer.js';

const { skip, reason } = clickhouseSkip();
if (skip) console.warn(`[clickhouse-http] SKIPPED: ${reason}`);

// Each character is hostile to one naive encoding: ' to SQL quoting, " & < to XML, : @ % to URL userinfo.
const PASSWORD = `pw'${randomBytes(8).toString('hex')}"&<:@%`;
const READER_PASSWORD = `rd'${randomBytes(8).toString('hex')}`;
const WRONG_PASSWORD = `wrong'${randomBytes(8).toString('hex')}`;
// Sent inside a query on purpose (see the echo test), so the server's own query log holds it; only
// the layer's errors and logs are checked for it.
const ECHO_PASSWORD = `echo"${randomBytes(8).toString('hex')}&<:@%`;
const SECRETS = [PASSWORD, READER_PASSWORD, WRONG_PASSWORD, ECHO_PASSWORD];

/** Every form in which a password could slip out: as is, URL-encoded, or inside a Basic auth header. */
function leakForms(secret: string, user: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(`${user}:${secret}`).toString('base64')];
}
const CREDENTIAL_FORMS = [
  ...leakForms(PASSWORD, 'agentdrift'),
  ...leakForms(READER_PASSWORD, 'reader'),
  ...leakForms(WRONG_PASSWORD, 'agentdrift'),
];
const LEAK_FORMS = [...CREDENTIAL_FORMS, ...leakForms(ECHO_PASSWORD, 'echo')];

function env(user: string, password: string): NodeJS.ProcessEnv {
  return { AGENTDRIFT_CLICKHOUSE_USER: user, AGENTDRIFT_CLICKHOUSE_PASSWORD: password };
}

describe.skipIf(skip)(skip ? `ClickHouse over HTTP (skipped: ${reason})` : 'ClickHouse over HTTP (real clickhouse-server)', () => {
  let server: ClickHouseServer;
  let serverMajor = 0;
  const opened: ClickHouse[] = [];
  /** Every error the layer produced, checked for leaks at the end. */
  const errors: ClickHouseAccessError[] = [];
  const consoleOutput: string[] = [];

  const open = async (user: string, password: string, database = 'drift') => {
    const target = parseTarget(`${server.url}/${database}`);
    const ch = await openClickHouse(target, credentialsFromEnv(env(user, password)));
    opened.push(ch);
    return ch;
  };
  const failure = async (p: Promise<unknown>) => {
    const err = await clickHouseFailure(p);
    errors.push(err);
    return err;
  };

  beforeAll(async () => {
    // The library must not print on its own: anything it wants said goes through the caller's logger.
    for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        consoleOutput.push(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' '));
      });
    }
    server = await startClickHouseServer({
      users: {
        agentdrift: { password: PASSWORD },
        reader: { password: READER_PASSWORD, readonly: true },
        echo: { password: ECHO_PASSWORD },
      },
    });
    const admin = await open('default', '', 'default');
    const [row] = await admin.query<{ v: string }>('SELECT version() AS v');
    serverMajor = Number(String(row?.v).split('.')[0]);
    await admin.command('CREATE DATABASE IF NOT EXISTS drift');
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    for (const ch of opened) await ch.close().catch(() => undefined);
    await server?.dispose();
  });

  it('connects as agentdrift with the password from the environment, creates, inserts and selects', async () => {
    const ch = await open('agentdrift', PASSWORD);
    await ch.ping();
    await ch.command(
      'CREATE TABLE IF NOT EXISTS events (id UInt32, name String, score Float64, at DateTime) ENGINE = MergeTree ORDER BY id',
    );
    const rows = [
      { id: 1, name: "O'Brien", score: 0.5, at: '2024-05-01T12:34:56Z' },
      { id: 2, name: 'back\\slash "quoted"', score: 1.25, at: '2024-05-01T23:59:59.000Z' },
      { id: 3, name: 'plain', score: -3, at: '2024-05-02T00:00:00+02:00' },
    ];
    await ch.insert('events', rows);
    await ch.insert('events', []);
    const got = await ch.query<{ id: number; name: string; score: number; ts: number }>(
      'SELECT id, name, score, toUnixTimestamp(at) AS ts FROM events ORDER BY id',
    );
    // ISO-8601 with a zone must land on the same instant whatever the server's timezone (best_effort parsing).
    expect(got).toEqual(rows.map(({ at, ...r }) => ({ ...r, ts: Date.parse(at) / 1000 })));
    const [count] = await ch.query<{ n: string }>('SELECT count() AS n FROM events');
    // UInt64 comes back quoted in JSON formats (output_format_json_quote_64bit_integers); callers convert.
    expect(Number(count?.n)).toBe(3);
  });

  it('bound parameters: work where the server supports them, fail as a clear setup error where it does not', async () => {
    const ch = await open('agentdrift', PASSWORD);
    const run = ch.query<{ v: string }>('SELECT {x:String} AS v', { x: "it's" });
    if (serverMajor <= 18) {
      // 18.16 has no query parameters: param_x is taken for an unknown setting (Code 115). Values then
      // can only reach this server inside the data of INSERTs, which the previous test covers.
      const err = await failure(run);
      expect(err.kind).toBe('setup');
      expect(err.code).toBe('115');
      expect(err.message).toContain(describeTarget(ch.target));
      expect(err.message).toMatch(/does not support bound query parameters/);
    } else {
      expect(await run).toEqual([{ v: "it's" }]);
    }
  });

  it('refuses a wrong password as auth, naming the target but not the password', async () => {
    const ch = await open('agentdrift', WRONG_PASSWORD);
    const err = await failure(ch.query('SELECT 1 AS one'));
    expect(err.kind).toBe('auth');
    expect(err.code).toBe('193');
    expect(err.message).toContain(`${server.url}/drift`);
    expect(err.message).toMatch(/refused the credentials/);
    expect(err.message).toContain('AGENTDRIFT_CLICKHOUSE_PASSWORD');
    for (const s of SECRETS) expect(err.message).not.toContain(s);
  });

  it('refuses an unknown user as auth', async () => {
    const ch = await open('nobody', WRONG_PASSWORD);
    const err = await failure(ch.command('SELECT 1'));
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/Unknown user nobody/);
  });

  it('ping() checks the credentials, not just that the port answers', async () => {
    const ch = await open('agentdrift', WRONG_PASSWORD);
    const err = await failure(ch.ping());
    expect(err.kind).toBe('auth');
    await expect((await open('agentdrift', PASSWORD)).ping()).resolves.toBeUndefined();
  });

  it('lets a read-only user select but not write, with a clear query error', async () => {
    const ch = await open('reader', READER_PASSWORD);
    const [row] = await ch.query<{ n: string }>('SELECT count() AS n FROM events');
    expect(Number(row?.n)).toBe(3);

    const insertErr = await failure(ch.insert('events', [{ id: 9, name: 'x', score: 0, at: '2024-05-01T00:00:00Z' }]));
    expect(insertErr.kind).toBe('query');
    expect(insertErr.message).toMatch(/read-only/);
    expect(insertErr.message).toMatch(/readonly mode/);
    expect(insertErr.message).toContain(`${server.url}/drift`);

    const createErr = await failure(ch.command('CREATE TABLE nope (a UInt8) ENGINE = Memory'));
    expect(createErr.kind).toBe('query');
    expect(createErr.message).toMatch(/read-only/);
  });

  it('reports an ordinary query error as query, without the server stack trace', async () => {
    const ch = await open('agentdrift', PASSWORD);
    const err = await failure(ch.query('SELECT * FROM no_such_table'));
    expect(err.kind).toBe('query');
    expect(err.code).toBe('60');
    expect(err.message).toMatch(/no_such_table/);
    expect(err.message).not.toMatch(/e\.what\(\)|\n/);
  });

  it('scrubs the password from server errors that echo it back', async () => {
    const ch = await open('echo', ECHO_PASSWORD);
    // The server quotes an unknown identifier verbatim in its error: here, the password itself.
    const err = await failure(ch.query(`SELECT \`${ECHO_PASSWORD}\` FROM system.one`));
    expect(err.kind).toBe('query');
    expect(err.message).toMatch(/Unknown identifier: \*\*\*/);
    expect(err.message).not.toContain(ECHO_PASSWORD);
  });

  it('reports a port with nothing listening as unavailable, quickly', async () => {
    // The TCP port of the test server is bound but speaks no HTTP; pick a surely closed one instead.
    const target = parseTarget('http://127.0.0.1:1/drift');
    const ch = await openClickHouse(target, credentialsFromEnv(env('agentdrift', PASSWORD)));
    opened.push(ch);
    const started = Date.now();
    const err = await failure(ch.query('SELECT 1'));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain('http://127.0.0.1:1/drift');
    expect(err.message).toMatch(/unreachable/);
  });

  it('reports a stopped server as unavailable, and the same client recovers after a restart', async () => {
    const ch = await open('agentdrift', PASSWORD);
    await ch.ping(); // leaves a keep-alive socket in the pool, which the stop will break
    await server.stop();
    expect(server.running()).toBe(false);

    const started = Date.now();
    const err = await failure(ch.query('SELECT 1 AS one'));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(err.kind).toBe('unavailable');
    expect(err.message).toContain(`${server.url}/drift`);
    expect(err.message).toMatch(/unreachable/);

    const ping = await failure(ch.ping());
    expect(ping.kind).toBe('unavailable');

    await server.start();
    // Same ports and data directory: the table and its rows survive the restart.
    const [row] = await ch.query<{ n: string }>('SELECT count() AS n FROM events');
    expect(Number(row?.n)).toBe(3);
  });

  it('survives a crash (SIGKILL) and restart with the data intact', async () => {
    const ch = await open('agentdrift', PASSWORD);
    await server.kill();
    const err = await failure(ch.query('SELECT 1 AS one'));
    expect(err.kind).toBe('unavailable');
    await server.start();
    const got = await ch.query<{ name: string }>('SELECT name FROM events WHERE id = 1');
    expect(got).toEqual([{ name: "O'Brien" }]);
  });

  it('never lets a password into error messages, stacks, logs or the console', () => {
    // One of each kind of failure went through the layer above.
    const kinds = new Set(errors.map((e) => e.kind));
    for (const k of ['auth', 'unavailable', 'query'] as const) expect(kinds.has(k), `no ${k} error was produced`).toBe(true);

    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger = createLogger({ destination, level: 'debug' });
    for (const err of errors) logger.error({ err }, 'clickhouse call failed');
    logger.flush();
    const logText = chunks.join('');
    const lines = logText.trim().split('\n');
    expect(lines).toHaveLength(errors.length);
    // The log line still says what went wrong and where.
    const first = JSON.parse(lines[0] ?? '{}') as { err?: { type?: string; kind?: string; message?: string; stack?: string } };
    expect(first.err?.type).toBe('ClickHouseAccessError');
    expect(first.err?.kind).toBeTruthy();
    expect(first.err?.stack).toBeTruthy();
    expect(logText).toContain(server.url);

    // @clickhouse/client's own console logger would print every failure a second time, raw.
    expect(consoleOutput.filter((l) => l.includes('@clickhouse/client'))).toEqual([]);

    // Credentials travel in a header that the server does not log; the echo test's query text it does.
    const serverLogs = server.readLogs();
    for (const form of CREDENTIAL_FORMS) expect(serverLogs.includes(form), 'password in the server logs').toBe(false);

    const surfaces: [string, string][] = [
      ['log', logText],
      ['console', consoleOutput.join('\n')],
      ...errors.flatMap((e, i): [string, string][] => [
        [`error ${i} message`, e.message],
        [`error ${i} stack`, e.stack ?? ''],
        [`error ${i} inspect`, inspect(e, { depth: 5 })],
        [`error ${i} json`, JSON.stringify(e)],
      ]),
    ];
    for (const [where, text] of surfaces) {
      for (const form of LEAK_FORMS) {
        expect(text.includes(form), `password leaked into ${where}`).toBe(false);
      }
    }
  });
});
