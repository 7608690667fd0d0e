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
import { aggregateQuery, signalQueries } from './aggregateQuery.js';
import { batchedSignalQueries, flattenSteps, splitSteps } from './batch.js';
import { keyKindsAmong, keyKindsOf } from './keyKinds.js';
import { filterOf, ownRows, planShared, toOwn, type ReadPeers } from './sharedReads.js';
import type { BuiltQuery } from './sql.js';
import type { SignalSums, SumsRow, WindowBounds } from './types.js';
import type { KeyKind } from '../store/aggregates.js';
import { evaluationWindows, readShape } from './windows.js';

export type { SignalSums, SumsRow } from './types.js';
export type { PeerGroup, ReadPeers } from './sharedReads.js';

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
   * (keyKinds.ts); without them a keyed query asks for its own rule's kinds. `peers`: the groups
   * evaluated at the same time (this one among them), whose reads at that time a port may plan
   * together and share (sharedReads.ts).
   */
  reader(signal?: AbortSignal, rules?: readonly Rule[], peers?: ReadPeers): SumsReader;
}

export interface StoreSumsOptions {
  readonly query: QueryFn;
  /** Fully qualified agent_runs. */
  readonly table: string;
  /** The aggregate tables found ready in the store now (absent or null: agent_runs only). */
  readonly aggregates?: () => AggregateSource | null;
}

/** A query run for the readers of several groups (sharedReads.ts), until each group due has had it. */
interface SharedQuery {
  readonly rows: Promise<SumsRow[]>;
  readonly at: number;
  /** The windows it reads (its rows' `w` index them) and, keyed, the kinds it asks for. */
  readonly windows: readonly WindowBounds[];
  readonly kinds: readonly KeyKind[];
  /** Readers that took it (by number), and how many groups due are expected to. */
  readonly takenBy: Set<number>;
  readonly expected: number;
  /** Readers waiting for it whose signal has not aborted: when the last one is, the query is cut. */
  waiting: number;
  settled: boolean;
  readonly abort: AbortController;
}

/**
 * The sums from the store: the totals and keyed queries of aggregateQuery.ts for the rule's filter
 * and windows. Within a reader, rules that need the same sums at the same time (every signal reads
 * the totals; rules of a group often share a filter) share one query; with peers, the groups due at
 * one tick share one query per filter over all their windows (sharedReads.ts).
 */
export class StoreSums implements SumsPort {
  /** Shared queries by kind and filter: the latest tick's, until every group due has taken it. */
  private readonly shared = new Map<string, SharedQuery>();
  private readers = 0;

  constructor(private readonly o: StoreSumsOptions) {}

