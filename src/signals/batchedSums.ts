/**
 * The backtest's storage port: sums fetched a batch of evaluation times at a time (batch.ts). The
 * replay itself stays one evaluation after another through the daemon's engine; only where the
 * sums come from changes. For a rule at a planned time, the rows of that time and of the group's
 * next `batchSize - 1` planned times are asked for in one pair of queries, shared by every rule of
 * the group with the same `where`, `group_by` and windows (as within one evaluation). A time the plan
 * does not hold, or one behind the replay (a warm start's replay at `at - for`), runs its own
 * queries. Memory is bounded by one batch per rule shape, and a step's rows are let go once the
 * replay has moved past it.
 *
 * Windows are fetched once, not once per step: a step's windows are kept by their bounds, and a step
 * that needs a window an earlier batch fetched (a robust rule's day windows at hourly steps: the
 * 7-day rule's day k at t + 1 day is its day k - 1 at t, so 13 of a step's 14 days were fetched a
 * day's worth of steps before) takes its rows from there. A batch asks only for its new windows; the
 * windows of the batch before are kept until this one is fetched, the rest let go.
 *
 * Windows are kept per filter (`where` and `group_by`) and key kinds, not per group: the shipped fast
 * group's one-day windows at t and t - 7 days are days of the 7-day group's, which fetched them a
 * moment before (the replay goes in time order, groups in file order at each time), with the same
 * kinds. A window stays while any batch in use with that filter and those kinds needs it.
 */
import type { Rule, RuleGroup } from '../rules/types.js';
import type { AggregateSource } from '../store/aggregates.js';
import { signalQueries } from './aggregateQuery.js';
import { num } from './sql.js';
import { keyKindsAmong } from './keyKinds.js';
import type { KeyKind } from '../store/aggregates.js';
import { StoreSums, type QueryFn, type SignalSums, type SumsPort, type SumsReader } from './sums.js';
import type { SumsRow, WindowBounds } from './types.js';
import { evaluationWindows, readShape } from './windows.js';
import { filterOf } from './sharedReads.js';

/** A day of hourly steps: enough to make a query's fixed cost small, few enough rows to hold. */
export const BACKTEST_BATCH = 24;

interface Batch {
  readonly times: readonly number[];
  /** Per step, its windows' keys (windowKey) in the step's window order. */
  readonly windowsOf: readonly (readonly string[])[];
  /** What its windows' rows hold (readsOf): the batches whose windows it may share. */
  readonly reads: string;
  /** The rows of every window the batch needs, fetched by it or before it. */
  readonly rows: ReadonlyMap<string, Promise<WindowRows>>;
  /** Per step, its sums once a rule has asked for them. */
  readonly steps: (Promise<SignalSums> | undefined)[];
  /** The latest time asked for: the replay moves forward, so earlier steps' rows are let go. */
  latest: number;
}

/** Rows of one fetched window (their `w` is the window's number in the query that fetched them). */
interface WindowRows {
  readonly totals: readonly SumsRow[];
  readonly keyed: readonly SumsRow[];
}

const windowKey = (w: WindowBounds): string => `${w.startMs}:${w.endMs}`;

