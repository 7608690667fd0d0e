/**
 * Every ClickHouse panel of the shipped dashboards, run on embedded ClickHouse with the demo data:
 * template variables interpolated as Grafana does (ClickHouse variable queries included), the
 * plugin's macros expanded for a fixed time range exactly as grafana-clickhouse-datasource expands
 * them, and each query has to return rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import {
  VariableResolver,
  expandClickHouseMacros,
  loadDashboards,
  panelQueries,
  parseGrafanaInterval,
  type PanelQuery,
  type TimeRange,
} from '../helpers/grafana.js';

const END = Date.parse('2026-11-22T03:00:00Z');
const DAY = 86_400_000;
// The drill-down's default range (now-7d): it holds each injected drift's start.
const RANGE = { fromMs: END - 7 * DAY, toMs: END };
// What Grafana would pick as $__interval for 7 days on a typical panel width when no minimum is set.
const AUTO_INTERVAL_MS = 10 * 60_000;

let store: TempStore;

beforeAll(async () => {
  store = await openTempStore();
  await seedDemo(store.ch, store.names, { days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs: END });
}, 120_000);

afterAll(async () => {
  await store?.ch.close();
});

const dashboards = loadDashboards();
const queries = dashboards.flatMap(panelQueries).filter((q) => q.kind === 'clickhouse');

function rangeFor(q: PanelQuery): TimeRange {
  const min = q.panel.interval ? parseGrafanaInterval(q.panel.interval) : 0;
  return { ...RANGE, intervalMs: Math.max(AUTO_INTERVAL_MS, min) };
}

const resolvers = new Map<string, VariableResolver>();
function resolverFor(q: PanelQuery): VariableResolver {
  let r = resolvers.get(q.dashboard.uid);
  if (!r) {
    r = new VariableResolver(q.dashboard, {
      range: { ...RANGE, intervalMs: AUTO_INTERVAL_MS },
      clickhouseValues: async (sql) => {
        const rows = await store.ch.query<Record<string, unknown>>(sql);
        return rows.map((row) => String(Object.values(row)[0]));
      },
      // Grafana fills the workflow variable from Prometheus; these are the demo's workflows, as
      // agentdrift exports them (every default rule groups by workflow_id).
      prometheusLabelValues: async (_selector, label) => {
        if (label !== 'workflow_id') throw new Error(`no Prometheus here for label_values(${label})`);
        const rows = await store.ch.query<{ w: string }>('SELECT DISTINCT workflow_id AS w FROM agent_runs ORDER BY w');
        return rows.map((x) => x.w);
      },
    });
    resolvers.set(q.dashboard.uid, r);
  }
  return r;
}

async function expand(q: PanelQuery): Promise<string> {
  const sql = expandClickHouseMacros(await resolverFor(q).interpolate(q.text, 'clickhouse'), rangeFor(q));
  expect(sql, `${q.where}: unexpanded variable or macro`).not.toMatch(/\$/);
  return sql;
}

describe('the macro expansion matches the plugin', () => {
  const r: TimeRange = { fromMs: 1415792726_123, toMs: 1447328726_456, intervalMs: 20_000 };
  it('expands every macro to the plugin output', () => {
    expect(expandClickHouseMacros('WHERE $__timeFilter(time)', r)).toBe('WHERE time >= toDateTime(1415792726) AND time <= toDateTime(1447328726)');
    expect(expandClickHouseMacros('$__timeFilter_ms(time)', r)).toBe('time >= fromUnixTimestamp64Milli(1415792726123) AND time <= fromUnixTimestamp64Milli(1447328726456)');
    expect(expandClickHouseMacros('$__dateFilter(d)', r)).toBe("d >= toDate('2014-11-12') AND d <= toDate('2015-11-12')");
    expect(expandClickHouseMacros('$__fromTime, $__toTime, $__fromTime_ms', r)).toBe('toDateTime(1415792726), toDateTime(1447328726), fromUnixTimestamp64Milli(1415792726123)');
    expect(expandClickHouseMacros('$__timeInterval(column)', r)).toBe('toStartOfInterval(toDateTime(column), INTERVAL 20 second)');
    expect(expandClickHouseMacros('$__timeInterval_ms(column)', r)).toBe('toStartOfInterval(toDateTime64(column, 3), INTERVAL 20000 millisecond)');
    expect(expandClickHouseMacros('$__interval_s', r)).toBe('20');
    expect(() => expandClickHouseMacros('$__timeGroup(time)', r)).toThrow(/unknown ClickHouse macro/);
  });
});

describe('ClickHouse panel queries on the demo data', () => {
  it('the dashboards have ClickHouse panels', () => {
    expect(queries.length).toBeGreaterThanOrEqual(6);
  });

  it.each(queries.map((q) => [q.where, q] as const))('%s returns rows', async (_where, q) => {
    const sql = await expand(q);
    let rows: Record<string, unknown>[];
    try {
      rows = await store.ch.query<Record<string, unknown>>(sql);
    } catch (err) {
      throw new Error(`${q.where} failed: ${(err as Error).message}\n${sql}`);
    }
    expect(rows.length, `${q.where} returned no rows:\n${sql}`).toBeGreaterThan(0);
    // Grafana draws a time series only from a `time` column of a date type.
    if (q.target.format === 0) {
      expect(Object.keys(rows[0]!), q.where).toContain('time');
      expect(String(rows[0]!.time), q.where).toMatch(/^\d{4}-\d{2}-\d{2}/);
    }
  });

  it('fingerprint shares add up to one in every bucket', async () => {
    const q = queries.find((x) => x.text.includes('output_schema_fingerprint') && x.target.format === 0)!;
    const rows = await store.ch.query<{ time: string; share: number }>(await expand(q));
    const sums = new Map<string, number>();
    for (const r of rows) sums.set(r.time, (sums.get(r.time) ?? 0) + Number(r.share));
    expect(sums.size).toBeGreaterThan(100);
    for (const s of sums.values()) expect(s).toBeCloseTo(1, 9);
  });

  it('the drill-down shows the injected drift of its default workflow', async () => {
    // invoice_enrichment's enrich_company goes from 1.1 to 2.0 calls per run within the last 7 days.
    const q = queries.find((x) => x.dashboard.uid === 'agentdrift-workflow' && x.text.includes('sumMap(tool_calls)'))!;
    const rows = await store.ch.query<{ time: string; tool: string; calls_per_run: number }>(await expand(q));
    const enrich = rows.filter((r) => r.tool === 'enrich_company').map((r) => Number(r.calls_per_run));
    expect(enrich.length).toBeGreaterThan(100);
    expect(Math.min(...enrich)).toBeLessThan(1.4);
    expect(Math.max(...enrich)).toBeGreaterThan(1.7);
  });

  it('token and tool cost per success add up to the cost per success of the rules', async () => {
    const q = queries.find((x) => x.text.includes('token_cost_per_success'))!;
    const rows = await store.ch.query<{ token_cost_per_success: number | null; tool_cost_per_success: number | null }>(await expand(q));
    const [check] = await store.ch.query<{ cps: number }>(
      `SELECT sum(token_cost_usd + tool_cost_usd) / countIf(outcome = 'success') AS cps FROM agent_runs
       WHERE workflow_id = 'invoice_enrichment' AND environment = 'prod'
         AND timestamp >= toDateTime(${Math.floor(RANGE.fromMs / 1000)}) AND timestamp <= toDateTime(${Math.floor(RANGE.toMs / 1000)})`,
    );
    const parts = rows.filter((r) => r.token_cost_per_success !== null);
    expect(parts.length).toBeGreaterThan(100);
    const mean = parts.reduce((s, r) => s + Number(r.token_cost_per_success) + Number(r.tool_cost_per_success), 0) / parts.length;
    // Bucket ratios are not the window's ratio of sums, but they sit around it.
    expect(mean / Number(check!.cps)).toBeGreaterThan(0.8);
    expect(mean / Number(check!.cps)).toBeLessThan(1.25);
  });

  it('the explanation panels name enrich-v13 as the cause and as new, and their cost parts add up', async () => {
    const panel = (title: RegExp) => queries.find((x) => x.dashboard.uid === 'agentdrift-workflow' && title.test(x.panel.title ?? ''))!;
    const attribution = await store.ch.query<{ dimension: string; value: string; explained_share: number }>(await expand(panel(/^Explain: which change/)));
    expect(attribution[0]).toMatchObject({ dimension: 'prompt_version', value: 'enrich-v13' });
    expect(Number(attribution[0]!.explained_share)).toBeGreaterThan(0.9);
    const appeared = await store.ch.query<{ dimension: string; value: string }>(await expand(panel(/^Explain: what appeared/)));
    expect(appeared.map((r) => `${r.dimension}=${r.value}`)).toContain('prompt_version=enrich-v13');
    const [cost] = await store.ch.query<Record<string, number>>(await expand(panel(/^Explain: what moved \(cost/)));
    const parts = Number(cost!.token_cost_part) + Number(cost!.tool_cost_part) + Number(cost!.success_rate_part);
    expect(parts).toBeCloseTo(Number(cost!.change_per_success), 12);
    expect(Number(cost!.tool_cost_part)).toBeGreaterThan(0.8 * Number(cost!.change_per_success));
    const runs = await store.ch.query<{ prompt_version: string; trace_id: string }>(await expand(panel(/^Explain: runs that show it/)));
    expect(runs.length).toBe(20);
    expect(runs.filter((r) => r.prompt_version === 'enrich-v13').length).toBeGreaterThan(15);
  });

  it('the recent-runs table carries run_id, cost, tool calls, outcome and fingerprint', async () => {
    const q = queries.find((x) => x.target.format === 1 && x.text.includes('run_id') && !x.panel.title.startsWith('Explain'))!;
    const rows = await store.ch.query<Record<string, unknown>>(await expand(q));
    expect(Object.keys(rows[0]!)).toEqual(expect.arrayContaining(['timestamp', 'run_id', 'cost_usd', 'tool_calls_by_tool', 'tool_calls_total', 'outcome', 'fingerprint']));
    expect(rows.length).toBe(200);
  });
});
