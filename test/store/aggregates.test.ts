/**
 * The aggregate tables never change a result: every signal, read through the aggregates (whole hours,
 * whole 5-minute buckets, raw edges) and read from agent_runs alone, gives the same numbers at
 * evaluation times on and off the bucket grid, for rules the aggregates cover and rules they do not.
 * Also: the backfill of runs that predate the tables, readiness, rebuilds on a dimension change, and
 * `status`'s report of their size and lag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { backtest } from '../../src/engine/backtest.js';
import { Engine } from '../../src/engine/engine.js';
import { evaluateRule } from '../../src/engine/evaluate.js';
import { silentLogger } from '../../src/log.js';
import { ManualClock } from '../../src/util/clock.js';
import type { Rule, RuleGroup } from '../../src/rules/types.js';
import { coverWindows, type Interval } from '../../src/signals/cover.js';
import { SIGNAL_IMPLS, StoreSums, windowsFor, type AggregateSource } from '../../src/signals/index.js';
import { evaluationWindows, isRobust } from '../../src/signals/windows.js';
import { keyKindsOf, unionOfKeyKinds } from '../../src/signals/keyKinds.js';
import type { SumsPort } from '../../src/signals/sums.js';
import type { BuiltQuery } from '../../src/signals/sql.js';
import type { WindowBounds } from '../../src/signals/types.js';
import { aggregateObjects, AGGREGATE_KINDS, AGGREGATE_SPECS, TIERS, type AggregateKind } from '../../src/store/aggregates.js';
import { aggregatesStatus, findAggregates } from '../../src/store/aggregatesMigrate.js';
import { aggregateQuery, signalQueries, TOP_FINGERPRINTS } from '../../src/signals/aggregateQuery.js';
import { batchedSignalQueries, flattenSteps, splitSteps } from '../../src/signals/batch.js';
import { migrate } from '../../src/store/migrate.js';
import { explainSeries } from '../../src/explain/explain.js';
import { createRandom } from '../../src/demo/random.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { DAY, HOUR, rule, run, type AgentRunRow } from '../helpers/runs.js';

const MIN = 60_000;
const END = Date.parse('2026-03-15T00:00:00Z');

describe('coverWindows', () => {
  const total = (xs: readonly Interval[]) => xs.reduce((s, x) => s + x.endMs - x.startMs, 0);
  const cases: { name: string; windows: WindowBounds[]; hours: number; fives: number; raw: number }[] = [
    { name: 'aligned to the hour', windows: [{ index: 0, startMs: END - DAY, endMs: END }], hours: 1, fives: 0, raw: 0 },
    { name: 'off the grid: hours inside, 5-minute stretches and raw edges', windows: [{ index: 0, startMs: END - DAY + 7 * MIN + 13_000, endMs: END + 22 * MIN + 5 }], hours: 1, fives: 2, raw: 2 },
    { name: 'shorter than an hour', windows: [{ index: 0, startMs: END + 3 * MIN, endMs: END + 41 * MIN }], hours: 0, fives: 1, raw: 2 },
    { name: 'shorter than 5 minutes', windows: [{ index: 0, startMs: END + 61_000, endMs: END + 4 * MIN }], hours: 0, fives: 0, raw: 1 },
  ];
  it.each(cases)('$name', ({ windows, hours, fives, raw }) => {
    const c = coverWindows(windows, [HOUR, 5 * MIN]);
    expect([c.tiers[0]!.length, c.tiers[1]!.length, c.raw.length]).toEqual([hours, fives, raw]);
    // The pieces are the window exactly: disjoint, inside it, summing to its length.
    const all = [...c.tiers.flat(), ...c.raw].sort((a, b) => a.startMs - b.startMs);
    expect(total(all)).toBe(windows[0]!.endMs - windows[0]!.startMs);
    expect(all[0]!.startMs).toBe(windows[0]!.startMs);
    expect(all[all.length - 1]!.endMs).toBe(windows[0]!.endMs);
    for (let i = 1; i < all.length; i++) expect(all[i]!.startMs).toBe(all[i - 1]!.endMs);
    for (const p of c.tiers[0]!) expect([p.startMs % HOUR, p.endMs % HOUR]).toEqual([0, 0]);
    for (const p of c.tiers[1]!) expect([p.startMs % (5 * MIN), p.endMs % (5 * MIN)]).toEqual([0, 0]);
  });
  it('three tiers: whole days in the middle, hours and 5-minute buckets at the ragged ends, raw under 5 minutes', () => {
    const w: WindowBounds[] = [{ index: 0, startMs: END - 7 * DAY + 3 * HOUR + 17 * MIN + 42_000, endMs: END + 3 * HOUR + 17 * MIN + 42_000 }];
    const c = coverWindows(w, [DAY, HOUR, 5 * MIN]);
    // 6 whole days; 20 h before them and 3 h after; 5-minute stretches and raw pieces at both ends.
    expect(c.tiers[0]).toEqual([{ window: 0, startMs: END - 6 * DAY, endMs: END }]);
    expect(c.tiers[1]!.map((p) => (p.endMs - p.startMs) / HOUR)).toEqual([20, 3]);
    expect(c.tiers[2]!.map((p) => (p.endMs - p.startMs) / MIN)).toEqual([40, 15]);
    expect(c.raw.map((p) => p.endMs - p.startMs)).toEqual([138_000, 162_000]);
  });
  it('without tiers everything is raw', () => {
    const w = windowsFor(7 * DAY, { kind: 'seasonal', weeks: 3 }, END + 17 * MIN);
    const c = coverWindows(w, []);
    expect(c.raw).toHaveLength(4);
  });
});

/** Runs over 5 weeks before END with timestamps at any millisecond, many values per dimension. */
function generatedRuns(n: number, seed: string): AgentRunRow[] {
  const random = createRandom(seed);
  const rnd = () => random.next();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const tools = ['search', 'enrich', 'fetch', 'write', 'lookup'];
  const out: AgentRunRow[] = [];
  for (let i = 0; i < n; i++) {
    const ts = END + 3 * HOUR - Math.floor(rnd() * 36 * DAY);
    const calls: Record<string, number> = {};
    for (const t of tools) if (rnd() < 0.5) calls[t] = 1 + Math.floor(rnd() * (t === 'enrich' && ts > END - 3 * DAY ? 6 : 3));
    const allows = Math.floor(rnd() * 5);
    const denials = rnd() < 0.3 ? Math.floor(rnd() * 3) : 0;
    const escalations = rnd() < 0.1 ? 1 : 0;
    out.push(
      run({
        ts: new Date(ts).toISOString(),
        workflow_id: pick(['wf_a', 'wf_b', 'wf_c']),
        agent_id: pick(['agent_1', 'agent_2']),
        environment: pick(['prod', 'prod', 'staging']),
        service_name: pick(['svc_x', 'svc_y']),
        tenant_id: pick(['t1', 't2', 't3']),
        model: pick(['m1', 'm2']),
        outcome: pick(['success', 'success', 'success', 'failure', 'error']),
        token_cost_usd: Math.round(rnd() * 1e6) / 1e7,
        tool_cost_usd: rnd() < 0.5 ? 0 : Math.round(rnd() * 1e5) / 1e6,
        tool_calls: calls,
        policy_allows: allows,
        policy_denials: denials,
        policy_escalations: escalations,
        denied_rules: denials + escalations > 0 ? Array.from({ length: denials + escalations }, () => pick(['no_pii', 'spend_cap', 'rate'])) : [],
        output_schema_fingerprint: ts > END - 2 * DAY && rnd() < 0.2 ? 'fp_new' : pick(['fp_1', 'fp_2', 'fp_3']),
        duration_ms: Math.round(Math.exp(6 + 1.5 * rnd()) * 1000) / 1000,
        input_tokens: Math.floor(rnd() * 5000),
        output_tokens: Math.floor(rnd() * 800),
        tool_errors: calls.fetch !== undefined && rnd() < 0.3 ? { fetch: 1 } : {},
        scores: rnd() < 0.3 ? { judge: Math.round(rnd() * 100) / 100 } : {},
        // Not on every run: runs with no sparse key at all are left out of the sparse view before it explodes.
        metrics: rnd() < 0.7 ? { m: Math.round(rnd() * 1000) / 10 } : {},
        attributes: { tier: pick(['gold', 'free']), ...(rnd() < 0.8 ? { region: pick(['eu', 'us']) } : {}) },
      }),
    );
  }
  return out;
}

