/**
 * The vocabulary of an explanation: when a change started (onset), what moved (the signal's parts),
 * which change caused it (attribution to dimension values), and runs that show it. An explanation is
 * computed for one alert series (a rule, its group labels and key) as of one time.
 */
import type { SignalName } from '../rules/types.js';

/**
 * The estimated start of the change: the hour at which a single change-point splits the signal's
 * hourly values best, with an uncertainty from a residual bootstrap of that fit.
 */
export interface Onset {
  /** Start of the first hour after the change (ms). */
  readonly at: number;
  /** Half-width of the bootstrap's central 90% interval, at least one hour (the buckets' resolution). */
  readonly uncertaintyMs: number;
  readonly low: number;
  readonly high: number;
  /** The signal's value (ratio of sums) before and after the change-point. */
  readonly before: number;
  readonly after: number;
  /** Hourly buckets with data that the fit saw. */
  readonly hours: number;
}

/** One part of the change: a tool, a cost component, a fingerprint, a denied policy rule. */
export interface Part {
  readonly name: string;
  readonly baseline: number | null;
  readonly current: number | null;
  /** This part's share of the change in the whole, in the whole's unit (the parts add up to the change). */
  readonly contribution: number;
  /** contribution / change of the whole; null when the whole did not change. */
  readonly share: number | null;
  /** For fingerprints: new (not in the baseline), grown, shrunk, vanished (not in the current window). */
  readonly status?: 'new' | 'grown' | 'shrunk' | 'vanished';
}

/** `quantity`: a signal without parts of its own (duration, errors, tokens, scores, volumes): the explanation follows its quantity. */
export type MovedKind = 'tool_calls' | 'cost' | 'fingerprints' | 'policy_rules' | 'quantity';

/** What moved inside the signal, as parts that add up to the change of the whole. */
export interface WhatMoved {
  readonly kind: MovedKind;
  /** What the whole is: "calls per run", "cost per success (USD)", "share of runs", "activations per decision". */
  readonly unit: string;
  readonly baseline: number | null;
  readonly current: number | null;
  readonly change: number | null;
  /** Biggest contribution first (by absolute size). */
  readonly parts: readonly Part[];
}

/**
 * The quantity attribution and the onset work on: a ratio of per-run sums, X/N (calls of a tool per
 * run, activations per decision, cost per success, share of runs with a fingerprint).
 */
export interface Quantity {
  /** "enrich_company calls per run", "cost per success", ... */
  readonly name: string;
  /** SQL over one agent_runs row: its X and its N; values only as bound parameters in `params`. */
  readonly x: string;
  readonly n: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** SQL condition over one agent_runs row: the run carries the change (used to pick example runs). */
  readonly carries: string;
}

/** What one dimension value accounts for (computed in ClickHouse, see sql.ts attributionQuery). */
export interface ValueShare {
  readonly dimension: string;
  readonly value: string;
  /** Share of the change in the quantity this value accounts for; the values of a dimension sum to 1. */
  readonly explained: number;
  /** Share of the quantity's units (N) on this value in the current window and in the baseline. */
  readonly currentShare: number;
  readonly baselineShare: number;
  /** First run with this value within the lookback (ms); null if unknown. */
  readonly firstSeen: number | null;
  /** The value appeared within the lookback (not already there at its start). */
  readonly appeared: boolean;
}

/** A value the change is pinned on (see attribution.ts for when that is). */
export interface Cause extends ValueShare {
  /** Milliseconds from first sighting to the onset (positive: seen before the onset), when it appeared near it. */
  readonly leadMs: number | null;
}

export interface Attribution {
  /** Values that carry the change, most explained first. Empty when the change is spread evenly. */
  readonly causes: readonly Cause[];
  /** Per dimension, its values ranked by explained share (top few). */
  readonly dimensions: readonly { readonly dimension: string; readonly values: readonly ValueShare[]; readonly spread: boolean }[];
}

export interface ExampleRun {
  readonly runId: string;
  readonly traceId: string;
  readonly timestamp: number;
  /** The run's X (calls of the tool, activations, cost, 1 for the fingerprint). */
  readonly value: number;
  /** A link into the user's trace UI, when `trace_url` is configured. */
  readonly url?: string;
}

export interface Explanation {
  readonly rule: string;
  readonly signal: SignalName;
  readonly labels: Readonly<Record<string, string>>;
  readonly key: string;
  readonly at: number;
  readonly windowStart: number;
  readonly quantity: { readonly name: string; readonly baseline: number | null; readonly current: number | null };
  readonly onset: Onset | null;
  readonly moved: WhatMoved;
  readonly attribution: Attribution;
  readonly examples: readonly ExampleRun[];
  /**
   * The quantity's hourly values over the onset's range, the points the change-point was fitted on
   * (for charts); only when asked for (ExplainOptions.hourly), so notifications do not carry them.
   */
  readonly hourly?: readonly HourlyValue[];
}

export interface HourlyValue {
  /** Start of the hour (ms). */
  readonly t: number;
  /** X/N of the hour; null when the hour had no units (N = 0). */
  readonly value: number | null;
  readonly n: number;
}

export type { ExplanationSummary } from '../alerting/types.js';
