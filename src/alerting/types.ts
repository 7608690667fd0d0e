/**
 * Alert lifecycle types. Per rule and group (and key), an alert moves
 * inactive -> pending -> firing -> resolved; no-data and error are outcomes of their own.
 * Transitions are values: persisted, logged, counted and notified from one place.
 */

import type { Measurement } from '../signals/result.js';

export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved' | 'nodata' | 'error';

/** What one evaluation said about one series. */
export type Outcome =
  | { readonly kind: 'ok'; readonly active: boolean }
  /** Too few runs in one of the windows (min_runs), or the group is absent. */
  | {
      readonly kind: 'nodata';
      /** Why there is no data, for the transition reason; defaults to "too few runs". */
      readonly reason?: string;
    }
  /** The query failed (ClickHouse down, timeout). Never a reason to resolve. */
  | { readonly kind: 'error'; readonly message: string };

export type Health = 'ok' | 'nodata' | 'error';

export interface AlertRecord {
  readonly state: AlertState;
  /** When the condition was first seen true in the current episode (start of pending). */
  readonly activeAt: number | null;
  /** When it went to firing. */
  readonly firedAt: number | null;
  /** When it went from firing to resolved. */
  readonly resolvedAt: number | null;
  readonly lastEvalAt: number;
  /** Health of the last evaluation; a firing alert keeps firing through nodata / error. */
  readonly health: Health;
  readonly lastError: string | null;
  /** While firing: when the condition was first seen false again (keep_firing_for counts from here). */
  readonly keepFiringSince?: number | null;
}

export interface Transition {
  readonly from: AlertState;
  readonly to: AlertState;
  readonly at: number;
  readonly reason: string;
}

/**
 * The numbers behind a series at its last measurement: what a notification, /alerts and the metrics
 * show. The signal's measurement without its raw test (the verdict's Holm-adjusted p-value instead).
 */
export type Evidence = Pick<
  Measurement,
  'current' | 'baseline' | 'deviation' | 'isNew' | 'currentRuns' | 'baselineRuns' | 'contributors' | 'exampleRunIds'
> & {
  /** Holm-adjusted over every test of the rule in the evaluation; null when no test ran. */
  readonly pValue: number | null;
  /** Pending and firing series: since when, what moved, which change caused it, runs that show it (src/explain). */
  readonly explanation?: ExplanationSummary;
};

/**
 * Stable identity of an alert series: the rule's alert name plus its labels (group, key), independent
 * of key order. Computed when a series is stepped and stored on it (`AlertSeries.id`); nobody else
 * derives identities, and nothing reverse-engineers one.
 */
export function seriesId(alert: string, labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${alert}{${parts.join(',')}}`;
}

/** A few lines that fit in any notification (built by explain/format.ts; part of the alert model so that alerts, notifications and the state file carry it without depending on explain/). */
export interface ExplanationSummary {
  readonly onset: string | null;
  readonly moved: string | null;
  readonly cause: string | null;
  readonly examples: readonly { readonly runId: string; readonly traceId: string; readonly url?: string }[];
}
