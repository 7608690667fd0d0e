/**
 * The state of every series of every rule, and how one rule evaluation moves it. No I/O and no clock:
 * the scheduler, a restart and a backtest all feed it the same way, and persistence lives in stateFile.ts.
 */
import { step, type StepOptions } from './machine.js';
import { seriesId, type AlertRecord, type Evidence, type Outcome, type Transition } from './types.js';

/**
 * One alert series and everything known about it. This is the only copy: metrics, notifications,
 * /alerts and the state file all read it from here.
 */
export interface AlertSeries {
  /** `seriesId(alert, labels)`, computed once when the series is first stepped. */
  readonly id: string;
  readonly alert: string;
  /** The signal's key within the group: a tool, the tool mix, or '' for a per-group signal. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly record: AlertRecord;
  /** Rendered annotations of the last evaluation that had them, for notifications. */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * The numbers of the last evaluation that measured this series. Kept when a later evaluation fails
   * or no longer lists the series, so a firing alert's notifications still say what moved.
   */
  readonly evidence?: Evidence;
  /**
   * Whether the latest evaluation that reached ClickHouse measured this series (false once it stops
   * listing it). A failed query changes nothing here: the data did not change, the query did.
   */
  readonly measured: boolean;
  /**
   * While firing: the baseline value when it started firing, which later evaluations compare with
   * instead of the live baseline (so a persisting change does not resolve itself). Absent otherwise,
   * and for effect-size series (a distance has no baseline value to freeze).
   */
  readonly frozenBaseline?: number;
  /**
   * An operator accepted the series' current value as the new normal (`agentdrift accept`): it was
   * resolved then, and is compared with `baseline` (the value accepted) until `until`, when the live
   * baseline holds only data from after the acceptance.
   */
  readonly accepted?: Acceptance;
}

export interface Acceptance {
  readonly at: number;
  readonly reason: string;
  readonly baseline: number;
  readonly until: number;
}

/**
 * Every series, keyed by `AlertSeries.id`, and indexed by alert name: one rule's evaluation reads
 * and steps only its own series. Scanning every series per rule made a cycle of 10k rules (60k
 * series) cost 10k full scans, quadratic in the number of rules.
 */
export class AlertStates extends Map<string, AlertSeries> {
  #byAlert?: Map<string, Set<string>>;

  /** Ids of the series of `alert`, in insertion order. */
  idsOf(alert: string): ReadonlySet<string> {
    return this.index().get(alert) ?? EMPTY;
  }

  override set(id: string, series: AlertSeries): this {
    const prev = super.get(id);
    if (prev !== undefined && prev.alert !== series.alert) this.unindex(prev);
    super.set(id, series);
    // The Map constructor calls set() before the index field exists; index() builds it lazily.
    if (this.#byAlert !== undefined) {
      let ids = this.#byAlert.get(series.alert);
      if (ids === undefined) this.#byAlert.set(series.alert, (ids = new Set()));
      ids.add(id);
    }
    return this;
  }

  override delete(id: string): boolean {
    const prev = super.get(id);
    if (prev === undefined) return false;
    this.unindex(prev);
    return super.delete(id);
  }

  override clear(): void {
    this.#byAlert = undefined;
    super.clear();
  }

  private unindex(series: AlertSeries): void {
    const ids = this.#byAlert?.get(series.alert);
    ids?.delete(series.id);
    if (ids?.size === 0) this.#byAlert!.delete(series.alert);
  }