/** Rows keyed by everything but the measures: measure name -> number. */
function keyed(kind: AggregateKind, rows: readonly Record<string, unknown>[]): Map<string, Map<string, number>> {
  const measures = AGGREGATE_SPECS[kind].measures.map((m) => m.name);
  return new Map(
    rows.map((r) => [
      JSON.stringify(Object.entries(r).filter(([k]) => !measures.includes(k)).sort()),
      new Map(measures.map((m) => [m, Number(r[m])])),
    ]),
  );
}

function expectSameNumbers(a: Map<string, Map<string, number>>, b: Map<string, Map<string, number>>, what: string): void {
  expect([...a.keys()].sort(), what).toEqual([...b.keys()].sort());
  for (const [k, xs] of a) {
    const ys = b.get(k)!;
    expect([...xs.keys()].sort(), `${what} ${k}`).toEqual([...ys.keys()].sort());
    for (const [m, x] of xs) {
      const y = ys.get(m)!;
      expect(Math.abs(x - y), `${what} ${k} ${m}: ${x} vs ${y}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x)));
    }
  }
}

let store: TempStore;
let source: AggregateSource;
const TABLE = 'agent_runs';
const RUNS = generatedRuns(40_000, 'aggregates');

beforeAll(async () => {
  store = await openTempStore();
  // Half the runs before the tables exist (the backfill's), half after (the views').
  await migrate(store.ch, store.names, { aggregates: { enabled: false, dimensions: [] } });
  await store.ch.insert(TABLE, RUNS.slice(0, 20_000));
  const steps = await migrate(store.ch, store.names, { aggregates: { enabled: true, dimensions: DIMENSIONS } });
  expect(steps.filter((s) => s.object.includes('_agg_')).every((s) => s.action !== 'exists')).toBe(true);
  await store.ch.insert(TABLE, RUNS.slice(20_000));
  source = (await findAggregates(store.ch, store.names, { enabled: true, dimensions: DIMENSIONS }))!;
  expect(source).not.toBeNull();
}, 240_000);
afterAll(async () => {
  await store?.ch.close();
});

const ch = (): ClickHouse => store.ch;
const query = (sql: string, params: Record<string, unknown>) => ch().query(sql, params);

const RULES: { name: string; over: Partial<Rule> }[] = [
  { name: '7d vs previous 7d, where environment, by workflow', over: { where: { environment: 'prod' }, groupBy: ['workflow_id'] } },
  { name: '1d vs 3 seasonal weeks, glob where, by agent and service', over: { windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 }, where: { workflow_id: 'wf_*' }, groupBy: ['agent_id', 'service_name'] } },
  { name: '90 minutes vs previous 6h offset 1h, no filter', over: { windowMs: 90 * MIN, baseline: { kind: 'previous', lengthMs: 6 * HOUR, offsetMs: HOUR } } },
  { name: '4 minutes vs previous 4 minutes (raw only)', over: { windowMs: 4 * MIN, baseline: { kind: 'previous', lengthMs: 4 * MIN, offsetMs: 0 } } },
  { name: 'overlapping seasonal windows: 10d vs 2 weeks back', over: { windowMs: 10 * DAY, baseline: { kind: 'seasonal', weeks: 2 }, groupBy: ['environment'] } },
  { name: 'not covered: group_by tenant_id reads agent_runs', over: { groupBy: ['tenant_id'], where: { model: 'm1' } } },
  { name: 'a pre-aggregated attribute: by attributes.tier', over: { groupBy: ['attributes.tier'], where: { workflow_id: 'wf_a' } } },
  { name: 'not covered: an ad-hoc attribute, by attributes.region reads agent_runs', over: { groupBy: ['attributes.region'], where: { 'attributes.tier': 'gold' } } },
];

/** The aggregates' dimensions here: the defaults and one attribute key. */
const DIMENSIONS = ['workflow_id', 'agent_id', 'environment', 'service_name', 'attributes.tier'] as const;
const TIMES = [END, END + 17 * MIN + 123, END - 2 * DAY + 5 * MIN, END - 3 * DAY - 59 * MIN - 59_999];

describe('the aggregates never change a result', () => {
  for (const r of RULES) {
    it(`every sum, every time: ${r.name}`, async () => {
      const rl = rule('tool_calls_per_run', r.over);
      for (const at of TIMES) {
        const windows = windowsFor(rl.windowMs, rl.baseline, at);
        for (const kind of AGGREGATE_KINDS) {
          const viaAggregates = aggregateQuery(kind, rl, TABLE, windows, source);
          const raw = aggregateQuery(kind, rl, TABLE, windows, null);
          if (r.name.startsWith('not covered')) expect(viaAggregates.sql).toBe(raw.sql);
          else if (rl.windowMs >= HOUR) expect(viaAggregates.sql).not.toBe(raw.sql);
          const [a, b] = await Promise.all([query(viaAggregates.sql, viaAggregates.params), query(raw.sql, raw.params)]);
          expect(a.length, `${kind} at ${new Date(at).toISOString()}`).toBeGreaterThan(0);
          expectSameNumbers(keyed(kind, a), keyed(kind, b), `${kind} at ${new Date(at).toISOString()}`);
        }
      }
    });
  }

  it.each(Object.keys(SIGNAL_IMPLS) as (keyof typeof SIGNAL_IMPLS)[])('%s: the same measurements and verdicts', async (signal) => {
    for (const r of RULES) {
      const options = signal === 'score' ? { score: 'judge' } : signal === 'metric' ? { metric: 'm' } : signal === 'duration' ? { stat: 'p95' as const } : {};
      const rl = rule(signal, { ...r.over, significance: 0.05, threshold: 0.1, direction: 'both', options });
      for (const at of TIMES) {
        const [a, b] = await Promise.all([
          evaluateRule(new StoreSums({ query, table: TABLE, aggregates: () => source }).reader(), rl, at),
          evaluateRule(new StoreSums({ query, table: TABLE }).reader(), rl, at),
        ]);
        expect(a.error).toBeNull();
        expect(a.series.length).toBe(b.series.length);
        const byLabels = new Map(b.series.map((s) => [JSON.stringify(s.labels), s]));
        for (const s of a.series) {
          const t = byLabels.get(JSON.stringify(s.labels))!;
          expect(t, JSON.stringify(s.labels)).toBeDefined();
          expect(s.outcome).toEqual(t.outcome);
          for (const [x, y] of [[s.current, t.current], [s.baseline, t.baseline], [s.test?.pValue ?? null, t.test?.pValue ?? null]] as const) {
            if (x === null || y === null) expect(x).toBe(y);
            else expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(x)));
          }
          expect([s.currentRuns, s.baselineRuns]).toEqual([t.currentRuns, t.baselineRuns]);
        }
      }
    }
  });
});

/** Equal values, numbers within 1e-9 relative, anywhere in a JSON-like value. */
function expectClose(a: unknown, b: unknown, path: string): void {
  if (typeof a === 'number' && typeof b === 'number') {
    expect(Math.abs(a - b), `${path}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(a)));
  } else if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length, path).toBe(b.length);
    a.forEach((x, i) => expectClose(x, b[i], `${path}[${i}]`));
  } else if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(b).sort());
    for (const [k, v] of Object.entries(a)) expectClose(v, (b as Record<string, unknown>)[k], `${path}.${k}`);
  } else expect(a, path).toEqual(b);
}

