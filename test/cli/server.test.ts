/**
 * Finding the daemon a command asks when it holds the embedded store (src/cli/server.ts): from the
 * facts (chooseRoute), from real files (routeFor: a chDB `status` file naming a live process and the
 * state file's lock the daemon wrote), and how its answers become errors (askDaemon, on 127.0.0.1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/context.js';
import { askDaemon, chooseRoute, routeFor, serverUrl, type RouteFacts } from '../../src/cli/server.js';
import { parseTarget } from '../../src/clickhouse/target.js';
import { defaultConfig, type Config } from '../../src/config/load.js';
import { acquireStateLock, lockPathOf, readOwner } from '../../src/persist/stateLock.js';
import { silentLogger } from '../../src/log.js';
import { ERR, exitCodeOf, errorCodeOf } from '../../src/util/errors.js';

const HOST = hostname();
const facts = (f: Partial<RouteFacts>): RouteFacts => ({
  storeDir: '/srv/data',
  holder: 4242,
  lock: { pid: 4242, host: HOST, startedAt: '2026-11-22T03:00:00.000Z', token: 't', url: 'http://127.0.0.1:9464' },
  lockPath: '/srv/data/agentdrift-state.json.lock',
  host: HOST,
  isAlive: () => true,
  ...f,
});

describe('chooseRoute', () => {
  it('a store nobody holds, or a ClickHouse server: the command opens it itself', () => {
    expect(chooseRoute(facts({ holder: null }))).toEqual({ kind: 'direct' });
    expect(chooseRoute(facts({ storeDir: null, holder: null }))).toEqual({ kind: 'direct' });
  });

  it('held by the live daemon whose lock records its url: that daemon', () => {
    expect(chooseRoute(facts({}))).toEqual({ kind: 'daemon', url: 'http://127.0.0.1:9464', from: 'lock' });
  });

  it('--server wins, normalized; anything but an http(s) URL is a usage error', () => {
    expect(chooseRoute(facts({ server: 'http://127.0.0.1:9999/', holder: null }))).toEqual({ kind: 'daemon', url: 'http://127.0.0.1:9999', from: '--server' });
    expect(serverUrl('https://drift.example.com/agentdrift/')).toBe('https://drift.example.com/agentdrift');
    expect(() => serverUrl('127.0.0.1:9464')).toThrow(UsageError);
    expect(() => serverUrl('ftp://x')).toThrow(/http:\/\/ or https:\/\//);
  });

  it('a lock without a url (the daemon is still starting): says so, exit 1', () => {
    const e = catching(() => chooseRoute(facts({ lock: { pid: 4242, host: HOST, startedAt: 'x', token: 't' } })));
    expect(e.message).toMatch(/in use by another process: the agentdrift daemon \(pid 4242\) holds it but has not recorded its HTTP address .* yet/);
    expect(errorCodeOf(e)).toBe(ERR.CLICKHOUSE);
    expect(exitCodeOf(e)).toBe(1);
  });

  it('a stale lock, an absent one, another pid or another host: who holds the store, and --server', () => {
    for (const f of [
      facts({ isAlive: () => false }),
      facts({ lock: 'gone' }),
      facts({ lock: null }),
      facts({ holder: 777 }),
      facts({ lock: { pid: 4242, host: 'elsewhere', startedAt: 'x', token: 't', url: 'http://10.0.0.2:9464' } }),
    ]) {
      expect(() => chooseRoute(f)).toThrow(/in use by another process: pid \d+ holds it, and .*lock names no daemon of that pid on this host; pass --server URL/);
    }
  });
});

function catching(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

describe('routeFor, from the files a daemon leaves', () => {
  let holder: ChildProcess;
  let dir: string;
  let config: Config;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentdrift-route-'));
    mkdirSync(join(dir, 'data'));
    // A live node process stands in for the daemon holding the store (chDB writes "PID: n" there).
    holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    writeFileSync(join(dir, 'data', 'status'), `PID: ${holder.pid}\nStarted at: now\n`);
    const c = defaultConfig({});
    const spec = `chdb:${join(dir, 'data')}`;
    config = { ...c, stateFile: join(dir, 'data', 'state.json'), clickhouse: { ...c.clickhouse, target: parseTarget(spec), targetSpec: spec } };
  });

  afterAll(() => {
    holder.kill('SIGKILL');
  });

  it('no lock: refused, naming the holder', async () => {
    await expect(routeFor(config, undefined)).rejects.toThrow(new RegExp(`pid ${holder.pid} holds it`));
  });

  it('the lock the daemon advertised its url in: that url', async () => {
    writeFileSync(lockPathOf(config.stateFile), JSON.stringify({ pid: holder.pid, host: HOST, startedAt: 'x', token: 't', url: 'http://127.0.0.1:41234' }));
    await expect(routeFor(config, undefined)).resolves.toEqual({ kind: 'daemon', url: 'http://127.0.0.1:41234', from: 'lock' });
    await expect(routeFor(config, 'http://127.0.0.1:5/')).resolves.toEqual({ kind: 'daemon', url: 'http://127.0.0.1:5', from: '--server' });
  });

  it('a ClickHouse server is never held: direct', async () => {
    const spec = 'http://127.0.0.1:8123/default';
    await expect(routeFor({ ...config, clickhouse: { ...config.clickhouse, target: parseTarget(spec), targetSpec: spec } }, undefined)).resolves.toEqual({ kind: 'direct' });
  });
});

describe('the state lock records the url', () => {
  it('advertise rewrites the lock whole, keeps its token, and release still removes it', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'agentdrift-lock-')), 'state.json');
    const lock = await acquireStateLock(state, { logger: silentLogger, now: 0 });
    expect(await readOwner(lock.path)).not.toHaveProperty('url');
    await lock.advertise('http://127.0.0.1:9464');
    const owner = await readOwner(lock.path);
    expect(owner).toMatchObject({ pid: process.pid, token: lock.owner.token, url: 'http://127.0.0.1:9464' });
    await lock.release();
    expect(await readOwner(lock.path)).toBe('gone');
  });
});

describe('askDaemon', () => {
  let server: Server;
  let url: string;
  const seen: { auth?: string; path?: string; body?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, path: req.url, body });
        const answers: Record<string, [number, unknown]> = {
          '/api/v1/commands/status': [200, { store: 'chdb:/x', status: {} }],
          '/api/v1/commands/explain': [404, { error: { code: ERR.NO_SUCH_SERIES, message: 'no series of X matches a=b' } }],
          '/api/v1/commands/eval': [403, { error: { code: 'not_loopback', message: 'only loopback clients' } }],
        };
        const [status, answer] = answers[req.url ?? ''] ?? [404, { error: { code: 'not_found', message: 'no API route' } }];
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const route = () => ({ kind: 'daemon' as const, url, from: 'lock' as const });

  it('posts the body (with the token when the config has one) and returns the report', async () => {
    await expect(askDaemon(route(), { api: { tokenFile: 't', token: 's3cret' } }, 'status', {})).resolves.toEqual({ store: 'chdb:/x', status: {} });
    expect(seen.at(-1)).toEqual({ auth: 'Bearer s3cret', path: '/api/v1/commands/status', body: '{}' });
  });

  it('a catalogued error keeps its message and exit code; another names the daemon', async () => {
    const e = (await askDaemon(route(), {}, 'explain', {}).catch((x: unknown) => x)) as Error;
    expect(e.message).toBe('no series of X matches a=b');
    expect(exitCodeOf(e)).toBe(2);
    await expect(askDaemon(route(), {}, 'eval', {})).rejects.toThrow(`the daemon at ${url} refused: 403 only loopback clients`);
    await expect(askDaemon(route(), {}, 'backtest', {})).rejects.toThrow(/404 no API route \(is it an older agentdrift/);
  });

  it('nothing listening: one line naming the address and where it came from', async () => {
    await expect(askDaemon({ kind: 'daemon', url: 'http://127.0.0.1:1', from: '--server' }, {}, 'status', {})).rejects.toThrow(/^cannot reach the daemon at http:\/\/127\.0\.0\.1:1 \(from --server\): /);
  });
});
