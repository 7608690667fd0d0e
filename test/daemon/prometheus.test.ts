/**
 * The daemon on demo data, scraped by a real Prometheus: the deviation gauge of an injected drift is
 * there and above its rule's threshold, the alert state says firing, and `promtool check metrics` has
 * nothing to say about the daemon's exposition.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type LiveProcess } from '../helpers/cli.js';
import { pinnedDemoStart } from '../helpers/demo.js';
import { prometheusSkip, promtoolCheckMetrics, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';

const skip = prometheusSkip('prometheus');
if (skip.skip) console.warn(`skipping daemon/Prometheus test: ${skip.reason}`);

describe.skipIf(skip.skip)('daemon scraped by Prometheus', () => {
  let daemon: LiveProcess;
  let prom: PrometheusServer;
  let address: string;

  beforeAll(async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-prom-'));
    cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
    writeFileSync(join(cwd, 'agentdrift.yaml'), 'listen: 127.0.0.1:0\n');
    daemon = startCli(pinnedDemoStart(), cwd);
    const serving = await daemon.waitFor((l) => l.includes('serving /alerts, /metrics'), 60_000);
    address = String(JSON.parse(serving).url).replace('http://', '');
    await daemon.waitFor((l) => l.includes('ToolCallsPerRunUp firing'), 60_000);
    prom = await startPrometheus({ target: address });
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    if (daemon) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
  });

  it('Prometheus holds the deviation of the injected tool-call drift, above the 20% threshold', async () => {
    const q = 'agentdrift_signal_deviation_ratio{rule="ToolCallsPerRunUp",workflow_id="invoice_enrichment",key="enrich_company"}';
    const [sample] = await prom.waitFor(q, (r) => r.length === 1, 30_000);
    expect(sample!.value).toBeGreaterThan(0.2);
    expect(sample!.metric).toMatchObject({ signal: 'tool_calls_per_run', severity: 'warning' });
    const state = await prom.waitFor('agentdrift_alert_state{rule="ToolCallsPerRunUp",key="enrich_company"}', (r) => r.length === 1, 30_000);
    expect(state[0]!.metric.alertstate).toBe('firing');
    const stable = await prom.query('agentdrift_alert_state{workflow_id=~"lead_scoring|email_drafting",alertstate!="inactive"}');
    expect(stable).toEqual([]);
    const evals = await prom.query('agentdrift_group_evaluations_total');
    expect(evals.length).toBeGreaterThan(0);
  });

  it('promtool check metrics reports nothing on the daemon output', async () => {
    const text = await (await fetch(`http://${address}/metrics`)).text();
    expect(text).toContain('agentdrift_signal_current_value');
    const r = promtoolCheckMetrics(text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('/healthz and /readyz answer', async () => {
    expect((await fetch(`http://${address}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://${address}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    expect(Object.values(body.checks).every((c) => c.ok)).toBe(true);
  });
});
