/**
 * The backtest's storage port: sums fetched a batch of evaluation times at a time (batch.ts). The
 * replay itself stays one evaluation after another through the daemon's engine; only where the
 * sums come from changes. For a rule at a planned time, the rows of that time and of the group's
 * next `batchSize - 1` planned times are asked for in one pair of queries, shared by every rule of
 * the group with the same `where`, `group_by` and windows (as within one evaluation). A time the plan
 * does not hold, or one behind the replay (a warm start's replay at `at - for`), runs its own
 * queries. Memory is bounded by one batch per rule shape, and a step's rows are let go once the
 * replay has moved past it.
 */
import type { Rule, RuleGroup } from '../rules/types.js';
import type { AggregateSource } from '../store/aggregates.js';
import { batchedSignalQueries, flattenSteps, splitSteps } from './batch.js';
import { keyKindsAmong } from './keyKinds.js';
import type { KeyKind } from '../store/aggregates.js';
import { StoreSums, type QueryFn, type SignalSums, type SumsPort, type SumsReader } from './sums.js';
import { evaluationWindows } from './windows.js';

const SPENT: SignalSums = { totals: [], keyed: [] };

/** A day of hourly steps: enough to make a query's fixed cost small, few enough rows to hold. */
export const BACKTEST_BATCH = 24;

interface Batch {
  readonly times: readonly number[];
  readonly sums: Promise<SignalSums[]>;
  /** The latest time asked for: the replay moves forward, so earlier steps' rows are let go. */
  latest: number;
}

export class BatchedSums implements SumsPort {
  /** Per group: its planned times, ascending. */
  private readonly times = new Map<string, readonly number[]>();
  private readonly groupOf = new Map<string, string>();
  /** Per group and rule shape: the batch in use. */
  private readonly batches = new Map<string, Batch>();
  /** Times the plan does not hold: their own queries. */
  private readonly direct: StoreSums;
  /** Per group: a rule's key kinds, the union over the group's rules that share its queries. */
  private readonly kindsIn = new Map<string, (rule: Rule) => readonly KeyKind[]>();

  constructor(
    private readonly o: {
      readonly query: QueryFn;
      readonly table: string;
      readonly source: AggregateSource | null;
      readonly plan: readonly { at: number; group: RuleGroup }[];
      readonly batchSize?: number;
    },
  ) {
    this.direct = new StoreSums({ query: o.query, table: o.table, aggregates: () => o.source });
    for (const { at, group } of o.plan) {
      const list = (this.times.get(group.name) as number[] | undefined) ?? [];
      if (list[list.length - 1] !== at) list.push(at);
      this.times.set(group.name, list);
      for (const r of group.rules) this.groupOf.set(r.alert, group.name);
      if (!this.kindsIn.has(group.name)) this.kindsIn.set(group.name, keyKindsAmong(group.rules));
    }
  }

  /** A reader that serves planned times from their batch and any other time (a warm start's replay) from its own queries. */
  reader(signal?: AbortSignal, rules?: readonly Rule[]): SumsReader {
    const direct = this.direct.reader(signal, rules);
    return {
      sumsFor: (rule, at, windows) => this.planned(rule, at) ?? direct.sumsFor(rule, at, windows),
    };
  }

  private planned(rule: Rule, at: number): Promise<SignalSums> | undefined {
    const group = this.groupOf.get(rule.alert);
    const times = group === undefined ? undefined : this.times.get(group);
    if (!times) return undefined;
    const key = `${group}\u0000${JSON.stringify([rule.where, rule.groupBy, rule.windowMs, rule.baseline, rule.confirmWindowMs ?? null])}`;
    let batch = this.batches.get(key);
    // Behind the replay (a warm start's replay at `at - for`): its own queries, the batch stays.
    if (batch && at < batch.latest) return undefined;
    if (!batch || !batch.times.includes(at)) {
      const from = binarySearch(times, at);
      if (from < 0) return undefined;
      batch = this.fetch(rule, group!, times.slice(from, from + (this.o.batchSize ?? BACKTEST_BATCH)));
      this.batches.set(key, batch);
    }
    const step = batch.times.indexOf(at);
    batch.latest = at;
    return batch.sums.then((all) => {
      // The replay only moves forward: the steps before this one are done with, let them go.
      all.fill(SPENT, 0, step);
      return all[step]!;
    });
  }

  private fetch(rule: Rule, group: string, times: readonly number[]): Batch {
    const steps = times.map((t) => evaluationWindows(rule, t).fetch);
    const { perStep } = flattenSteps(steps);
    const { totals: tq, keyed: kq } = batchedSignalQueries(rule, this.o.table, steps, this.o.source, this.kindsIn.get(group)!(rule));
    const sums = Promise.all([this.o.query(tq.sql, tq.params), kq === null ? [] : this.o.query(kq.sql, kq.params)]).then(([totals, keyed]) => splitSteps({ totals, keyed }, times.length, perStep));
    // A failed batch fails each of its evaluations (as the store would have); nobody may be waiting yet.
    sums.catch(() => undefined);
    return { times, sums, latest: times[0]! };
  }
}

function binarySearch(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] === x) return mid;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