  reader(signal?: AbortSignal, rules?: readonly Rule[], peers?: ReadPeers): SumsReader {
    const id = this.readers++;
    const cache = new Map<string, Promise<SumsRow[]>>();
    const taken = new Map<string, SharedQuery>();
    const declined = new Set<string>();
    /** Whether prefetch cached reads: then a read finds its own query there first. */
    let prefetched = false;
    const kindsOf = keyKindsAmong(rules ?? []);
    const run = (q: BuiltQuery): Promise<SumsRow[]> => {
      const key = keyOf(q);
      let rows = cache.get(key);
      if (rows === undefined) cache.set(key, (rows = this.o.query(q.sql, q.params, signal)));
      return rows;
    };
    /** The rule's rows of the shared query of its filter, or null when its windows are not all in it. */
    const fromShared = (p: ReadPeers, rule: Rule, keyed: boolean, windows: readonly WindowBounds[]): Promise<readonly SumsRow[]> | null => {
      const key = `${keyed ? 'keyed' : 'totals'}\u0000${filterOf(rule)}`;
      if (declined.has(key)) return null;
      let q = taken.get(key);
      if (q === undefined || !serves(q, rule, keyed)) {
        const found = this.take(key, p, rule, keyed, id, signal);
        if (found === null) {
          // Nothing to share for this filter at this tick (sharedReads.planShared): asked once.
          declined.add(key);
          return null;
        }
        taken.set(key, (q = found));
      }
      const mapping = toOwn(q.windows, windows);
      return mapping === null ? null : q.rows.then((rows) => ownRows(rows, mapping));
    };
    return {
      sumsFor: async (rule, at, windows) => {
        // Built at most once: only when a prefetch may hold it, or when the rule reads alone.
        let built: ReturnType<typeof signalQueries> | undefined;
        const own = (): ReturnType<typeof signalQueries> => (built ??= signalQueries(rule, this.o.table, windows, this.o.aggregates?.() ?? null, kindsOf(rule)));
        // A time its peers read too (a tick, not a replay), not fetched ahead: their shared queries.
        if (peers !== undefined && at === peers.at && !(prefetched && cache.has(keyOf(own().totals)))) {
          // The keyed union's windows are among the totals': past the cap the totals' is first.
          const totals = fromShared(peers, rule, false, windows);
          const keyed = totals === null ? null : keyKindsOf(rule).length === 0 ? Promise.resolve([]) : fromShared(peers, rule, true, windows);
          if (totals !== null && keyed !== null) {
            const [t, k] = await Promise.all([totals, keyed]);
            return { totals: t, keyed: k };
          }
        }
        const q = own();
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
          prefetched = true;
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

  /**
   * The shared query of `key` (a kind and a filter) at the peers' time that serves `rule`: the one a
   * peer started, or a new one planned over the groups due now. A new tick's query replaces the
   * last one's (a group that skipped its tick never takes its share). Null when the rule's group
   * reads nothing of this kind with its filter.
   */
  private take(key: string, peers: ReadPeers, rule: Rule, keyed: boolean, reader: number, signal: AbortSignal | undefined): SharedQuery | null {
    let s = this.shared.get(key);
    if (s === undefined || s.at !== peers.at || !serves(s, rule, keyed)) {
      const plan = planShared(peers, filterOf(rule), keyed);
      if (plan === null) return null;
      const built = aggregateQuery(keyed ? 'keyed' : 'totals', rule, this.o.table, plan.windows, this.o.aggregates?.() ?? null, keyed ? plan.kinds : undefined);
      const abort = new AbortController();
      const created: SharedQuery = { rows: this.o.query(built.sql, built.params, abort.signal), at: peers.at, windows: plan.windows, kinds: plan.kinds, takenBy: new Set(), expected: plan.expected, waiting: 0, settled: false, abort };
      const settle = (): void => {
        created.settled = true;
      };
      created.rows.then(settle, () => {
        settle();
        // A failure is not kept: the next reader asks again.
        if (this.shared.get(key) === created) this.shared.delete(key);
      });
      this.shared.set(key, (s = created));
    }
    const taken = s;
    taken.takenBy.add(reader);
    if (taken.takenBy.size >= taken.expected && this.shared.get(key) === taken) this.shared.delete(key);
    // Cut only when every reader waiting has been aborted: a reader aborted alone waits on, its
    // peers still need the rows (and so does its own evaluation, if the query comes back).
    if (!taken.settled) taken.waiting++;
    // A reader without a signal never stops waiting.
    if (signal !== undefined && !taken.settled) {
      const onAbort = (): void => {
        if (--taken.waiting === 0 && !taken.settled) taken.abort.abort(signal.reason);
      };
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        const done = (): void => signal.removeEventListener('abort', onAbort);
        taken.rows.then(done, done);
      }
    }
    return taken;
  }
}

/** Whether a shared query holds every key kind the rule reads (its windows are checked by toOwn). */
function serves(q: SharedQuery, rule: Rule, keyed: boolean): boolean {
  return !keyed || keyKindsOf(rule).every((k) => q.kinds.includes(k));
}

const keyOf = (q: BuiltQuery): string => `${q.sql}\u0000${JSON.stringify(q.params)}`;
