/**
 * State-changing HTTP requests (POST /api/v1/accept) from a browser page of another site, without
 * JSON, without the token, or with a body too large (issue 21): a real server on 127.0.0.1.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parseConfigText } from '../../src/config/load.js';
import { guardMutation } from '../../src/http/guard.js';
import { startHttpServer, type AcceptRequest, type HttpServer, type HttpServerOptions } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { DriftMetrics } from '../../src/metrics/registry.js';
import { formatProblem } from '../../src/yaml/problem.js';

const TOKEN = 'tok-0123456789abcdef';
const BODY = JSON.stringify({ alertname: 'Known', reason: 'new prompt' });

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A raw request with exactly these headers (fetch would add or refuse some, e.g. Origin). */
function send(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean; waitForContinue?: boolean }): Promise<Answer> {
  return new Promise((resolveReq, reject) => {
    const body = o.body === undefined ? undefined : Buffer.from(o.body);
    const headers: Record<string, string> = { ...o.headers };
    if (body !== undefined && !o.chunked) headers['Content-Length'] = String(body.length);
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'POST', path: o.path ?? '/api/v1/accept', headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolveReq({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (o.waitForContinue) {
      req.on('continue', () => req.end(body));
      req.flushHeaders();
    } else req.end(body);
  });
}

function errorOf(a: Answer): { code: string; message: string } {
  expect(a.headers['content-type']).toMatch(/^application\/json/);
  const parsed = JSON.parse(a.body) as { error: { code: string; message: string } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(typeof parsed.error.code).toBe('string');
  expect(typeof parsed.error.message).toBe('string');
  return parsed.error;
}

async function startServer(extra: Partial<HttpServerOptions> = {}): Promise<{ server: HttpServer; port: number; seen: AcceptRequest[] }> {
  const seen: AcceptRequest[] = [];
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    metrics: new DriftMetrics({ defaultMetrics: false }),
    readiness: async () => ({ ready: true, checks: {} }),
    logger: silentLogger,
    accept: async (r) => (seen.push(r), { status: 200, body: { accepted: [] } }),
    ...extra,
  });
  return { server, port: server.address.port, seen };
}

describe('POST /api/v1/accept without a token: loopback, same origin, JSON', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    s = await startServer({ externalUrl: 'https://drift.example.com/agentdrift' });
  });
  afterAll(async () => s.server.close());
  afterEach(() => {
    s.seen.length = 0;
  });

  const JSON_CT = { 'Content-Type': 'application/json' };
  type Case = { name: string; headers: (port: number) => Record<string, string>; status: number; code?: string };
  const cases: Case[] = [
    // the curl from the issue
    { name: 'Origin of another site, text/plain', headers: () => ({ Origin: 'http://evil.example', 'Content-Type': 'text/plain' }), status: 403, code: 'cross_origin' },
    { name: 'Origin of another site, JSON', headers: () => ({ Origin: 'http://evil.example', ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'Origin: null (sandboxed frame, file:)', headers: () => ({ Origin: 'null', ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'Origin that is no URL', headers: () => ({ Origin: 'garbage', ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'Origin on another port of this host', headers: (p) => ({ Origin: `http://127.0.0.1:${p + 1}`, ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'Origin naming localhost while the page asked 127.0.0.1', headers: (p) => ({ Origin: `http://localhost:${p}`, ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'Sec-Fetch-Site: cross-site', headers: () => ({ 'Sec-Fetch-Site': 'cross-site', ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'Sec-Fetch-Site: same-site', headers: () => ({ 'Sec-Fetch-Site': 'same-site', ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'same Origin but Sec-Fetch-Site: cross-site', headers: (p) => ({ Origin: `http://127.0.0.1:${p}`, 'Sec-Fetch-Site': 'cross-site', ...JSON_CT }), status: 403, code: 'cross_origin' },
    { name: 'same Origin, JSON', headers: (p) => ({ Origin: `http://127.0.0.1:${p}`, ...JSON_CT }), status: 200 },
    { name: 'same host:port, other scheme (TLS proxy)', headers: (p) => ({ Origin: `https://127.0.0.1:${p}`, ...JSON_CT }), status: 200 },
    { name: 'localhost', headers: (p) => ({ Host: `localhost:${p}`, Origin: `http://localhost:${p}`, ...JSON_CT }), status: 200 },
    { name: 'IPv6 loopback', headers: (p) => ({ Host: `[::1]:${p}`, Origin: `http://[::1]:${p}`, ...JSON_CT }), status: 200 },
    { name: 'Host without port, Origin on the default port', headers: () => ({ Host: '127.0.0.1', Origin: 'https://127.0.0.1', ...JSON_CT }), status: 200 },
    { name: 'Host without port, Origin on another port', headers: () => ({ Host: '127.0.0.1', Origin: 'http://127.0.0.1:8080', ...JSON_CT }), status: 403, code: 'cross_origin' },
    // a page of rebind.example whose name was made to resolve to 127.0.0.1: same origin, but not the daemon's
    { name: 'a DNS name pointing here (DNS rebinding)', headers: (p) => ({ Host: `rebind.example:${p}`, Origin: `http://rebind.example:${p}`, ...JSON_CT }), status: 403, code: 'untrusted_host' },
    { name: 'the origin of external_url', headers: () => ({ Origin: 'https://drift.example.com', ...JSON_CT }), status: 200 },
    { name: 'Sec-Fetch-Site: same-origin', headers: (p) => ({ Origin: `http://127.0.0.1:${p}`, 'Sec-Fetch-Site': 'same-origin', ...JSON_CT }), status: 200 },
    { name: 'Sec-Fetch-Site: none (typed by the user)', headers: () => ({ 'Sec-Fetch-Site': 'none', ...JSON_CT }), status: 200 },
    { name: 'no Origin (curl, agentdrift accept), JSON', headers: () => JSON_CT, status: 200 },
    { name: 'JSON with a charset', headers: () => ({ 'Content-Type': 'application/json; charset=utf-8' }), status: 200 },
    { name: 'text/plain without Origin', headers: () => ({ 'Content-Type': 'text/plain' }), status: 415, code: 'unsupported_media_type' },
    { name: 'a form without Origin', headers: () => ({ 'Content-Type': 'application/x-www-form-urlencoded' }), status: 415, code: 'unsupported_media_type' },
    { name: 'no Content-Type', headers: () => ({}), status: 415, code: 'unsupported_media_type' },
    { name: 'a token is not needed, and ignored', headers: () => ({ Authorization: 'Bearer whatever', ...JSON_CT }), status: 200 },
  ];

  it.each(cases)('$name -> $status', async ({ headers, status, code }) => {
    const a = await send(s.port, { headers: headers(s.port), body: BODY });
    expect(a.status, a.body).toBe(status);
    expect(a.headers['access-control-allow-origin']).toBeUndefined();
    if (status === 200) {
      expect(JSON.parse(a.body)).toEqual({ accepted: [] });
      expect(s.seen).toEqual([{ alertname: 'Known', match: {}, reason: 'new prompt' }]);
    } else {
      expect(errorOf(a).code).toBe(code);
      expect(s.seen).toEqual([]);
    }
  });

  it('a browser preflight gets no CORS grant, so the browser never sends the request', async () => {
    const a = await send(s.port, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect([204, 405]).toContain(a.status);
    expect(Object.keys(a.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(s.seen).toEqual([]);
  });

  it('answers other methods with a JSON 405 and Allow', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const a = await send(s.port, { method, headers: JSON_CT, body: method === 'GET' ? undefined : BODY });
      expect(a.status, method).toBe(405);
      expect(a.headers.allow).toMatch(/^POST\b/);
      expect(errorOf(a).code).toBe('method_not_allowed');
    }
  });

  it('answers a body that is not JSON, or not an accept request, with a JSON 400', async () => {
    expect(errorOf(await send(s.port, { headers: JSON_CT, body: 'not json' }))).toMatchObject({ code: 'bad_request' });
    const noReason = await send(s.port, { headers: JSON_CT, body: JSON.stringify({ alertname: 'Known' }) });
    expect(noReason.status).toBe(400);
    expect(errorOf(noReason)).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/reason/) });
  });

  describe('a body over 64 KB gets a JSON 413, not a connection reset', () => {
    const big = JSON.stringify({ alertname: 'Known', reason: 'x'.repeat(100 * 1024) });

    it.each([
      ['with Content-Length', { chunked: false }],
      ['chunked, no length', { chunked: true }],
      ['Expect: 100-continue (the body is never sent)', { waitForContinue: true }],
    ] as const)('%s', async (_name, how) => {
      const headers: Record<string, string> = { ...JSON_CT, ...('waitForContinue' in how ? { Expect: '100-continue' } : {}) };
      const a = await send(s.port, { headers, body: big, ...how });
      expect(a.status).toBe(413);
      expect(errorOf(a).code).toBe('payload_too_large');
      expect(a.headers.connection).toBe('close');
      expect(s.seen).toEqual([]);
    });

    it('with fetch, and the server answers on', async () => {
      const url = `http://127.0.0.1:${s.port}/api/v1/accept`;
      const res = await fetch(url, { method: 'POST', headers: JSON_CT, body: big });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
      expect((await fetch(url, { method: 'POST', headers: JSON_CT, body: BODY })).status).toBe(200);
    });

    it('64 KB exactly is not too large', async () => {
      const pad = 64 * 1024 - JSON.stringify({ alertname: 'Known', reason: '' }).length;
      const a = await send(s.port, { headers: JSON_CT, body: JSON.stringify({ alertname: 'Known', reason: 'y'.repeat(pad) }) });
      // the reason is over its own 1000 characters: a 400 from validation, not a 413
      expect(a.status).toBe(400);
    });
  });

  it('the other routes are as before: GET only, no CORS headers', async () => {
    const a = await send(s.port, { method: 'GET', path: '/healthz', headers: { Origin: 'http://evil.example' } });
    expect(a.status).toBe(200);
    expect(a.headers['access-control-allow-origin']).toBeUndefined();
    expect((await send(s.port, { method: 'POST', path: '/metrics', headers: JSON_CT, body: '{}' })).status).toBe(405);
  });
});

describe('POST /api/v1/accept with a token (api.token_file)', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    s = await startServer({ apiToken: TOKEN });
  });
  afterAll(async () => s.server.close());
  afterEach(() => {
    s.seen.length = 0;
  });

  const cases: { name: string; headers: Record<string, string>; status: number; code?: string }[] = [
    { name: 'no token', headers: { 'Content-Type': 'application/json' }, status: 401, code: 'unauthorized' },
    { name: 'a wrong token', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tok-0123456789abcdeX' }, status: 401, code: 'unauthorized' },
    { name: 'a prefix of the token', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer tok-0123' }, status: 401, code: 'unauthorized' },
    { name: 'the token as Basic credentials', headers: { 'Content-Type': 'application/json', Authorization: `Basic ${TOKEN}` }, status: 401, code: 'unauthorized' },
    { name: 'the right token', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` }, status: 200 },
    { name: 'the right token, scheme in lower case', headers: { 'Content-Type': 'application/json', Authorization: `bearer ${TOKEN}` }, status: 200 },
    { name: 'the right token from another site', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, Origin: 'http://evil.example' }, status: 403, code: 'cross_origin' },
    { name: 'the right token, behind a proxy of another name', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}`, Host: 'drift.internal', Origin: 'https://drift.internal' }, status: 200 },
    { name: 'no token, behind a proxy of another name', headers: { 'Content-Type': 'application/json', Host: 'drift.internal', Origin: 'https://drift.internal' }, status: 401, code: 'unauthorized' },
    { name: 'the right token, text/plain', headers: { 'Content-Type': 'text/plain', Authorization: `Bearer ${TOKEN}` }, status: 415, code: 'unsupported_media_type' },
  ];

  it.each(cases)('$name -> $status', async ({ headers, status, code }) => {
    const a = await send(s.port, { headers, body: BODY });
    expect(a.status, a.body).toBe(status);
    expect(a.body).not.toContain(TOKEN);
    if (status === 401) expect(a.headers['www-authenticate']).toBe('Bearer');
    if (status === 200) expect(s.seen).toHaveLength(1);
    else {
      expect(errorOf(a).code).toBe(code);
      expect(s.seen).toEqual([]);
    }
  });
});

describe('guardMutation: the address rule', () => {
  const req = (remoteAddress: string, headers: Record<string, string> = {}) =>
    ({ headers: { 'content-type': 'application/json', host: 'drift:9464', ...headers }, socket: { remoteAddress } }) as unknown as IncomingMessage;

  it.each([
    ['127.0.0.1', null],
    ['::1', null],
    ['::ffff:127.0.0.1', null],
    ['10.0.0.5', 'not_loopback'],
    ['::ffff:192.168.1.2', 'not_loopback'],
  ])('without a token, from %s: %s', (address, code) => {
    expect(guardMutation(req(address), { token: null })?.code ?? null).toBe(code);
  });

  it('with a token, the address does not matter, the token does', () => {
    expect(guardMutation(req('10.0.0.5', { authorization: `Bearer ${TOKEN}` }), { token: TOKEN })).toBeNull();
    expect(guardMutation(req('127.0.0.1'), { token: TOKEN })?.status).toBe(401);
    expect(guardMutation(req('10.0.0.5'), { token: TOKEN })?.status).toBe(401);
  });
});

describe('config api.token_file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentdrift-api-token-'));
  const file = join(dir, 'agentdrift.yaml');
  const load = (text: string) => parseConfigText(text, file, {});

  it('reads the token once, trimmed, relative to the config file', () => {
    writeFileSync(join(dir, 'token'), `  ${TOKEN}\n`);
    const r = load('api:\n  token_file: token\n');
    expect(r.problems).toEqual([]);
    expect(r.config!.api).toEqual({ tokenFile: join(dir, 'token'), token: TOKEN });
  });

  it('without it there is no api section, and no token', () => {
    expect(load('listen: 127.0.0.1:9464\n').config!.api).toBeUndefined();
    expect(load('api: {}\n').config!.api).toBeUndefined();
  });

  it.each([
    ['a missing file', 'missing', null, /api\.token_file: cannot read ".*missing" \(ENOENT\)/],
    ['an empty file', 'empty', ' \n', /api\.token_file: ".*empty" is empty/],
    ['a token with a space', 'spaced', `${TOKEN} ${TOKEN}\n`, /api\.token_file: the token in ".*spaced" must be one line of printable ASCII without spaces/],
  ])('refuses %s, naming the file, never the content', (_name, name, content, message) => {
    if (content !== null) writeFileSync(join(dir, name), content);
    const r = load(`api:\n  token_file: ${name}\n`);
    expect(r.config).toBeNull();
    const lines = r.problems.map(formatProblem);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/:2:15: /);
    expect(lines[0]).not.toContain(TOKEN);
  });

  it('refuses unknown keys, such as an inline token', () => {
    const r = load(`api:\n  token: ${TOKEN}\n`);
    expect(r.config).toBeNull();
    expect(r.problems.map(formatProblem).join('\n')).toMatch(/c?.*:2:3: .*token/);
  });
});

describe('agentdrift accept sends JSON and the configured token', () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  const seen: AcceptRequest[] = [];
  beforeAll(async () => {
    s = await startServer({
      apiToken: TOKEN,
      accept: async (r) => (seen.push(r), { status: 200, body: { accepted: [{ labels: { workflow_id: 'w' }, baseline: 1.5, until: '2026-01-02T00:00:00.000Z' }] } }),
    });
  });
  afterAll(async () => s.server.close());

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
    try {
      const code = await main(args);
      return { code, stdout, stderr };
    } finally {
      o.mockRestore();
      e.mockRestore();
      process.exitCode = undefined;
    }
  }

  it('with api.token_file in its config, the daemon takes it; without, it says why not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-accept-token-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    writeFileSync(join(dir, 'with.yaml'), 'api:\n  token_file: token\n');
    writeFileSync(join(dir, 'without.yaml'), '# no api section\n');
    const url = `http://127.0.0.1:${s.port}`;

    const ok = await run(['accept', 'Known', '--reason', 'new prompt', '--url', url, '-c', join(dir, 'with.yaml')]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^accepted Known workflow_id=w: new normal 1.5/);
    expect(seen).toEqual([{ alertname: 'Known', match: {}, reason: 'new prompt' }]);

    const refused = await run(['accept', 'Known', '--reason', 'new prompt', '--url', url, '-c', join(dir, 'without.yaml')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the daemon refused: 401 an Authorization: Bearer token is required/);
    expect(refused.stderr).not.toContain(TOKEN);
    expect(seen).toHaveLength(1);
  });
});
