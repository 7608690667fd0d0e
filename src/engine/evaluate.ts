/**
 * One evaluation of one rule at a given time: the signal's queries, its measurements, the verdict.
 * I/O comes in as a query function, so the same code serves the daemon, `eval --once`, and tests.
 *
 * Only what the data store can cause becomes the rule's `error` outcome: a ClickHouse error (the
 * access layer classifies every failure of a query as ClickHouseAccessError) or an abort (a group
 * timeout, a shutdown). Anything else is a bug in agentdrift and is thrown, so it is reported as one
 * instead of looking like a ClickHouse outage.
 */
import { ClickHouseAccessError } from '../clickhouse/client.js';
import type { Rule } from '../rules/types.js';
import type { AggregateSource } from '../signals/index.js';
import { SIGNAL_IMPLS, windowsFor } from '../signals/index.js';
import type { RuleEvaluation } from './types.js';
import { verdicts } from './verdict.js';

export type QueryFn = (sql: string, params: Record<string, unknown>) => Promise<Record<string, unknown>[]>;

/** Whether a failed evaluation is an outcome (store down, query refused, aborted) rather than a bug. */
export function isStoreFailure(err: unknown, signal?: AbortSignal): boolean {
  return err instanceof ClickHouseAccessError || signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

export async function evaluateRule(
  query: QueryFn,
  table: string,
  rule: Rule,
  at: number,
  now: () => number = Date.now,
  signal?: AbortSignal,
  /** Frozen baselines of the rule's firing series, by series id (see verdict.ts). */
  frozen?: ReadonlyMap<string, number>,
  /** The store's aggregate tables, if ready (null or absent: agent_runs only). */
  source?: AggregateSource | null,
  /** The rows of the rule's queries at `at`, already asked for (a batched backtest); else they are run here. */
  prefetched?: Promise<Record<string, unknown>[][]>,
): Promise<RuleEvaluation> {
  const started = now();
  const windows = windowsFor(rule.windowMs, rule.baseline, at);
  const impl = SIGNAL_IMPLS[rule.signal];
  let rows: Record<string, unknown>[][];
  try {
    rows = prefetched ? await prefetched : await Promise.all(impl.queries(rule, table, windows, source).map((q) => query(q.sql, q.params)));
  } catch (err) {
    if (!isStoreFailure(err, signal)) throw err;
    return { rule, at, windows, series: [], error: (err as Error)?.message ?? String(err), durationMs: now() - started };
  }
  // Measuring and judging are pure: a throw here is a bug and propagates.
  const series = verdicts(rule, impl, impl.measure(rule, windows, rows), frozen);
  return { rule, at, windows, series, error: null, durationMs: now() - started };
}

/**
 * A query function that runs each distinct query (SQL and parameters) once and hands every caller
 * the same rows: the rules of a group evaluated at one time ask for the same aggregates (every signal
 * reads the totals), and this makes that one query. `cache` lives for one group evaluation.
 */
export function sharedQueries(query: QueryFn, cache: Map<string, Promise<Record<string, unknown>[]>>): QueryFn {
  return (sql, params) => {
    const key = `${sql}\u0000${JSON.stringify(params)}`;
    let rows = cache.get(key);
    if (rows === undefined) cache.set(key, (rows = query(sql, params)));
    return rows;
  };
}
