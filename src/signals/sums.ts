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
import { keyKindsAmong } from './keyKinds.js';
import type { BuiltQuery } from './sql.js';
import type { WindowBounds } from './types.js';

export type SumsRow = Record<string, unknown>;

/** A signal's inputs for one rule at one time: window `w` of each row indexes the rule's windows. */
export interface SignalSums {
  readonly totals: readonly SumsRow[];
  readonly keyed: readonly SumsRow[];
}

/** Runs one query with bound parameters; `signal` aborts it (a group timeout, a shutdown). */
export type QueryFn = (sql: string, params: Record<string, unknown>, signal?: AbortSignal) => Promise<SumsRow[]>;

/** Reads within one scope (one group evaluation): identical reads are made once and shared. */
export interface SumsReader {
  sumsFor(rule: Rule, at: number, windows: readonly WindowBounds[]): Promise<SignalSums>;
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
    const run = (q: BuiltQuery): Promise<SumsRow[]> => {
      const key = `${q.sql}\u0000${JSON.stringify(q.params)}`;
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
    };
  }
}
