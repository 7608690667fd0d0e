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
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

/**
 * Per run, X = activations and Y = decisions, from the totals' second moments of (allows a, denials
 * d, escalations e): Y = a + d + e, X = d + e (or d without escalations).
 */
export function perDecisionSums(r: Record<string, unknown>, escalations: boolean): RatioSums & { runsWithActivation: number } {
  const [a, d, e] = [num(r.allows), num(r.denials), num(r.escalations)];
  const [aa, dd, ee] = [num(r.allows_sq), num(r.denials_sq), num(r.escalations_sq)];
  const [ad, ae, de] = [num(r.allows_x_denials), num(r.allows_x_escalations), num(r.denials_x_escalations)];
  const sumY = a + d + e;
  const sumYSq = aa + dd + ee + 2 * (ad + ae + de);
  return escalations
    ? { n: num(r.runs), sumX: d + e, sumXSq: dd + 2 * de + ee, sumY, sumYSq, sumXY: ad + ae + dd + ee + 2 * de, runsWithActivation: num(r.runs_activated) }
    : { n: num(r.runs), sumX: d, sumXSq: dd, sumY, sumYSq, sumXY: ad + dd + de, runsWithActivation: num(r.runs_denied) };
}

interface PolicyWindow {
  runs: number;
  trials: number;
  successes: number;
  /** Per run, X = activations and Y = decisions (the per-decision test's unit is the run). */
  perDecision: RatioSums;
  rules: Map<string, number>;
}

export function policyMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const perRun = rule.options.per === 'run';
  const groups = new GroupTable(rule, (labels) => ({
    labels,
    win: windows.map((): PolicyWindow => ({
      runs: 0,
      trials: 0,
      successes: 0,
      perDecision: { n: 0, sumX: 0, sumXSq: 0, sumY: 0, sumYSq: 0, sumXY: 0 },
      rules: new Map(),
    })),
  }));
  const escalations = rule.options.escalations !== false;
  for (const r of sums.totals) {
    const win = groups.of(r).win[num(r.w)]!;
    const sums = perDecisionSums(r, escalations);
    const { runsWithActivation, ...perDecision } = sums;
    win.runs = sums.n;
    win.trials = perRun ? sums.n : sums.sumY;
    win.successes = perRun ? runsWithActivation : sums.sumX;
    win.perDecision = perDecision;
  }
  for (const r of sums.keyed) if (r.key_kind === 'denied_rule') groups.of(r).win[num(r.w)]!.rules.set(String(r.key), num(r.value));
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
      exampleRunIds: [],
      extra: { activations: cur.successes, decisions_or_runs: cur.trials },
    }));
  }
  return out;
}
