/** End to end: a real Prometheus scrapes the daemon's /metrics and the values come back through PromQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAlertStates } from '../../src/alerting/state.js';
import { applyRuleEvaluation } from '../../src/engine/engine.js';
import type { RuleEvaluation, SeriesEvaluation } from '../../src/engine/types.js';
import { startHttpServer, type HttpServer } from '../../src/http/server.js';
import { silentLogger } from '../../src/log.js';
import { DriftMetrics } from '../../src/metrics/registry.js';
import type { Rule } from '../../src/rules/types.js';
import { prometheusSkip, startPrometheus, type PrometheusServer } from '../helpers/prometheus.js';

const rule: Rule = {
  alert: 'ToolCallsDrift',
  signal: 'tool_calls_per_run',
  where: {},
  groupBy: ['workflow_id'],
  windowMs: 3_600_000,
  baseline: { kind: 'previous', lengthMs: 86_400_000, offsetMs: 0 },
  threshold: 0.2,
  direction: 'both',
  minRuns: 10,
  significance: null,
  forMs: 0,
  options: {},
  labels: { severity: 'page' },
  annotations: {},
  pos: { file: 'rules/test.yaml', line: 1, col: 1 },
};

function series(workflow_id: string, tool: string, deviation: number): SeriesEvaluation {
  return {
    rule: rule.alert,
    signal: rule.signal,
    labels: { workflow_id, tool },
    key: tool,
    current: 1 + deviation,
    baseline: 1,
    deviation,
    isNew: false,
    currentRuns: 50,
    baselineRuns: 500,
    test: null,
    contributors: [],
    exampleRunIds: [],
    pValue: null,
    outcome: { kind: 'ok', active: Math.abs(deviation) >= rule.threshold },
  };
}

const { skip, reason } = prometheusSkip('prometheus');
if (skip) console.warn(`Prometheus scrape test skipped: ${reason}`);

describe.skipIf(skip)(`scraped by a real Prometheus${skip ? ` (skipped: ${reason})` : ''}`, () => {
  let server: HttpServer | undefined;
  let prom: PrometheusServer | undefined;

  beforeAll(async () => {
    const metrics = new DriftMetrics();
    const states = newAlertStates();
    const ev: RuleEvaluation = {
      rule,
      at: Date.parse('2026-11-22T03:00:00Z'),
      windows: [],
      series: [series('checkout', 'search', 0.75), series('billing', 'refund', -0.1)],
      error: null,
      durationMs: 40,
    };
    applyRuleEvaluation(states, rule, ev);
    metrics.readStateFrom({ alertStates: states, rules: new Map([[rule.alert, rule]]) });
    metrics.recordRuleEvaluation(rule);
    metrics.recordGroupEvaluation('agents', ev.durationMs, true, ev.at);
    server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics, readiness: async () => ({ ready: true, checks: {} }), logger: silentLogger });
    prom = await startPrometheus({ target: `127.0.0.1:${server.address.port}` });
  });

  afterAll(async () => {
    // Prometheus first, so it does not log failed scrapes of a closed server while stopping.
    await prom?.stop();
    await server?.close();
  });

  it('reads agentdrift_signal_deviation_ratio back through PromQL with its labels', async () => {
    const result = await prom!.waitFor('agentdrift_signal_deviation_ratio', (r) => r.length === 2, 30_000);
    const byWorkflow = Object.fromEntries(result.map((s) => [s.metric.workflow_id, s]));
    expect(byWorkflow.checkout?.value).toBe(0.75);
    expect(byWorkflow.billing?.value).toBe(-0.1);
    expect(byWorkflow.checkout?.metric).toMatchObject({
      __name__: 'agentdrift_signal_deviation_ratio',
      job: 'agentdrift',
      rule: 'ToolCallsDrift',
      signal: 'tool_calls_per_run',
      key: 'search',
      severity: 'page',
    });
    // Prometheus drops empty labels: a rule that does not group by a column has no such label there.
    expect(byWorkflow.checkout?.metric).not.toHaveProperty('agent_id');

    const firing = await prom!.query('agentdrift_alert_state{alertstate="firing"} == 1');
    expect(firing.map((s) => s.metric.workflow_id)).toEqual(['checkout']);
    const up = await prom!.query('up{job="agentdrift"}');
    expect(up.map((s) => s.value)).toEqual([1]);
  });
});
