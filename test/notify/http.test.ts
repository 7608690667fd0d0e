/**
 * Slack and webhook notifiers against a real HTTP server on 127.0.0.1: payloads field by field,
 * failure classification, and the dispatcher's retry stage in real time (small backoffs).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { validateNotifyConfig } from '../../src/notify/config.js';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { parseRetryAfter } from '../../src/notify/http.js';
import type { RouteNode } from '../../src/notify/route.js';
import { SlackNotifier } from '../../src/notify/slack.js';
import { formatTestReport, testReceivers } from '../../src/notify/testReceivers.js';
import type { AlertNotification, Notifier } from '../../src/notify/types.js';
import { WebhookNotifier } from '../../src/notify/webhook.js';
import { MOVED, alert } from '../helpers/alerts.js';
import { closedPort, startHttpReceiver, type HttpReceiver } from '../helpers/httpReceiver.js';
import { RecordingRecorder, failure, never } from '../helpers/notify.js';

const FIRING: AlertNotification = {
  ...alert({ evidence: { exampleRunIds: ['run_8f1c', 'run_77aa', 'run_0b3e'] } }),
  // Given whole, in this order: Slack lists the labels (team before workflow_id) as they come.
  labels: { alertname: 'ToolCallsPerRunUp', severity: 'warning', team: 'agents', workflow_id: 'invoice_enrichment', tool: 'enrich_company' },
  annotations: {
    summary: 'enrich_company is called 59.6% more often per run in invoice_enrichment',
    description: 'Calls per run went up; check the prompt change deployed on Monday.',
    runbook_url: 'https://runbooks.example.com/agentdrift/tool-calls',
  },
};

const RESOLVED: AlertNotification = { ...FIRING, status: 'resolved', endsAt: '2026-03-03T08:30:00.000Z' };

const servers: HttpReceiver[] = [];
async function server(...args: Parameters<typeof startHttpReceiver>): Promise<HttpReceiver> {
  const s = await startHttpReceiver(...args);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('Slack notifier', () => {
  it('posts a Block Kit message with the facts, field by field', async () => {
    const s = await server([200]);
    const n = new SlackNotifier({ name: 'slack-agents', webhookUrl: `${s.url}/services/T000/B000/XXXX`, channel: '#agent-alerts' });
    expect(await n.notify([FIRING], never)).toEqual({ ok: true });
    const [req] = await s.waitForRequests(1);
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/services/T000/B000/XXXX');
    expect(req!.headers['content-type']).toBe('application/json');
    const body = req!.body as { channel: string; text: string; blocks: Record<string, unknown>[] };
    expect(body.channel).toBe('#agent-alerts');
    expect(body.text).toBe(`:warning: [FIRING:1] ToolCallsPerRunUp team=agents workflow_id=invoice_enrichment tool=enrich_company: ${MOVED}`);
    expect(body.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: '🔥 [FIRING:1] ToolCallsPerRunUp team=agents workflow_id=invoice_enrichment tool=enrich_company', emoji: true } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            '*Firing*: *ToolCallsPerRunUp* (warning)',
            'enrich_company is called 59.6% more often per run in invoice_enrichment',
            MOVED,
            '_Calls per run went up; check the prompt change deployed on Monday._',
          ].join('\n'),
        },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*severity*\nwarning' },
          { type: 'mrkdwn', text: '*team*\nagents' },
          { type: 'mrkdwn', text: '*workflow_id*\ninvoice_enrichment' },
          { type: 'mrkdwn', text: '*tool*\nenrich_company' },
        ],
      },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Contributors*\n• enrich_company: 1.09 → 1.74\n• search_web: 0.61 → 0.5\n*Example runs*\n`run_8f1c`, `run_77aa`, `run_0b3e`' },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: 'fingerprint `3f2a9c1d7e5b4a60` · since 2026-03-02T10:00:00.000Z · <https://runbooks.example.com/agentdrift/tool-calls|Runbook> · <http://agentdrift.example.com:9464/alerts?rule=ToolCallsPerRunUp|Source>',
          },
        ],
      },
    ]);
  });

  it('says when it clears', async () => {
    const s = await server([200]);
    const n = new SlackNotifier({ name: 's', webhookUrl: `${s.url}/hook` });
    expect(await n.notify([RESOLVED], never)).toEqual({ ok: true });
    const body = (await s.waitForRequests(1))[0]!.body as { channel?: string; text: string; blocks: { type: string; text?: { text: string }; elements?: { text: string }[] }[] };
    expect(body.channel).toBeUndefined();
    expect(body.text).toMatch(/^:white_check_mark: \[RESOLVED\] ToolCallsPerRunUp /);
    expect(body.blocks[0]!.text!.text).toMatch(/^✅ \[RESOLVED\]/);
    expect(body.blocks[1]!.text!.text).toContain('*Resolved* (no longer drifting)');
    expect(body.blocks[1]!.text!.text).toContain(`Last measured: ${MOVED}`);
    expect(body.blocks.at(-1)!.elements![0]!.text).toContain('resolved 2026-03-03T08:30:00.000Z');
  });

  it('escapes everything taken from data: no mention and no link can be injected', async () => {
    const s = await server([200]);
    const evil = '<!channel> @here <http://evil.example|click>';
    const a: AlertNotification = {
      ...FIRING,
      fingerprint: '<@U123>&',
      labels: { ...FIRING.labels, workflow_id: evil, '<!everyone>': '@everyone' },
      annotations: { summary: `summary ${evil}`, runbook_url: 'javascript:alert(1)' },
      generatorURL: 'https://agentdrift.example.com/x?a=1|<!channel>',
      evidence: { ...FIRING.evidence, key: '<!here>', contributors: [{ name: '<http://evil.example|tool>', current: 1, baseline: 2 }], exampleRunIds: ['<!channel>'] },
    };
    const n = new SlackNotifier({ name: 's', webhookUrl: `${s.url}/hook` });
    expect(await n.notify([a], never)).toEqual({ ok: true });
    const raw = JSON.stringify((await s.waitForRequests(1))[0]!.body);
    expect(raw).not.toMatch(/<!|<@|<http:\/\/evil/);
    expect(raw).not.toMatch(/@(here|channel|everyone)/);
    expect(raw).toContain('&lt;!channel&gt; @\u200Bhere &lt;http://evil.example|click&gt;');
    // The only links are the ones agentdrift builds, with their URL made safe.
    const links = raw.match(/<[^>]*>/g) ?? [];
    expect(links).toEqual(['<https://agentdrift.example.com/x?a=1%7C%3C!channel%3E|Source>']);
    expect(raw).not.toContain('javascript:');
  });

  it('the runbook link cannot be broken out of with | or >', async () => {
    const s = await server([200]);
    const a = { ...FIRING, annotations: { runbook_url: 'https://runbooks.example.com/a|<!channel>' } };
    const n = new SlackNotifier({ name: 's', webhookUrl: `${s.url}/hook` });
    await n.notify([a], never);
    const raw = JSON.stringify((await s.waitForRequests(1))[0]!.body);
    expect(raw).toContain('<https://runbooks.example.com/a%7C%3C!channel%3E|Runbook>');
  });
});

describe('webhook notifier', () => {
  it("posts Alertmanager's webhook payload plus the evidence, with custom headers", async () => {
    const s = await server([200]);
    const n = new WebhookNotifier({
      name: 'hooks',
      url: `${s.url}/agentdrift?tenant=acme`,
      headers: { Authorization: 'Bearer t0ken', 'X-Team': 'agents' },
      externalURL: 'http://agentdrift.example.com:9464',
    });
    const other = { ...FIRING, fingerprint: 'aaaa', labels: { ...FIRING.labels, tool: 'search_web' } };
    expect(await n.notify([FIRING, other], never)).toEqual({ ok: true });
    const [req] = await s.waitForRequests(1);
    expect(req!.path).toBe('/agentdrift?tenant=acme');
    expect(req!.headers.authorization).toBe('Bearer t0ken');
    expect(req!.headers['x-team']).toBe('agents');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.body).toEqual({
      version: '4',
      groupKey: '{}:{alertname="ToolCallsPerRunUp"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'hooks',
      groupLabels: { alertname: 'ToolCallsPerRunUp' },
      commonLabels: { alertname: 'ToolCallsPerRunUp', severity: 'warning', team: 'agents', workflow_id: 'invoice_enrichment' },
      commonAnnotations: FIRING.annotations,
      externalURL: 'http://agentdrift.example.com:9464',
      alerts: [
        {
          status: 'firing',
          labels: FIRING.labels,
          annotations: FIRING.annotations,
          startsAt: '2026-03-02T10:00:00.000Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: FIRING.generatorURL,
          fingerprint: '3f2a9c1d7e5b4a60',
          agentdrift: FIRING.evidence,
        },
        expect.objectContaining({ fingerprint: 'aaaa', labels: other.labels }),
      ],
    });
  });

  it('max_alerts truncates and counts what it dropped; a resolved batch says resolved', async () => {
    const s = await server([200]);
    const n = new WebhookNotifier({ name: 'hooks', url: `${s.url}/h`, maxAlerts: 1 });
    const second = { ...RESOLVED, fingerprint: 'bbbb' };
    await n.notify([RESOLVED, second], never);
    const body = (await s.waitForRequests(1))[0]!.body as { truncatedAlerts: number; status: string; alerts: { fingerprint: string; endsAt: string }[] };
    expect(body.truncatedAlerts).toBe(1);
    expect(body.status).toBe('resolved');
    expect(body.alerts.map((a) => [a.fingerprint, a.endsAt])).toEqual([['3f2a9c1d7e5b4a60', '2026-03-03T08:30:00.000Z']]);
  });

  it('userinfo in the URL becomes basic auth (fetch refuses credentials in URLs)', async () => {
    const s = await server([200]);
    const u = new URL(s.url);
    const n = new WebhookNotifier({ name: 'hooks', url: `http://user:p%40ss@${u.host}/h` });
    expect(await n.notify([FIRING], never)).toEqual({ ok: true });
    expect((await s.waitForRequests(1))[0]!.headers.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });
});

describe('failure classification (real server)', () => {
  const notify = async (s: HttpReceiver | string, timeoutMs = 5000) => {
    const url = typeof s === 'string' ? s : `${s.url}/hook/secret-path`;
    return new WebhookNotifier({ name: 'w', url, timeoutMs }).notify([FIRING], never);
  };

  it('5xx is recoverable', async () => {
    const r = failure(await notify(await server([503])));
    expect(r).toMatchObject({ recoverable: true, reason: 'server_error' });
    expect(r.error.message).toMatch(/^webhook receiver w: POST http:\/\/127\.0\.0\.1:\d+: HTTP 503: status 503$/);
  });

  it('429 is recoverable and carries Retry-After (seconds or HTTP date)', async () => {
    expect(failure(await notify(await server([{ status: 429, headers: { 'Retry-After': '3' } }])))).toMatchObject({ recoverable: true, reason: 'rate_limited', retryAfterMs: 3000 });
    const r = failure(await notify(await server([{ status: 429 }])));
    expect(r).toMatchObject({ recoverable: true, reason: 'rate_limited' });
    expect(r.retryAfterMs).toBeUndefined();
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:10 GMT', Date.parse('2026-10-21T07:28:00Z'))).toBe(10_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', Date.parse('2026-10-21T07:29:00Z'))).toBe(0);
    expect(parseRetryAfter('soon', 0)).toBeNull();
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'invalid_token'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('%i is permanent, and the reply says why', async (status, text) => {
    const r = failure(await notify(await server([{ status, body: text }])));
    expect(r).toMatchObject({ recoverable: false, reason: 'client_error' });
    expect(r.error.message).toContain(`HTTP ${status}: ${text}`);
  });

  it('a redirect is not followed (it would carry the payload and credentials elsewhere)', async () => {
    const r = failure(await notify(await server([{ status: 302, headers: { location: 'http://elsewhere.example/' } }])));
    expect(r).toMatchObject({ recoverable: false, reason: 'other' });
  });

  it('connection refused is recoverable', async () => {
    const r = failure(await notify(`http://127.0.0.1:${await closedPort()}/hook`));
    expect(r).toMatchObject({ recoverable: true, reason: 'connection' });
    expect(r.error.message).toContain('ECONNREFUSED');
  });

  it('no answer within the timeout is recoverable', async () => {
    const r = failure(await notify(await server([{ status: 200, delayMs: 2000 }]), 200));
    expect(r).toMatchObject({ recoverable: true, reason: 'timeout' });
    expect(r.error.message).toContain('no answer within 200ms');
  });
});

function route(receiver: string): RouteNode {
  const yaml = `receivers:\n  - { name: ${receiver}, slack: { webhook_url: "https://hooks.slack.com/x" } }\nroute: { receivers: [${receiver}], group_wait: 0s }\n`;
  const loaded = parseConfigText(yaml, 'c.yaml', {});
  return validateNotifyConfig(loaded.config!.receivers, loaded.config!.route, loaded.source, 'c.yaml').config!.route;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('dispatcher + real receiver, real time', () => {
  const fast = { initialBackoffMs: 50, maxBackoffMs: 200, giveUpAfterMs: 1500, jitter: 0 };

  function dispatcher(n: Notifier, recorder: RecordingRecorder): Dispatcher {
    return new Dispatcher({ route: route(n.name), notifiers: [n], recorder, retry: fast });
  }

  it('500 then 200: retried and delivered exactly once', async () => {
    const s = await server([500, 200]);
    const rec = new RecordingRecorder();
    const d = dispatcher(new SlackNotifier({ name: 'slack', webhookUrl: `${s.url}/hook` }), rec);
    d.enqueue(FIRING);
    d.enqueue(FIRING);
    await until(() => rec.events.includes('sent slack/slack'), 5000, 'delivery');
    await d.flush(1000);
    await d.close();
    expect(s.requests).toHaveLength(2);
    expect(rec.events).toEqual(['retry slack/slack', 'sent slack/slack']);
  });

  it('429 with Retry-After: 1 waits at least a second', async () => {
    const s = await server([{ status: 429, headers: { 'Retry-After': '1' } }, 200]);
    const rec = new RecordingRecorder();
    const d = dispatcher(new SlackNotifier({ name: 'slack', webhookUrl: `${s.url}/hook` }), rec);
    d.enqueue(FIRING);
    await until(() => rec.events.includes('sent slack/slack'), 5000, 'delivery');
    await d.close();
    expect(s.requests).toHaveLength(2);
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(1000);
  });

  it('400 is not retried and is counted as failed', async () => {
    const s = await server([400, 200]);
    const rec = new RecordingRecorder();
    const d = dispatcher(new SlackNotifier({ name: 'slack', webhookUrl: `${s.url}/hook` }), rec);
    d.enqueue(FIRING);
    await until(() => rec.events.length > 0, 5000, 'an outcome');
    await new Promise((r) => setTimeout(r, 300)); // longer than any backoff: a retry would have come
    await d.close();
    expect(rec.events).toEqual(['failed slack/slack client_error']);
    expect(s.requests).toHaveLength(1);
  });

  it('connection refused is retried, and delivered once the receiver comes up', async () => {
    const port = await closedPort();
    const rec = new RecordingRecorder();
    const d = dispatcher(new WebhookNotifier({ name: 'hooks', url: `http://127.0.0.1:${port}/h` }), rec);
    d.enqueue(FIRING);
    await until(() => rec.events.filter((e) => e.startsWith('retry')).length >= 2, 5000, 'two retries');
    const s = await server([200], { port });
    await until(() => rec.events.includes('sent hooks/webhook'), 5000, 'delivery');
    await d.close();
    expect(s.requests).toHaveLength(1);
  });

  it('a receiver that stays down is given up on after the retry budget, counted once', async () => {
    const rec = new RecordingRecorder();
    const d = dispatcher(new WebhookNotifier({ name: 'hooks', url: `http://127.0.0.1:${await closedPort()}/h` }), rec);
    d.enqueue(FIRING);
    await until(() => rec.events.some((e) => e.startsWith('failed')), 5000, 'give-up');
    await d.close();
    expect(rec.events.filter((e) => e.startsWith('failed'))).toEqual(['failed hooks/webhook connection']);
    expect(rec.events.filter((e) => e.startsWith('retry')).length).toBeGreaterThanOrEqual(3);
  });
});

describe('testReceivers', () => {
  it('sends one sample marked as a test to every receiver and reports each result', async () => {
    const ok = await server([200]);
    const bad = await server([{ status: 404, body: 'no_service' }]);
    const notifiers = [
      new SlackNotifier({ name: 'slack-agents', webhookUrl: `${ok.url}/services/T/B/secret` }),
      new WebhookNotifier({ name: 'hooks', url: `${bad.url}/h?token=abc123secret` }),
      new WebhookNotifier({ name: 'down', url: `http://127.0.0.1:${await closedPort()}/h` }),
    ];
    const results = await testReceivers(notifiers);
    expect(results.map((r) => [r.receiver, r.integration, r.ok, r.reason])).toEqual([
      ['slack-agents', 'slack', true, undefined],
      ['hooks', 'webhook', false, 'client_error'],
      ['down', 'webhook', false, 'connection'],
    ]);
    const slackBody = JSON.stringify(ok.requests[0]!.body);
    expect(slackBody).toContain('AgentdriftTestAlert');
    expect(slackBody).toContain('TEST from agentdrift test-receivers');
    expect((bad.requests[0]!.body as { alerts: { labels: Record<string, string> }[] }).alerts[0]!.labels.agentdrift_test).toBe('true');

    const report = formatTestReport(results);
    expect(report).toMatch(/^RECEIVER +INTEGRATION +RESULT +DETAIL\n/);
    expect(report).toMatch(/\nslack-agents +slack +ok +delivered \(\d+ms\)\n/);
    expect(report).toMatch(/\nhooks +webhook +FAILED +client_error: webhook receiver hooks: POST http:\/\/127\.0\.0\.1:\d+: HTTP 404: no_service\n/);
    expect(report).toMatch(/\ndown +webhook +FAILED +connection, transient: .*ECONNREFUSED/);
    expect(report.endsWith('2 of 3 receivers failed\n')).toBe(true);
    expect(report).not.toContain('secret');
  });

  it('a caller-supplied sample is still marked as a test', async () => {
    const s = await server([200]);
    await testReceivers([new WebhookNotifier({ name: 'h', url: `${s.url}/h` })], FIRING);
    const alert = (s.requests[0]!.body as { alerts: { labels: Record<string, string>; annotations: Record<string, string> }[] }).alerts[0]!;
    expect(alert.labels.agentdrift_test).toBe('true');
    expect(alert.annotations.summary).toMatch(/^TEST from agentdrift test-receivers: enrich_company/);
  });
});
