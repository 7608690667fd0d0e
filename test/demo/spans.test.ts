/**
 * `demo seed --spans` end to end: the demo written as plain OpenTelemetry GenAI traces (HTTP root,
 * invoke_agent, chat and execute_tool spans; no run summary anywhere), rolled up into agent_runs by
 * the span rollup, and evaluated with the shipped default rules: the same alerts fire as from the
 * summary form (the README's table), and nothing else.
 *
 * 3000 runs a day instead of the demo's 6000: the span form writes several spans per run and rolls
 * them up, many times the work of the summary form (the rollup's last measured cost is in
 * bench/results/README.md), and half the runs still give every drift and every stable workflow far
 * more than min_runs in both windows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evalOnce, type EvalRow } from '../../src/report/evalOnce.js';
import { seedDemo, type SeedResult } from '../../src/demo/seed.js';
import { loadRuleFiles } from '../../src/rules/load.js';
import { qualified } from '../../src/store/schema.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { alertId, DEMO_END, readmeDemoAlerts } from '../helpers/demo.js';

const RUNS_PER_DAY = 3000;
let store: TempStore;
let seeded: SeedResult;
let rows: EvalRow[];

beforeAll(async () => {
  store = await openTempStore();
  seeded = await seedDemo(store.ch, store.names, { days: 28, runsPerDay: RUNS_PER_DAY, seed: 'agentdrift', endMs: DEMO_END, form: 'spans' });
  const { ruleSet, problems } = await loadRuleFiles(['rules']);
  expect(problems).toEqual([]);
  rows = await evalOnce(store.ch, qualified(store.names.database, store.names.agentRuns), ruleSet!, DEMO_END);
}, 300_000);

afterAll(async () => {
  await store?.ch.close();
});

const q = (sql: string) => store.ch.query<Record<string, number | string>>(sql);

describe('demo seed --spans', () => {
  it('writes traces without any run summary, and the rollup turns each run into one row', async () => {
    const [spans] = await q(
      `SELECT count() AS n, countIf(arrayExists(k -> startsWith(k, 'agent.run.'), mapKeys(SpanAttributes))) AS summaries,
              countIf(SpanAttributes['gen_ai.operation.name'] = 'invoke_agent') AS agents, countIf(ParentSpanId = '') AS roots
       FROM otel_traces`,
    );
    expect(Number(spans!.n)).toBe(seeded.spans);
    expect(Number(spans!.summaries)).toBe(0);
    expect(Number(spans!.agents)).toBe(seeded.inserted);
    expect(Number(spans!.roots)).toBe(seeded.inserted); // the HTTP server spans
    expect(seeded.spans / seeded.inserted).toBeGreaterThan(5);

    const [runs] = await q(`SELECT count() AS n, uniqExact(run_id) AS ids, uniqExact(workflow_id) AS wf, countIf(malformed_fields > 0) AS bad FROM agent_runs`);
    expect(Number(runs!.n)).toBe(seeded.inserted);
    expect(Number(runs!.ids)).toBe(seeded.inserted);
    expect(Number(runs!.wf)).toBe(9);
    const c = seeded.rollup!.counters;
    expect(c).toMatchObject({
      spans: seeded.spans,
      runs: seeded.inserted,
      runs_written: seeded.inserted,
      runs_already_present: 0,
      runs_summarized: 0,
      spans_outside_runs: seeded.inserted,
      spans_without_run: 0,
      nested_agents: 0,
      unpriced_model_calls: 0,
    });
    // The demo's unreadable attributes (one in about 2000 runs) are kept and counted.
    expect(Number(runs!.bad)).toBe(c.malformed_runs);
    expect(c.malformed_runs).toBeGreaterThan(0);
    expect(c.malformed_runs).toBeLessThan(seeded.inserted * 0.002);
  });

  it('prices the model spans from the demo price table', async () => {
    // invoice_enrichment on gpt-4.1-mini at $0.4 / $1.6 per million tokens, as the summary form charges it.
    const [r] = await q(
      `SELECT sum(token_cost_usd) AS cost, sum(input_tokens * 0.4 + output_tokens * 1.6) / 1e6 AS expected
       FROM agent_runs WHERE workflow_id = 'invoice_enrichment' AND malformed_fields = 0`,
    );
    expect(Number(r!.cost)).toBeGreaterThan(0);
    expect(Number(r!.cost)).toBeCloseTo(Number(r!.expected), 6);
  });
});

describe('the default rules on the span form', () => {
  it('carries evaluation events, a custom dimension and a custom metric through to agent_runs and the aggregates', async () => {
    const [events] = await q(
      `SELECT countIf(has(Events.Name, 'gen_ai.evaluation.result')) AS evaluated, sum(arraySum(arrayMap(a -> toFloat64OrZero(a['gen_ai.evaluation.score.value']), Events.Attributes))) AS total
       FROM otel_traces`,
    );
    const [runs] = await q(
      `SELECT countIf(mapContains(scores, 'helpfulness')) AS scored, sum(scores['helpfulness']) AS total,
              countIf(attributes['customer_tier'] IN ('enterprise', 'pro', 'free')) AS tiers,
              countIf(metrics['steps'] >= 2) AS steps, count() AS n
       FROM agent_runs`,
    );
    // The judge scores about 30% of the runs (JUDGED_SHARE), each once.
    expect(Number(runs!.scored)).toBe(Number(events!.evaluated));
    expect(Number(runs!.scored) / Number(runs!.n)).toBeGreaterThan(0.25);
    expect(Number(runs!.scored) / Number(runs!.n)).toBeLessThan(0.35);
    expect(Number(runs!.total)).toBeCloseTo(Number(events!.total), 6);
    expect(Number(runs!.tiers)).toBe(Number(runs!.n));
    expect(Number(runs!.steps)).toBe(Number(runs!.n));
    const [agg] = await q(`SELECT sum(value) AS total, sum(value_x_total) AS scored FROM agent_runs_agg_1d_keyed WHERE key_kind = 'score' AND key = 'helpfulness'`);
    expect(Number(agg!.scored)).toBe(Number(runs!.scored));
    expect(Number(agg!.total)).toBeCloseTo(Number(runs!.total), 6);
  });

  it('evaluate without errors', () => {
    expect(rows.filter((r) => r.error)).toEqual([]);
  });

  it('fire exactly the README table, as on the summary form', () => {
    const firing = rows.filter((r) => r.state === 'firing').map((r) => alertId({ alert: r.rule, workflowId: r.labels.workflow_id ?? '', key: r.key }));
    expect(firing.sort()).toEqual(readmeDemoAlerts().map(alertId).sort());
  });
});
