/**
 * Explanations on the pinned demo: each injected drift is explained with its story. The enrichment
 * drift names enrich_company, prompt enrich-v13 as the value explaining most of it, an onset within
 * 2 h of the injected start, and example runs that really have the doubled calls (checked in
 * ClickHouse); the policy drift is pinned on the model switch, the cost drift on the success rate, the
 * schema drift on the new fingerprint. And the daemon's engine carries the explanation into the
 * evidence of firing alerts, computing it once per series rather than on every evaluation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainRule } from '../../src/report/explain.js';
import { driftSchedule } from '../../src/demo/scenario.js';
import { seedDemo } from '../../src/demo/seed.js';
import { StoreSums } from '../../src/signals/sums.js';
import { Engine } from '../../src/engine/engine.js';
import { SeriesExplainer } from '../../src/explain/enrich.js';
import { formatExplanation } from '../../src/explain/format.js';
import { traceLink } from '../../src/explain/traceUrl.js';
import type { Explanation } from '../../src/explain/types.js';
import { silentLogger } from '../../src/log.js';
import { alertFacts } from '../../src/notify/format.js';
import { notificationFor } from '../../src/notify/fromAlerts.js';
import { loadRuleFiles } from '../../src/rules/load.js';
import type { Rule, RuleSet } from '../../src/rules/types.js';
import { qualified } from '../../src/store/schema.js';
import { shiftedClock } from '../../src/util/clock.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { DEMO_END } from '../helpers/demo.js';

const HOUR = 3_600_000;
let store: TempStore;
let rules: RuleSet;
let table: string;
const drifts = driftSchedule(DEMO_END);
const startOf = (signal: string) => drifts.find((d) => d.signal === signal)!.startsAt;

beforeAll(async () => {
  store = await openTempStore();
  await seedDemo(store.ch, store.names, { days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs: DEMO_END });
  const loaded = await loadRuleFiles(['rules']);
  rules = loaded.ruleSet!;
  table = qualified(store.names.database, store.names.agentRuns);
}, 120_000);
afterAll(async () => {
  await store?.ch.close();
});

const ruleNamed = (name: string): Rule => rules.groups.flatMap((g) => g.rules).find((r) => r.alert === name)!;

async function explainOne(name: string, match: Record<string, string>): Promise<Explanation> {
  const found = await explainRule(store.ch, table, ruleNamed(name), match, DEMO_END, { traceUrl: traceLink('https://traces.example.com/trace/{trace_id}?run={run_id}') });
  expect(found).toHaveLength(1);
  return found[0]!;
}

function expectOnsetNear(e: Explanation, injected: number): void {
  expect(e.onset, 'an onset').not.toBeNull();
  expect(Math.abs(e.onset!.at - injected)).toBeLessThanOrEqual(2 * HOUR);
  expect(e.onset!.uncertaintyMs).toBeGreaterThanOrEqual(HOUR);
  expect(e.onset!.uncertaintyMs).toBeLessThanOrEqual(6 * HOUR);
}

describe('explain on the demo', () => {
  it('enrichment drift: enrich_company, prompt enrich-v13, onset within 2 h, runs with the doubled calls', async () => {
    const e = await explainOne('ToolCallsPerRunUp', { workflow_id: 'invoice_enrichment', tool: 'enrich_company' });
    // What moved: enrich_company carries the change in calls per run.
    expect(e.moved.kind).toBe('tool_calls');
    expect(e.moved.parts[0]!.name).toBe('enrich_company');
    expect(e.moved.parts[0]!.share!).toBeGreaterThan(0.9);
    const sum = e.moved.parts.reduce((s, p) => s + p.contribution, 0);
    expect(sum).toBeCloseTo(e.moved.change!, 9);
    // Which change: prompt_version enrich-v13, first seen at the onset.
    const [cause, ...rest] = e.attribution.causes;
    expect(cause).toMatchObject({ dimension: 'prompt_version', value: 'enrich-v13', appeared: true });
    expect(cause!.explained).toBeGreaterThan(0.9);
    expect(rest).toEqual([]);
    expect(cause!.leadMs).not.toBeNull();
    expect(Math.abs(cause!.firstSeen! - startOf('tool_calls_per_run'))).toBeLessThan(HOUR);
    // Tenants share the change by volume: no tenant is blamed.
    expect(e.attribution.dimensions.find((d) => d.dimension === 'tenant_id')!.spread).toBe(true);
    expectOnsetNear(e, startOf('tool_calls_per_run'));
    // Five example runs, each really with the doubled calls, on enrich-v13, after the onset, with links.
    expect(e.examples).toHaveLength(5);
    const rows = await store.ch.query<{ run_id: string; trace_id: string; calls: number; prompt_version: string; ts: number }>(
      `SELECT run_id, trace_id, tool_calls['enrich_company'] AS calls, prompt_version, toUnixTimestamp64Milli(timestamp) AS ts FROM ${table} WHERE run_id IN {ids:Array(String)}`,
      { ids: e.examples.map((x) => x.runId) },
    );
    expect(rows).toHaveLength(5);
    for (const r of rows) {
      expect(Number(r.calls)).toBe(2);
      expect(r.prompt_version).toBe('enrich-v13');
      expect(Number(r.ts)).toBeGreaterThanOrEqual(startOf('tool_calls_per_run'));
      expect(e.examples.find((x) => x.runId === r.run_id)!.traceId).toBe(r.trace_id);
    }
    expect(e.examples[0]!.url).toMatch(/^https:\/\/traces\.example\.com\/trace\/[0-9a-f]{32}\?run=run-/);
    // Not only extremes: runs spread over the days of the drift.
    expect(new Set(e.examples.map((x) => new Date(x.timestamp).toISOString().slice(0, 10))).size).toBeGreaterThan(1);
    const text = formatExplanation(e);
    expect(text).toContain('prompt_version enrich-v13 explains');
    expect(text).toContain('started 2026-11-17 09:00 UTC');
  });

  it('policy drift: pinned on the model switch to gpt-4.1', async () => {
    const e = await explainOne('PolicyActivationRateChanged', { workflow_id: 'support_triage' });
    expect(e.attribution.causes[0]).toMatchObject({ dimension: 'model', value: 'gpt-4.1', appeared: true });
    expect(e.attribution.causes[0]!.explained).toBeGreaterThan(0.9);
    expect(e.moved.kind).toBe('policy_rules');
    expect(e.moved.parts.map((p) => p.name).sort()).toEqual(['no_refund_promise', 'pii_redaction']);
    expect(e.moved.parts.reduce((s, p) => s + p.contribution, 0)).toBeCloseTo(e.moved.change!, 9);
    expectOnsetNear(e, startOf('policy_activation_rate'));
    const rows = await store.ch.query<{ model: string; act: number }>(
      `SELECT model, policy_denials + policy_escalations AS act FROM ${table} WHERE run_id IN {ids:Array(String)}`,
      { ids: e.examples.map((x) => x.runId) },
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.model).toBe('gpt-4.1');
      expect(Number(r.act)).toBeGreaterThan(0);
    }
  });

  it('cost drift: the success-rate part carries it, and no dimension value is blamed', async () => {
    const e = await explainOne('CostPerSuccessUp', { workflow_id: 'refund_processing' });
    expect(e.moved.kind).toBe('cost');
    expect(e.moved.parts[0]!.name).toBe('success rate');
    expect(e.moved.parts[0]!.share!).toBeGreaterThan(0.7);
    // Shapley parts add up to the whole change.
    expect(e.moved.parts.reduce((s, p) => s + p.contribution, 0)).toBeCloseTo(e.moved.change!, 12);
    expect(e.attribution.causes).toEqual([]);
    expectOnsetNear(e, startOf('cost_per_success'));
    const rows = await store.ch.query<{ outcome: string }>(`SELECT outcome FROM ${table} WHERE run_id IN {ids:Array(String)}`, { ids: e.examples.map((x) => x.runId) });
    expect(rows.length).toBe(5);
    for (const r of rows) expect(r.outcome).not.toBe('success');
  });

  it('schema drift: the new fingerprint, pinned on prompt report-v9', async () => {
    const e = await explainOne('OutputSchemaShift', { workflow_id: 'report_generation' });
    expect(e.moved.parts[0]).toMatchObject({ name: 'fp-rep-new-d41e', status: 'new', baseline: 0 });
    expect(e.moved.parts[0]!.share).toBeCloseTo(1, 6);
    expect(e.attribution.causes[0]).toMatchObject({ dimension: 'prompt_version', value: 'report-v9' });
    expectOnsetNear(e, startOf('output_schema_shift'));
    const rows = await store.ch.query<{ fp: string }>(`SELECT output_schema_fingerprint AS fp FROM ${table} WHERE run_id IN {ids:Array(String)}`, { ids: e.examples.map((x) => x.runId) });
    expect(rows.length).toBe(5);
    for (const r of rows) expect(r.fp).toBe('fp-rep-new-d41e');
  });

  it("the engine's explain port: firing alerts carry the explanation; a steady alert is not re-explained every evaluation", async () => {
    const group = rules.groups[0]!;
    let queries = 0;
    const explainer = new SeriesExplainer({ query: (sql, params) => store.ch.query(sql, params), table, logger: silentLogger });
    const engine = new Engine({
      sums: new StoreSums({ query: (sql, params) => store.ch.query(sql, params), table }),
      clock: shiftedClock(DEMO_END),
      logger: silentLogger,
      explain: async (rule, series, at, signal) => {
        queries++;
        return explainer.port(rule, series, at, signal);
      },
    });
    engine.adoptRuleSet({ groups: [group] });
    await engine.evaluateGroup(group, DEMO_END);
    const firing = engine.firing();
    expect(firing.length).toBeGreaterThanOrEqual(5);
    for (const f of firing) {
      expect(f.series.evidence?.explanation, f.series.id).toBeDefined();
      expect(f.series.evidence!.exampleRunIds.length).toBeGreaterThan(0);
    }
    const enrich = firing.find((f) => f.series.labels.tool === 'enrich_company')!;
    expect(enrich.series.evidence!.explanation!.cause).toMatch(/^prompt_version enrich-v13 explains/);
    const facts = alertFacts(notificationFor(enrich.rule, enrich.series, 'http://agentdrift:9464'));
    expect(facts.onset).toMatch(/^started 2026-11-17 09:00 UTC ± 1 h/);
    expect(facts.cause).toContain('enrich-v13');
    expect(facts.examples).toHaveLength(5);
    // Only pending and firing series are explained.
    const computed = explainer.computed;
    expect(computed).toBe(firing.length + [...engine.alertStates.values()].filter((s) => s.record.state === 'pending').length);
    // Five minutes later: the same alerts, served from the cache.
    await engine.evaluateGroup(group, DEMO_END + 5 * 60_000);
    expect(explainer.computed).toBe(computed);
    expect(engine.firing().find((f) => f.series.id === enrich.series.id)!.series.evidence!.explanation!.cause).toContain('enrich-v13');
    expect(queries).toBeGreaterThan(0);
  });
});