describe('an explanation reads what moved from the aggregates', () => {
  it.each([
    ['tool_calls_per_run', 'tool', 'search'],
    ['output_schema_shift', 'fingerprint', ''],
    ['policy_activation_rate', 'denied_rule', ''],
    ['cost_per_success', null, ''],
  ] as const)('%s: the same parts as from agent_runs, with no query of agent_runs for them', async (signal, keyKind, key) => {
    for (const r of RULES.filter((x) => !x.name.startsWith('4 minutes'))) {
      const rl = rule(signal, r.over);
      const at = TIMES[1]!;
      const ev = await evaluateRule(new StoreSums({ query, table: TABLE, aggregates: () => source }).reader(), rl, at);
      const s = ev.series.find((x) => x.outcome.kind === 'ok') ?? ev.series[0]!;
      const seen: string[] = [];
      const spy = (sql: string, params: Record<string, unknown>) => {
        seen.push(sql);
        return query(sql, params);
      };
      const target = { rule: rl, labels: s.labels, key: s.key || key, at };
      const [a, b] = await Promise.all([explainSeries(spy, TABLE, target, { aggregates: () => source }), explainSeries(query, TABLE, target)]);
      expect(a.moved.parts.map((p) => p.name), r.name).toEqual(b.moved.parts.map((p) => p.name));
      for (const [x, y] of a.moved.parts.map((p, i) => [p, b.moved.parts[i]!] as const)) {
        for (const f of ['baseline', 'current', 'contribution'] as const) {
          const [u, v] = [x[f] as number | null, y[f] as number | null];
          if (u === null || v === null) expect(u, `${r.name} ${x.name} ${f}`).toBe(v);
          else expect(Math.abs(u - v), `${r.name} ${x.name} ${f}: ${u} vs ${v}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(u)));
        }
      }
      for (const f of ['baseline', 'current', 'change'] as const) {
        const [u, v] = [a.moved[f], b.moved[f]];
        if (u === null || v === null) expect(u, `${r.name} ${f}`).toBe(v);
        else expect(Math.abs(u - v), `${r.name} ${f}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(u)));
      }
      const covered = !r.name.startsWith('not covered');
      const movedQueries = seen.filter((q) => q.includes('AS successes') || q.includes('key_kind'));
      expect(movedQueries.length, r.name).toBe(keyKind === null ? 1 : 2);
      if (covered) for (const q of movedQueries) expect(q, r.name).toContain('_agg_');
    }
  });
});

