import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readinessFrom, startHttpServer, type HttpServer, type Readiness } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { DriftMetrics } from '../../src/metrics/registry.js';

const READY: Readiness = { ready: true, checks: { rules: { ok: true, detail: 'rules loaded' } } };

/** A raw request, for methods fetch will not send with a body-less answer check (HEAD, DELETE). */
function raw(port: number, method: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolveReq, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveReq({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('http server', () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(readiness: () => Promise<Readiness> = async () => READY): Promise<{ base: string; port: number; metrics: DriftMetrics }> {
    const metrics = new DriftMetrics();
    metrics.setMalformedRuns(5);
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, readiness, logger: silentLogger });
    expect(server.address.host).toBe('127.0.0.1');
    expect(server.address.port).toBeGreaterThan(0);
    return { base: `http://127.0.0.1:${server.address.port}`, port: server.address.port, metrics };
  }

  it('POST /api/v1/accept validates its body and hands it to the daemon', async () => {
    const seen: unknown[] = [];
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      metrics: new DriftMetrics({ defaultMetrics: false }),
      readiness: async () => READY,
      logger: silentLogger,
      accept: async (r) => (seen.push(r), r.alertname === 'Known' ? { status: 200, body: { accepted: [] } } : { status: 404, body: { error: 'no rule' } }),
    });
    const url = `http://127.0.0.1:${server.address.port}/api/v1/accept`;
    const post = (body: string) => fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect((await fetch(url)).status).toBe(405);
    expect((await post('not json')).status).toBe(400);
    const noReason = await post(JSON.stringify({ alertname: 'Known' }));
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toMatch(/reason/);
    expect((await post('x'.repeat(70 * 1024)).catch(() => ({ status: 413 }))).status).toBe(413);
    const ok = await post(JSON.stringify({ alertname: 'Known', match: { workflow_id: 'w' }, reason: ' new prompt ' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ accepted: [] });
    expect((await post(JSON.stringify({ alertname: 'Other', reason: 'r' }))).status).toBe(404);
    expect(seen).toEqual([{ alertname: 'Known', match: { workflow_id: 'w' }, reason: 'new prompt' }, { alertname: 'Other', match: {}, reason: 'r' }]);
  });

  it('serves /metrics with the exposition content type', async () => {
    const { base, metrics } = await start();
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    const body = await res.text();
    expect(body).toContain('agentdrift_malformed_runs 5');
    expect(body).toContain('# TYPE agentdrift_group_evaluations_total counter');
  });

  it('answers /healthz with ok, also for HEAD and with a query string', async () => {
    const { base, port } = await start();
    const res = await fetch(`${base}/healthz?verbose=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
    const head = await raw(port, 'HEAD', '/healthz');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers /readyz with 200 and the checks when ready, 503 and the checks when not', async () => {
    let readiness: Readiness = READY;
    const { base } = await start(async () => readiness);
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(READY);

    readiness = readinessFrom({ rulesLoaded: true, clickhouseOk: false, clickhouseDetail: 'ECONNREFUSED 127.0.0.1:8123', lastEvaluationAt: 0, now: 1_000, maxStalenessMs: 60_000 });
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Readiness;
    expect(body.ready).toBe(false);
    expect(body.checks.clickhouse).toEqual({ ok: false, detail: 'ECONNREFUSED 127.0.0.1:8123' });
    expect(body.checks.rules?.ok).toBe(true);
  });

  it('answers 503 when the readiness function itself fails', async () => {
    const { base } = await start(async () => {
      throw new Error('state store unreadable');
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).toContain('state store unreadable');
  });

  it('answers 404 for unknown paths and 405 with Allow for other methods', async () => {
    const { base, port } = await start();
    const nf = await fetch(`${base}/nope`);
    expect(nf.status).toBe(404);
    await nf.text();
    for (const method of ['POST', 'DELETE', 'PUT']) {
      const res = await raw(port, method, '/metrics');
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
    }
  });

  it('closes idempotently, with keep-alive connections open, and stops answering', async () => {
    const { base } = await start();
    // fetch keeps the connection alive: close must not wait for it to time out.
    await (await fetch(`${base}/healthz`)).text();
    const s = server!;
    const started = Date.now();
    await Promise.all([s.close(), s.close()]);
    await s.close();
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    server = undefined;
  });

  it('rejects when the port is taken', async () => {
    const { port } = await start();
    await expect(startHttpServer({ host: '127.0.0.1', port, metrics: new DriftMetrics({ defaultMetrics: false }), readiness: async () => READY, logger: silentLogger })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1/,
    );
  });
});

describe('readinessFrom', () => {
  const base = { rulesLoaded: true, clickhouseOk: true, clickhouseDetail: 'SELECT 1 ok', now: 100_000, maxStalenessMs: 30_000 };
  const cases: { name: string; input: Parameters<typeof readinessFrom>[0]; ready: boolean; failing: string[] }[] = [
    { name: 'all good', input: { ...base, lastEvaluationAt: 90_000 }, ready: true, failing: [] },
    { name: 'exactly at the bound', input: { ...base, lastEvaluationAt: 70_000 }, ready: true, failing: [] },
    { name: 'stale evaluation', input: { ...base, lastEvaluationAt: 69_999 }, ready: false, failing: ['evaluation'] },
    { name: 'no rules', input: { ...base, rulesLoaded: false, lastEvaluationAt: 90_000 }, ready: false, failing: ['rules'] },
    { name: 'ClickHouse down', input: { ...base, clickhouseOk: false, lastEvaluationAt: 90_000 }, ready: false, failing: ['clickhouse'] },
    { name: 'no evaluation yet, no start time', input: { ...base, lastEvaluationAt: null }, ready: false, failing: ['evaluation'] },
    { name: 'no evaluation yet, just started', input: { ...base, lastEvaluationAt: null, startedAt: 95_000 }, ready: true, failing: [] },
    { name: 'no evaluation long after start', input: { ...base, lastEvaluationAt: null, startedAt: 0 }, ready: false, failing: ['evaluation'] },
    { name: 'clock stepped back', input: { ...base, lastEvaluationAt: 120_000 }, ready: true, failing: [] },
  ];
  it.each(cases)('$name', ({ input, ready, failing }) => {
    const r = readinessFrom(input);
    expect(r.ready).toBe(ready);
    expect(Object.keys(r.checks).sort()).toEqual(['clickhouse', 'evaluation', 'rules']);
    expect(Object.entries(r.checks).filter(([, c]) => !c.ok).map(([k]) => k)).toEqual(failing);
    for (const c of Object.values(r.checks)) expect(c.detail).not.toBe('');
  });

  it('says how stale the evaluation is', () => {
    const r = readinessFrom({ ...base, lastEvaluationAt: 0 });
    expect(r.checks.evaluation?.detail).toBe('last evaluation 100s ago, more than the bound of 30s');
    expect(r.checks.clickhouse?.detail).toBe('SELECT 1 ok');
  });
});
