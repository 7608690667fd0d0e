/**
 * policy_activation_rate: (denials [+ escalations]) / all policy decisions, or with `per: run` the
 * share of runs with at least one activation. Contributors are the denied policy rules.
 *
 * Tests. Per decision (the default) the rate is a ratio of means over runs, activations per run over
 * decisions per run, and the decisions of one run are not independent (a run that probes a guardrail
 * hits it again and again), so a two-proportion test over decisions would count ten correlated
 * denials as ten independent draws. The delta-method ratio test (ratioZTest) takes the run as the
 * unit instead, from Σact, Σact², Σdec, Σdec², Σact·dec and the runs. With `per: run` each run is one
 * yes/no trial and the two-proportion z-test over runs is the right test.
 */
import type { Rule } from '../rules/types.js';
import { ratioZTest, twoProportionZTest, type RatioSums } from '../stats/index.js';
import { baselinePick, baselineValue, medianValueWindow } from './baseline.js';
import { scalarMeasurement, type Measurement } from './result.js';
import { groupColumns, GroupTable, num, runsSubquery, type BuiltQuery } from './sql.js';
import type { WindowBounds } from './types.js';

export function policyQueries(rule: Rule, table: string, windows: readonly WindowBounds[]): BuiltQuery[] {
  const groups = groupColumns(rule);
  const byGroup = [...groups, 'w'].join(', ');
  const act = rule.options.escalations === false ? 'policy_denials' : '(policy_denials + policy_escalations)';
  const dec = '(toUInt64(policy_allows) + policy_denials + policy_escalations)';
  const params: Record<string, unknown> = {};
  const sql = `SELECT ${byGroup}, count() AS runs,
  sum(${dec}) AS decisions,
  sum(toUInt64(${act})) AS activations,
  sum(${dec} * ${dec}) AS decisions_sq,
  sum(toUInt64(${act}) * ${act}) AS activations_sq,
  sum(toUInt64(${act}) * ${dec}) AS activations_x_decisions,
  countIf(${act} > 0) AS runs_with_activation,
  sumMap(CAST(denied_rules, 'Array(String)'), arrayMap(x -> toUInt64(1), denied_rules)) AS rules_hit,
  groupArrayIf(3)(run_id, ${act} > 0 AND w = 0) AS examples
FROM (${runsSubquery(rule, table, windows, params, ['policy_allows', 'policy_denials', 'policy_escalations', 'denied_rules'])})
GROUP BY ${byGroup}`;
  return [{ sql, params }];
}

interface PolicyWindow {
  runs: number;
  trials: number;
  successes: number;
  /** Per run, X = activations and Y = decisions (the per-decision test's unit is the run). */
  perDecision: RatioSums;
  rules: Map<string, number>;
  examples: string[];
}

export function policyMeasure(rule: Rule, windows: readonly WindowBounds[], rows: readonly (readonly Record<string, unknown>[])[]): Measurement[] {
  const perRun = rule.options.per === 'run';
  const groups = new GroupTable(rule, (labels) => ({
    labels,
    win: windows.map((): PolicyWindow => ({
      runs: 0,
      trials: 0,
      successes: 0,
      perDecision: { n: 0, sumX: 0, sumXSq: 0, sumY: 0, sumYSq: 0, sumXY: 0 },
      rules: new Map(),
      examples: [],
    })),
  }));
  for (const r of rows[0] ?? []) {
    const g = groups.of(r);
    const hit = r.rules_hit as [string[], (number | string)[]] | Record<string, unknown>;
    const ruleCounts = new Map<string, number>();
    // sumMap returns a tuple (keys, values): JSON gives it as a 2-element array or an object.
    const [keys, vals] = Array.isArray(hit) ? hit : [Object.values(hit)[0] as string[], Object.values(hit)[1] as number[]];
    (keys ?? []).forEach((key, i) => ruleCounts.set(key, num(vals?.[i])));
    g.win[num(r.w)] = {
      runs: num(r.runs),
      trials: perRun ? num(r.runs) : num(r.decisions),
      successes: perRun ? num(r.runs_with_activation) : num(r.activations),
      perDecision: {
        n: num(r.runs),
        sumX: num(r.activations),
        sumXSq: num(r.activations_sq),
        sumY: num(r.decisions),
        sumYSq: num(r.decisions_sq),
        sumXY: num(r.activations_x_decisions),
      },
      rules: ruleCounts,
      examples: (r.examples as string[]) ?? [],
    };
  }
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    const pick = baselinePick(g.win.map((w) => w.runs));
    const rate = (w: number) => (g.win[w]!.trials > 0 ? g.win[w]!.successes / g.win[w]!.trials : null);
    const current = rate(0);
    const baseline = baselineValue(pick, rate);
    const cur = g.win[0]!;
    const base = g.win[medianValueWindow(pick, rate)]!;
    const test = perRun
      ? twoProportionZTest({ successes: cur.successes, trials: cur.trials }, { successes: base.successes, trials: base.trials })
      : ratioZTest(cur.perDecision, base.perDecision);
    const ruleNames = new Set([...cur.rules.keys(), ...base.rules.keys()]);
    const share = (w: PolicyWindow, name: string) => (w.trials > 0 ? (w.rules.get(name) ?? 0) / w.trials : null);
    const contributors = [...ruleNames]
      .map((name) => ({ name, current: share(cur, name), baseline: share(base, name) }))
      .sort((a, b) => (b.current ?? 0) - (b.baseline ?? 0) - ((a.current ?? 0) - (a.baseline ?? 0)))
      .slice(0, 5);
    out.push(scalarMeasurement({
      labels: g.labels,
      key: '',
      current,
      baseline,
      currentRuns: cur.runs,
      baselineRuns: pick.runs,
      test,
      testName: perRun ? 'two_proportion_z' : 'ratio_z_delta',
      contributors,
      exampleRunIds: cur.examples,
      extra: { activations: cur.successes, decisions_or_runs: cur.trials },
    }));
  }
  return out;
}
