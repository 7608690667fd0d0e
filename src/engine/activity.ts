/**
 * What the engine did lately, kept in memory for the web UI and /api/v1: per rule its last
 * evaluation (when, how long, error, series measured) and skips, the last group evaluations, and the
 * last state transitions. The metrics count these too, but a counter cannot say "the last error of
 * this rule was ..."; the state file keeps state, not history. Bounded: a ring of transitions and of
 * group evaluations, so ten thousand rules flapping cannot grow it without end. Lost at a restart,
 * which the API says (`since`).
 */
import { seriesId } from '../alerting/types.js';
import type { GroupResult, RecordPort, RuleEvaluation, TransitionEvent } from './types.js';
import type { SkipReason } from './skips.js';

export interface RuleActivity {
  readonly lastEvaluationAt: number | null;
  readonly lastDurationMs: number | null;
  readonly lastError: string | null;
  /** When the last evaluation that failed ran; kept after later successes. */
  readonly lastErrorAt: number | null;
  readonly seriesMeasured: number | null;
  readonly evaluations: number;
  readonly errors: number;
  readonly skips: Readonly<Record<SkipReason, number>>;
  readonly lastSkip: { readonly at: number; readonly reason: SkipReason } | null;
}

export interface GroupActivity {
  readonly group: string;
  readonly at: number;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly evaluated: number;
  readonly skipped: number;
  readonly transitions: number;
}

export interface HistoryEntry {
  /** Increasing: a client polling the history asks for entries after the last it saw. */
  readonly seq: number;
  readonly at: number;
  readonly alert: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly value: number | null;
  readonly baseline: number | null;
}

export interface ValuePoint {
  readonly at: number;
  readonly value: number | null;
  readonly baseline: number | null;
}

export const HISTORY_LIMIT = 2_000;
/** Points kept per series for its sparkline: four hours at a 5-minute interval. */
export const VALUES_PER_SERIES = 48;
export const GROUP_LOG_LIMIT = 500;

const NO_SKIPS: Record<SkipReason, number> = { timeout: 0, overlap: 0, shutdown: 0 };

export class ActivityLog {
  private readonly rules = new Map<string, RuleActivity>();
  private readonly groupLog: GroupActivity[] = [];
  private readonly history: HistoryEntry[] = [];
  private readonly values = new Map<string, ValuePoint[]>();
  private seq = 0;

  constructor(readonly since: number) {}

  /** The record port's half that feeds this log; the daemon pairs it with the metrics' (bothRecords). */
  readonly record: RecordPort = {
    rule: (ev) => this.ruleEvaluated(ev),
    group: (r) => this.groupEvaluated(r),
  };

  private ruleEvaluated(ev: RuleEvaluation): void {
    for (const s of ev.series) {
      const id = seriesId(ev.rule.alert, s.labels);
      let points = this.values.get(id);
      if (points === undefined) this.values.set(id, (points = []));
      push(points, VALUES_PER_SERIES, { at: ev.at, value: s.current, baseline: s.baseline });
    }
    const prev = this.ruleOf(ev.rule.alert);
    this.rules.set(ev.rule.alert, {
      ...prev,
      lastEvaluationAt: ev.at,
      lastDurationMs: ev.durationMs,
      lastError: ev.error,
      lastErrorAt: ev.error === null ? prev.lastErrorAt : ev.at,
      seriesMeasured: ev.error === null ? ev.series.length : prev.seriesMeasured,
      evaluations: prev.evaluations + 1,
      errors: prev.errors + (ev.error === null ? 0 : 1),
    });
  }

  private groupEvaluated(r: GroupResult): void {
    for (const s of r.skipped) this.skipped(s.rule, s.reason, r.at);
    push(this.groupLog, GROUP_LOG_LIMIT, {
      group: r.group,
      at: r.at,
      ok: r.ok,
      durationMs: r.durationMs,
      evaluated: r.evaluations.length,
      skipped: r.skipped.length,
      transitions: r.transitions.length,
    });
  }

  /** A rule not evaluated at a tick (an overlapping tick is reported by the scheduler, not the engine). */
  skipped(alert: string, reason: SkipReason, at: number): void {
    const prev = this.ruleOf(alert);
    this.rules.set(alert, { ...prev, skips: { ...prev.skips, [reason]: prev.skips[reason] + 1 }, lastSkip: { at, reason } });
  }

  /** Every committed transition (evaluations, accepts, removed rules), in commit order. */
  transitions(events: readonly TransitionEvent[]): void {
    for (const e of events) {
      const ev = e.series.measured ? e.series.evidence : undefined;
      push(this.history, HISTORY_LIMIT, {
        seq: ++this.seq,
        at: e.transition.at,
        alert: e.series.alert,
        labels: e.series.labels,
        from: e.transition.from,
        to: e.transition.to,
        reason: e.transition.reason,
        value: ev?.current ?? null,
        baseline: ev?.baseline ?? null,
      });
    }
  }

  /** The series' values at its evaluations since the start, oldest first. */
  valuesOf(id: string): readonly ValuePoint[] {
    return (this.values.get(id) ?? []).slice(-VALUES_PER_SERIES);
  }

  rule(alert: string): RuleActivity {
    return this.ruleOf(alert);
  }

  /** Newest first. */
  groups(): readonly GroupActivity[] {
    return this.groupLog.slice(-GROUP_LOG_LIMIT).reverse();
  }

  /** Newest first. */
  recent(): readonly HistoryEntry[] {
    return this.history.slice(-HISTORY_LIMIT).reverse();
  }

  private ruleOf(alert: string): RuleActivity {
    return (
      this.rules.get(alert) ?? {
        lastEvaluationAt: null,
        lastDurationMs: null,
        lastError: null,
        lastErrorAt: null,
        seriesMeasured: null,
        evaluations: 0,
        errors: 0,
        skips: NO_SKIPS,
        lastSkip: null,
      }
    );
  }
}

/** One record port that feeds several (the metrics' and the activity log's). */
export function bothRecords(...ports: readonly RecordPort[]): RecordPort {
  return {
    rule: (ev) => ports.forEach((p) => p.rule(ev)),
    group: (r) => ports.forEach((p) => p.group(r)),
  };
}

function push<T>(ring: T[], limit: number, item: T): void {
  ring.push(item);
  // Dropping in chunks keeps the cost of a full ring amortised O(1) instead of a shift per push.
  if (ring.length > limit + limit / 10) ring.splice(0, ring.length - limit);
}
