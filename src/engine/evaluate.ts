/**
 * One evaluation of one rule at a given time. I/O comes in as a query function, so the same code
 * serves the daemon, `eval --once`, and tests.
 */
import type { Rule } from '../rules/types.js';
import { SIGNAL_IMPLS, windowsFor, type SeriesEvaluation } from '../signals/index.js';
import type { WindowBounds } from '../signals/types.js';
import { decide } from './verdict.js';

export type QueryFn = (sql: string, params: Record<string, unknown>) => Promise<Record<string, unknown>[]>;

export interface RuleEvaluation {
  readonly rule: Rule;
  readonly at: number;
  readonly windows: readonly WindowBounds[];
  readonly series: readonly SeriesEvaluation[];
  /** Set when a query failed: then `series` is empty and every known series of the rule is in error. */
  readonly error: string | null;
  readonly durationMs: number;
}

export async function evaluateRule(query: QueryFn, table: string, rule: Rule, at: number, now: () => number = Date.now): Promise<RuleEvaluation> {
  const started = now();
  const windows = windowsFor(rule.windowMs, rule.baseline, at);
  const signal = SIGNAL_IMPLS[rule.signal];
  try {
    const rows = await Promise.all(signal.queries(rule, table, windows).map((q) => query(q.sql, q.params)));
    const series = decide(rule, signal, signal.measure(rule, windows, rows));
    return { rule, at, windows, series, error: null, durationMs: now() - started };
  } catch (err) {
    return { rule, at, windows, series: [], error: (err as Error)?.message ?? String(err), durationMs: now() - started };
  }
}