describe('key kinds: a keyed query asks only for what its rules read', () => {
  /** The sums with every key kind, as before keyed queries were narrowed. */
  const everyKind: SumsPort = {
    reader: () => ({
      sumsFor: async (r, _at, windows) => {
        const q = signalQueries(r, TABLE, windows, source);
        return { totals: await query(q.totals.sql, q.totals.params), keyed: await query(q.keyed.sql, q.keyed.params) };
      },
    }),
  };
  it.each(Object.keys(SIGNAL_IMPLS) as (keyof typeof SIGNAL_IMPLS)[])('%s: the same measurements as with every kind', async (signal) => {
    const stats = signal === 'duration' ? (['mean', 'p95'] as const) : ([undefined] as const);
    for (const stat of stats) {
      const options = signal === 'score' ? { score: 'judge' } : signal === 'metric' ? { metric: 'm' } : stat ? { stat } : {};
      const rl = rule(signal, { where: { environment: 'prod' }, groupBy: ['workflow_id'], significance: 0.05, threshold: 0.1, direction: 'both', options });
      const at = TIMES[1]!;
      const [a, b] = await Promise.all([evaluateRule(new StoreSums({ query, table: TABLE, aggregates: () => source }).reader(), rl, at), evaluateRule(everyKind.reader(), rl, at)]);
      expect(a.error).toBeNull();
      expect(a.series.length).toBeGreaterThan(0);
      // The same series, every number equal to floating-point summation order (ClickHouse's row
      // order is not fixed, and rows of other kinds no longer come between).
      const byLabels = (ev: typeof a) => new Map(ev.series.map((s) => [JSON.stringify(s.labels), s]));
      const [x, y] = [byLabels(a), byLabels(b)];
      expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
      for (const [k, s] of x) expectClose(s, y.get(k), k);
    }
  });

  it('rules sharing a filter share one keyed query asking for the union of their kinds; totals-only rules ask for none', async () => {
    const seen: string[] = [];
    const port = new StoreSums({ query: (sql, params) => (seen.push(JSON.stringify(params.key_kinds ?? null)), query(sql, params)), table: TABLE, aggregates: () => source });
    const by = { where: { environment: 'prod' }, groupBy: ['workflow_id'] } as const;
    const rules = [rule('tool_calls_per_run', by), rule('error_rate', by), rule('cost_per_success', by), rule('duration', { ...by, options: { stat: 'p95' } })];
    const reader = port.reader(undefined, rules);
    for (const r of rules) await evaluateRule(reader, r, TIMES[0]!);
    // One totals query (no key_kinds) and one keyed query for all four rules.
    expect(seen.sort()).toEqual(['["tool","pair","outcome","duration"]', 'null']);
    seen.length = 0;
    await evaluateRule(port.reader(), rule('cost_per_success', by), TIMES[0]!);
    expect(seen).toEqual(['null']);
    expect(unionOfKeyKinds(rules)).toEqual(['tool', 'pair', 'outcome', 'duration']);
    expect(keyKindsOf(rule('cost_per_success', by))).toEqual([]);
  });
});

