/**
 * What `agentdrift eval`, `explain`, `backtest` and `status` print, as reports: plain JSON objects
 * built from the store (the async builders below), then printed by the pure printers below. A command
 * builds its report itself, or, when a running daemon holds the embedded store, gets the same report
 * from the daemon's API (POST /api/v1/commands/<name>, built by these same builders), and prints it
 * with the same printer: so both ways print the same text and the same JSON.
 */
import { seriesId } from '../alerting/types.js';
import type { ClickHouse } from '../clickhouse/client.js';
import type { BacktestResult } from '../engine/backtest.js';
import { formatExplanation } from '../explain/format.js';
import type { Rule, RuleSet } from '../rules/types.js';
import type { AggregateSource } from '../signals/index.js';
import { formatStatus, type StoreStatus } from '../store/status.js';
import { backtestJson, formatBacktestText, type BacktestView } from './backtestView.js';
import { evalOnce, formatEvalTable, type EvalRow } from './evalOnce.js';
import { failsOn, selectRows, sortRows, type FailOn, type ShownState } from './evalView.js';
import { explainRule } from './explain.js';
import { explanationFromJson, explanationJson, notFiringLine, type RuleTerms, type SeriesStatus } from './explainView.js';

export type Format = 'text' | 'json';
/** 0 ok, 1 findings (a series that fails --fail-on, a rule whose evaluation failed, an unreadable traces table). */
export type ReportExit = 0 | 1;

export interface Printed {
  readonly text: string;
  readonly exit: ReportExit;
}

export interface StoreAccess {
  readonly ch: ClickHouse;
  /** agent_runs, qualified. */
  readonly table: string;
  readonly aggregates: AggregateSource | null;
  readonly traceUrl: ((traceId: string, runId: string) => string | null) | null;
}

/**
 * The report as it travels over HTTP: a command that built its report itself prints this copy of it,
 * so a value JSON cannot carry (undefined, NaN) reads the same on both ways.
 */
export function asSent<T>(report: T): T {
  return JSON.parse(JSON.stringify(report)) as T;
}

// --- eval ---------------------------------------------------------------------------------------

/** Every series of every rule evaluated once as of `at`, every state, in the order eval shows them. */
export interface EvalReport {
  readonly at: string;
  readonly rows: readonly EvalRow[];
}

export async function evalReport(s: StoreAccess, rules: RuleSet, at: number): Promise<EvalReport> {
  const rows = await evalOnce(s.ch, s.table, rules, at, s.aggregates, { traceUrl: s.traceUrl });
  return { at: new Date(at).toISOString(), rows: sortRows(rows) };
}

/** The rows in `states`, as a table or JSON; exit 1 when a series fails --fail-on (any, shown or not) or a rule's evaluation failed. */
export function printEval(r: EvalReport, o: { readonly format: Format; readonly states: readonly ShownState[]; readonly failOn: FailOn }): Printed {
  const { shown, hidden } = selectRows(r.rows, o.states);
  const text = o.format === 'json' ? JSON.stringify(shown, null, 2) : formatEvalTable(shown, hidden);
  return { text, exit: r.rows.some((x) => x.error) || failsOn(r.rows, o.failOn) ? 1 : 0 };
}

// --- explain ------------------------------------------------------------------------------------

export interface ExplainedSeries {
  /** The series' alert state as eval finds it (a daemon started at `at`); null when eval did not see it. */
  readonly status: SeriesStatus | null;
  /** What `explain --format json` prints for the series (explanationJson: ISO times). */
  readonly explanation: Record<string, unknown>;
}

export interface ExplainReport {
  readonly rule: RuleTerms;
  readonly series: readonly ExplainedSeries[];
}

/**
 * The series of `rule` whose labels include `match`, explained as of `at` (explainRule), each with
 * its alert state, so the text can say first when one is not firing.
 */
export async function explainReport(s: StoreAccess, rules: RuleSet, rule: Rule, match: Readonly<Record<string, string>>, at: number): Promise<ExplainReport> {
  const group = rules.groups.find((g) => g.rules.includes(rule))!;
  const found = await explainRule(s.ch, s.table, rule, match, at, { aggregates: s.aggregates, traceUrl: s.traceUrl });
  const rows = await evalOnce(s.ch, s.table, { groups: [{ ...group, rules: [rule] }] }, at, s.aggregates);
  const statusOf = (labels: Readonly<Record<string, string>>): SeriesStatus | null => {
    const r = rows.find((x) => seriesId(x.rule, x.labels) === seriesId(rule.alert, labels));
    if (!r) return null;
    return { state: r.state, deviation: r.deviation, deviationKind: r.deviation_kind, isNew: r.is_new, pValue: r.p_value, reason: r.error };
  };
  return {
    rule: { threshold: rule.threshold, direction: rule.direction, significance: rule.significance, forMs: rule.forMs },
    series: found.map((e) => {
      const status = statusOf(e.labels);
      return { status, explanation: explanationJson(e, status) };
    }),
  };
}

export function printExplain(r: ExplainReport, format: Format): Printed {
  if (format === 'json') return { text: JSON.stringify(r.series.map((x) => x.explanation), null, 2), exit: 0 };
  const texts = r.series.map((x) => {
    const first = x.status === null ? null : notFiringLine(r.rule, x.status);
    return [...(first ? [first] : []), formatExplanation(explanationFromJson(x.explanation))].join('\n');
  });
  return { text: texts.join('\n\n'), exit: 0 };
}

// --- backtest -----------------------------------------------------------------------------------

export type BacktestReport = BacktestView;

export function backtestReport(result: BacktestResult, rules: RuleSet): BacktestReport {
  return backtestJson(result, rules);
}

export function printBacktest(r: BacktestReport, format: Format): Printed {
  return { text: format === 'json' ? JSON.stringify(r, null, 2) : formatBacktestText(r), exit: 0 };
}

// --- status -------------------------------------------------------------------------------------

export interface StatusReport {
  /** The store as `describeTarget` names it: `chdb:/abs/data` or `http://host:8123/db`. */
  readonly store: string;
  readonly status: StoreStatus;
}

/** Exit 1 when the traces table cannot be read: a finding, not a quiet zero. */
export function printStatus(r: StatusReport, format: Format): Printed {
  const text = format === 'json' ? JSON.stringify({ store: r.store, ...r.status }, null, 2) : formatStatus(r.status, r.store);
  return { text, exit: r.status.spanTable.problem !== null ? 1 : 0 };
}
