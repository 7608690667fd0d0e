/**
 * Alertmanager's notify/test: no notifier error contains a secret. Every notifier, with secrets in
 * URL paths, queries, userinfo, headers and passwords, is pointed at failing servers (some of which
 * echo the secrets back in their replies) and at a closed port; neither the errors (message, stack,
 * inspection) nor the dispatcher's logs nor the test-receivers report may contain any secret.
 */
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { ManualClock } from '../../src/util/clock.js';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { buildNotifiers } from '../../src/notify/factory.js';
import type { NotifyConfig, ReceiverConfig } from '../../src/notify/config.js';
import { EMPTY_ROUTE } from '../../src/notify/route.js';
import { formatTestReport, sampleAlert, testReceivers } from '../../src/notify/testReceivers.js';
import type { Notifier, NotifyResult } from '../../src/notify/types.js';
import { closedPort, startHttpReceiver, type HttpReceiver, type ScriptedResponse } from '../helpers/httpReceiver.js';
import { startSmtpServer, type SmtpCapture } from '../helpers/smtp.js';

const SECRETS = {
  slackPath: 'T0SECRETslack/B0SECRETslack/slackSECRETtoken3',
  hookUser: 'hookUSERsecret',
  hookPass: 'hookPASSsecret',
  hookPath: 'pathSECRETabc123',
  hookQuery: 'querySECRETxyz789',
  hookHeader: 'headerSECRETbearer',
  hookApiKey: 'apikeySECRET99',
  amUser: 'amUSERsecret',
  amPass: 'amPASS$ecret/+=',
  amPrefix: 'prefixSECRETpath',
  amHeader: 'amHEADERsecret',
  smtpPass: 'smtpPASSsecret',
};

/** Every form a secret could leak in: as is, URL-encoded, and (for SMTP) as the AUTH PLAIN string. */
const FORBIDDEN = [
  ...Object.values(SECRETS).flatMap((s) => [s, encodeURIComponent(s)]),
  ...SECRETS.slackPath.split('/'),
  Buffer.from(`\0agentdrift\0${SECRETS.smtpPass}`).toString('base64'),
  Buffer.from(SECRETS.smtpPass).toString('base64'),
  // A secret cut in half (by truncation) must not leave a recognisable part behind.
  ...Object.values(SECRETS).map((s) => s.slice(0, 5)),
];

function expectNoSecret(text: string, where: string): void {
  for (const s of FORBIDDEN) expect(text.includes(s), `${where} contains secret ${JSON.stringify(s)}:\n${text}`).toBe(false);
}

/** What a careless server (or proxy) replies: the request, secrets and all. */
const ECHO = `bad request to /services/${SECRETS.slackPath} /hooks/${SECRETS.hookPath}?token=${SECRETS.hookQuery} Authorization: Bearer ${SECRETS.hookHeader} key=${SECRETS.hookApiKey} user ${SECRETS.amUser}:${SECRETS.amPass} ${SECRETS.amHeader}`;

function echoing(status: number, headers: Record<string, string> = {}): ScriptedResponse {
  return { status, headers, body: ECHO };
}

function receivers(httpBase: string, smtp: { host: string; port: number }, timeoutMs = 2000): ReceiverConfig[] {
  const u = new URL(httpBase);
  return [
    { name: 'slack', integration: 'slack', webhookUrl: `${httpBase}/services/${SECRETS.slackPath}`, channel: null, timeoutMs },
    {
      name: 'hook',
      integration: 'webhook',
      url: `http://${SECRETS.hookUser}:${SECRETS.hookPass}@${u.host}/hooks/${SECRETS.hookPath}?token=${SECRETS.hookQuery}`,
      headers: { Authorization: `Bearer ${SECRETS.hookHeader}`, 'X-Api-Key': SECRETS.hookApiKey },
      maxAlerts: 0,
      timeoutMs,
    },
    {
      name: 'am',
      integration: 'alertmanager',
      url: `http://${SECRETS.amUser}:${encodeURIComponent(SECRETS.amPass)}@${u.host}/${SECRETS.amPrefix}`,
      headers: { Authorization: `Bearer ${SECRETS.amHeader}` },
      resendIntervalMs: 60_000,
      timeoutMs,
    },
    {
      name: 'mail',
      integration: 'email',
      to: ['oncall@example.com'],
      from: 'agentdrift@example.com',
      host: smtp.host,
      port: smtp.port,
      tls: 'none',
      authUsername: 'agentdrift',
      authPassword: SECRETS.smtpPass,
      insecureSkipVerify: false,
      timeoutMs,
    },
  ];
}