describe('the keyed query keeps the top fingerprints per group and window', () => {
  const AT = END;
  it(`the ${TOP_FINGERPRINTS} with the most runs (ties by name) on both read paths; other kinds and groups whole`, async () => {
    // A database of its own in the same store: the other tests count this file's runs.
    const names = { ...store.names, database: 'agentdrift_fingerprints' };
    await migrate(ch(), names, { aggregates: { enabled: true, dimensions: DIMENSIONS } });
    const table = `${names.database}.${names.agentRuns}`;
    const src = (await findAggregates(ch(), names, { enabled: true, dimensions: DIMENSIONS }))!;
    expect(src).not.toBeNull();
    // wf_many: 131 fingerprints, fp_k on 1 + floor(k / 3) runs, so three share each count and the
    // cut falls inside a tie; wf_few: 3 fingerprints. Each run calls one tool.
    const runs: AgentRunRow[] = [];
    const counts = new Map<string, number>();
    for (let k = 0; k < 131; k++) {
      const fp = `fp_${String(k).padStart(3, '0')}`;
      counts.set(fp, 1 + Math.floor(k / 3));
      for (let i = 0; i < counts.get(fp)!; i++) {
        runs.push(run({ ts: new Date(AT - HOUR - i * MIN).toISOString(), workflow_id: 'wf_many', environment: 'fp', output_schema_fingerprint: fp, tool_calls: { [`tool_${k % 7}`]: 1 } }));
      }
    }
    for (const fp of ['a', 'b', 'c']) runs.push(run({ ts: new Date(AT - 2 * HOUR).toISOString(), workflow_id: 'wf_few', environment: 'fp', output_schema_fingerprint: fp }));
    await ch().insert(table, runs);
    const ranked = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
    expect(ranked[TOP_FINGERPRINTS - 1]![1]).toBe(ranked[TOP_FINGERPRINTS]![1]); // the cut is inside a tie
    const expected = ranked.slice(0, TOP_FINGERPRINTS).map(([fp]) => fp).sort();

    const rl = rule('output_schema_shift', { where: { environment: 'fp' }, groupBy: ['workflow_id'], windowMs: DAY, baseline: { kind: 'previous', lengthMs: DAY, offsetMs: 0 } });
    const windows = windowsFor(rl.windowMs, rl.baseline, AT);
    for (const from of [src, null]) {
      const q = aggregateQuery('keyed', rl, table, windows, from, ['fingerprint', 'tool']);
      const rows = await query(q.sql, q.params);
      const of = (wf: string, kind: string) => rows.filter((r) => r.workflow_id === wf && r.key_kind === kind && Number(r.value) > 0);
      expect(of('wf_many', 'fingerprint').map((r) => r.key).sort(), String(from !== null)).toEqual(expected);
      expect(of('wf_few', 'fingerprint').map((r) => r.key).sort()).toEqual(['a', 'b', 'c']);
      expect(of('wf_many', 'tool').length).toBe(7);
    }
  });
});

describe("a cold start's `for` replays are fetched with the evaluation after them", () => {
  const by = { where: { environment: 'prod' }, groupBy: ['workflow_id'], significance: 0.05, threshold: 0.1, direction: 'both' } as const;
  const group = (): RuleGroup => ({
    name: 'g',
    schedule: { kind: 'interval', everyMs: 5 * MIN },
    timeoutMs: 60_000,
    file: 'f',
    rules: [rule('tool_calls_per_run', { ...by, alert: 'tools', forMs: HOUR }), rule('error_rate', { ...by, alert: 'errors', forMs: HOUR }), rule('cost_per_success', { ...by, alert: 'cost', forMs: 30 * MIN })],
  });
  /** A cold engine's first evaluation of the group, its queries counted, with or without the reader's prefetch. */
  const coldStart = async (at: number, prefetch: boolean) => {
    let queries = 0;
    const port = new StoreSums({ query: (sql, params) => (queries++, query(sql, params)), table: TABLE, aggregates: () => source });
    const sums: SumsPort = prefetch ? port : { reader: (signal, rules) => ({ sumsFor: port.reader(signal, rules).sumsFor }) };
    const engine = new Engine({ sums, clock: new ManualClock(at), logger: silentLogger });
    const g = group();
    engine.adoptRuleSet({ groups: [g] });
    const result = await engine.evaluateGroup(g, at);
    return { queries, result };
  };

  it.each(TIMES.map((at) => [new Date(at).toISOString(), at] as const))('at %s: fewer queries, the same evaluations and states', async (_iso, at) => {
    const [batched, alone] = [await coldStart(at, true), await coldStart(at, false)];
    // Alone: each time its own pair (the 1 h replay's, the 30 min replay's, the evaluation's: the
    // three rules share a filter, so one totals and one keyed query per time). Batched: one pair.
    expect(alone.queries).toBe(6);
    expect(batched.queries).toBe(2);
    expect(batched.result.evaluations.every((e) => e.error === null)).toBe(true);
    // Series of one group (a tool's) come in ClickHouse's row order: compared by their labels.
    const byLabels = <T extends { labels: object }>(xs: readonly T[]) => [...xs].sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
    const view = (r: typeof batched.result) => r.evaluations.map((e) => ({ rule: e.rule.alert, series: byLabels(e.series) }));
    const [x, y] = [view(batched.result), view(alone.result)];
    expect(x.map((e) => e.rule)).toEqual(y.map((e) => e.rule));
    expect(x.every((e) => e.series.length > 0)).toBe(true);
    x.forEach((e, i) => expectClose(e.series, y[i]!.series, e.rule));
    const changes = (r: typeof batched.result) => r.transitions.map((t) => JSON.stringify([t.rule.alert, t.series.labels, t.transition])).sort();
    expect(changes(batched.result)).toEqual(changes(alone.result));
  });
});

