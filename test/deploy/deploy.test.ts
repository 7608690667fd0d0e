/**
 * The Prometheus and Alertmanager files that docker-compose.yml mounts, checked by the tools that
 * ship with them: promtool (config, rules, rule unit tests) and amtool (config, routing). Without
 * the Debian packages the tool checks are skipped with a reason, except in CI, where they fail.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DriftMetrics } from '../../src/metrics/registry.js';
import { isExecutable } from '../helpers/process.js';
import { prometheusSkip, promtoolBinary } from '../helpers/prometheus.js';

const ROOT = resolve(__dirname, '../..');
const deploy = (f: string) => resolve(ROOT, 'deploy', f);

function amtoolBinary(): string | undefined {
  const p = process.env.AGENTDRIFT_TEST_AMTOOL ?? '/usr/bin/amtool';
  return isExecutable(p) ? p : undefined;
}

function run(bin: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const promtoolSkip = prometheusSkip('promtool');
if (promtoolSkip.skip) console.warn(`skipping promtool checks of deploy/: ${promtoolSkip.reason}`);
const amtool = amtoolBinary();
const amtoolSkip = !amtool && !process.env.CI;
if (amtoolSkip) console.warn('skipping amtool checks of deploy/: amtool is not installed (apt-get install prometheus-alertmanager, as .ci/run does)');

describe.skipIf(promtoolSkip.skip)('promtool', () => {
  const promtool = () => {
    const bin = promtoolBinary();
    if (!bin) throw new Error(promtoolSkip.reason);
    return bin;
  };

  it('check config accepts deploy/prometheus.yml and finds its rule file', () => {
    const r = run(promtool(), ['check', 'config', deploy('prometheus.yml')]);
    expect(r.output).toContain('SUCCESS');
    expect(r.output).toContain('agentdrift-alerts.yml');
    expect(r.status, r.output).toBe(0);
  });

  it('check rules accepts deploy/agentdrift-alerts.yml', () => {
    const r = run(promtool(), ['check', 'rules', deploy('agentdrift-alerts.yml')]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('test rules passes deploy/agentdrift-alerts.test.yml', () => {
    const r = run(promtool(), ['test', 'rules', deploy('agentdrift-alerts.test.yml')]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });
});

describe.skipIf(amtoolSkip)('amtool', () => {
  const bin = () => {
    if (!amtool) throw new Error('amtool is not installed (apt-get install prometheus-alertmanager, as .ci/run does)');
    return amtool;
  };

  it('check-config accepts deploy/alertmanager.yml', () => {
    const r = run(bin(), ['check-config', deploy('alertmanager.yml')]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('SUCCESS');
  });

  it.each([
    ['a drift alert from agentdrift', ['alertname=ToolCallsPerRunUp', 'workflow_id=invoice_enrichment', 'severity=warning'], 'agent-owners'],
    ["agentdrift's own health alert", ['alertname=AgentdriftNoRecentSuccessfulEvaluation', 'severity=critical'], 'agentdrift-operators'],
  ])('routes %s to its receiver', (_what, labels, receiver) => {
    const r = run(bin(), ['config', 'routes', 'test', `--config.file=${deploy('alertmanager.yml')}`, `--verify.receivers=${receiver}`, ...labels]);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain(receiver);
  });
});

describe('alert rules on agentdrift itself', () => {
  interface AlertRule {
    alert: string;
    expr: string;
    labels?: Record<string, string>;
  }
  interface RuleTest {
    alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
  }
  const rules = (parse(readFileSync(deploy('agentdrift-alerts.yml'), 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);
  const unitTests = (parse(readFileSync(deploy('agentdrift-alerts.test.yml'), 'utf8')) as { rule_files: string[]; tests: RuleTest[] });
  let exported: Set<string>;

  beforeAll(async () => {
    exported = new Set((await new DriftMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
  });

  it('cover failing evaluations, stale successes, failing notifications and ClickHouse', () => {
    const names = rules.map((r) => r.alert);
    expect(names).toEqual(
      expect.arrayContaining(['AgentdriftEvaluationsFailing', 'AgentdriftNoRecentSuccessfulEvaluation', 'AgentdriftNotificationsFailing', 'AgentdriftClickHouseDown']),
    );
    expect(rules.find((r) => r.alert === 'AgentdriftEvaluationsFailing')!.expr).toContain('rate(agentdrift_group_evaluation_failures_total');
    expect(rules.find((r) => r.alert === 'AgentdriftNoRecentSuccessfulEvaluation')!.expr).toMatch(/time\(\) - agentdrift_group_last_success_timestamp_seconds > \d+/);
    for (const r of rules) expect(['warning', 'critical'], r.alert).toContain(r.labels?.severity);
  });

  it('read only metrics the daemon exports (and up)', () => {
    for (const r of rules) {
      for (const m of r.expr.matchAll(/\b(agentdrift_[a-z0-9_]+)/g)) expect(exported.has(m[1]!), `${r.alert}: ${m[1]}`).toBe(true);
    }
  });

  it('each have a unit test where they fire and one where they stay quiet', () => {
    expect(unitTests.rule_files).toEqual(['agentdrift-alerts.yml']);
    const cases = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const r of rules) {
      const mine = cases.filter((c) => c.alertname === r.alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${r.alert} never expected to fire`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${r.alert} never expected to stay quiet`).toBe(true);
    }
  });
});
