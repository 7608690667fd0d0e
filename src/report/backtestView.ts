/**
 * How `agentdrift backtest` prints its result: the transitions and the per-rule summary as aligned
 * tables, deviations as eval prints them (a relative change, or a distance), and alerts per week only
 * over a span of at least a week (a shorter one is not extrapolated). Pure: the text is printed from
 * the view (backtestJson), the same object the daemon's API answers with.
 */
import type { BacktestResult } from '../engine/backtest.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { formatP, humanize } from '../util/format.js';
import { deviationKindOf, formatDeviation, type DeviationKind } from './evalView.js';

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

/** Columns padded to their widest cell, two spaces apart; the last one not padded. */
export function alignRows(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

/** "2 days", "1 day", "36 hours", "9.5 days": the span a summary counts over. */
export function spanText(ms: number): string {
  if (ms < 2 * DAY_MS) {
    const h = Number((ms / 3_600_000).toFixed(1));
    return `${h} ${h === 1 ? 'hour' : 'hours'}`;
  }
  const d = Number((ms / DAY_MS).toFixed(1));
  return `${d} days`;
}

/** The key a transition's labels carry (the tool, the fingerprint), for the deviation's kind. */
function keyOf(labels: Readonly<Record<string, string>>): string {
  return labels.tool ?? labels.fingerprint ?? '';
}

function kindOf(rules: ReadonlyMap<string, Rule>, rule: string, labels: Readonly<Record<string, string>>): DeviationKind {
  const r = rules.get(rule);
  return r === undefined ? 'relative' : deviationKindOf(r, keyOf(labels));
}

function ruleMap(rules: RuleSet): Map<string, Rule> {
  return new Map(rules.groups.flatMap((g) => g.rules).map((r) => [r.alert, r] as const));
}

/** A transition as the view carries it: with what its deviation is (a distance has no baseline: null). */
export type BacktestViewTransition = BacktestResult['transitions'][number] & { readonly deviation_kind: DeviationKind };

/** A rule's summary as the view carries it: `alerts_per_week` null over a span shorter than a week. */
export type BacktestViewSummary = Omit<BacktestResult['summary'][number], 'alerts_per_week'> & { readonly alerts_per_week: number | null };

/**
 * What `agentdrift backtest` prints, and `--format json` prints as it is: the engine's result with
 * each transition's `deviation_kind`, the span in days, and `alerts_per_week` only over a week or
 * more. It needs no rules to be printed, so the daemon's API can hand it to the command as it is.
 */
export interface BacktestView extends Omit<BacktestResult, 'transitions' | 'summary'> {
  readonly span_days: number;
  readonly transitions: readonly BacktestViewTransition[];
  readonly summary: readonly BacktestViewSummary[];
}

export function formatBacktestText(r: BacktestView): string {
  const spanMs = Date.parse(r.to) - Date.parse(r.from);
  const lines = [`backtest ${r.from} .. ${r.to} (${spanText(spanMs)}): ${r.evaluations} group evaluations, ${r.transitions.length} transitions`, ''];
  if (r.transitions.length > 0) {
    const rows = r.transitions.map((t) => {
      const kind = t.deviation_kind;
      const where = Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',');
      const measured = t.deviation !== null;
      return [
        t.at,
        `${t.rule}{${where}}`,
        `${t.from} -> ${t.to}`,
        measured && kind === 'relative' ? humanize(t.current) : '-',
        measured && kind === 'relative' ? humanize(t.baseline) : '-',
        measured ? formatDeviation(kind, t.deviation) : '-',
        measured ? formatP(t.p_value) : '-',
      ];
    });
    lines.push(...alignRows([['AT', 'SERIES', 'TRANSITION', 'VALUE', 'BASELINE', 'DEVIATION', 'P'], ...rows]), '');
  }
  const weekly = spanMs >= WEEK_MS;
  const header = ['RULE', 'SIGNAL', 'ALERTS', 'FIRING_HOURS', ...(weekly ? ['ALERTS_PER_WEEK'] : [])];
  const rows = r.summary.map((s) => [s.rule, s.signal, String(s.alerts), String(s.firing_hours), ...(weekly ? [String(s.alerts_per_week)] : [])]);
  lines.push(...alignRows([header, ...rows]));
  lines.push(
    weekly
      ? `alerts and firing hours over ${spanText(spanMs)}`
      : `alerts and firing hours over ${spanText(spanMs)}; alerts per week need a span of at least 7 days (not extrapolated)`,
  );
  return lines.join('\n');
}

/** The view of a replay of `rules`: each transition's deviation kind from its rule. */
export function backtestJson(r: BacktestResult, rules: RuleSet): BacktestView {
  const byName = ruleMap(rules);
  const spanMs = Date.parse(r.to) - Date.parse(r.from);
  return {
    ...r,
    span_days: Number((spanMs / DAY_MS).toFixed(3)),
    transitions: r.transitions.map((t) => {
      const kind = kindOf(byName, t.rule, t.labels);
      return { ...t, baseline: kind === 'relative' ? t.baseline : null, deviation_kind: kind };
    }),
    summary: r.summary.map((s) => ({ ...s, alerts_per_week: spanMs >= WEEK_MS ? s.alerts_per_week : null })),
  };
}
