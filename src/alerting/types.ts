/**
 * Alert lifecycle types. Per rule and group (and key), an alert moves
 * inactive -> pending -> firing -> resolved; no-data and error are outcomes of their own.
 * Transitions are values: persisted, logged, counted and notified from one place.
 */

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
}

export interface Transition {
  readonly from: AlertState;
  readonly to: AlertState;
  readonly at: number;
  readonly reason: string;
}

/** Stable identity of an alert series: the rule's alert name plus its labels (group, key). */
export function alertKey(alert: string, labels: Readonly<Record<string, string>>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${alert}{${parts.join(',')}}`;
}
