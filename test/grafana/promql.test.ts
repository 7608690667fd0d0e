/**
 * Every PromQL query of every panel of the shipped dashboards, run against a real Prometheus that
 * scrapes the daemon on demo data. Template variables are resolved as Grafana resolves them on load
 * (their label_values() queries run against the same Prometheus; multi-value variables on All) and
 * formatted as Grafana's Prometheus datasource formats them; each query must return data.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuleFiles } from '../../src/rules/load.js';
import { startCli, type LiveProcess } from '../helpers/cli.js';
import { pinnedDemoStart } from '../helpers/demo.js';
import { VariableResolver, loadDashboards, panelQueries, type Dashboard, type PanelQuery } from '../helpers/grafana.js';
import { prometheusSkip, startPrometheus, type PrometheusServer, type VectorSample } from '../helpers/prometheus.js';

const skip = prometheusSkip('prometheus');
if (skip.skip) console.warn(`skipping Grafana PromQL test: ${skip.reason}`);

// What Grafana would send for its global variables on a short range with a 1s scrape interval.
const BUILTINS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

const dashboards = loadDashboards();
const queries = dashboards.flatMap(panelQueries).filter((q) => q.kind === 'prometheus');
// Panels of a signal no shipped rule uses (scores, budgets, traffic, ...) show data once a user loads
// such a rule: with the shipped rules they are only checked to be valid PromQL (below).
const shippedSignals = new Set([...readFileSync(resolve(__dirname, '../../rules/default.yaml'), 'utf8').matchAll(/^\s+signal: (\w+)/gm)].map((m) => m[1]!));
const expectsData = (q: PanelQuery) => [...q.text.matchAll(/signal="(\w+)"/g)].every((m) => shippedSignals.has(m[1]!));

describe.skipIf(skip.skip)('dashboard PromQL against the demo daemon', () => {
  let daemon: LiveProcess;
  let prom: PrometheusServer;
  let sink: Server;
  let delivered = 0;
  const resolvers = new Map<string, VariableResolver>();

  const labelValues = async (selector: string | undefined, label: string): Promise<string[]> => {
    const qs = selector === undefined ? '' : `?match[]=${encodeURIComponent(selector)}`;
    const until = Date.now() + 30_000;
    for (;;) {
      const res = await fetch(`${prom.url}/api/v1/label/${label}/values${qs}`);
      const body = (await res.json()) as { status: string; data?: string[]; error?: string };
      if (body.status !== 'success') throw new Error(`label_values(${selector ?? ''}, ${label}): ${body.error ?? res.status}`);
      if ((body.data ?? []).length > 0 || Date.now() > until) return body.data ?? [];
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const resolver = (d: Dashboard, overrides: Record<string, string[]> = {}, key = 'defaults'): VariableResolver => {
    const id = `${d.uid}:${key}`;
    let r = resolvers.get(id);
    if (!r) {
      r = new VariableResolver(d, { prometheusLabelValues: labelValues }, overrides);
      resolvers.set(id, r);
    }
    return r;
  };

  beforeAll(async () => {
    // A webhook receiver, so the notification counters exist per receiver as in a real deployment.
    sink = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        delivered++;
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;

    const cwd = mkdtempSync(join(tmpdir(), 'agentdrift-grafana-'));
    cpSync(resolve(__dirname, '../../rules'), join(cwd, 'rules'), { recursive: true });
    // Evaluations every few seconds instead of 5 minutes, so rates and increases over the
    // dashboards' windows have evaluations to count within the test's lifetime.
    const rules = join(cwd, 'rules', 'default.yaml');
    const original = readFileSync(rules, 'utf8');
    const fast = original.replace(/^(\s*)interval: \S+$/gm, '$1interval: 3s');
    expect(fast, 'rules/default.yaml has no group interval to shorten').not.toBe(original);
    writeFileSync(rules, fast);
    writeFileSync(
      join(cwd, 'agentdrift.yaml'),
      JSON.stringify({
        listen: '127.0.0.1:0',
        receivers: [{ name: 'grafana-test-hook', webhook: { url: hook } }],
        route: { receiver: 'grafana-test-hook' },
      }),
    );
    daemon = startCli(pinnedDemoStart(), cwd);
    const serving = await daemon.waitFor((l) => l.includes('serving /alerts, /metrics'), 90_000);
    const address = String(JSON.parse(serving).url).replace('http://', '');
    await daemon.waitFor((l) => l.includes('ToolCallsPerRunUp firing'), 60_000);
    prom = await startPrometheus({ target: address });
    await prom.waitFor('agentdrift_group_evaluations_total', (r) => r.length > 0, 30_000);
    // Every loaded rule has evaluated and exports its series (on a busy machine the first scrape can
    // land between two rules of a group).
    const loaded = (await loadRuleFiles([resolve(__dirname, '../../rules')])).ruleSet!.groups.flatMap((g) => g.rules).length;
    await prom.waitFor('count(count by (rule) (agentdrift_alert_state))', (r) => (r[0]?.value ?? 0) >= loaded, 90_000);
  }, 300_000);

  afterAll(async () => {
    await prom?.stop();
    if (daemon) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await new Promise<void>((r) => (sink ? sink.close(() => r()) : r()));
  });

  it('the dashboards have Prometheus panels', () => {
    expect(queries.length).toBeGreaterThanOrEqual(30);
  });

  it('the template variables resolve from Prometheus', async () => {
    const fleet = dashboards.find((d) => d.uid === 'agentdrift-fleet')!;
    const wf = dashboards.find((d) => d.uid === 'agentdrift-workflow')!;
    const workflows = await resolver(fleet).resolve('workflow_id');
    expect(workflows.values).toEqual(expect.arrayContaining(['invoice_enrichment', 'support_triage', 'refund_processing', 'report_generation']));
    const rules = await resolver(fleet).resolve('rule');
    const longRules = ['CostPerSuccessUp', 'DurationP95Up', 'ErrorRateUp', 'OutputSchemaShift', 'PolicyActivationRateChanged', 'ToolCallsPerRunUp'];
    expect([...rules.values].sort()).toEqual([...longRules, ...longRules.map((r) => `${r}Fast`), 'OutputShapeShareUp'].sort());
    expect((await resolver(wf).resolve('workflow_id')).values).toEqual(['invoice_enrichment']);
    expect((await resolver(wf).resolve('rule')).values).toHaveLength(13);
  });

  // A query "returns data" when it has a sample that is a number: a NaN-only answer (0/0 of an
  // empty rate) would draw nothing.
  const hasData = (r: VectorSample[]) => r.length > 0 && r.some((s) => !Number.isNaN(s.value));

  it('the panels that wait for a user\'s rule are those of signals without a shipped rule', () => {
    expect(shippedSignals).toEqual(new Set(['tool_calls_per_run', 'policy_activation_rate', 'cost_per_success', 'output_schema_shift', 'error_rate', 'duration']));
    expect(new Set(queries.filter((q) => !expectsData(q)).flatMap((q) => [...q.text.matchAll(/signal="(\w+)"/g)].map((m) => m[1])))).toEqual(
      new Set(['tool_error_rate', 'tokens_per_run', 'score', 'metric', 'runs', 'cost']),
    );
  });

  it.each(queries.filter(expectsData).map((q) => [q.where, q] as const))('%s returns data', async (_where, q: PanelQuery) => {
    const expr = await resolver(q.dashboard).interpolate(q.text, 'prometheus', BUILTINS);
    expect(expr, `${q.where}: unexpanded variable in ${expr}`).not.toMatch(/\$/);
    let result: VectorSample[];
    try {
      result = await prom.waitFor(expr, hasData, 45_000);
    } catch (err) {
      throw new Error(`${q.where}: ${expr}\n${(err as Error).message}`);
    }
    expect(hasData(result), `${q.where}: ${expr}`).toBe(true);
  }, 60_000);

  it('every query is valid PromQL with a single workflow and a single rule selected too', async () => {
    const failed: string[] = [];
    for (const q of queries) {
      const r = resolver(q.dashboard, { workflow_id: ['invoice_enrichment'], rule: ['ToolCallsPerRunUp'] }, 'single');
      const expr = await r.interpolate(q.text, 'prometheus', BUILTINS);
      try {
        await prom.query(expr);
      } catch (err) {
        failed.push(`${q.where}: ${(err as Error).message}`);
      }
    }
    expect(failed).toEqual([]);
    // The same selection as above, through the drill-down's own variables: the tool-call drift shows.
    const wf = dashboards.find((d) => d.uid === 'agentdrift-workflow')!;
    const r = resolver(wf, { workflow_id: ['invoice_enrichment'], rule: ['ToolCallsPerRunUp'] }, 'single');
    const dev = await prom.query(await r.interpolate('agentdrift_signal_deviation_ratio{workflow_id="$workflow_id", rule=~"$rule", key="enrich_company"}', 'prometheus'));
    expect(dev[0]!.value).toBeGreaterThan(0.2);
  });

  it('the test receiver got the notifications the counters report', async () => {
    const [sent] = await prom.waitFor('sum(agentdrift_notifications_total{receiver="grafana-test-hook"})', hasData, 30_000);
    expect(delivered).toBeGreaterThanOrEqual(sent!.value);
  });
});
