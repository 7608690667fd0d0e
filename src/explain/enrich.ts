/**
 * The engine's explain port: after each rule evaluation, the series that are pending or firing (and
 * only those) get an explanation, and their evidence carries its summary and example runs, so the
 * notification that says "firing" already says since when, what moved, which change caused it and
 * which runs show it.
 *
 * Explanations are cached per series. A steady firing alert is re-evaluated every few minutes on
 * windows that barely move, and re-running attribution each time would cost ClickHouse a few queries
 * per series for the same answer; so an explanation is recomputed only when the series starts a new
 * episode (pending again), after `refreshEvery` evaluations, or once the window has moved by
 * `refreshAfterMs` (a fraction of the rule's window by default). A series that stops being pending or
 * firing loses its cache entry. A failed explanation is logged and leaves the alert as it was: an
 * alert must never wait for, or fail because of, its explanation.
 */
import type { AlertSeries } from '../alerting/state.js';
import type { ExplainPort, SeriesExplanation } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { Rule } from '../rules/types.js';
import { explainSeries, type ExplainOptions, type ExplainQuery } from './explain.js';
import { summarize } from './format.js';

export interface ExplainerOptions extends ExplainOptions {
  readonly query: (sql: string, params: Record<string, unknown>, signal?: AbortSignal) => Promise<Record<string, unknown>[]>;
  readonly table: string;
  readonly logger: Logger;
  /** Recompute after this many evaluations of a series (default 36: three hours at a 5-minute interval). */
  readonly refreshEvery?: number;
  /** Recompute once the evaluation time moved this far (default: 10% of the rule's window, at least 1 h). */
  readonly refreshAfterMs?: (rule: Rule) => number;
}

interface Cached {
  readonly episode: number | null;
  readonly at: number;
  evaluations: number;
  readonly value: SeriesExplanation;
}

const HOUR = 3_600_000;

export class SeriesExplainer {
  /** Per rule (by alert name), per series id: the rule's own entries, so a rule's evaluation evicts only its own. */
  private readonly cache = new Map<string, Map<string, Cached>>();
  /** How many explanations were computed (not served from the cache): for tests and the benchmark. */
  computed = 0;

  constructor(private readonly o: ExplainerOptions) {}

  readonly port: ExplainPort = async (rule, series, at, signal) => {
    const out = new Map<string, SeriesExplanation>();
    const live = new Set<string>();
    let mine = this.cache.get(rule.alert);
    if (mine === undefined) this.cache.set(rule.alert, (mine = new Map()));
    for (const s of series) {
      if (s.record.state !== 'pending' && s.record.state !== 'firing') continue;
      live.add(s.id);
      const hit = mine.get(s.id);
      if (hit && !this.stale(rule, s, hit, at)) {
        hit.evaluations++;
        out.set(s.id, hit.value);
        continue;
      }
      try {
        const q: ExplainQuery = (sql, params) => this.o.query(sql, params, signal);
        const e = await explainSeries(q, this.o.table, { rule, labels: s.labels, key: s.key, at, active: true }, this.o);
        this.computed++;
        const value: SeriesExplanation = { summary: summarize(e), exampleRunIds: e.examples.map((x) => x.runId) };
        mine.set(s.id, { episode: s.record.activeAt, at, evaluations: 0, value });
        out.set(s.id, value);
      } catch (err) {
        if (signal?.aborted) break;
        this.o.logger.warn({ err, rule: rule.alert, labels: s.labels }, `rule ${rule.alert}: explaining the alert failed; it is sent without an explanation`);
        if (hit) out.set(s.id, hit.value);
      }
    }
    for (const id of [...mine.keys()]) if (!live.has(id)) mine.delete(id);
    if (mine.size === 0) this.cache.delete(rule.alert);
    return out;
  };

  private stale(rule: Rule, s: AlertSeries, c: Cached, at: number): boolean {
    if (c.episode !== s.record.activeAt) return true;
    if (c.evaluations + 1 >= (this.o.refreshEvery ?? 36)) return true;
    const moved = this.o.refreshAfterMs?.(rule) ?? Math.max(HOUR, rule.windowMs / 10);
    return at - c.at >= moved || at < c.at;
  }
}