describe('groups on one schedule share their reads at a tick', () => {
  const by = { where: { environment: 'prod' }, groupBy: ['workflow_id'], significance: 0.05, threshold: 0.1, direction: 'both' } as const;
  const every = (name: string, rules: Rule[]): RuleGroup => ({ name, schedule: { kind: 'interval', everyMs: 5 * MIN }, timeoutMs: 60_000, file: 'f', rules });
  // The shipped rules' shape: 7-day rules (robust: fetched as fourteen days) and one-day rules against
  // three weeks, two of whose windows are among those days; and a group reading another filter.
  const week = every('week', [rule('tool_calls_per_run', { ...by, alert: 'tools' }), rule('cost_per_success', { ...by, alert: 'cost' }), rule('duration', { ...by, alert: 'p95', options: { stat: 'p95' } })]);
  const fast = every('fast', [
    rule('error_rate', { ...by, alert: 'errors_1d', windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } }),
    rule('output_schema_shift', { ...by, alert: 'shape_1d', windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } }),
  ]);
  const other = every('other', [rule('error_rate', { where: { environment: 'staging' }, groupBy: ['workflow_id'], alert: 'staging_errors', windowMs: DAY, baseline: { kind: 'previous', lengthMs: DAY, offsetMs: 0 } })]);
  const ruleSet = { groups: [week, fast, other] };

  /** Every group evaluated at `at` by one engine (as the daemon's runners do), its queries counted. */
  const tick = async (at: number, shared: boolean) => {
    const seen: string[] = [];
    const port = new StoreSums({ query: (sql, params) => (seen.push(sql), query(sql, params)), table: TABLE, aggregates: () => source });
    const sums: SumsPort = shared ? port : { reader: (signal, rules) => port.reader(signal, rules) };
    const engine = new Engine({ sums, clock: new ManualClock(at), logger: silentLogger });
    engine.adoptRuleSet(ruleSet);
    const results = await Promise.all(ruleSet.groups.map((g) => engine.evaluateGroup(g, at)));
    return { queries: seen.length, evaluations: results.flatMap((r) => r.evaluations) };
  };

  it.each(TIMES.map((at) => [new Date(at).toISOString(), at] as const))('at %s: the same evaluations as each group alone, from fewer queries on the grid', async (_iso, at) => {
    expect(isRobust(week.rules[0]!)).toBe(true);
    const [a, b] = [await tick(at, true), await tick(at, false)];
    expect(a.evaluations.every((e) => e.error === null)).toBe(true);
    expect(a.evaluations.map((e) => e.rule.alert)).toEqual(b.evaluations.map((e) => e.rule.alert));
    expect(a.evaluations.some((e) => e.series.length > 0)).toBe(true);
    const byLabels = <T extends { labels: object }>(xs: readonly T[]) => [...xs].sort((x, y) => (JSON.stringify(x.labels) < JSON.stringify(y.labels) ? -1 : 1));
    a.evaluations.forEach((e, i) => expectClose(byLabels(e.series), byLabels(b.evaluations[i]!.series), e.rule.alert));
    // Alone: a totals and a keyed query per group. Shared, on the 5-minute grid (the groups' ticks):
    // one pair for the two groups reading prod, one for staging. Off the grid (a start run at the
    // start itself) the groups need not be evaluated together: each reads its own.
    expect(b.queries).toBe(6);
    expect(a.queries).toBe(at % (5 * MIN) === 0 ? 4 : 6);
  });

  it('a shared query is cut only when every reader waiting for it has been aborted', async () => {
    const signals: AbortSignal[] = [];
    const port = new StoreSums({ query: (_sql, _params, signal) => (signals.push(signal!), new Promise<never>(() => undefined)), table: TABLE, aggregates: () => source });
    const peers = { at: TIMES[0]!, groups: [week, fast].map((g) => ({ rules: g.rules, due: true })) };
    const [x, y] = [new AbortController(), new AbortController()];
    void port.reader(x.signal, week.rules, peers).sumsFor(week.rules[1]!, TIMES[0]!, evaluationWindows(week.rules[1]!, TIMES[0]!).fetch);
    void port.reader(y.signal, fast.rules, peers).sumsFor(fast.rules[0]!, TIMES[0]!, evaluationWindows(fast.rules[0]!, TIMES[0]!).fetch);
    // The totals query, waited for by both (the cost rule reads no keyed rows), and the keyed query, by the error rate's reader.
    await new Promise((r) => setImmediate(r));
    expect(signals.length).toBe(2);
    x.abort();
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
    y.abort();
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
  });
});

