/**
 * One evaluation of one rule at a given time: the signal's sums, its measurements, the verdict.
 * I/O comes in through the storage port (signals/sums.ts: the rule's sums for its windows), so the
 * same code serves the daemon, `eval`, a backtest's batches and tests on a fake port.
 *
 * Only what the data store can cause becomes the rule's `error` outcome: a ClickHouse error (the
 * access layer classifies every failure of a query as ClickHouseAccessError) or an abort (a group
 * timeout, a shutdown). Anything else is a bug in agentdrift and is thrown, so it is reported as one
 * instead of looking like a ClickHouse outage.
 */
import { ClickHouseAccessError } from '../clickhouse/client.js';
import type { Rule } from '../rules/types.js';
import { SIGNAL_IMPLS, type SumsReader } from '../signals/index.js';
import { onlyKeyKinds, keyKindsOf } from '../signals/keyKinds.js';
import { groupKeyOf } from '../signals/sql.js';
import { evaluationWindows } from '../signals/windows.js';
import { assemble, trimmedExtras } from './robust.js';
import type { RuleEvaluation } from './types.js';
import { verdicts } from './verdict.js';

/** Whether a failed evaluation is an outcome (store down, query refused, aborted) rather than a bug. */
export function isStoreFailure(err: unknown, signal?: AbortSignal): boolean {
  return err instanceof ClickHouseAccessError || signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

export async function evaluateRule(
  sums: SumsReader,
  rule: Rule,
  at: number,
  now: () => number = Date.now,
  signal?: AbortSignal,
  /** Frozen baselines of the rule's firing series, by series id (see verdict.ts). */
  frozen?: ReadonlyMap<string, number>,
  /** Ids of the rule's firing series (they resolve at the resolve threshold). */
  holding?: ReadonlySet<string>,
): Promise<RuleEvaluation> {
  const started = now();
  const plan = evaluationWindows(rule, at);
  const windows = plan.main;
  const impl = SIGNAL_IMPLS[rule.signal];
  let input;
  try {
    input = await sums.sumsFor(rule, at, plan.fetch);
  } catch (err) {
    if (!isStoreFailure(err, signal)) throw err;
    return { rule, at, windows, series: [], error: (err as Error)?.message ?? String(err), durationMs: now() - started };
  }
  // Measuring and judging are pure: a throw here is a bug and propagates.
  // The rule's own key kinds: a query shared with other rules carries theirs too.
  const parts = assemble(rule, impl, plan, onlyKeyKinds(input, keyKindsOf(rule)));
  // Groups in a fixed order (ClickHouse returns GROUP BY rows in any order), each group's keys as measured.
  const measured = impl
    .measure(rule, windows, parts.main)
    .map((m) => {
      const g = groupKeyOf(rule, m.labels);
      return { m: trimmedExtras(plan, parts.trimmed, m, g), g };
    })
    .sort((a, b) => (a.g < b.g ? -1 : a.g > b.g ? 1 : 0))
    .map((x) => x.m);
  // The confirm window measured as the current window (a volume is scaled to its length).
  const confirmBounds = plan.confirm === null ? null : plan.fetch[plan.confirm]!;
  const confirm = parts.confirm === null || confirmBounds === null ? null : impl.measure(rule, [{ ...confirmBounds, index: 0 }, ...windows.slice(1)], parts.confirm);
  const series = verdicts(rule, impl, measured, frozen, { ...(holding ? { holding } : {}), confirm });
  return { rule, at, windows, series, error: null, durationMs: now() - started };
}