export class BatchedSums implements SumsPort {
  /** Per group: its planned times, ascending. */
  private readonly times = new Map<string, readonly number[]>();
  private readonly groupOf = new Map<string, string>();
  /** Per group and rule shape: the batch in use. */
  private readonly batches = new Map<string, Batch>();
  /** Per filter and key kinds (readsOf): the rows of the windows some batch in use needs, by windowKey. */
  private readonly windows = new Map<string, Map<string, Promise<WindowRows>>>();
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
    const kinds = this.kindsIn.get(group!)!(rule);
    const key = `${group}\u0000${readShape(rule)}`;
    let batch = this.batches.get(key);
    // Behind the replay (a warm start's replay at `at - for`): its own queries, the batch stays.
    if (batch && at < batch.latest) return undefined;
    if (!batch || !batch.times.includes(at)) {
      const from = binarySearch(times, at);
      if (from < 0) return undefined;
      batch = this.fetch(rule, kinds, key, times.slice(from, from + (this.o.batchSize ?? BACKTEST_BATCH)));
    }
    const step = batch.times.indexOf(at);
    batch.latest = at;
    // One SignalSums per step, shared by the rules reading it (their merges are shared: sharedMerge);
    // the replay only moves forward, so the steps before this one are let go.
    batch.steps.fill(undefined, 0, step);
    const windows = batch.windowsOf[step]!;
    return (batch.steps[step] ??= Promise.all(windows.map((k) => batch.rows.get(k)!)).then(stepSums));
  }

  private fetch(rule: Rule, kinds: readonly KeyKind[], key: string, times: readonly number[]): Batch {
    const steps = times.map((t) => evaluationWindows(rule, t).fetch);
    const windowsOf = steps.map((ws) => ws.map(windowKey));
    const reads = readsOf(rule, kinds);
    const cache = this.windows.get(reads) ?? new Map<string, Promise<WindowRows>>();
    this.windows.set(reads, cache);
    const rows = new Map<string, Promise<WindowRows>>();
    const missing = new Map<string, WindowBounds>();
    steps.forEach((ws) =>
      ws.forEach((w) => {
        const k = windowKey(w);
        const had = cache.get(k);
        if (had !== undefined) rows.set(k, had);
        else if (!missing.has(k)) missing.set(k, { index: missing.size, startMs: w.startMs, endMs: w.endMs });
      }),
    );
    const wanted = [...missing.values()];
    if (wanted.length > 0) {
      const { totals: tq, keyed: kq } = signalQueries(rule, this.o.table, wanted, this.o.source, kinds);
      const fetched = Promise.all([this.o.query(tq.sql, tq.params), kq === null ? [] : this.o.query(kq.sql, kq.params)]).then(([totals, keyed]) => {
        const byWindow = wanted.map(() => ({ totals: [] as SumsRow[], keyed: [] as SumsRow[] }));
        for (const r of totals) byWindow[num(r.w)]?.totals.push(r);
        for (const r of keyed) byWindow[num(r.w)]?.keyed.push(r);
        return byWindow;
      });
      wanted.forEach((w, i) => {
        const k = windowKey(w);
        const one = fetched.then((byWindow) => byWindow[i]!);
        rows.set(k, one);
        cache.set(k, one);
      });
      // A failed batch fails each of its evaluations (as the store would have; nobody may be waiting
      // yet), and its windows are not kept: a later batch asks again.
      fetched.catch(() => {
        for (const w of wanted) if (cache.get(windowKey(w)) === rows.get(windowKey(w))) cache.delete(windowKey(w));
      });
      for (const p of rows.values()) p.catch(() => undefined);
    }
    const batch: Batch = { times, windowsOf, reads, rows, steps: times.map(() => undefined), latest: times[0]! };
    this.batches.set(key, batch);
    // Kept: the windows of the batches in use that read the same (this one's included); the rest let go.
    const used = new Set<string>();
    for (const b of this.batches.values()) if (b.reads === reads) for (const w of b.rows.keys()) used.add(w);
    for (const k of cache.keys()) if (!used.has(k)) cache.delete(k);
    return batch;
  }
}

/** A step's sums from its windows' rows, each row numbered as the step's window it counts in. */
function stepSums(windows: readonly WindowRows[]): SignalSums {
  const totals: SumsRow[] = [];
  const keyed: SumsRow[] = [];
  windows.forEach((rows, w) => {
    for (const r of rows.totals) totals.push({ ...r, w });
    for (const r of rows.keyed) keyed.push({ ...r, w });
  });
  return { totals, keyed };
}

/** What a window's rows hold: the filter and grouping and the key kinds asked for. */
function readsOf(rule: Rule, kinds: readonly KeyKind[]): string {
  return `${filterOf(rule)}\u0000${kinds.join(',')}`;
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