function config(rs: ReceiverConfig[]): NotifyConfig {
  return { receivers: rs, route: { ...EMPTY_ROUTE, receivers: rs.map((r) => r.name), groupWaitMs: 0 } };
}

function errorText(r: NotifyResult): string {
  if (r.ok) throw new Error('expected a failure');
  return [r.error.message, r.error.stack ?? '', inspect(r.error, { depth: 5 }), JSON.stringify(r.error), JSON.stringify(r)].join('\n');
}

let smtp: SmtpCapture;
let http: HttpReceiver;
beforeAll(async () => {
  // Accepts only a different password, and quotes what it got when refusing.
  smtp = await startSmtpServer({ username: 'agentdrift', password: 'the-right-one', echoCredentials: true });
  http = await startHttpReceiver([], { fallback: echoing(500) });
});
afterAll(async () => {
  await smtp.close();
  await http.close();
});

describe('no notifier error contains a secret', () => {
  const cases: [string, ScriptedResponse][] = [
    ['500 echoing the request', echoing(500)],
    ['400 echoing the request', echoing(400)],
    ['429 echoing the request', echoing(429, { 'Retry-After': '1' })],
    ['a redirect to a URL with the secrets', { status: 302, headers: { location: `http://x/${SECRETS.hookPath}` }, body: ECHO }],
  ];

  it.each(cases)('failing server: %s', async (_name, response) => {
    const notifiers = buildNotifiers(config(receivers(http.url, smtp)));
    try {
      for (const n of notifiers) {
        http.script([response]);
        const r = await n.notify([sampleAlert()], new AbortController().signal);
        expectNoSecret(errorText(r), `${n.integration} error`);
        // The reply was quoted, and what it echoed was scrubbed: the test is not passing vacuously.
        if (!r.ok && (n.integration === 'email' || /HTTP [45]\d\d/.test(r.error.message))) expect(r.error.message).toContain('***');
      }
    } finally {
      for (const n of notifiers) await n.close?.();
    }
  });

  it('closed port', async () => {
    const port = await closedPort();
    const notifiers = buildNotifiers(config(receivers(`http://127.0.0.1:${port}`, { host: '127.0.0.1', port })));
    for (const n of notifiers) {
      const r = await n.notify([sampleAlert()], new AbortController().signal);
      expect(r).toMatchObject({ ok: false, recoverable: true });
      expectNoSecret(errorText(r), `${n.integration} error`);
    }
  });

  it('timeout and abort', async () => {
    const http3 = receivers(http.url, smtp, 300).filter((r) => r.integration !== 'email');
    const notifiers: Notifier[] = buildNotifiers(config(http3));
    for (const n of notifiers) {
      http.script([{ status: 200, delayMs: 1000 }]);
      const timedOut = await n.notify([sampleAlert()], new AbortController().signal);
      expect(timedOut).toMatchObject({ ok: false, reason: 'timeout' });
      expectNoSecret(errorText(timedOut), `${n.integration} timeout`);
      http.script([{ status: 200, delayMs: 1000 }]);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const aborted = await n.notify([sampleAlert()], ac.signal);
      expect(aborted).toMatchObject({ ok: false, recoverable: true, reason: 'other' });
      expectNoSecret(errorText(aborted), `${n.integration} abort`);
    }
  });
});

describe('logs and reports contain no secret', () => {
  it('dispatcher logs (retries, give-ups) and the test-receivers report', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    const logger = createLogger({ level: 'debug', destination: sink });
    const cfg = config(receivers(http.url, smtp));
    const clock = new ManualClock(Date.parse('2026-11-22T03:00:00Z'));
    http.script([]);
    const d = new Dispatcher({ route: cfg.route, notifiers: buildNotifiers(cfg, { now: clock.now }), logger, clock, retry: { giveUpAfterMs: 5000 } });
    d.enqueue(sampleAlert(clock.now()));
    // Real I/O under a manual clock: step through the backoff with time for each send to complete.
    for (let i = 0; i < 30 && !/gave up|permanent/.test(logged); i++) {
      await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 50));
    }
    const snapshot = JSON.stringify(d.snapshot());
    await d.close();
    expect(logged).toContain('retrying in');
    expect(logged).toContain('permanent failure');
    expectNoSecret(logged, 'log');
    expectNoSecret(snapshot, 'snapshot');

    const report = formatTestReport(await testReceivers(buildNotifiers(cfg)));
    expect(report).toContain('4 of 4 receivers failed');
    expectNoSecret(report, 'test-receivers report');
  });
});
