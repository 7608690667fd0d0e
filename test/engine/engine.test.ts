/**
 * The engine over real data (chDB): warm start from history, a ClickHouse outage while firing (an
 * error state, never a false resolve, and no notification), recovery, and a real resolve when the drift
 * leaves the window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseAccessError } from '../../src/clickhouse/client.js';
import { REMOVED_RULE_REASON } from '../../src/engine/engine.js';
import { RecordingEngine } from '../helpers/engine.js';
import { StoreSums } from '../../src/signals/sums.js';
import type { TransitionEvent } from '../../src/engine/types.js';
import { silentLogger } from '../../src/log.js';
import { parseRules } from '../../src/rules/load.js';
import type { RuleGroup } from '../../src/rules/types.js';
import { qualified } from '../../src/store/schema.js';
import { ManualClock } from '../../src/util/clock.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';

const H = 3_600_000;
const AT = Date.parse('2026-03-15T00:00:00Z');
let store: TempStore;
let group: RuleGroup;

beforeAll(async () => {
  store = await openTempStore();
  // 14 days of hourly runs; from 3 days before AT the workflow calls its tool twice instead of once.
  const rows = [];
  for (let t = AT - 14 * 24 * H; t < AT; t += H) {
    rows.push({ timestamp: new Date(t).toISOString(), run_id: `r${t}`, workflow_id: 'wf', outcome: 'success', tool_calls: { enrich: t >= AT - 3 * 24 * H ? 2 : 1 } });
  }
  await store.ch.insert('agent_runs', rows);
  const { ruleSet, problems } = parseRules([
    {
      file: 'r.yaml',
      text: `groups:
  - name: g
    interval: 5m
    rules:
      - alert: ToolsUp
        signal: tool_calls_per_run
        group_by: [workflow_id]
        threshold: 20%
        min_runs: 10
        for: 1h
        annotations: { summary: "{{ $labels.tool }} {{ $value | percent }}" }
`,
    },
  ]);
  expect(problems).toEqual([]);
  group = ruleSet!.groups[0]!;
});
afterAll(async () => {
  await store?.ch.close();
});

function engineWith(query: (sql: string, params: Record<string, unknown>) => Promise<Record<string, unknown>[]>, events: TransitionEvent[]) {
  const engine = new RecordingEngine(
    {
      sums: new StoreSums({ query, table: qualified('default', 'agent_runs') }),
      clock: new ManualClock(AT),
      logger: silentLogger,
    },
    events,
  );
  engine.adoptRuleSet({ groups: [group] });
  return engine;
}

const key = 'ToolsUp{tool="enrich",workflow_id="wf"}';

describe('engine', () => {
  it('fires at once on a drift older than `for` (warm start), with rendered annotations', async () => {
    const events: TransitionEvent[] = [];
    const engine = engineWith((sql, p) => store.ch.query(sql, p), events);
    await engine.evaluateGroup(group, AT);
    const s = engine.alertStates.get(key)!;
    expect(s.record.state).toBe('firing');
    expect(s.annotations?.summary).toMatch(/^enrich \+\d+\.\d%$/);
    // The replay at AT - for is silent: only the step to firing is reported.
    expect(events.map((e) => `${e.transition.from}->${e.transition.to}`)).toEqual(['pending->firing']);
  });

  it('a ClickHouse outage keeps a firing alert firing (health error) and reports no resolve', async () => {
    const events: TransitionEvent[] = [];
    let down = false;
    const engine = engineWith(async (sql, p) => {
      if (down) throw new ClickHouseAccessError('unavailable', 'ClickHouse at http://ch:8123/default is unreachable: ECONNREFUSED');
      return store.ch.query(sql, p);
    }, events);
    await engine.evaluateGroup(group, AT);
    down = true;
    const r = await engine.evaluateGroup(group, AT + 5 * 60_000);
    expect(r.ok).toBe(false);
    expect(r.evaluations[0]!.error).toMatch(/unreachable/);
    const s = engine.alertStates.get(key)!;
    expect(s.record).toMatchObject({ state: 'firing', health: 'error' });
    expect(s.record.lastError).toMatch(/unreachable/);
    down = false;
    await engine.evaluateGroup(group, AT + 10 * 60_000);
    expect(engine.alertStates.get(key)!.record).toMatchObject({ state: 'firing', health: 'ok' });
    expect(events.filter((e) => e.transition.to === 'resolved')).toEqual([]);
  });

  it('only a ClickHouse error becomes the error outcome: a bug throws, and no series is put in error', async () => {
    const events: TransitionEvent[] = [];
    const engine = engineWith((sql, p) => store.ch.query(sql, p), events);
    await engine.evaluateGroup(group, AT);
    const broken = engineWith(async () => {
      throw new TypeError('cannot read properties of undefined');
    }, events);
    broken.restore(engine.snapshot());
    broken.adoptRuleSet({ groups: [group] });
    await expect(broken.evaluateGroup(group, AT + 5 * 60_000)).rejects.toThrow(TypeError);
    expect(broken.alertStates.get(key)!.record).toMatchObject({ state: 'firing', health: 'ok' });
  });

  it('a removed rule waits out its grace: back in time it keeps its state and sends nothing; gone, it resolves once', async () => {
    const events: TransitionEvent[] = [];
    const engine = engineWith((sql, p) => store.ch.query(sql, p), events);
    await engine.evaluateGroup(group, AT);
    const fired = engine.alertStates.get(key)!;
    expect(fired.record.state).toBe('firing');
    events.length = 0;
    const GRACE = 10_000;

    // A half-written file drops the rule; the next reload, 2 s later, brings it back.
    engine.adoptRuleSet({ groups: [] }, AT + 1_000, GRACE);
    expect(events).toEqual([]);
    expect(engine.nextDepartureAt).toBe(AT + 1_000 + GRACE);
    // Meanwhile the state file still holds the series, with its rule's facts.
    const held = engine.snapshot();
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((a) => a.alert === 'ToolsUp' && a.rule?.alert === 'ToolsUp')).toBe(true);
    engine.adoptRuleSet({ groups: [group] }, AT + 3_000, GRACE);
    expect(engine.nextDepartureAt).toBeNull();
    expect(engine.retireDeparted(AT + 60_000)).toEqual({ dropped: [], retired: [] });
    expect(engine.alertStates.get(key)).toEqual(fired);
    expect(events).toEqual([]);

    // Removed for good: nothing before the grace ends, one resolution with the reason after.
    engine.adoptRuleSet({ groups: [] }, AT + 100_000, GRACE);
    expect(engine.retireDeparted(AT + 100_000 + GRACE - 1)).toEqual({ dropped: [], retired: [] });
    expect(events).toEqual([]);
    expect(engine.retireDeparted(AT + 100_000 + GRACE).dropped).toContain(key);
    expect(events.map((e) => [e.series.id, `${e.transition.from}->${e.transition.to}`, e.transition.reason])).toEqual([[key, 'firing->resolved', REMOVED_RULE_REASON]]);
    expect(engine.alertStates.size).toBe(0);
    expect(engine.snapshot()).toEqual([]);
    expect(engine.nextDepartureAt).toBeNull();
  });

  it('without a grace (a start, a backtest) a removed rule resolves at once', async () => {
    const events: TransitionEvent[] = [];
    const engine = engineWith((sql, p) => store.ch.query(sql, p), events);
    await engine.evaluateGroup(group, AT);
    events.length = 0;
    expect(engine.adoptRuleSet({ groups: [] }, AT + 1_000).dropped).toContain(key);
    expect(events.map((e) => e.transition.reason)).toEqual([REMOVED_RULE_REASON]);
  });

  it('resolves for real once the drift is no longer in the window against its baseline', async () => {
    const events: TransitionEvent[] = [];
    const engine = engineWith((sql, p) => store.ch.query(sql, p), events);
    await engine.evaluateGroup(group, AT);
    // A week with no data at all: no-data keeps it firing, it never resolves on silence.
    await engine.evaluateGroup(group, AT + 21 * 24 * H);
    expect(engine.alertStates.get(key)!.record).toMatchObject({ state: 'firing', health: 'nodata' });
    // The fix ships at AT: one call per run again. A week later the current window is back at 1.0
    // against a drifted baseline: the condition is false, the alert resolves.
    const rows = [];
    for (let t = AT; t < AT + 7 * 24 * H; t += H) rows.push({ timestamp: new Date(t).toISOString(), run_id: `f${t}`, workflow_id: 'wf', outcome: 'success', tool_calls: { enrich: 1 } });
    await store.ch.insert('agent_runs', rows);
    await engine.evaluateGroup(group, AT + 7 * 24 * H);
    expect(engine.alertStates.get(key)!.record.state).toBe('resolved');
    const enrich = events.filter((e) => e.series.labels.tool === 'enrich').map((e) => `${e.transition.from}->${e.transition.to}`);
    expect(enrich).toEqual(['pending->firing', 'firing->resolved']);
  });
});
