/**
 * /api/v1 on a real daemon over the pinned demo (127.0.0.1 only): every endpoint's JSON shape, ISO
 * times, 404s for an unknown alert or rule, 400s with a clear message for bad input, and the guard on
 * the state-changing ones. docs/http-api.md describes what is checked here.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertId, readmeDemoAlerts } from '../helpers/demo.js';
import { startDemoDaemon, type DemoDaemon } from '../helpers/demoDaemon.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TOOL_SERIES = 'workflow_id=invoice_enrichment&tool=enrich_company';

interface ApiError {
  readonly error: { readonly code: string; readonly message: string };
}

/** Every value under a key that names a time is an ISO time or null, at any depth. */
function expectIsoTimes(v: unknown, path = ''): void {
  if (Array.isArray(v)) return v.forEach((x, i) => expectIsoTimes(x, `${path}[${i}]`));
  if (v === null || typeof v !== 'object') return;
  for (const [k, x] of Object.entries(v)) {
    if (/(^at|_at|^since|^last_evaluation|^until|^low|^high|^window_start|^first_seen)$/.test(k) && typeof x !== 'object') {
      expect(x, `${path}.${k}`).toMatch(ISO);
    } else expectIsoTimes(x, `${path}.${k}`);
  }
}

describe('/api/v1 on the pinned demo', () => {
  let d: DemoDaemon;
  const get = async <T>(path: string, status = 200): Promise<T> => {
    const res = await fetch(`${d.base}${path}`);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await res.json()) as T;
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(status);
    return body;
  };
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${d.base}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    d = await startDemoDaemon('api');
  }, 200_000);
  afterAll(async () => d?.stop());

  it('GET /api/v1/alerts lists the firing demo alerts (the README table), inactive series left out by default', async () => {
    type List = { counts: Record<string, number>; total: number; states: string[]; alerts: { alertname: string; labels: Record<string, string>; state: string; severity: string | null; value: number; baseline: number; url: string; recent_values: unknown[] }[] };
    const r = await get<List>('/api/v1/alerts');
    expectIsoTimes(r);
    expect(r.states).not.toContain('inactive');
    expect(r.counts.firing).toBe(readmeDemoAlerts().length);
    expect(r.counts.inactive).toBeGreaterThan(0);
    expect(r.alerts.every((a) => a.state !== 'inactive')).toBe(true);
    const ids = r.alerts.filter((a) => a.state === 'firing').map((a) => alertId({ alert: a.alertname, workflowId: a.labels.workflow_id!, key: a.labels.tool ?? '' }));
    expect(ids.sort()).toEqual(readmeDemoAlerts().map(alertId).sort());
    const tool = r.alerts.find((a) => a.alertname === 'ToolCallsPerRunUp')!;
    expect(tool).toMatchObject({ severity: 'warning', url: `/alerts/ToolCallsPerRunUp?tool=enrich_company&workflow_id=invoice_enrichment` });
    expect(tool.value).toBeGreaterThan(tool.baseline * 1.2);
    expect(tool.recent_values.length).toBeGreaterThan(0);
    // critical before warning within the firing ones
    expect(r.alerts[0]!.severity).toBe('critical');

    const inactive = await get<List>('/api/v1/alerts?state=inactive&limit=5&offset=5');
    expect(inactive.alerts).toHaveLength(5);
    expect(inactive.total).toBe(r.counts.inactive);
    expect(inactive.alerts.every((a) => a.state === 'inactive')).toBe(true);
    const one = await get<List>('/api/v1/alerts?alertname=OutputSchemaShift');
    expect(one.alerts.map((a) => a.alertname)).toEqual(['OutputSchemaShift']);
  });

  it('answers 400 with the reason for a bad state, limit or offset', async () => {
    for (const [q, re] of [
      ['state=burning', /state must be one of firing, pending/],
      ['limit=0', /limit must be a whole number from 1 to 1000/],
      ['limit=abc', /limit/],
      ['offset=-1', /offset/],
    ] as const) {
      const e = await get<ApiError>(`/api/v1/alerts?${q}`, 400);
      expect(e.error.code).toBe('AGENTDRIFT_ERR_USAGE');
      expect(e.error.message).toMatch(re);
    }
  });

  it('GET /api/v1/alerts/<name>?labels: one series with its rule; 404 for an unknown rule or series, 400 for a repeated label', async () => {
    const a = await get<Record<string, unknown>>(`/api/v1/alerts/ToolCallsPerRunUp?${TOOL_SERIES}`);
    expectIsoTimes(a);
    expect(a).toMatchObject({ alertname: 'ToolCallsPerRunUp', state: 'firing', labels: { workflow_id: 'invoice_enrichment', tool: 'enrich_company' }, rule: { name: 'ToolCallsPerRunUp', signal: 'tool_calls_per_run' } });
    expect(a.fired_at).toMatch(ISO);
    expect(String((a.summary as { cause: string }).cause)).toContain('enrich-v13');

    const unknown = await get<ApiError>('/api/v1/alerts/NoSuchRule?workflow_id=x', 404);
    expect(unknown.error).toEqual({ code: 'AGENTDRIFT_ERR_UNKNOWN_RULE', message: 'no rule named "NoSuchRule" is loaded' });
    const series = await get<ApiError>('/api/v1/alerts/ToolCallsPerRunUp?workflow_id=invoice_enrichment', 404);
    expect(series.error.code).toBe('AGENTDRIFT_ERR_NO_SUCH_SERIES');
    expect(series.error.message).toMatch(/has no series with exactly workflow_id=invoice_enrichment/);
    const twice = await get<ApiError>('/api/v1/alerts/ToolCallsPerRunUp?tool=a&tool=b', 400);
    expect(twice.error.message).toMatch(/label "tool" is given more than once/);
    const badName = await get<ApiError>('/api/v1/alerts/%E0%A4%A', 400);
    expect(badName.error.message).toMatch(/percent-encoding/);
  });

  it('GET /api/v1/explanations/<name>?labels: onset, what moved, the cause, hourly values and example runs', async () => {
    type E = { onset: { at: string } | null; causes: { dimension: string; value: string; explained: number }[]; hourly: { at: string; value: number | null; runs: number }[]; examples: { run_id: string; trace_id: string; at: string }[]; moved: { kind: string; parts: { name: string }[] } };
    const e = await get<E>(`/api/v1/explanations/ToolCallsPerRunUp?${TOOL_SERIES}`);
    expectIsoTimes(e);
    expect(e.causes[0]).toMatchObject({ dimension: 'prompt_version', value: 'enrich-v13' });
    expect(e.onset?.at).toMatch(ISO);
    expect(e.hourly.length).toBeGreaterThan(24 * 7);
    expect(e.moved).toMatchObject({ kind: 'tool_calls' });
    expect(e.moved.parts[0]!.name).toBe('enrich_company');
    expect(e.examples.length).toBeGreaterThan(0);
    expect((await get<ApiError>('/api/v1/explanations/Nope', 404)).error.code).toBe('AGENTDRIFT_ERR_UNKNOWN_RULE');
  });

  it('GET /api/v1/rules and /rules/<name>: state, last evaluation, duration, errors and skips', async () => {
    type R = { name: string; state: string; last_evaluation: string; last_duration_seconds: number; errors: number; skips: Record<string, number>; series: Record<string, number> };
    const r = await get<{ since: string; rules: R[] }>('/api/v1/rules');
    expectIsoTimes(r);
    expect(r.rules.map((x) => x.name)).toEqual(expect.arrayContaining([...new Set(readmeDemoAlerts().map((a) => a.alert))]));
    const tool = r.rules.find((x) => x.name === 'ToolCallsPerRunUp')!;
    expect(tool).toMatchObject({ state: 'firing', errors: 0, skips: { timeout: 0, overlap: 0, shutdown: 0 } });
    expect(tool.series.firing).toBe(1);
    expect(tool.last_evaluation).toMatch(ISO);
    expect(tool.last_duration_seconds).toBeGreaterThanOrEqual(0);
    const one = await get<R & { rule: { signal: string } }>('/api/v1/rules/ToolCallsPerRunUp');
    expect(one.rule.signal).toBe('tool_calls_per_run');
    expect((await get<ApiError>('/api/v1/rules/Nope', 404)).error.code).toBe('AGENTDRIFT_ERR_UNKNOWN_RULE');
  });

  it('GET /api/v1/history and /api/v1/evaluations: recent transitions and group evaluations, newest first', async () => {
    type H = { since: string; entries: { seq: number; at: string; alertname: string; from: string; to: string; url: string }[] };
    const h = await get<H>('/api/v1/history');
    expectIsoTimes(h);
    expect(h.entries.filter((e) => e.to === 'firing')).toHaveLength(readmeDemoAlerts().length);
    const seqs = h.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const after = await get<H>(`/api/v1/history?after=${seqs[0]}`);
    expect(after.entries).toEqual([]);
    const limited = await get<H>('/api/v1/history?limit=2&alertname=ToolCallsPerRunUp');
    expect(limited.entries.every((e) => e.alertname === 'ToolCallsPerRunUp')).toBe(true);
    expect((await get<ApiError>('/api/v1/history?limit=5000', 400)).error.message).toMatch(/limit must be a whole number from 1 to 1000/);

    const ev = await get<{ evaluations: { group: string; at: string; ok: boolean; duration_seconds: number }[] }>('/api/v1/evaluations');
    expectIsoTimes(ev);
    expect(new Set(ev.evaluations.map((g) => g.group))).toEqual(new Set(['agentdrift-default', 'agentdrift-fast']));
    expect(ev.evaluations.every((g) => g.ok && g.duration_seconds >= 0)).toBe(true);
  });

  it('POST /api/v1/backtest replays the loaded or pasted rules over the last days, with a timeline', async () => {
    const r = await post('/api/v1/backtest', { days: 2, step: '2h' });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expectIsoTimes(r.body);
    expect(r.body).toMatchObject({ days: 2, step: '2h', source: 'loaded rules', from: expect.stringMatching(ISO), to: expect.stringMatching(ISO) });
    for (const row of r.body.timeline as { spans: { from: string; to: string }[] }[]) for (const s of row.spans) expect([s.from, s.to]).toEqual([expect.stringMatching(ISO), expect.stringMatching(ISO)]);
    expect(Array.isArray(r.body.timeline)).toBe(true);
    expect((r.body.summary as { rule: string }[]).map((x) => x.rule)).toEqual(expect.arrayContaining(['ToolCallsPerRunUp', 'ToolCallsPerRunUpFast']));

    const pasted = `groups:
  - name: try
    interval: 5m
    rules:
      - alert: TryToolCalls
        signal: tool_calls_per_run
        group_by: [workflow_id]
        window: 1d
        baseline: { previous: 7d }
        threshold: 20%
        min_runs: 100
`;
    const p = await post('/api/v1/backtest', { days: 1, step: '6h', rules: pasted });
    expect(p.status, JSON.stringify(p.body).slice(0, 300)).toBe(200);
    expect(p.body).toMatchObject({ source: 'pasted rules', summary: [{ rule: 'TryToolCalls' }] });

    const bad = await post('/api/v1/backtest', { rules: 'groups:\n  - name: x\n    rules:\n      - alert: A\n        signal: nope\n' });
    expect(bad.status).toBe(400);
    expect((bad.body as unknown as ApiError).error.message).toMatch(/^the rules are invalid:\npasted\.yaml:\d+:\d+: /);
    for (const body of [{ days: 99 }, { days: 1, step: '1m' }, { days: 1, step: 'soon' }, { days: 1, extra: true }]) {
      const b = await post('/api/v1/backtest', body);
      expect(b.status, JSON.stringify(body)).toBe(400);
      expect((b.body as unknown as ApiError).error.code).toBe('AGENTDRIFT_ERR_USAGE');
    }
    expect((await post('/api/v1/backtest', { days: 1 }, { Origin: 'http://evil.example' })).status).toBe(403);
    const getIt = await fetch(`${d.base}/api/v1/backtest`);
    expect(getIt.status).toBe(405);
  }, 60_000);

  it('unknown API paths and methods: 404 and 405 as JSON; the older /alerts still answers', async () => {
    expect((await get<ApiError>('/api/v1/nothing', 404)).error.code).toBe('not_found');
    const res = await new Promise<number>((resolveReq, reject) => {
      const req = request(`${d.base}/api/v1/alerts`, { method: 'DELETE' }, (r) => {
        r.resume();
        resolveReq(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(res).toBe(405);
    const legacy = (await (await fetch(`${d.base}/alerts?state=firing`)).json()) as unknown[];
    expect(legacy).toHaveLength(readmeDemoAlerts().length);
  });

  it('the UI pages answer HTML with a strict CSP; an unknown alert page is a 404 page', async () => {
    for (const path of ['/', '/rules', '/history', '/backtest', `/alerts/ToolCallsPerRunUp?${TOOL_SERIES}`]) {
      const res = await fetch(`${d.base}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
      expect(await res.text()).toMatch(/^<!doctype html>/);
    }
    const js = await fetch(`${d.base}/ui/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const missing = await fetch(`${d.base}/alerts/NoSuchRule`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('no rule named &quot;NoSuchRule&quot; is loaded');
    expect((await fetch(`${d.base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('POST /api/v1/accept resolves a series, and the history and alerts say so', async () => {
    const cross = await post('/api/v1/accept', { alertname: 'CostPerSuccessUp', match: { workflow_id: 'refund_processing' }, reason: 'x' }, { Origin: 'http://evil.example' });
    expect(cross.status).toBe(403);
    const r = await post('/api/v1/accept', { alertname: 'CostPerSuccessUp', match: { workflow_id: 'refund_processing' }, reason: 'new refund policy' });
    expect(r.status).toBe(200);
    const a = await get<{ state: string; accepted: { reason: string; at: string } }>('/api/v1/alerts/CostPerSuccessUp?workflow_id=refund_processing');
    expect(a.state).toBe('resolved');
    expect(a.accepted.reason).toBe('new refund policy');
    const h = await get<{ entries: { alertname: string; from: string; to: string; reason: string }[] }>('/api/v1/history?limit=1');
    expect(h.entries[0]).toMatchObject({ alertname: 'CostPerSuccessUp', from: 'firing', to: 'resolved', reason: 'accepted as the new normal: new refund policy' });
    const list = await get<{ counts: Record<string, number> }>('/api/v1/alerts');
    expect(list.counts).toMatchObject({ firing: readmeDemoAlerts().length - 1, resolved: 1 });
  });
});
