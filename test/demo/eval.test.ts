/**
 * End to end on embedded ClickHouse: `demo seed` writes spans through the exporter's table and the
 * view; agent_runs shows the injected drifts; evaluating the shipped default rules fires on each of
 * the four drifts and on nothing in the workflows that never drift.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalOnce, type EvalRow } from '../../src/report/evalOnce.js';
import { STABLE_WORKFLOWS } from '../../src/demo/scenario.js';
import { seedDemo, type SeedResult } from '../../src/demo/seed.js';
import { loadRuleFiles } from '../../src/rules/load.js';
import { qualified } from '../../src/store/schema.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';

const END = Date.parse('2026-11-22T03:00:00Z'); // a Sunday
let store: TempStore;
let seeded: SeedResult;
let rows: EvalRow[];

beforeAll(async () => {
  store = await openTempStore();
  seeded = await seedDemo(store.ch, store.names, { days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs: END });
  const { ruleSet, problems } = await loadRuleFiles(['rules']);
  expect(problems).toEqual([]);
  // As `agentdrift eval` does: firing series are explained, which is where their example runs come from.
  rows = await evalOnce(store.ch, qualified(store.names.database, store.names.agentRuns), ruleSet!, END, null, {});
});
afterAll(async () => {
  await store?.ch.close();
});

const drift = (signal: string) => seeded.plan.drifts.find((d) => d.signal === signal)!;
const q = (sql: string, params: Record<string, unknown> = {}) => store.ch.query<Record<string, number>>(sql, params);

describe('demo seed', () => {
  it('writes every run as a root span and every span becomes an agent_runs row', async () => {
    const [spans] = await q(`SELECT count() AS n, countIf(ParentSpanId = '') AS roots FROM otel_traces`);
    const [runs] = await q(`SELECT count() AS n, countIf(malformed_fields > 0) AS bad, uniqExact(workflow_id) AS wf, uniqExact(tenant_id) AS tenants FROM agent_runs`);
    expect(Number(spans!.n)).toBe(seeded.inserted);
    expect(Number(spans!.roots)).toBe(seeded.inserted);
    expect(Number(runs!.n)).toBe(seeded.inserted);
    expect(seeded.inserted).toBeGreaterThan(150_000);
    expect(Number(runs!.wf)).toBe(9);
    expect(Number(runs!.tenants)).toBe(3);
    // A few malformed spans are part of the demo: kept as rows, counted.
    expect(Number(runs!.bad)).toBeGreaterThan(0);
    expect(Number(runs!.bad)).toBeLessThan(seeded.inserted * 0.002);
  });

  it('is deterministic for a seed and an end time', async () => {
    const again = (await import('../../src/demo/generate.js')).planDemo({ days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs: END });
    expect(again.totalRuns).toBe(seeded.plan.totalRuns);
  });

  it('has a weekday/weekend rhythm', async () => {
    const [r] = await q(`SELECT avgIf(n, toDayOfWeek(d) IN (6, 7)) AS weekend, avgIf(n, toDayOfWeek(d) < 6) AS weekday
      FROM (SELECT toDate(timestamp) AS d, count() AS n FROM agent_runs GROUP BY d)`);
    const ratio = Number(r!.weekend) / Number(r!.weekday);
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(0.5);
  });

  it('(a) enrich_company goes from about 1.1 to 2.0 calls per run on invoice_enrichment, from a Tuesday', async () => {
    const d = drift('tool_calls_per_run');
    expect(new Date(d.startsAt).getUTCDay()).toBe(2);
    const [r] = await q(
      `SELECT avgIf(tool_calls['enrich_company'], timestamp < fromUnixTimestamp64Milli({t:Int64})) AS before,
              avgIf(tool_calls['enrich_company'], timestamp >= fromUnixTimestamp64Milli({t:Int64})) AS after
       FROM agent_runs WHERE workflow_id = 'invoice_enrichment' AND malformed_fields = 0`,
      { t: d.startsAt },
    );
    expect(r!.before).toBeCloseTo(1.1, 1);
    expect(r!.after).toBeCloseTo(2.0, 1);
  });

  it('(b) support_triage denial rate jumps after the model change', async () => {
    const d = drift('policy_activation_rate');
    const [r] = await q(
      `SELECT sumIf(policy_denials, timestamp < fromUnixTimestamp64Milli({t:Int64})) / sumIf(policy_allows + policy_denials + policy_escalations, timestamp < fromUnixTimestamp64Milli({t:Int64})) AS before,
              sumIf(policy_denials, timestamp >= fromUnixTimestamp64Milli({t:Int64})) / sumIf(policy_allows + policy_denials + policy_escalations, timestamp >= fromUnixTimestamp64Milli({t:Int64})) AS after,
              uniqExactIf(model, timestamp >= fromUnixTimestamp64Milli({t:Int64})) AS models_after,
              anyIf(model, timestamp >= fromUnixTimestamp64Milli({t:Int64})) AS model_after
       FROM agent_runs WHERE workflow_id = 'support_triage'`,
      { t: d.startsAt },
    );
    expect(r!.before).toBeCloseTo(0.04, 2);
    expect(r!.after).toBeCloseTo(0.16, 1);
    expect(r!.model_after).toBe('gpt-4.1');
  });

  it('(c) refund_processing success rate falls, so cost per success rises', async () => {
    const d = drift('cost_per_success');
    const [r] = await q(
      `SELECT countIf(outcome = 'success' AND timestamp < fromUnixTimestamp64Milli({t:Int64})) / countIf(timestamp < fromUnixTimestamp64Milli({t:Int64})) AS before,
              countIf(outcome = 'success' AND timestamp >= fromUnixTimestamp64Milli({t:Int64})) / countIf(timestamp >= fromUnixTimestamp64Milli({t:Int64})) AS after
       FROM agent_runs WHERE workflow_id = 'refund_processing'`,
      { t: d.startsAt },
    );
    expect(r!.before).toBeCloseTo(0.93, 1);
    expect(r!.after).toBeCloseTo(0.45, 1);
  });

  it('(d) a new output fingerprint takes a large share of report_generation', async () => {
    const d = drift('output_schema_shift');
    const [r] = await q(
      `SELECT countIf(output_schema_fingerprint = 'fp-rep-new-d41e' AND timestamp < fromUnixTimestamp64Milli({t:Int64})) AS before,
              countIf(output_schema_fingerprint = 'fp-rep-new-d41e' AND timestamp >= fromUnixTimestamp64Milli({t:Int64})) / countIf(timestamp >= fromUnixTimestamp64Milli({t:Int64})) AS share_after
       FROM agent_runs WHERE workflow_id = 'report_generation'`,
      { t: d.startsAt },
    );
    expect(Number(r!.before)).toBe(0);
    expect(r!.share_after).toBeCloseTo(0.45, 1);
  });
});

describe('eval --once on the demo with the default rules', () => {
  const firing = () => rows.filter((r) => r.state === 'firing');

  it('evaluates without errors', () => {
    expect(rows.filter((r) => r.error)).toEqual([]);
    expect(rows.length).toBeGreaterThan(20);
  });

  it.each([
    ['tool_calls_per_run', 'invoice_enrichment', 'enrich_company', 'ToolCallsPerRunUp'],
    ['policy_activation_rate', 'support_triage', '', 'PolicyActivationRateChanged'],
    ['cost_per_success', 'refund_processing', '', 'CostPerSuccessUp'],
    ['output_schema_shift', 'report_generation', '', 'OutputSchemaShift'],
  ])('fires on the injected %s drift of %s, from the 7-day rule and its fast 1-day companion', (signal, workflow, key, rule) => {
    const hit = firing().filter((r) => r.signal === signal && r.labels.workflow_id === workflow && r.key === key);
    expect(hit.map((r) => r.rule).sort()).toEqual([rule, `${rule}Fast`]);
    for (const h of hit) expect(h.example_run_ids.length).toBeGreaterThan(0);
  });

  it('fires on nothing in the workflows that never drift', () => {
    const stable = rows.filter((r) => (STABLE_WORKFLOWS as readonly string[]).includes(r.labels.workflow_id ?? ''));
    expect(stable.length).toBeGreaterThan(8);
    expect(stable.filter((r) => r.state !== 'inactive')).toEqual([]);
  });

  it('fires only on drifted workflows', () => {
    const drifted = new Set(seeded.plan.drifts.map((d) => d.workflowId));
    for (const r of firing()) expect(drifted.has(r.labels.workflow_id!)).toBe(true);
  });
});