describe("a backtest's batches fetch each window once", () => {
  it('robust 7-day rules at 1 h steps over 3 days: the day windows of earlier batches are reused, the same result as one time at a time', async () => {
    const by = { where: { environment: 'prod' }, groupBy: ['workflow_id'], significance: 0.05, threshold: 0.1, direction: 'both', confirmWindowMs: DAY } as const;
    const g: RuleGroup = {
      name: 'g',
      schedule: { kind: 'interval', everyMs: 5 * MIN },
      timeoutMs: 60_000,
      file: 'f',
      rules: [rule('tool_calls_per_run', { ...by, alert: 'tools' }), rule('error_rate', { ...by, alert: 'errors' }), rule('duration', { ...by, alert: 'p95', options: { stat: 'p95' } })],
    };
    expect(isRobust(g.rules[0]!)).toBe(true);
    const counted = () => {
      const c = { rows: 0, queries: 0, q: async (sql: string, params: Record<string, unknown>) => { const r = await query(sql, params); c.rows += r.length; c.queries++; return r; } };
      return c;
    };
    const [a, b] = [counted(), counted()];
    const replay = { table: TABLE, aggregates: source, rules: { groups: [g] }, fromMs: END - 3 * DAY, toMs: END, stepMs: HOUR };
    const batched = await backtest({ ...replay, query: a.q });
    const single = await backtest({ ...replay, query: b.q, batchSize: 1 });
    expect(batched.evaluations).toBe(73);
    expect(batched).toEqual(single);
    // 73 steps of 14 day windows each, 24 hour offsets: 24 x 17 distinct day windows instead of 73 x 14.
    expect(a.queries).toBe(2 * Math.ceil(73 / 24));
    expect(a.rows * 2).toBeLessThan(b.rows);
  });

  it('groups reading one filter and key kinds share their windows: the fast rules\' day windows come from the 7-day rules\' batches', async () => {
    const by = { where: { environment: 'prod' }, groupBy: ['workflow_id'], significance: 0.05, threshold: 0.1, direction: 'both' } as const;
    const group = (name: string, rules: Rule[]): RuleGroup => ({ name, schedule: { kind: 'interval', everyMs: 5 * MIN }, timeoutMs: 60_000, file: 'f', rules });
    const week = group('week', [rule('tool_calls_per_run', { ...by, alert: 'tools' }), rule('duration', { ...by, alert: 'p95', options: { stat: 'p95' } })]);
    const seasonal = { windowMs: DAY, baseline: { kind: 'seasonal', weeks: 3 } } as const;
    const fast = group('fast', [rule('tool_calls_per_run', { ...by, ...seasonal, alert: 'tools_1d' }), rule('duration', { ...by, ...seasonal, alert: 'p95_1d', options: { stat: 'p95' } })]);
    const counted = () => {
      const c = { rows: 0, q: async (sql: string, params: Record<string, unknown>) => { const r = await query(sql, params); c.rows += r.length; return r; } };
      return c;
    };
    const replay = { table: TABLE, aggregates: source, fromMs: END - 2 * DAY, toMs: END, stepMs: HOUR };
    const [both, weekAlone, fastAlone, single] = [counted(), counted(), counted(), counted()];
    const together = await backtest({ ...replay, rules: { groups: [week, fast] }, query: both.q });
    await backtest({ ...replay, rules: { groups: [week] }, query: weekAlone.q });
    await backtest({ ...replay, rules: { groups: [fast] }, query: fastAlone.q });
    // The same replay to floating-point order (a tool mix's test sums its tools in the order of the rows).
    expectClose(together, await backtest({ ...replay, rules: { groups: [week, fast] }, query: single.q, batchSize: 1 }), 'backtest');
    expect(together.transitions.length + together.summary.length).toBeGreaterThan(0);
    // Of the fast rule's four windows per step, the current day and the day a week before are among the
    // 7-day rules' days: read once for both groups.
    expect(both.rows).toBeLessThan(weekAlone.rows + fastAlone.rows);
    expect(both.rows).toBeGreaterThan(weekAlone.rows);
  });
});

