/**
 * Fault: a firing rule disappears from the rule files, renamed while the daemon runs (a reload) or
 * deleted while it is stopped (found at the next start). Receivers that heard it fire must hear it
 * resolve, once, with the reason, and with the labels it fired with (Alertmanager and most receivers
 * identify an alert by its labels). The real CLI daemon on the pinned demo, a real webhook receiver.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, scrapeValue, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { DEMO_END_ISO, pinnedRestart } from '../helpers/demo.js';
import type { HttpReceiver } from '../helpers/httpReceiver.js';
import { demoWithWebhook, until, type SentAlert } from '../helpers/demoWebhook.js';

const REASON = 'rule removed from the rule files';
let cwd: string;
let hook: HttpReceiver;
let sent: () => SentAlert[];
let daemon: LiveProcess | null = null;

beforeAll(async () => {
  const demo = await demoWithWebhook('agentdrift-removedrule-');
  ({ cwd, hook } = demo);
  sent = demo.sent;
}, 180_000);

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
  await hook?.close();
});

const of = (alertname: string, status: string) => sent().filter((a) => a.labels.alertname === alertname && a.status === status);
const waitFor = (pred: () => boolean, timeoutMs: number, what: string) => until(pred, timeoutMs, what, sent);

const rulesFile = () => join(cwd, 'rules', 'default.yaml');

describe('removed or renamed firing rules send "resolved" with the reason', () => {
  it('firing rule renamed, then reloaded: the old name resolves once, with the reason and its labels; the new name fires', async () => {
    daemon = startCli(['start', '--now', DEMO_END_ISO], cwd);
    await waitFor(() => new Set(sent().map((a) => `${a.labels.alertname}/${a.labels.workflow_id}`)).size >= 10, 90_000, 'the ten demo alerts');
    expect(of('ToolCallsPerRunUp', 'firing')).toHaveLength(1);

    const text = readFileSync(rulesFile(), 'utf8');
    expect(text).toContain('      - alert: ToolCallsPerRunUp\n');
    writeFileSync(rulesFile(), text.replace('      - alert: ToolCallsPerRunUp\n', '      - alert: ToolCallsPerRunUpRenamed\n'));
    daemon.child.kill('SIGHUP');
    await waitFor(() => of('ToolCallsPerRunUp', 'resolved').length > 0 && of('ToolCallsPerRunUpRenamed', 'firing').length > 0, 60_000, 'the resolution and the renamed rule firing');

    const [resolved] = of('ToolCallsPerRunUp', 'resolved');
    expect(resolved!.annotations.resolved_reason).toBe(REASON);
    // The labels it fired with, so the receiver resolves the alert it has.
    expect(resolved!.labels).toEqual(of('ToolCallsPerRunUp', 'firing')[0]!.labels);
    expect(daemon.lines.join('\n')).toMatch(/ToolCallsPerRunUp resolved for workflow_id=invoice_enrichment tool=enrich_company: rule removed from the rule files/);
  }, 180_000);

  it('firing rule deleted while the daemon was stopped: the restart resolves each of its series once, with the reason', async () => {
    daemon!.child.kill('SIGTERM');
    expect(await daemon!.exited).toBe(0);
    // The rename's resolution was sent once (the stop flushed everything).
    expect(of('ToolCallsPerRunUp', 'resolved')).toHaveLength(1);
    const firedWith = of('CostPerSuccessUp', 'firing');
    expect(firedWith.map((a) => a.labels.workflow_id).sort()).toEqual(['invoice_enrichment', 'refund_processing']);

    const text = readFileSync(rulesFile(), 'utf8');
    const from = text.indexOf('      - alert: CostPerSuccessUp\n');
    const to = text.indexOf('      - alert: OutputSchemaShift\n');
    expect(from).toBeGreaterThan(0);
    writeFileSync(rulesFile(), text.slice(0, from) + text.slice(to));

    const before = hook.requests.length;
    daemon = startCli(pinnedRestart(10), cwd);
    const metrics = await metricsUrlOf(daemon);
    await waitFor(() => of('CostPerSuccessUp', 'resolved').length >= 2, 60_000, 'two resolutions of CostPerSuccessUp');
    for (const g of ['agentdrift-default', 'agentdrift-fast']) await waitForEvaluations(metrics, g, 1, 60_000);
    const end = Date.now() + 10_000;
    while ((await scrapeValue(metrics, 'agentdrift_notifications_pending')) > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);

    const after = hook.requests.slice(before).flatMap((r) => (r.body as { alerts: SentAlert[] }).alerts);
    // Only the two resolutions: nothing else was re-sent by the restart.
    expect(after.map((a) => `${a.labels.alertname}/${a.labels.workflow_id} ${a.status}`).sort()).toEqual([
      'CostPerSuccessUp/invoice_enrichment resolved',
      'CostPerSuccessUp/refund_processing resolved',
    ]);
    for (const a of after) {
      expect(a.annotations.resolved_reason).toBe(REASON);
      // Labels from the state file (the rule itself is gone): severity and signal as it fired.
      expect(a.labels).toEqual(firedWith.find((f) => f.labels.workflow_id === a.labels.workflow_id)!.labels);
      expect(a.labels.severity).toBe('critical');
    }
  }, 180_000);
});
