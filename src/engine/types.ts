/**
 * The engine's vocabulary: what one evaluation of a rule produces (the verdict per series), the
 * transitions it causes, and the ports through which the engine reaches the outside world (sums,
 * record, explain, clock), in the spirit of Prometheus' rules.ManagerOptions. Sending and saving are
 * not the engine's: its methods return the transitions they made, and the caller commits them (the
 * daemon's state manager: save, then send).
 */
import type { AlertSeries } from '../alerting/state.js';
import type { Outcome, Transition } from '../alerting/types.js';
import type { Logger } from '../log.js';
import type { RuleFacts } from '../rules/facts.js';
import type { Rule, SignalName } from '../rules/types.js';
import type { SumsPort } from '../signals/sums.js';
import type { Measurement } from '../signals/result.js';
import type { WindowBounds } from '../signals/types.js';
import type { Clock } from '../util/clock.js';
import type { ExplanationSummary } from '../alerting/types.js';
import type { SkippedRule } from './skips.js';

/** A measured series with the engine's verdict on it. */
export interface SeriesEvaluation extends Measurement {
  readonly rule: string;
  readonly signal: SignalName;
  /** Holm-adjusted over every test of this rule in this evaluation; null when no test ran. */
  readonly pValue: number | null;
  readonly outcome: Outcome;
}

export interface RuleEvaluation {
  readonly rule: Rule;
  readonly at: number;
  readonly windows: readonly WindowBounds[];
  readonly series: readonly SeriesEvaluation[];
  /** Set when a query failed or was aborted: then `series` is empty and every known series of the rule is in error. */
  readonly error: string | null;
  readonly durationMs: number;
}

export interface GroupResult {
  readonly group: string;
  readonly at: number;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly evaluations: readonly RuleEvaluation[];
  /** Rules not evaluated because the evaluation was aborted (its timeout, a shutdown), with why. */
  readonly skipped: readonly SkippedRule[];
  /** Rules in the group: evaluations + skipped. */
  readonly ruleCount: number;
  /** The changes of state this evaluation made, already applied to the engine's state; the caller commits them. */
  readonly transitions: readonly TransitionEvent[];
}

/** What adopting a rule set (or the end of a removed rule's grace) did: dropped series, and resolutions to send. */
export interface Retirement {
  readonly dropped: readonly string[];
  readonly retired: readonly TransitionEvent[];
}

/**
 * One change of state of one series, with the series as it is after the change. `rule` is only the
 * rule's facts when the rule is gone (a firing series of a removed rule, resolved on reload or start).
 */
export interface TransitionEvent {
  readonly rule: Rule | RuleFacts;
  readonly series: AlertSeries;
  readonly transition: Transition;
}

/** A series that is firing now, with the rule that fires it. */
export interface FiringAlert {
  readonly rule: Rule;
  readonly series: AlertSeries;
}

/** Runs one query; `signal` aborts it (a group timeout, a shutdown). */
export type QueryPort = (sql: string, params: Record<string, unknown>, signal?: AbortSignal) => Promise<Record<string, unknown>[]>;

/**
 * One step of the alert state to make known: the transitions it caused (to send firing and resolved
 * messages) and every series firing now (to re-send on repeat_interval), both read from the engine's
 * state. The state manager (daemon/stateManager.ts) commits it: saved, then sent.
 */
export interface AlertUpdate {
  readonly at: number;
  readonly transitions: readonly TransitionEvent[];
  readonly firing: readonly FiringAlert[];
}

/** Hands an update's notifications to the notification pipeline (notify/fromAlerts.ts over a Dispatcher). */
export type NotifyPort = (update: AlertUpdate) => void;

/** Events to count: each rule evaluation and each group evaluation (the metrics' counters). */
export interface RecordPort {
  rule(ev: RuleEvaluation): void;
  group(result: GroupResult): void;
}

/** What an explanation adds to a series' evidence (src/explain). */
export interface SeriesExplanation {
  readonly summary: ExplanationSummary;
  readonly exampleRunIds: readonly string[];
}

/**
 * After each rule evaluation: explanations of the rule's series that are pending or firing, by series
 * id (the port decides which to compute and which to serve from its cache). Never throws.
 */
export type ExplainPort = (rule: Rule, series: readonly AlertSeries[], at: number, signal?: AbortSignal) => Promise<ReadonlyMap<string, SeriesExplanation>>;

export interface EnginePorts {
  /**
   * The storage port: a rule's sums for its windows (signals/sums.ts). The store's (StoreSums), a
   * backtest's batches (BatchedSums), or a fake in tests.
   */
  readonly sums: SumsPort;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly record?: RecordPort;
  /** Explains pending and firing series (onset, what moved, cause, example runs); absent: evidence as measured. */
  readonly explain?: ExplainPort;
}

/** What the engine's state looks like from outside: read-only, at the moment of asking. */
export interface AlertStateView {
  readonly alertStates: ReadonlyMap<string, AlertSeries>;
  /** The rules the engine evaluates now, by alert name. */
  readonly rules: ReadonlyMap<string, Rule>;
}


