/**
 * Backtest over a small generated history whose transitions are worked out by hand, and the proof
 * that a backtest and the running daemon's path (Engine + GroupRunner on a clock) give the same
 * states at the same times on the same data.
 *
 * History: a run every 10 minutes (at :05, :15, ... so window edges on whole hours split cleanly) of
 * workflow `wf`, calling `enrich` once per run until D, twice per run from D to D+3d, then once again.
 * Rule: 1-day window against the previous day, +30%, `for: 2h`. Worked out by hand (144 runs a day):
 *   D+7h  current holds 42 doubled runs of 144: 1.2917 vs 1.0 -> +29.2%: false
 *   D+8h  48 of 144: 1.3333 -> +33.3%: pending
 *   D+10h held 2h: firing, its baseline (1.0) frozen
 *   D+37h the live baseline is 13h of 24 doubled (1.5417): against it +29.7% would resolve the alert
 *         while the change persists; against the frozen 1.0 it is +100%: still firing
 *   D+89h the revert at D+3d: current 7h of 24 doubled (1.2917) -> +29.2%: below the threshold, but
 *         a firing series holds down to the resolve threshold (half of it, 15%): still firing
 *   D+92h 4h of 24 doubled (1.1667) -> +16.7%: still firing
 *   D+93h 3h of 24 doubled (1.125) -> +12.5%: resolved, the signal has returned
 *   D+94h resolved 15 minutes ago: inactive
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest, backtestPlan, formatBacktest } from '../../src/engine/backtest.js';
import { RecordingEngine } from '../helpers/engine.js';
import { StoreSums } from '../../src/signals/sums.js';
import { Engine } from '../../src/engine/engine.js';
import { GroupRunner } from '../../src/engine/scheduler.js';
import type { TransitionEvent } from '../../src/engine/types.js';
import { silentLogger } from '../../src/log.js';
import { parseRules } from '../../src/rules/load.js';
import type { RuleSet } from '../../src/rules/types.js';
import { AGGREGATE_DEFAULTS } from '../../src/store/aggregates.js';
import { findAggregates } from '../../src/store/aggregatesMigrate.js';
import { qualified } from '../../src/store/schema.js';
import { ManualClock } from '../../src/util/clock.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';

const H = 3_600_000;
const D = Date.parse('2026-03-10T00:00:00Z');
const TABLE = qualified('default', 'agent_runs');
let store: TempStore;
let rules: RuleSet;

const RULES = (interval: string) => `groups:
  - name: hourly
    interval: ${interval}
    rules:
      - alert: EnrichUp
        signal: tool_calls_per_run
        group_by: [workflow_id]
        window: 1d
        baseline: { previous: 1d }
        threshold: 30%
        min_runs: 10
        for: 2h
`;

function load(text: string): RuleSet {
  const { ruleSet, problems } = parseRules([{ file: 'r.yaml', text }]);
  expect(problems).toEqual([]);
  return ruleSet!;
}

beforeAll(async () => {
  store = await openTempStore();
  const rows = [];
  for (let t = D - 4 * 24 * H + 5 * 60_000; t < D + 4 * 24 * H; t += 10 * 60_000) {
    rows.push({ timestamp: new Date(t).toISOString(), run_id: `r${t}`, workflow_id: 'wf', outcome: 'success', tool_calls: { enrich: t >= D && t < D + 72 * H ? 2 : 1 } });
  }
  await store.ch.insert('agent_runs', rows);
  rules = load(RULES('1h'));
});
afterAll(async () => {
  await store?.ch.close();
});

const query = (sql: string, params: Record<string, unknown>) => store.ch.query(sql, params);
const brief = (t: { at: string; from: string; to: string }) => `${(Date.parse(t.at) - D) / H}h ${t.from}->${t.to}`;

describe('backtest', () => {
  it('replays the hand-checked transitions at an hourly step, with the numbers behind each', async () => {
    const progress: number[] = [];
    const r = await backtest({ query, table: TABLE, rules, fromMs: D - 24 * H, toMs: D + 96 * H, stepMs: H, onProgress: (done) => progress.push(done) });
    expect(r.evaluations).toBe(121);
    expect(progress).toHaveLength(121);
    expect(r.transitions.filter((t) => t.labels.tool === 'enrich').map(brief)).toEqual([
      '8h inactive->pending',
      '10h pending->firing',
      '93h firing->resolved',
      '94h resolved->inactive',
    ]);
    const pending = r.transitions.find((t) => t.to === 'pending')!;
    expect(pending).toMatchObject({ rule: 'EnrichUp', signal: 'tool_calls_per_run', labels: { workflow_id: 'wf', tool: 'enrich' }, baseline: 1 });
    expect(pending.current).toBeCloseTo(192 / 144, 10);
    expect(pending.deviation).toBeCloseTo(1 / 3, 10);
    const resolved = r.transitions.find((t) => t.to === 'resolved')!;
    expect(resolved.baseline).toBe(1); // the frozen baseline, not the live one
    expect(resolved.current).toBeCloseTo(162 / 144, 10);
    expect(r.summary).toEqual([{ rule: 'EnrichUp', signal: 'tool_calls_per_run', alerts: 1, firing_hours: 83, alerts_per_week: round(1 / (120 / 168)) }]);
    const text = formatBacktest(r);
    expect(text).toContain('EnrichUp{workflow_id=wf,tool=enrich}  pending -> firing');
    expect(text).toMatch(/EnrichUp +tool_calls_per_run +1 +83 /);
  });

  it('batched (24 times per query pair, the default) and one evaluation at a time give the same result, with far fewer queries', async () => {
    const count = () => {
      let n = 0;
      return { q: (sql: string, params: Record<string, unknown>) => (n++, query(sql, params)), n: () => n };
    };
    const [a, b] = [count(), count()];
    const batched = await backtest({ query: a.q, table: TABLE, rules, fromMs: D - 24 * H, toMs: D + 96 * H, stepMs: H });
    const single = await backtest({ query: b.q, table: TABLE, rules, fromMs: D - 24 * H, toMs: D + 96 * H, stepMs: H, batchSize: 1 });
    expect(batched).toEqual(single);
    // 121 evaluations: 2 queries each one at a time (and the warm start's replay, outside the plan).
    expect(b.n()).toBeGreaterThanOrEqual(2 * 121);
    expect(a.n()).toBeLessThanOrEqual(2 * Math.ceil(121 / 24) + 2);
  });

  it('on the groups\' own schedule, gives the same transitions at the same times as the daemon\'s runner on a clock', async () => {
    const from = D - 12 * H;
    const to = D + 44 * H;
    const viaBacktest = await backtest({ query, table: TABLE, rules, fromMs: from, toMs: to });

    // The daemon's path: one Engine, one GroupRunner per group, time moved by a clock.
    const clock = new ManualClock(from);
    const events: TransitionEvent[] = [];
    const engine = new Engine({ sums: new StoreSums({ query, table: TABLE }), clock, logger: silentLogger });
    engine.adoptRuleSet(rules);
    let running: Promise<unknown> = Promise.resolve();
    const runners = rules.groups.map(
      (g) => new GroupRunner(g, { clock, logger: silentLogger, onSkip: () => undefined, run: (group, at, signal) => (running = engine.evaluateGroup(group, at, signal).then((r) => void events.push(...r.transitions))).then(() => undefined) }),
    );
    for (const r of runners) r.start();
    await running;
    while (clock.now() < to) {
      await clock.advance(Math.min(H, to - clock.now()));
      await running;
    }
    for (const r of runners) await r.stop();

    const viaDaemon = events.map((e) => ({ at: new Date(e.transition.at).toISOString(), from: e.transition.from, to: e.transition.to, labels: e.series.labels }));
    const picked = viaBacktest.transitions.map(({ at, from, to, labels }) => ({ at, from, to, labels }));
    expect(picked.length).toBeGreaterThanOrEqual(2);
    expect(picked).toEqual(viaDaemon);
    // Off the whole hour: the group's slot offset, exactly as the runner places it.
    expect(new Date(picked[0]!.at).getUTCMinutes() + new Date(picked[0]!.at).getUTCSeconds()).toBeGreaterThan(0);
  });

  it('plans each group on its own interval, in time order', () => {
    const two = load(`${RULES('1h')}  - name: daily
    interval: 1d
    rules:
      - alert: Other
        signal: cost_per_success
        threshold: 50%
`);
    const plan = backtestPlan(two, D, D + 24 * H);
    expect(plan.filter((p) => p.group.name === 'hourly')).toHaveLength(25);
    expect(plan.filter((p) => p.group.name === 'daily').length).toBeGreaterThanOrEqual(1);
    expect(plan.map((p) => p.at)).toEqual([...plan.map((p) => p.at)].sort((a, b) => a - b));
    expect(() => backtestPlan(two, D, D + H, 0)).toThrow(/step/);
  });

  it('a stepped replay starts on a whole 5 minutes, so the aggregates answer every window without re-reading runs', async () => {
    const off = D - 24 * H + 17 * 60_000 + 42_000; // 17:42 past the hour, as a daemon's times are
    expect(backtestPlan(rules, off, off + 2 * H, H).map((p) => p.at - D)).toEqual([-24 * H + 20 * 60_000, -23 * H + 20 * 60_000]);
    expect(backtestPlan(rules, D, D + H, H).map((p) => p.at)).toEqual([D, D + H]);
    expect(backtestPlan(rules, off, off + 2 * H, H, false).map((p) => p.at)).toEqual([off, off + H, off + 2 * H]);
    const source = await findAggregates(store.ch, store.names, AGGREGATE_DEFAULTS);
    expect(source).not.toBeNull();
    const readsRuns = (sql: string) => /`default`\.`agent_runs`(?!_)/.test(sql);
    const seen: string[] = [];
    const watched = (sql: string, params: Record<string, unknown>) => {
      seen.push(sql);
      return query(sql, params);
    };
    const aligned = await backtest({ query: watched, table: TABLE, aggregates: source, rules, fromMs: off, toMs: D + 96 * H, stepMs: H });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter(readsRuns)).toEqual([]);
    // The same replay from agent_runs alone: the same transitions, the same numbers.
    const raw = await backtest({ query, table: TABLE, rules, fromMs: off, toMs: D + 96 * H, stepMs: H });
    expect(aligned.transitions.map(brief)).toEqual(raw.transitions.map(brief));
    // On whole hours (the first test) pending came at 8h and firing at 10h; at 20 past, one step earlier.
    const hm = (h: number, m: number) => `${(h * H + m * 60_000) / H}h`;
    expect(aligned.transitions.map(brief)).toEqual([`${hm(7, 20)} inactive->pending`, `${hm(9, 20)} pending->firing`, `${hm(93, 20)} firing->resolved`, `${hm(94, 20)} resolved->inactive`]);
    aligned.transitions.forEach((t, i) => expect(round(t.current ?? 0)).toBe(round(raw.transitions[i]!.current ?? 0)));
    // Off the grid, each window's ragged edges are read from agent_runs.
    seen.length = 0;
    await backtest({ query: watched, table: TABLE, aggregates: source, rules, fromMs: off, toMs: off + 3 * H, stepMs: H, alignStep: false });
    expect(seen.some(readsRuns)).toBe(true);
  });
});

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

describe('accept: an operator takes the current value as the new normal', () => {
  it('resolves the firing series now, then compares with the accepted value until the live baseline catches up', async () => {
    const clock = new ManualClock(D);
    const events: TransitionEvent[] = [];
    const engine = new RecordingEngine({ sums: new StoreSums({ query, table: TABLE }), clock, logger: silentLogger }, events);
    engine.adoptRuleSet(rules);
    const group = rules.groups[0]!;
    const at = (h: number) => D + h * H;
    for (let h = 0; h <= 30; h++) await engine.evaluateGroup(group, at(h));
    expect(events.map((e) => `${(e.transition.at - D) / H}h ${e.transition.to}`)).toEqual(['8h pending', '10h firing']);

    await expect(engine.accept('NoSuchRule', {}, 'x', at(30))).rejects.toThrow(/no rule named "NoSuchRule"/);
    expect(await engine.accept('EnrichUp', { workflow_id: 'other' }, 'x', at(30))).toEqual([]);
    const accepted = await engine.accept('EnrichUp', { workflow_id: 'wf' }, 'enrichment confirms each record by design', at(30));
    expect(accepted).toHaveLength(1);
    const s = accepted[0]!.series;
    expect(accepted[0]!.transition).toMatchObject({ from: 'firing', to: 'resolved', reason: 'accepted as the new normal: enrichment confirms each record by design' });
    expect(s.accepted).toEqual({ at: at(30), reason: 'enrichment confirms each record by design', baseline: 2, until: at(30 + 48) });
    expect(s.annotations?.accepted).toMatch(/^enrichment confirms each record by design \(accepted 2026-03-11T06:00:00.000Z\)$/);

    // Calls stay at 2.0 (+100% on the live baseline until D+48h): no new alert against the new normal.
    for (let h = 31; h <= 96; h++) await engine.evaluateGroup(group, at(h));
    expect(events.slice(2).map((e) => `${(e.transition.at - D) / H}h ${e.transition.from}->${e.transition.to}`)).toEqual(['30h firing->resolved', '31h resolved->inactive']);
    // Past `until` the acceptance is dropped: the live baseline holds only accepted data by then.
    expect(engine.alertStates.get(s.id)!.accepted).toBeUndefined();
  });
});
