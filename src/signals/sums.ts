/**
 * The storage port of the engine: "the sums of this rule's signal for these windows". Every signal
 * measures from two named inputs, summed per group and window in ClickHouse (never from runs):
 * `totals` (one row per group and window: runs, successes, cost and policy sums, calls per run) and
 * `keyed` (one row per group, window and key: per tool, tool pair, fingerprint, denied rule). Where
 * they are read from (the aggregate tiers, raw agent_runs at the window edges: aggregateQuery.ts),
 * which reads are shared, and which are fetched ahead (a backtest's batches: batchedSums.ts) is
 * decided behind this port, as Prometheus' rule manager asks a QueryFunc for "this expression at
 * this time" and leaves the rest to the storage.
 */
import type { Rule } from '../rules/types.js';
import type { AggregateSource } from '../store/aggregates.js';
import { signalQueries } from './aggregateQuery.js';
import { batchedSignalQueries, flattenSteps, splitSteps } from './batch.js';
import { keyKindsAmong } from './keyKinds.js';
import type { BuiltQuery } from './sql.js';
import type { SignalSums, SumsRow, WindowBounds } from './types.js';
import { evaluationWindows, readShape } from './windows.js';

export type { SignalSums, SumsRow } from './types.js';

/** Runs one query with bound parameters; `signal` aborts it (a group timeout, a shutdown). */
export type QueryFn = (sql: string, params: Record<string, unknown>, signal?: AbortSignal) => Promise<SumsRow[]>;

/** A read a scope will make: `rule`'s sums at `at` (its evaluation windows there: evaluationWindows). */
export interface PlannedRead {
  readonly rule: Rule;
  readonly at: number;
}

/** Reads within one scope (one group evaluation): identical reads are made once and shared. */
export interface SumsReader {
  sumsFor(rule: Rule, at: number, windows: readonly WindowBounds[]): Promise<SignalSums>;
  /**
   * A hint of the reads this scope will make (a cold start's `for` replays and the evaluations after
   * them): a reader may fetch the times of rules that share their queries in one batch (batch.ts)
   * instead of one query pair per time. Reads nothing that is not listed.
   */
  prefetch?(reads: readonly PlannedRead[]): void;
}

export interface SumsPort {
  /**
   * A scope of shared reads; `signal` aborts its queries. `rules`: the rules that will read in it (a
   * group's), so that rules sharing a query ask it for every key kind any of them reads and no more
   * (keyKinds.ts); without them a keyed query asks for its own rule's kinds.
   */
  reader(signal?: AbortSignal, rules?: readonly Rule[]): SumsReader;
}

export interface StoreSumsOptions {
  readonly query: QueryFn;
  /** Fully qualified agent_runs. */
  readonly table: string;
  /** The aggregate tables found ready in the store now (absent or null: agent_runs only). */
  readonly aggregates?: () => AggregateSource | null;
}

/**
 * The sums from the store: the totals and keyed queries of aggregateQuery.ts for the rule's filter
 * and windows. Within a reader, rules that need the same sums at the same time (every signal reads
 * the totals; rules of a group often share a filter) share one query.
 */
export class StoreSums implements SumsPort {
  constructor(private readonly o: StoreSumsOptions) {}

  reader(signal?: AbortSignal, rules?: readonly Rule[]): SumsReader {
    const cache = new Map<string, Promise<SumsRow[]>>();
    const kindsOf = keyKindsAmong(rules ?? []);
    const keyOf = (q: BuiltQuery): string => `${q.sql}\u0000${JSON.stringify(q.params)}`;
    const run = (q: BuiltQuery): Promise<SumsRow[]> => {
      const key = keyOf(q);
      let rows = cache.get(key);
      if (rows === undefined) cache.set(key, (rows = this.o.query(q.sql, q.params, signal)));
      return rows;
    };
    return {
      sumsFor: async (rule, _at, windows) => {
        const q = signalQueries(rule, this.o.table, windows, this.o.aggregates?.() ?? null, kindsOf(rule));
        const [totals, keyed] = await Promise.all([run(q.totals), q.keyed === null ? [] : run(q.keyed)]);
        return { totals, keyed };
      },
      // Per read shape (rules whose queries are the same at any one time: readShape), the times not
      // read yet go into one query pair, and each time's rows are cached under the queries that time
      // alone would have made, where sumsFor finds them.
      prefetch: (reads) => {
        const source = this.o.aggregates?.() ?? null;
        const shapes = new Map<string, { rule: Rule; times: Set<number> }>();
        for (const { rule, at } of reads) {
          const key = readShape(rule);
          const shape = shapes.get(key) ?? { rule, times: new Set<number>() };
          shapes.set(key, shape);
          shape.times.add(at);
        }
        for (const { rule, times } of shapes.values()) {
          const kinds = kindsOf(rule);
          const todo = [...times]
            .map((t) => evaluationWindows(rule, t).fetch)
            .map((windows) => ({ windows, q: signalQueries(rule, this.o.table, windows, source, kinds) }))
            .filter(({ q }) => !cache.has(keyOf(q.totals)));
          if (todo.length < 2) continue;
          const steps = todo.map((s) => s.windows);
          const batched = batchedSignalQueries(rule, this.o.table, steps, source, kinds);
          const { perStep } = flattenSteps(steps);
          const split = Promise.all([run(batched.totals), batched.keyed === null ? [] : run(batched.keyed)]).then(([totals, keyed]) => splitSteps({ totals, keyed }, todo.length, perStep));
          todo.forEach(({ q }, i) => {
            cache.set(keyOf(q.totals), split.then((s) => s[i]!.totals as SumsRow[]));
            if (q.keyed !== null) cache.set(keyOf(q.keyed), split.then((s) => s[i]!.keyed as SumsRow[]));
          });
          // A failure reaches each time's evaluation through its cached rows, as its own query's would.
          split.catch(() => undefined);
        }
      },
    };
  }
}
