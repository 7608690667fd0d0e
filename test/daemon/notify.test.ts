/**
 * The daemon on the demo, with receivers on loopback: Slack and webhook to a real HTTP server, email
 * to a real SMTP server, routed by severity; then a restart that sends nothing twice; and
 * `agentdrift test-receivers` against the same receivers.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, scrapeValue, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { alertId, pinnedDemoStart, pinnedRestart, readmeDemoAlerts } from '../helpers/demo.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/httpReceiver.js';
import { startSmtpServer, type SmtpCapture } from '../helpers/smtp.js';

let http: HttpReceiver;
let smtp: SmtpCapture;
let cwd: string;
let daemon: LiveProcess | null = null;
const SECRET = 'hook-token-6f1d2c';

beforeAll(async () => {
  http = await startHttpReceiver([], { fallback: 200 });
  smtp = await startSmtpServer();
  cwd = mkdtempSync(join(tmpdir(), 'agentdrift-notify-'));
  cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
  writeFileSync(
    join(cwd, 'agentdrift.yaml'),
    `listen: 127.0.0.1:0
external_url: https://agentdrift.example.com
receivers:
  - name: slack
    slack: { webhook_url: "${http.url}/slack/\${HOOK_TOKEN}" }
  - name: hook
    webhook: { url: "${http.url}/hook", headers: { Authorization: "Bearer \${HOOK_TOKEN}" } }
  - name: oncall
    email: { to: [oncall@example.com], from: agentdrift@example.com, smarthost: "127.0.0.1:${smtp.port}", tls: none }
route:
  receivers: [slack, hook]
  group_wait: 1s
  routes:
    - matchers: ['severity = critical']
      receivers: [oncall, slack, hook]
`,
  );
});

afterAll(async () => {
  daemon?.child.kill('SIGKILL');
  await http?.close();
  await smtp?.close();
});

const env = { HOOK_TOKEN: SECRET };
const slackReqs = () => http.requests.filter((r) => r.path.startsWith('/slack/'));
const hookReqs = () => http.requests.filter((r) => r.path === '/hook');
type HookBody = { status: string; alerts: { labels: Record<string, string>; status: string; generatorURL: string; agentdrift?: { exampleRunIds: string[]; contributors: unknown[] } }[] };

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('notifications from the running daemon', () => {
  it('sends each injected drift to Slack and the webhook, and the critical one by email too', async () => {
    daemon = startCli(pinnedDemoStart(), cwd, env);
    await daemon.waitFor((l) => l.includes('agentdrift started'), 60_000);
    const alertnames = () => new Set(hookReqs().flatMap((r) => (r.body as HookBody).alerts.map((a) => `${a.labels.alertname}/${a.labels.workflow_id}`)));
    // Exactly the README's list of what the demo fires (keyed by alert and workflow, as notified).
    const expected = [...new Set(readmeDemoAlerts().map((a) => alertId({ ...a, key: '' })))].sort();
    await until(() => alertnames().size >= expected.length, 30_000, `${expected.length} firing alerts at the webhook`);
    expect([...alertnames()].sort()).toEqual(expected);
    const alerts = hookReqs().flatMap((r) => (r.body as HookBody).alerts);
    const tool = alerts.find((a) => a.labels.alertname === 'ToolCallsPerRunUp')!;
    expect(tool).toMatchObject({ status: 'firing', labels: { tool: 'enrich_company', severity: 'warning', signal: 'tool_calls_per_run' } });
    expect(tool.generatorURL).toBe('https://agentdrift.example.com/alerts?alertname=ToolCallsPerRunUp');
    expect(tool.agentdrift!.exampleRunIds.length).toBeGreaterThan(0);
    expect(hookReqs()[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);

    await until(() => slackReqs().length > 0, 10_000, 'Slack');
    const slackText = slackReqs().map((r) => JSON.stringify(r.body)).join('\n');
    expect(slackText).toContain('enrich_company');

    const mails = await smtp.waitForMessages(1, 10_000);
    const parsed = await simpleParser(mails[0]!.raw);
    // The critical alerts (cost per success, error rate) go by email, grouped as the route says.
    expect(parsed.subject).toMatch(/^\[FIRING:\d+\]/);
    expect(parsed.text).toMatch(/cost_per_success|cost per success/i);
    expect(mails[0]!.to).toEqual(['oncall@example.com']);
  }, 120_000);

  it('logs never contain the receiver secret', () => {
    expect(daemon!.lines.join('\n')).not.toContain(SECRET);
  });

  it('a restart sends nothing again', async () => {
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toBe(0);
    const before = http.requests.length;
    const mailsBefore = smtp.messages.length;
    daemon = startCli(pinnedRestart(10), cwd, env);
    const metrics = await metricsUrlOf(daemon);
    await daemon.waitFor((l) => l.includes('agentdrift started'), 60_000);
    // After the first evaluation, whatever a restart would re-send is queued or sent; the shutdown
    // below flushes the queue, so counting at the receivers after the exit sees all of it.
    await waitForEvaluations(metrics, 'agentdrift-default', 1);
    expect(await scrapeValue(metrics, 'agentdrift_notifications_pending')).toBe(0);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(http.requests.length).toBe(before);
    expect(smtp.messages.length).toBe(mailsBefore);
  });

  it('test-receivers sends a sample to every receiver and reports each', async () => {
    const before = http.requests.length;
    const mailsBefore = smtp.messages.length;
    // Not spawnSync: the receivers live in this process and must keep answering.
    const p = startCli(['test-receivers'], cwd, env);
    expect(await p.exited).toBe(0);
    const output = p.lines.join('\n');
    expect(output).not.toContain(SECRET);
    expect(output).toMatch(/slack/);
    expect(output).toMatch(/hook/);
    expect(output).toMatch(/oncall/);
    expect(http.requests.length).toBe(before + 2);
    expect(smtp.messages.length).toBe(mailsBefore + 1);
  });
});
