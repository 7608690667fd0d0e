/**
 * One pair of queries for a rule at several evaluation times (pure): a cold start's `for` replays and
 * the evaluations after them (StoreSums' prefetch). What a query costs is mostly fixed (planning it,
 * opening the tiers' tables), not proportional to the rows it reads: asking once for several times
 * costs little more than asking for one. (A backtest asks for its batches' windows by their bounds
 * instead, each once: batchedSums.ts.) The windows of every time go into one query as windows of their own, numbered
 * `step * windowsPerStep + window`; windows of neighbouring times overlap, which the query handles
 * (a bucket or a run counts in each window it falls in). The rows are then split back per time, each
 * with its own window numbers, exactly the rows a query for that time alone would return (to
 * floating-point summation order).
 */
import type { Rule } from '../rules/types.js';
import { signalQueries, type AggregateSource } from './aggregateQuery.js';
import { num, type BuiltQuery } from './sql.js';
import type { KeyKind } from '../store/aggregates.js';
import type { SignalSums, SumsRow, WindowBounds } from './types.js';

/** The windows of every step as one list: step s, window i becomes window s * n + i. */
export function flattenSteps(steps: readonly (readonly WindowBounds[])[]): { windows: WindowBounds[]; perStep: number } {
  const perStep = steps[0]?.length ?? 0;
  if (steps.some((w) => w.length !== perStep)) throw new Error('batched windows: every step needs the same number of windows');
  const windows = steps.flatMap((ws, s) => ws.map((w) => ({ ...w, index: s * perStep + w.index })));
  return { windows, perStep };
}

/** The totals and keyed queries for all steps at once. */
export function batchedSignalQueries(
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  steps: readonly (readonly WindowBounds[])[],
  source: AggregateSource | null | undefined,
): { readonly totals: BuiltQuery; readonly keyed: BuiltQuery };
export function batchedSignalQueries(
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  steps: readonly (readonly WindowBounds[])[],
  source: AggregateSource | null | undefined,
  keyKinds: readonly KeyKind[] | undefined,
): { readonly totals: BuiltQuery; readonly keyed: BuiltQuery | null };
export function batchedSignalQueries(
  rule: Pick<Rule, 'where' | 'groupBy'>,
  table: string,
  steps: readonly (readonly WindowBounds[])[],
  source: AggregateSource | null | undefined,
  keyKinds?: readonly KeyKind[],
): { readonly totals: BuiltQuery; readonly keyed: BuiltQuery | null } {
  return signalQueries(rule, table, flattenSteps(steps).windows, source, keyKinds);
}

/**
 * Splits the batched sums into one SignalSums per step, window numbers back to 0..n-1. The rows are
 * the query's own, renumbered in place rather than copied: a batch of times is the reader's largest
 * allocation.
 */
export function splitSteps(batched: { readonly totals: readonly SumsRow[]; readonly keyed: readonly SumsRow[] }, stepCount: number, perStep: number): SignalSums[] {
  const out = Array.from({ length: stepCount }, () => ({ totals: [] as SumsRow[], keyed: [] as SumsRow[] }));
  for (const kind of ['totals', 'keyed'] as const) {
    for (const r of batched[kind]) {
      const w = num(r.w);
      const step = Math.floor(w / perStep);
      if (step < 0 || step >= stepCount) continue;
      r.w = w % perStep;
      out[step]![kind].push(r);
    }
  }
  return out;
}
