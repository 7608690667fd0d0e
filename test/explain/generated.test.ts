/**
 * Attribution on generated data whose story is known: a change carried by one existing tenant, one
 * carried by a new agent version rolled out to part of the traffic, and one spread evenly over every
 * value, which must not be pinned on any value (however many runs a value holds). Everything runs
 * through ClickHouse, as in the daemon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSeries } from '../../src/explain/explain.js';
import type { Explanation } from '../../src/explain/types.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { AT, DAY, HOUR, TABLE, resetRuns, rule, run, type AgentRunRow } from '../helpers/runs.js';

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

const TENANTS = [
  ['acme', 0.5],
  ['globex', 0.3],
  ['initech', 0.2],
] as const;

/**
 * 14 days of runs, 12 an hour, before AT. `calls(t, tenant, version)` gives a run's calls of
 * `search`; `version(t, i)` its agent_version. Noise: one run in ten makes one call more.
 */
function generate(calls: (t: number, tenant: string, version: string) => number, version: (t: number, i: number) => string = () => '1.0.0'): AgentRunRow[] {
  let s = 42;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const rows: AgentRunRow[] = [];
  let i = 0;
  for (let t = AT - 14 * DAY; t < AT; t += HOUR / 12) {
    const u = rand();
    const tenant = u < TENANTS[0][1] ? 'acme' : u < TENANTS[0][1] + TENANTS[1][1] ? 'globex' : 'initech';
    const v = version(t, i++);
    const c = calls(t, tenant, v) + (rand() < 0.1 ? 1 : 0);
    rows.push(run({ ts: new Date(t + Math.floor(rand() * 60_000)).toISOString(), tenant_id: tenant, agent_version: v, tool_calls: { search: c, fetch: 1 } }));
  }
  return rows;
}

const toolRule = rule('tool_calls_per_run', { groupBy: ['workflow_id'] });

async function explain(rows: AgentRunRow[]): Promise<Explanation> {
  await resetRuns(store.ch, rows);
  return explainSeries((sql, params) => store.ch.query(sql, params), TABLE, { rule: toolRule, labels: { workflow_id: 'wf', tool: 'search' }, key: 'search', at: AT });
}

describe('attribution on generated data', () => {
  it('a change carried by one existing tenant is pinned on it, not on the biggest tenant', async () => {
    const start = AT - 3 * DAY - 5 * HOUR;
    const e = await explain(generate((t, tenant) => (tenant === 'globex' && t >= start ? 3 : 1)));
    expect(e.attribution.causes.map((c) => `${c.dimension}=${c.value}`)).toEqual(['tenant_id=globex']);
    const globex = e.attribution.causes[0]!;
    expect(globex.explained).toBeGreaterThan(0.9);
    expect(globex.currentShare).toBeCloseTo(0.3, 1);
    // It was there all along: not a value that appeared with the change.
    expect(globex.appeared).toBe(false);
    expect(globex.leadMs).toBeNull();
    expect(Math.abs(e.onset!.at - start)).toBeLessThanOrEqual(2 * HOUR);
    expect(e.moved.parts[0]!.name).toBe('search');
    // The example runs are globex runs after the onset with more calls than the baseline rate.
    const ids = e.examples.map((x) => x.runId);
    expect(ids.length).toBe(5);
    const rows = await store.ch.query<{ tenant_id: string; c: number; ts: number }>(
      `SELECT tenant_id, tool_calls['search'] AS c, toUnixTimestamp64Milli(timestamp) AS ts FROM ${TABLE} WHERE run_id IN {ids:Array(String)}`,
      { ids },
    );
    for (const r of rows) {
      expect(r.tenant_id).toBe('globex');
      expect(Number(r.c)).toBe(3); // the typical carrying run, not the noisy extreme of 4
      expect(Number(r.ts)).toBeGreaterThanOrEqual(e.onset!.at);
    }
  });

  it('a new agent version rolled out to part of the traffic is pinned and flagged as first seen at the onset', async () => {
    const rollout = AT - 4 * DAY + 2 * HOUR;
    const e = await explain(
      generate((_t, _tenant, v) => (v === '2.0.0' ? 2 : 1), (t, i) => (t >= rollout && i % 10 < 4 ? '2.0.0' : '1.0.0')),
    );
    const [cause] = e.attribution.causes;
    expect(cause).toMatchObject({ dimension: 'agent_version', value: '2.0.0', appeared: true });
    expect(cause!.explained).toBeGreaterThan(0.9);
    expect(cause!.leadMs).not.toBeNull();
    expect(Math.abs(cause!.leadMs!)).toBeLessThan(HOUR);
    expect(Math.abs(e.onset!.at - rollout)).toBeLessThanOrEqual(2 * HOUR);
    // Tenants share the change by volume only.
    expect(e.attribution.dimensions.find((d) => d.dimension === 'tenant_id')!.spread).toBe(true);
  });

  it('a change spread evenly over every value is pinned on none', async () => {
    const start = AT - 3 * DAY;
    const e = await explain(generate((t) => (t >= start ? 2 : 1)));
    expect(e.attribution.causes).toEqual([]);
    const tenants = e.attribution.dimensions.find((d) => d.dimension === 'tenant_id')!;
    expect(tenants.spread).toBe(true);
    // acme explains about half the change because it holds half the runs; that alone blames nobody.
    expect(tenants.values[0]!.value).toBe('acme');
    expect(tenants.values[0]!.explained).toBeGreaterThan(0.4);
    expect(tenants.values.reduce((s, v) => s + v.explained, 0)).toBeCloseTo(1, 9);
    // The onset is still found: the change happened, it just has no single cause.
    expect(Math.abs(e.onset!.at - start)).toBeLessThanOrEqual(2 * HOUR);
  });

  it('no change: no onset, and nothing to blame', async () => {
    const e = await explain(generate(() => 1));
    expect(e.onset).toBeNull();
    expect(e.attribution.causes).toEqual([]);
  });
});