describe('a batch of evaluation times (the backtest) gives each time the rows of its own query', () => {
  // Twelve times an hour and seven minutes apart, off every grid: many pieces per tier, so the batched
  // query lists buckets in sets and rows find their windows by a join on their bucket
  // (aggregateQuery's MANY_PIECES), raw rows also by their time inside the bucket.
  const STEPS = Array.from({ length: 12 }, (_, k) => END - k * (HOUR + 7 * MIN) - 42_123);
  for (const r of RULES) {
    for (const [label, src] of [['aggregates', () => source], ['agent_runs only', () => null]] as const) {
      it(`${r.name}, ${label}`, async () => {
        const rl = rule('tool_calls_per_run', r.over);
        const steps = STEPS.map((at) => windowsFor(rl.windowMs, rl.baseline, at));
        const batched = batchedSignalQueries(rl, TABLE, steps, src());
        // The bucket sets are what is under test where the aggregates answer.
        if (src() !== null && !r.name.startsWith('not covered')) {
          expect(batched.totals.sql).toContain('IN (SELECT arrayJoin(');
          // Raw edges hint agent_runs' primary key with their ranges; the small aggregate tables do not.
          expect(batched.totals.sql.match(/indexHint\(/g)).toHaveLength(1);
        }
        for (const q of [batched.totals, batched.keyed]) expect(q.sql).toContain('INNER JOIN (SELECT x.1 AS');
        const run = async (q: { totals: BuiltQuery; keyed: BuiltQuery }) => ({ totals: await query(q.totals.sql, q.totals.params), keyed: await query(q.keyed.sql, q.keyed.params) });
        const perStep = splitSteps(await run(batched), STEPS.length, steps[0]!.length);
        for (const [k, at] of STEPS.entries()) {
          const single = await run(signalQueries(rl, TABLE, steps[k]!, src()));
          AGGREGATE_KINDS.forEach((kind) => {
            expectSameNumbers(keyed(kind, perStep[k]![kind]), keyed(kind, single[kind]), `${kind} at ${new Date(at).toISOString()}`);
          });
        }
      }, 120_000);
    }
  }

  it('flattens steps into windows of their own and splits rows back, table-driven', () => {
    const steps: WindowBounds[][] = [
      [{ index: 0, startMs: 10, endMs: 20 }, { index: 1, startMs: 0, endMs: 10 }],
      [{ index: 0, startMs: 15, endMs: 25 }, { index: 1, startMs: 5, endMs: 15 }],
    ];
    const { windows, perStep } = flattenSteps(steps);
    expect(perStep).toBe(2);
    expect(windows.map((w) => [w.index, w.startMs, w.endMs])).toEqual([[0, 10, 20], [1, 0, 10], [2, 15, 25], [3, 5, 15]]);
    const cases: { w: number; step: number; window: number }[] = [
      { w: 0, step: 0, window: 0 },
      { w: 1, step: 0, window: 1 },
      { w: 2, step: 1, window: 0 },
      { w: 3, step: 1, window: 1 },
    ];
    const split = splitSteps({ totals: cases.map((c) => ({ w: String(c.w), x: c.w })), keyed: [] }, 2, perStep);
    for (const c of cases) expect(split[c.step]!.totals.find((r) => r.x === c.w)?.w).toBe(c.window);
    expect(split.map((s) => s.keyed)).toEqual([[], []]);
    expect(() => flattenSteps([[steps[0]![0]!], steps[1]!])).toThrow(/same number of windows/);
  });
});

describe('migrate and status', () => {
  it('status reports each table, its rows and bytes, and no lag once the views keep up', async () => {
    const st = (await aggregatesStatus(ch(), store.names))!;
    expect(st.ready).toBe(true);
    expect(st.dimensions).toBe('workflow_id,agent_id,environment,service_name,attributes.tier');
    expect(st.tables).toHaveLength(TIERS.length * 2);
    for (const t of st.tables) expect(t.rows, t.table).toBeGreaterThan(0);
    expect(st.lagSeconds).toBe(0);
  });

  it('a change of dimensions rebuilds and backfills the tables; findAggregates answers only for the configured set', async () => {
    expect(await findAggregates(ch(), store.names, { enabled: true, dimensions: ['workflow_id'] })).toBeNull();
    expect(await findAggregates(ch(), store.names, { enabled: false, dimensions: ['workflow_id', 'agent_id', 'environment', 'service_name'] })).toBeNull();
    const steps = await migrate(ch(), store.names, { aggregates: { enabled: true, dimensions: ['workflow_id', 'tenant_id'] } });
    expect(steps.find((s) => s.object.endsWith('agent_runs_agg_1h_totals'))?.action).toBe('updated');
    const narrow = (await findAggregates(ch(), store.names, { enabled: true, dimensions: ['tenant_id', 'workflow_id'] }))!;
    expect(narrow.dimensions).toEqual(['workflow_id', 'tenant_id']);
    const [n] = await ch().query<{ runs: number | string }>('SELECT sum(runs) AS runs FROM agent_runs_agg_1h_totals');
    expect(Number(n!.runs)).toBe(RUNS.length);
    // Now tenant_id is covered and the old default group_by (agent_id) is not: both read correctly.
    for (const over of [{ groupBy: ['tenant_id'] }, { groupBy: ['agent_id'] }] as Partial<Rule>[]) {
      const rl = rule('cost_per_success', over);
      const windows = windowsFor(rl.windowMs, rl.baseline, END + 7 * MIN);
      for (const kind of AGGREGATE_KINDS) {
        const q1 = aggregateQuery(kind, rl, TABLE, windows, narrow);
        const q2 = aggregateQuery(kind, rl, TABLE, windows, null);
        expectSameNumbers(keyed(kind, await query(q1.sql, q1.params)), keyed(kind, await query(q2.sql, q2.params)), `${kind} ${JSON.stringify(over)}`);
      }
    }
    // Back to the default set for the rest of the file.
    await migrate(ch(), store.names);
  }, 240_000);

  it('an upgrade drops the views of an earlier version (the single keyed view before v5, v5\'s per-kind views), so no run counts twice', async () => {
    const [keyed5m] = aggregateObjects(store.names).filter((x) => x.tier.name === '5m' && x.kind === 'keyed');
    expect(keyed5m!.views).toEqual(['tool', 'pair', 'per_run', 'sparse'].map((p) => `agent_runs_agg_5m_keyed_${p}_mv`));
    expect(keyed5m!.retiredViews).toEqual(['agent_runs_agg_5m_keyed_mv', 'agent_runs_agg_5m_keyed_fingerprint_mv', 'agent_runs_agg_5m_keyed_denied_rule_mv']);
    const names = async () => (await ch().query<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'agent_runs_agg_5m_keyed%'")).map((r) => r.name).sort();
    // What a v4 store had: one view writing keyed rows (here the tools') into the 5-minute table.
    await ch().command(`CREATE MATERIALIZED VIEW agent_runs_agg_5m_keyed_mv TO agent_runs_agg_5m_keyed AS
      SELECT toDateTime(toStartOfInterval(timestamp, INTERVAL 5 MINUTE, 'UTC'), 'UTC') AS bucket, workflow_id, agent_id, environment, service_name,
        'tool' AS key_kind, CAST(k, 'String') AS key, sum(toUInt64(c)) AS value, toUInt64(0) AS value_sq, toUInt64(0) AS value_x_total
      FROM agent_runs ARRAY JOIN mapKeys(tool_calls) AS k, mapValues(tool_calls) AS c
      GROUP BY bucket, workflow_id, agent_id, environment, service_name, key`);
    expect(await names()).toContain('agent_runs_agg_5m_keyed_mv');
    const steps = await migrate(ch(), store.names);
    expect(steps.find((s) => s.object.endsWith('agent_runs_agg_5m_keyed'))?.action).toBe('updated');
    expect(await names()).toEqual(['agent_runs_agg_5m_keyed', ...keyed5m!.views].sort());
    // Runs inserted from now on go through the new views only (the last test of the file: the extra
    // runs change no other test's figures).
    await store.ch.insert(TABLE, generatedRuns(500, 'after the upgrade'));
    const [n] = await ch().query<{ calls: number | string }>("SELECT sum(value) AS calls FROM agent_runs_agg_5m_keyed WHERE key_kind = 'tool'");
    const [r] = await ch().query<{ calls: number | string }>('SELECT sum(arraySum(mapValues(tool_calls))) AS calls FROM agent_runs');
    expect(Number(n!.calls)).toBe(Number(r!.calls));
  }, 240_000);
});
