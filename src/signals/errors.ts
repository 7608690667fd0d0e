/**
 * error_rate: the share of runs whose outcome is an error (`outcome: [...]`, default every outcome
 * but `success`), a two-proportion z-test over runs; contributors are the outcomes' shares.
 * tool_error_rate: per tool, failed calls / calls (`tool_errors` / `tool_calls`), a ratio of means
 * over runs tested with the delta method (ratioZTest): the calls of one run are not independent (a
 * run whose tool is down fails every retry), so the run is the unit, not the call.
 */
import type { Rule } from '../rules/types.js';
import { ratioZTest, twoProportionZTest } from '../stats/index.js';
import type { Measurement } from './result.js';
import { scalarSeries } from './scalar.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

interface OutcomeWindow {
  runs: number;
  successes: number;
  outcomes: Map<string, number>;
}

export function errorRateMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const groups = new GroupTable(rule, (labels) => ({ labels, win: windows.map((): OutcomeWindow => ({ runs: 0, successes: 0, outcomes: new Map() })) }));
  for (const r of sums.totals) {
    const w = groups.of(r).win[num(r.w)]!;
    w.runs = num(r.runs);
    w.successes = num(r.successes);
  }
  for (const r of sums.keyed) {
    if (r.key_kind !== 'outcome') continue;
    const m = groups.of(r).win[num(r.w)]!.outcomes;
    m.set(String(r.key), (m.get(String(r.key)) ?? 0) + num(r.value));
  }
  const listed = rule.options.outcome;
  const errors = (w: OutcomeWindow) => (listed === undefined ? w.runs - w.successes : listed.reduce((s, o) => s + (w.outcomes.get(o) ?? 0), 0));
  const rate = (w: OutcomeWindow) => (w.runs > 0 ? errors(w) / w.runs : null);
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    // The outcomes that count, biggest in the current window first: which kind of failure moved.
    const names = [...new Set(g.win.flatMap((w) => [...w.outcomes.keys()]))].filter((o) => (listed === undefined ? o !== 'success' : listed.includes(o)));
    names.sort((a, b) => (g.win[0]!.outcomes.get(b) ?? 0) - (g.win[0]!.outcomes.get(a) ?? 0) || (a < b ? -1 : 1));
    out.push(
      scalarSeries({
        labels: g.labels,
        key: '',
        win: g.win,
        runs: (w) => w.runs,
        value: rate,
        testName: 'two_proportion_z',
        test: (c, b) => twoProportionZTest({ successes: errors(c), trials: c.runs }, { successes: errors(b), trials: b.runs }),
        contributors: (_pick, both) => names.slice(0, 5).map((o) => ({ name: o, ...both((w) => (w.runs > 0 ? (w.outcomes.get(o) ?? 0) / w.runs : null)) })),
      }),
    );
  }
  return out;
}

interface ToolErrorWindow {
  runs: number;
  calls: number;
  callsSq: number;
  errors: number;
  errorsSq: number;
  errorsXCalls: number;
}

export function toolErrorRateMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const empty = (): ToolErrorWindow => ({ runs: 0, calls: 0, callsSq: 0, errors: 0, errorsSq: 0, errorsXCalls: 0 });
  const groups = new GroupTable(rule, (labels) => ({ labels, runs: windows.map(() => 0), tools: new Map<string, ToolErrorWindow[]>() }));
  for (const r of sums.totals) groups.of(r).runs[num(r.w)] = num(r.runs);
  for (const r of sums.keyed) {
    if (r.key_kind !== 'tool' && r.key_kind !== 'tool_error') continue;
    const g = groups.of(r);
    const key = String(r.key);
    let t = g.tools.get(key);
    if (!t) g.tools.set(key, (t = windows.map(empty)));
    const w = t[num(r.w)]!;
    if (r.key_kind === 'tool') {
      w.calls = num(r.value);
      w.callsSq = num(r.value_sq);
    } else {
      w.errors = num(r.value);
      w.errorsSq = num(r.value_sq);
      w.errorsXCalls = num(r.value_x_total);
    }
  }
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    const perTool: Measurement[] = [];
    for (const [tool, win] of [...g.tools].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      win.forEach((w, i) => (w.runs = g.runs[i] ?? 0));
      perTool.push(
        scalarSeries({
          labels: { ...g.labels, tool },
          key: tool,
          win,
          runs: (w) => w.runs,
          value: (w) => (w.calls > 0 ? w.errors / w.calls : null),
          testName: 'ratio_z_delta',
          test: (c, b) =>
            ratioZTest(
              { n: c.runs, sumX: c.errors, sumXSq: c.errorsSq, sumY: c.calls, sumYSq: c.callsSq, sumXY: c.errorsXCalls },
              { n: b.runs, sumX: b.errors, sumXSq: b.errorsSq, sumY: b.calls, sumYSq: b.callsSq, sumXY: b.errorsXCalls },
            ),
          contributors: (_pick, both) => [
            { name: 'failed_calls_per_run', ...both((w) => (w.runs > 0 ? w.errors / w.runs : null)) },
            { name: 'calls_per_run', ...both((w) => (w.runs > 0 ? w.calls / w.runs : null)) },
          ],
        }),
      );
    }
    out.push(...perTool);
  }
  return out;
}
