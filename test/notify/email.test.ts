/** The email notifier against a real SMTP server on 127.0.0.1; messages parsed back with mailparser. */
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailNotifier, type EmailOptions } from '../../src/notify/email.js';
import type { AlertNotification } from '../../src/notify/types.js';
import { MOVED, alert } from '../helpers/alerts.js';
import { closedPort } from '../helpers/httpReceiver.js';
import { failure, never } from '../helpers/notify.js';
import { startSmtpServer, type SmtpCapture } from '../helpers/smtp.js';

const FIRING = alert({
  annotations: { runbook_url: 'https://runbooks.example.com/tool-calls?a=1&b=2' },
  generatorURL: 'http://agentdrift.example.com:9464/alerts',
});

const servers: SmtpCapture[] = [];
const notifiers: EmailNotifier[] = [];
afterEach(async () => {
  for (const n of notifiers.splice(0)) n.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function smtp(opts: Parameters<typeof startSmtpServer>[0] = {}): Promise<SmtpCapture> {
  const s = await startSmtpServer(opts);
  servers.push(s);
  return s;
}

function notifier(s: { host: string; port: number }, extra: Partial<EmailOptions> = {}): EmailNotifier {
  const n = new EmailNotifier({ name: 'oncall-email', to: ['oncall@example.com', 'Second <second@example.com>'], from: 'agentdrift@example.com', host: s.host, port: s.port, tls: 'none', timeoutMs: 5000, ...extra });
  notifiers.push(n);
  return n;
}

describe('email notifier', () => {
  it('sends subject, text and HTML bodies stating the same facts, authenticated', async () => {
    const s = await smtp({ username: 'agentdrift', password: 'smtp-pa55' });
    const n = notifier(s, { authUsername: 'agentdrift', authPassword: 'smtp-pa55' });
    expect(await n.notify([FIRING], never)).toEqual({ ok: true });
    const [mail] = await s.waitForMessages(1);
    expect(mail!.user).toBe('agentdrift');
    expect(mail!.from).toBe('agentdrift@example.com');
    expect(mail!.to).toEqual(['oncall@example.com', 'second@example.com']);

    const parsed = await simpleParser(mail!.raw);
    expect(parsed.subject).toBe('[FIRING:1] ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company');
    expect(parsed.text).toBe(
      [
        '[FIRING:1] ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company',
        '',
        'FIRING: ToolCallsPerRunUp (warning)',
        'enrich_company is called 59.6% more often per run',
        `What moved: ${MOVED}`,
        '',
        'Labels:',
        '  severity: warning',
        '  workflow_id: invoice_enrichment',
        '  tool: enrich_company',
        '',
        'Contributors:',
        '  - enrich_company: 1.09 → 1.74',
        '  - search_web: 0.61 → 0.5',
        '',
        'Example runs: run_8f1c, run_77aa',
        '',
        'Fingerprint: 3f2a9c1d7e5b4a60',
        'Since: 2026-03-02T10:00:00.000Z',
        'Runbook: https://runbooks.example.com/tool-calls?a=1&b=2',
        'Source: http://agentdrift.example.com:9464/alerts',
        '',
      ].join('\n'),
    );
    const html = parsed.html as string;
    expect(html).toContain('<h3 style="color:#c0392b;margin:16px 0 4px">FIRING: ToolCallsPerRunUp (warning)</h3>');
    expect(html).toContain(`<b>What moved:</b> ${MOVED}`);
    expect(html).toContain('<td style="padding:2px 0"><code>invoice_enrichment</code></td>');
    expect(html).toContain('<li>search_web: 0.61 → 0.5</li>');
    expect(html).toContain('<code>run_8f1c</code>, <code>run_77aa</code>');
    expect(html).toContain('<a href="https://runbooks.example.com/tool-calls?a=1&amp;b=2">Runbook</a>');
  });

  it('HTML-escapes data: a <script> in a label stays text', async () => {
    const s = await smtp();
    const evil = '<script>alert("x")</script>';
    const a: AlertNotification = {
      ...FIRING,
      labels: { ...FIRING.labels, workflow_id: evil, [`k"'&`]: '<img src=x onerror=alert(1)>' },
      annotations: { summary: evil, runbook_url: 'javascript:alert(1)' },
      generatorURL: 'https://example.com/"><script>x</script>',
    };
    expect(await notifier(s).notify([a], never)).toEqual({ ok: true });
    const parsed = await simpleParser((await s.waitForMessages(1))[0]!.raw);
    const html = parsed.html as string;
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('javascript:');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('k&quot;&#39;&amp;');
    expect(html).toContain('<a href="https://example.com/%22%3E%3Cscript%3Ex%3C/script%3E">Source</a>');
    // The text part is plain text: it says exactly what the data says.
    expect(parsed.text).toContain(`workflow_id: ${evil}`);
    expect(parsed.subject).toBe(`[FIRING:1] ToolCallsPerRunUp workflow_id=${evil} tool=enrich_company k"'&=<img src=x onerror=alert(1)>`);
  });

  it('a batch: subject counts firing alerts and shows the labels they share; resolved says so', async () => {
    const s = await smtp();
    const n = notifier(s);
    const other = { ...FIRING, fingerprint: 'b', labels: { ...FIRING.labels, tool: 'search_web' } };
    await n.notify([FIRING, other], never);
    await n.notify([{ ...FIRING, status: 'resolved', endsAt: '2026-03-03T08:30:00.000Z' }], never);
    const [m1, m2] = await Promise.all((await s.waitForMessages(2)).map((m) => simpleParser(m.raw)));
    expect(m1!.subject).toBe('[FIRING:2] ToolCallsPerRunUp workflow_id=invoice_enrichment');
    expect(m2!.subject).toBe('[RESOLVED] ToolCallsPerRunUp workflow_id=invoice_enrichment tool=enrich_company');
    expect(m2!.text).toContain(`RESOLVED: ToolCallsPerRunUp (warning)\nenrich_company is called 59.6% more often per run\nLast measured: ${MOVED}`);
    expect(m2!.text).toContain('Resolved: 2026-03-03T08:30:00.000Z');
  });

  it('a newline in a label cannot add a header', async () => {
    const s = await smtp();
    await notifier(s).notify([{ ...FIRING, labels: { ...FIRING.labels, workflow_id: 'x\r\nBcc: victim@example.com' } }], never);
    const [mail] = await s.waitForMessages(1);
    expect(mail!.to).not.toContain('victim@example.com');
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.headers.has('bcc')).toBe(false);
    expect(parsed.subject).toContain('workflow_id=x Bcc: victim@example.com');
  });
});

describe('email failure classification', () => {
  it('wrong password: permanent (535), and the message names neither password nor AUTH string', async () => {
    const s = await smtp({ username: 'agentdrift', password: 'right-pass' });
    const r = failure(await notifier(s, { authUsername: 'agentdrift', authPassword: 'wrong-pa55word' }).notify([FIRING], never));
    expect(r).toMatchObject({ recoverable: false, reason: 'client_error' });
    expect(r.error.message).toMatch(/^email receiver oncall-email: SMTP 127\.0\.0\.1:\d+: EAUTH 535: /);
    expect(`${r.error.message}\n${r.error.stack}`).not.toContain('wrong-pa55word');
    expect(`${r.error.message}\n${r.error.stack}`).not.toContain(Buffer.from('\0agentdrift\0wrong-pa55word').toString('base64'));
  });

  it('4xx from the server is transient, 5xx permanent', async () => {
    const s = await smtp({ dataReplies: [451, 550, null] });
    const n = notifier(s);
    expect(failure(await n.notify([FIRING], never))).toMatchObject({ recoverable: true, reason: 'server_error' });
    expect(failure(await n.notify([FIRING], never))).toMatchObject({ recoverable: false, reason: 'client_error' });
    expect(await n.notify([FIRING], never)).toEqual({ ok: true });
  });

  it('connection refused is recoverable', async () => {
    const r = failure(await notifier({ host: '127.0.0.1', port: await closedPort() }).notify([FIRING], never));
    expect(r).toMatchObject({ recoverable: true, reason: 'connection' });
  });

  it('starttls against a server without STARTTLS is a configuration error, not retried', async () => {
    const s = await smtp();
    const r = failure(await notifier(s, { tls: 'starttls' }).notify([FIRING], never));
    expect(r.recoverable).toBe(false);
  });
});
