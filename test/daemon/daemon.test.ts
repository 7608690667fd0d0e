/**
 * `agentdrift start --demo` as a newcomer runs it: a fresh directory, the embedded store, demo data
 * seeded because the store is empty, the injected drifts detected within a minute; rule reloads on
 * file change and SIGHUP that keep the old rules when the new ones are invalid; a clean SIGTERM; and a
 * restart that neither re-fires what is firing nor forgets it.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metricsUrlOf, runCli, startCli, waitForEvaluations, type LiveProcess } from '../helpers/cli.js';
import { pinnedDemoStart, pinnedRestart } from '../helpers/demo.js';

const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-daemon-'));
cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\nlog_level: info\ntrace_url: https://traces.example.com/t/{trace_id}\n');

let proc: LiveProcess | null = null;
afterAll(() => {
  proc?.child.kill('SIGKILL');
});

const json = (line: string) => {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
};
const msg = (re: RegExp) => (line: string) => re.test(String(json(line).msg ?? ''));

describe('the daemon on the embedded demo', () => {
  it('seeds an empty store and reports the injected drifts firing within a minute', async () => {
    const t0 = Date.now();
    proc = startCli(pinnedDemoStart(), cwd);
    await proc.waitFor(msg(/demo data seeded/), 60_000);
    // Before the first evaluation ends, ClickHouse already reads as up (a restart is not an outage).
    const text = await (await fetch(await metricsUrlOf(proc))).text();
    const sample = (name: string) => text.split('\n').filter((l) => l.startsWith(name)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    // (Scraped as soon as /metrics serves: the first evaluation, seconds long on the demo, is running.)
    expect(sample('agentdrift_clickhouse_up '), `after ${sample('agentdrift_group_evaluations_total{')} evaluations`).toBe(1);
    for (const re of [
      /^ToolCallsPerRunUp firing for workflow_id=invoice_enrichment tool=enrich_company/,
      /^PolicyActivationRateChanged firing for workflow_id=support_triage/,
      /^CostPerSuccessUp firing for workflow_id=refund_processing/,
      /^OutputSchemaShift firing for workflow_id=report_generation/,
      /^DurationP95Up firing for workflow_id=doc_summarization/,
      /^ErrorRateUp firing for workflow_id=contract_review/,
    ]) {
      await proc.waitFor(msg(re), 60_000 - (Date.now() - t0));
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
    // Logs are structured JSON with levels.
    const firing = proc.lines.map(json).filter((l) => /firing for/.test(String(l.msg)));
    expect(firing.length).toBeGreaterThanOrEqual(4);
    for (const l of firing) expect(l).toMatchObject({ level: 'warn', app: 'agentdrift', to: 'firing' });
    expect(firing.some((l) => /lead_scoring|email_drafting/.test(String(l.msg)))).toBe(false);
  }, 90_000); // the promise is the minute asserted above; the timeout only lets that assertion speak

  it('keeps the old rules when a changed rule file is invalid, and says why', async () => {
    const file = join(cwd, 'rules', 'extra.yaml');
    writeFileSync(file, 'groups:\n  - name: extra\n    interval: 5m\n    rules:\n      - alert: Broken\n        signal: nope\n        threshold: 20%\n');
    const line = await proc!.waitFor(msg(/rule reload failed: keeping the previous rules running/), 10_000);
    expect(JSON.stringify(json(line).problems)).toMatch(/extra\.yaml:6:17/);
    proc!.child.kill('SIGHUP');
    await proc!.waitFor((l) => msg(/rule reload failed/)(l) && json(l).reason === 'SIGHUP', 10_000);
    writeFileSync(file, 'groups:\n  - name: extra\n    interval: 5m\n    rules:\n      - alert: Fixed\n        signal: cost_per_success\n        threshold: 50%\n        min_runs: 100\n');
    const ok = await proc!.waitFor(msg(/^rules reloaded$/), 10_000);
    expect(json(ok)).toMatchObject({ rules: 14 });
  });

  it('accept resolves a firing alert as the new normal, says why, and shows it in /alerts and /metrics', async () => {
    const metrics = await metricsUrlOf(proc!, 1);
    const base = metrics.replace(/\/metrics$/, '');
    const r = runCli(['accept', 'CostPerSuccessUp', '--group', 'workflow_id=invoice_enrichment', '--reason', 'enrichment confirms each record by design', '--url', base], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^accepted CostPerSuccessUp workflow_id=invoice_enrichment: new normal [\d.]+, compared with it until 2026-/);
    await proc!.waitFor(msg(/^CostPerSuccessUp resolved for workflow_id=invoice_enrichment/), 5_000);
    const alerts = (await (await fetch(`${base}/alerts?alertname=CostPerSuccessUp`)).json()) as { labels: Record<string, string>; state: string; accepted: { reason: string } | null }[];
    // A firing alert shows its explanation, with links to the trace UI from trace_url.
    type Explained = { labels: Record<string, string>; state: string; example_run_ids: string[]; explanation: { onset: string; cause: string; examples: { url?: string }[] } | null };
    const tools = (await (await fetch(`${base}/alerts?alertname=ToolCallsPerRunUp`)).json()) as Explained[];
    const enrich = tools.find((a) => a.labels.tool === 'enrich_company')!;
    expect(enrich.state).toBe('firing');
    expect(enrich.explanation!.onset).toMatch(/^started 2026-11-17 09:00 UTC ± 1 h/);
    expect(enrich.explanation!.cause).toMatch(/^prompt_version enrich-v13 explains/);
    expect(enrich.example_run_ids).toHaveLength(5);
    expect(enrich.explanation!.examples[0]!.url).toMatch(/^https:\/\/traces\.example\.com\/t\/[0-9a-f]{32}$/);
    const mine = alerts.find((a) => a.labels.workflow_id === 'invoice_enrichment')!;
    expect(mine).toMatchObject({ state: 'resolved', accepted: { reason: 'enrichment confirms each record by design' } });
    expect(await (await fetch(metrics)).text()).toMatch(/agentdrift_alert_accepted_timestamp_seconds\{rule="CostPerSuccessUp"[^}]*workflow_id="invoice_enrichment"/);
    // Nothing matched: exit 1 and say so; an unknown rule: the daemon refuses.
    const none = runCli(['accept', 'CostPerSuccessUp', '--group', 'workflow_id=nope', '--reason', 'x', '--url', base], cwd);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/nothing accepted/);
    const unknown = runCli(['accept', 'NoSuchRule', '--reason', 'x', '--url', base], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/404.*no rule named .*NoSuchRule/s);
  });

  it('stops cleanly on SIGTERM and persists the alert state', async () => {
    proc!.child.kill('SIGTERM');
    const code = await proc!.exited;
    expect({ code, signal: proc!.child.signalCode, tail: proc!.lines.slice(-5) }).toMatchObject({ code: 0 });
    expect(proc!.lines.some(msg(/^stopped$/))).toBe(true);
    const state = JSON.parse(readFileSync(join(cwd, 'data', 'agentdrift-state.json'), 'utf8')) as { alerts: { alert: string; record: { state: string } }[] };
    expect(state.alerts.filter((a) => a.record.state === 'firing').length).toBeGreaterThanOrEqual(4);
  });

  it('a restart keeps firing alerts without firing them again and does not re-seed', async () => {
    proc = startCli([...pinnedRestart(10), '--demo'], cwd);
    const metrics = await metricsUrlOf(proc, 30_000);
    await proc.waitFor(msg(/^agentdrift started$/), 30_000);
    expect(proc.lines.some(msg(/^alert state restored$/))).toBe(true);
    // After the first evaluation of every group: whatever a restart would wrongly fire, it has fired.
    await waitForEvaluations(metrics, 'agentdrift-default', 1);
    await waitForEvaluations(metrics, 'extra', 1);
    expect(proc.lines.some(msg(/demo data seeded/))).toBe(false);
    expect(proc.lines.some(msg(/firing for/))).toBe(false);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });
});
