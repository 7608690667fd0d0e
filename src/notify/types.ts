import type { ExplanationSummary } from '../alerting/types.js';

/**
 * The notification model: what a receiver is told about an alert. Shaped after Alertmanager's alert
 * (labels, annotations, startsAt/endsAt, generatorURL) plus the drift evidence agentdrift adds.
 */

export interface DriftEvidence {
  readonly signal: string;
  /** Tool name, `__mix__`, or '' for a per-group signal. */
  readonly key: string;
  readonly current: number | null;
  readonly baseline: number | null;
  /** Relative change (scalars) or effect size (distributions). */
  readonly deviation: number | null;
  readonly isNew: boolean;
  /** Human descriptions such as "last 7d" and "previous 7d". */
  readonly window: string;
  readonly baselineWindow: string;
  readonly currentRuns: number;
  readonly baselineRuns: number;
  readonly pValue: number | null;
  readonly threshold: number;
  readonly direction: string;
  /** What drove it: tools, fingerprints, denied policy rules, cost components. */
  readonly contributors: readonly { readonly name: string; readonly current: number | null; readonly baseline: number | null }[];
  readonly exampleRunIds: readonly string[];
  /** Since when, what moved, which change caused it, runs that show it (pending and firing series; src/explain). */
  readonly explanation?: ExplanationSummary;
}

export interface AlertNotification {
  /** Stable id of the alert series (hash of alertname and identity labels). */
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  /** alertname, rule labels (severity, team...), group labels (workflow_id...), tool where relevant. */
  readonly labels: Readonly<Record<string, string>>;
  /** Rendered templates: summary, description, runbook_url... */
  readonly annotations: Readonly<Record<string, string>>;
  /** ISO-8601. */
  readonly startsAt: string;
  /** ISO-8601 for resolved alerts; null while firing. */
  readonly endsAt: string | null;
  readonly generatorURL: string;
  readonly evidence: DriftEvidence;
}

// ---- delivery contract -----------------------------------------------------------------------------

export const INTEGRATIONS = ['slack', 'email', 'webhook', 'alertmanager'] as const;
export type Integration = (typeof INTEGRATIONS)[number];

/** Why a delivery failed; a closed set so failure counters can be initialised before the first failure. */
export const FAILURE_REASONS = ['server_error', 'client_error', 'rate_limited', 'connection', 'timeout', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/**
 * Alertmanager's `(recoverable, error)` as a value. `recoverable` is the only thing the retry stage
 * looks at: a 503 marked permanent would lose the alert, a 400 marked recoverable would hammer the
 * receiver for an hour. `error.message` never contains a secret (URLs show scheme://host only).
 */
export type NotifyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly recoverable: boolean;
      readonly reason: FailureReason;
      /** From a 429's Retry-After: the retry stage waits at least this long. */
      readonly retryAfterMs?: number;
      readonly error: Error;
    };

export interface Notifier {
  /** The receiver's name from the config. */
  readonly name: string;
  readonly integration: Integration;
  /**
   * Re-send a still-firing alert at least this often, whatever repeat_interval says: Alertmanager
   * expires an alert that is not re-sent before its endsAt.
   */
  readonly resendIntervalMs?: number;
  /** Delivers the alerts as one message. Never throws: every failure is a result. */
  notify(alerts: readonly AlertNotification[], signal: AbortSignal): Promise<NotifyResult>;
  /** Releases connections (SMTP); idempotent. */
  close?(): Promise<void> | void;
}

/**
 * Where delivery outcomes go (Prometheus counters, built elsewhere). `failed` is called once per
 * delivery that was given up on, `attemptFailed` once per attempt that failed (retried or not; an
 * attempt cut short by a shutdown is not a failure), `retry` once per scheduled retry, `pending`
 * with the number of (receiver, alert) pairs not yet delivered whenever it changes.
 */
export interface NotifyRecorder {
  /** Called for every receiver before anything is sent, so its counters exist at zero. */
  init?(receiver: string, integration: Integration): void;
  sent(receiver: string, integration: Integration): void;
  failed(receiver: string, integration: Integration, reason: FailureReason): void;
  attemptFailed?(receiver: string, integration: Integration, reason: FailureReason): void;
  retry(receiver: string, integration: Integration): void;
  /** Optional: the daemon's metrics read pendingCount() at scrape time instead of being pushed to. */
  pending?(n: number): void;
}

export const nullRecorder: NotifyRecorder = { sent() {}, failed() {}, retry() {}, pending() {} };
