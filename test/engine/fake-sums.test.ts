/**
 * The engine's fast tier: behaviour on a fake storage port, no store at all. The port answers a
 * rule's sums from a model of a workflow's hourly runs (cost per run stepping up at a known time),
 * computed as the aggregates would sum them; the tests pin what the engine does with them: a warm
 * start fires a drift older than `for`, too few runs is no-data, a store failure is an error that
 * keeps a firing alert firing, a bug is thrown, and one group evaluation reads through one scope.
 */
import { describe, expect, it } from 'vitest';
import { ClickHouseAccessError } from '../../src/clickhouse/client.js';
import { parseRules } from '../../src/rules/load.js';
import type { RuleGroup } from '../../src/rules/types.js';
import { silentLogger } from '../../src/log.js';
import type { SignalSums, SumsPort, SumsRow } from '../../src/signals/sums.js';
import type { WindowBounds } from '../../src/signals/types.js';
import { ManualClock } from '../../src/util/clock.js';
import { RecordingEngine } from '../helpers/engine.js';

const H = 3_600_000;
const AT = Date.parse('2026-03-15T00:00:00Z');

/** One workflow's runs: `runsPerHour` every hour, 90% successful, cost per run `before` until `stepAt`, then `after`. */
interface Model {
  readonly runsPerHour: number;
  readonly before: number;
  readonly after: number;
  readonly stepAt: number;
}

/** The totals row of one window, as the aggregate tables sum it (cost as token cost, sd 20% of the mean). */
function totals(m: Model, w: WindowBounds, workflow: string): SumsRow {
  let runs = 0;
  let successes = 0;
  let cost = 0;
  let costSq = 0;
  let successCost = 0;
  for (let t = Math.ceil(w.startMs / H) * H; t < w.endMs; t += H) {
    const c = t >= m.stepAt ? m.after : m.before;
    const n = m.runsPerHour;
    runs += n;
    successes += 0.9 * n;
    cost += n * c;
    costSq += n * c * c * 1.04;
    successCost += 0.9 * n * c;
  }
  return {
    w: w.index,
    workflow_id: workflow,
    runs,
    successes,
    token_cost: cost,
    token_cost_sq: costSq,
    success_token_cost: successCost,
    tool_cost: 0,
    tool_cost_sq: 0,
    success_tool_cost: 0,
    token_x_tool_cost: 0,
  };
}

class FakeSums implements SumsPort {
  readers = 0;
  reads = 0;
  failWith: Error | null = null;
  constructor(private readonly model: Model) {}
  reader() {
    this.readers++;
    return {
      sumsFor: async (_rule: unknown, _at: number, windows: readonly WindowBounds[]): Promise<SignalSums> => {
        this.reads++;
        if (this.failWith) throw this.failWith;
        return { totals: windows.map((w) => totals(this.model, w, 'wf')), keyed: [] };
      },
    };
  }
}

function group(extra = ''): RuleGroup {
  const { ruleSet, problems } = parseRules([
    {
      file: 'r.yaml',
      text: `groups:
  - name: g
    interval: 5m
    rules:
      - alert: CostUp
        signal: cost_per_success
        group_by: [workflow_id]
        threshold: 20%
        min_runs: 50
        for: 1h
${extra}`,
    },
  ]);
  expect(problems).toEqual([]);
  return ruleSet!.groups[0]!;
}

function rig(model: Partial<Model> = {}) {
  const sums = new FakeSums({ runsPerHour: 10, before: 0.02, after: 0.04, stepAt: AT - 3 * 24 * H, ...model });
  const engine = new RecordingEngine({ sums, clock: new ManualClock(AT), logger: silentLogger });
  const g = group();
  engine.adoptRuleSet({ groups: [g] });
  return { sums, engine, g, key: 'CostUp{workflow_id="wf"}' };
}

describe('engine on a fake sums port', () => {
  it('a drift older than `for` fires at once (the warm start replays at - for silently)', async () => {
    const { engine, g, key } = rig();
    const r = await engine.evaluateGroup(g, AT);
    expect(r.transitions.map((e) => `${e.transition.from}->${e.transition.to}`)).toEqual(['pending->firing']);
    const s = engine.alertStates.get(key)!;
    expect(s.record.state).toBe('firing');
    // Robust windows: of the three changed days the current window drops the one that stands out most
    // from the rest of its window (engine/robust.ts), so the value is over 2 changed days of 6.
    expect(s.evidence?.current).toBeCloseTo(0.04 / 0.9 * (2 / 6) + 0.02 / 0.9 * (4 / 6), 6);
  });

  it('no step: inactive, nothing sent', async () => {
    const { engine, g, key } = rig({ after: 0.02 });
    const r = await engine.evaluateGroup(g, AT);
    expect(r.transitions).toEqual([]);
    expect(engine.alertStates.get(key)!.record.state).toBe('inactive');
  });

  it('too few runs (min_runs) is no-data, not a verdict', async () => {
    const { engine, g, key } = rig({ runsPerHour: 0.2 });
    await engine.evaluateGroup(g, AT);
    expect(engine.alertStates.get(key)!.record.health).toBe('nodata');
  });

  it('a store failure is an error outcome: a firing alert stays firing, nothing resolves', async () => {
    const { sums, engine, g, key } = rig();
    await engine.evaluateGroup(g, AT);
    sums.failWith = new ClickHouseAccessError('unavailable', 'ClickHouse is unreachable');
    const r = await engine.evaluateGroup(g, AT + 5 * 60_000);
    expect(r.ok).toBe(false);
    expect(r.evaluations[0]!.error).toMatch(/unreachable/);
    expect(r.transitions).toEqual([]);
    expect(engine.alertStates.get(key)!.record).toMatchObject({ state: 'firing', health: 'error' });
  });

  it('a bug (anything but a store failure) is thrown, not turned into an error outcome', async () => {
    const { sums, engine, g } = rig();
    sums.failWith = new TypeError('cannot read properties of undefined');
    await expect(engine.evaluateGroup(g, AT)).rejects.toThrow(TypeError);
  });

  it('one group evaluation reads through one scope (its rules can share reads), warm start included', async () => {
    const sums = new FakeSums({ runsPerHour: 10, before: 0.02, after: 0.04, stepAt: AT - 3 * 24 * H });
    const engine = new RecordingEngine({ sums, clock: new ManualClock(AT), logger: silentLogger });
    const g = group(`      - alert: CostUpToo
        signal: cost_per_success
        group_by: [workflow_id]
        threshold: 30%
        min_runs: 50
`);
    engine.adoptRuleSet({ groups: [g] });
    await engine.evaluateGroup(g, AT);
    expect(sums.readers).toBe(1);
    // CostUp: its replay at AT - for, then AT; CostUpToo (no `for`): AT.
    expect(sums.reads).toBe(3);
  });
});
