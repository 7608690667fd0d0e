/** The rule model: what a validated rule file turns into. Durations are milliseconds. */
import type { Dimension } from '../store/contract.js';
import type { SourcePos } from '../yaml/problem.js';

export const SIGNALS = [
  'tool_calls_per_run',
  'policy_activation_rate',
  'cost_per_success',
  'output_schema_shift',
  'duration',
  'error_rate',
  'tool_error_rate',
  'tokens_per_run',
  'score',
  'runs',
  'cost',
  'metric',
] as const;
export type SignalName = (typeof SIGNALS)[number];

export type Direction = 'up' | 'down' | 'both';

/** A filter value: an exact string, a glob with `*` (e.g. `invoice_*`), or a list of either (OR). */
export type WhereValue = string | readonly string[];

export type BaselineSpec =
  /** The `length` ms immediately before the current window, shifted back by `offset` ms. */
  | {
      readonly kind: 'previous';
      readonly lengthMs: number;
      readonly offsetMs: number;
      /**
       * Whether each window of the comparison drops its most outlying day (default true; applies to
       * windows of 3 days or more, see engine/robust.ts). `robust: false` compares whole windows.
       */
      readonly robust?: boolean;
    }
  /** The same window 1..weeks weeks back; the baseline value is the median of those windows. */
  | { readonly kind: 'seasonal'; readonly weeks: number };

/** Signal-specific options, each valid for one signal only. */
export interface SignalOptions {
  /** policy_activation_rate: count escalations as activations too (default true). */
  readonly escalations?: boolean;
  /** policy_activation_rate: rate per policy decision (default) or share of runs with an activation. */
  readonly per?: 'decision' | 'run';
  /** cost_per_success: which cost to sum (default total). */
  readonly cost?: 'token' | 'tool' | 'total';
  /**
   * output_schema_shift: which effect size the threshold applies to (default js_distance), or
   * `share`: each fingerprint's share of runs, a relative change per fingerprint.
   */
  readonly measure?: 'js_distance' | 'unseen_share' | 'share';
  /** duration: the statistic of run durations (default mean); quantiles come from the duration histogram. */
  readonly stat?: DurationStat;
  /** error_rate: the outcomes that count as errors (absent: every outcome but `success`). */
  readonly outcome?: readonly string[];
  /** tokens_per_run: which tokens (default total). */
  readonly tokens?: 'input' | 'output' | 'total';
  /** score: the evaluation or feedback score's name (required). */
  readonly score?: string;
  /** metric: the custom metric's name (required). */
  readonly metric?: string;
}

export const DURATION_STATS = ['mean', 'p50', 'p90', 'p95', 'p99'] as const;
export type DurationStat = (typeof DURATION_STATS)[number];

/**
 * `threshold: { above: N }` / `{ below: N }`: the current window's value itself against N, in the
 * signal's unit (no baseline: a budget, a ceiling, a floor).
 */
export interface AbsoluteThreshold {
  readonly bound: 'above' | 'below';
  readonly value: number;
}

export interface Rule {
  readonly alert: string;
  readonly signal: SignalName;
  readonly where: Readonly<Partial<Record<Dimension, WhereValue>>>;
  readonly groupBy: readonly Dimension[];
  readonly windowMs: number;
  readonly baseline: BaselineSpec;
  /**
   * Fraction: `20%` -> 0.2. For distribution signals it is the effect size itself. With an absolute
   * threshold: its value (`absolute.value`), and `direction` is up for above, down for below.
   */
  readonly threshold: number;
  /** Present when the threshold is absolute (`threshold: { above: N }`): no baseline is compared. */
  readonly absolute?: AbsoluteThreshold;
  readonly direction: Direction;
  readonly minRuns: number;
  /** Family-wise alpha; null when the rule does not ask for a test. */
  readonly significance: number | null;
  readonly forMs: number;
  /**
   * The short window that must show the change too (multi-window alerting): the last
   * `confirmWindowMs` of the current window against the same baseline. Absent: no confirmation.
   */
  readonly confirmWindowMs?: number;
  /**
   * A firing series stays firing while its deviation is at least this (hysteresis); absent: half the
   * threshold (resolveThresholdOf).
   */
  readonly resolveThreshold?: number;
  /** How long a firing alert keeps firing after its condition turns false (Prometheus' keep_firing_for); 0 when absent. */
  readonly keepFiringForMs?: number;
  readonly options: SignalOptions;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly pos: SourcePos;
}

export type Schedule =
  | { readonly kind: 'interval'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly expression: string };

export interface RuleGroup {
  readonly name: string;
  readonly schedule: Schedule;
  /** Bound on one evaluation of the group; defaults to min(interval, 5m). */
  readonly timeoutMs: number;
  readonly rules: readonly Rule[];
  readonly file: string;
  /** Where the group's `name` key was written (set by the loader; absent for groups built in code). */
  readonly pos?: SourcePos;
}

export interface RuleSet {
  readonly groups: readonly RuleGroup[];
}

/**
 * The deviation below which a firing series resolves: the rule's `resolve_threshold`, else half its
 * threshold. An absolute threshold resolves at its own value unless `resolve_threshold` gives another
 * (in the signal's unit).
 */
export function resolveThresholdOf(rule: Pick<Rule, 'threshold' | 'resolveThreshold' | 'absolute'>): number {
  if (rule.absolute) return rule.resolveThreshold ?? rule.absolute.value;
  return rule.resolveThreshold ?? rule.threshold / 2;
}

/**
 * Signals whose value is a volume over the window (runs, spend) rather than a per-run rate: a relative
 * threshold compares with the baseline scaled to the current window's length, and the current window
 * needs no runs (a drop to zero is a change, not "no data").
 */
export const VOLUME_SIGNALS: ReadonlySet<SignalName> = new Set<SignalName>(['runs', 'cost']);