  private index(): Map<string, Set<string>> {
    if (this.#byAlert === undefined) {
      this.#byAlert = new Map();
      for (const [id, s] of super.entries()) {
        let ids = this.#byAlert.get(s.alert);
        if (ids === undefined) this.#byAlert.set(s.alert, (ids = new Set()));
        ids.add(id);
      }
    }
    return this.#byAlert;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

export function newAlertStates(): AlertStates {
  return new AlertStates();
}

/** What one rule evaluation said about one series (group). */
export interface SeriesResult {
  readonly labels: Readonly<Record<string, string>>;
  /** The signal's key ('' when it has none). */
  readonly key?: string;
  readonly outcome: Outcome;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Present when the evaluation measured the series; absent for an error outcome. */
  readonly evidence?: Evidence;
  /** Whether its baseline value may be frozen when it starts firing (false for effect sizes). */
  readonly freezable?: boolean;
}

/** The value an alert series shows: the deviation of its last measurement (null: not computable). */
export function seriesValue(s: AlertSeries): number | null {
  return s.evidence?.deviation ?? null;
}

export interface SeriesChange {
  readonly key: string;
  readonly alert: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly transition: Transition;
  readonly record: AlertRecord;
}

export const ABSENT_REASON = 'series absent from evaluation';

/**
 * Steps every series in `results`, and every earlier series of `alert` that `results` no longer
 * mentions as no-data, so a vanished group cannot stay frozen in pending. Updates `states` in place
 * and returns only the series whose state changed, in the order they were stepped.
 *
 * An absent series that was already in no-data is dropped instead of stepped: it holds no timer and
 * its no-data was already reported, and without this every group that ever existed (every past
 * agent_version, say) would be kept forever. A firing series is never dropped this way.
 */
export function applyEvaluation(
  states: AlertStates,
  alert: string,
  results: readonly SeriesResult[],
  at: number,
  forMs: number,
  opts: StepOptions = {},
): SeriesChange[] {
  const keys = results.map((r) => seriesId(alert, r.labels));
  const seen = new Set(keys);
  // Checked before anything is stepped: stepping one series twice in one evaluation would invent
  // transitions, and a half-applied evaluation would be worse than none.
  if (seen.size !== keys.length) {
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    throw new Error(`evaluation of ${alert} reported the series ${dup} more than once`);
  }

  const changes: SeriesChange[] = [];
  results.forEach((r, i) => {
    const key = keys[i]!;
    const prev = states.get(key);
    const { record, transition } = step(prev?.record, r.outcome, at, forMs, opts);
    // An error evaluation has nothing to say about these: keep the last known ones.
    const annotations = r.annotations ?? prev?.annotations;
    const evidence = r.evidence ?? prev?.evidence;
    const frozenBaseline = frozenFor(prev, record.state, r);
    const series: AlertSeries = {
      id: key,
      alert,
      key: r.key ?? prev?.key ?? '',
      labels: { ...r.labels },
      record,
      ...(annotations !== undefined ? { annotations: { ...annotations } } : {}),
      ...(evidence !== undefined ? { evidence } : {}),
      measured: r.outcome.kind === 'error' ? (prev?.measured ?? false) : r.evidence !== undefined,
      ...(frozenBaseline !== undefined ? { frozenBaseline } : {}),
      ...(prev?.accepted !== undefined && prev.accepted.until > at ? { accepted: prev.accepted } : {}),
    };
    states.set(key, series);
    if (transition) changes.push({ key, alert, labels: series.labels, transition, record });
  });

  for (const key of [...states.idsOf(alert)]) {
    const prev = states.get(key)!;
    if (seen.has(key)) continue;
    if (prev.record.state === 'nodata') {
      states.delete(key);
      continue;
    }
    const { record, transition } = step(prev.record, { kind: 'nodata', reason: ABSENT_REASON }, at, forMs, opts);
    states.set(key, { ...prev, record, measured: false });
    if (transition) changes.push({ key, alert, labels: prev.labels, transition, record });
  }
  return changes;
}

/** Frozen when a series starts firing, kept while it fires, dropped when it stops. */
function frozenFor(prev: AlertSeries | undefined, state: AlertRecord['state'], r: SeriesResult): number | undefined {
  if (state !== 'firing') return undefined;
  if (prev?.record.state === 'firing') return prev.frozenBaseline;
  const b = r.evidence?.baseline;
  return r.freezable && b !== null && b !== undefined && Number.isFinite(b) && b > 0 ? b : undefined;
}

/**
 * The rule's query failed as a whole, so no series can be named: every known series of `alert` gets
 * the error outcome (a firing alert keeps firing, a pending timer is kept). Series not yet known are
 * not invented; the failure itself is counted by the evaluator.
 */
export function applyQueryError(
  states: AlertStates,
  alert: string,
  message: string,
  at: number,
  forMs: number,
  opts: StepOptions = {},
): SeriesChange[] {
  const results: SeriesResult[] = [];
  for (const s of seriesOf(states, alert)) results.push({ labels: s.labels, key: s.key, outcome: { kind: 'error', message } });
  return applyEvaluation(states, alert, results, at, forMs, opts);
}

/**
 * After a reload, keeps the state of every rule that still exists (Prometheus CopyState) so a reload
 * neither re-sends firing alerts nor restarts pending timers, and drops the rest. Returns the dropped keys.
 */
export function carryOver(states: AlertStates, validAlertNames: ReadonlySet<string>): string[] {
  const dropped: string[] = [];
  for (const [key, s] of [...states]) {
    if (validAlertNames.has(s.alert)) continue;
    states.delete(key);
    dropped.push(key);
  }
  return dropped;
}

/** Series of one alert, for notifications and the HTTP status page. */
export function seriesOf(states: AlertStates, alert: string): AlertSeries[] {
  return [...states.idsOf(alert)].map((id) => states.get(id)!);
}
