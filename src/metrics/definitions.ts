/**
 * Every metric agentdrift exports: names, help, labels, buckets. Names follow Prometheus conventions
 * (`agentdrift_` prefix, base units, `_total` counters) and pass `promtool check metrics`. What fills
 * them lives in registry.ts: counters count events as they happen; the per-series gauges are written
 * from the engine's alert state at scrape time (one snapshot per scrape, snapshot.ts; through
 * `collect()` when prom-client scrapes the registry itself), so nothing here mirrors state.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SERIES_LABEL_NAMES, type SeriesLabelName } from './labels.js';

// From a fast ClickHouse query to a group that hits its 5 minute timeout.
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

type StateLabelName = SeriesLabelName | 'alertstate';
type RunsLabelName = SeriesLabelName | 'window';

/** Called by prom-client before each scrape of a gauge that reads state. */
export type Collect = () => void;

export type SeriesGaugeName = 'current' | 'baseline' | 'deviation' | 'runs' | 'pValue' | 'alertState' | 'accepted';

/** Each gauge fills itself from the state when prom-client scrapes it (`collectFor(name)`). */
export function defineSeriesGauges(registers: Registry[], collectFor: (name: SeriesGaugeName) => Collect) {
  const labelNames = SERIES_LABEL_NAMES;
  return {
    current: new Gauge<SeriesLabelName>({
      name: 'agentdrift_signal_current_value',
      help: "Value of the rule's signal in the current window, per group and key (unit depends on the signal).",
      labelNames,
      registers,
      collect: collectFor('current'),
    }),
    baseline: new Gauge<SeriesLabelName>({
      name: 'agentdrift_signal_baseline_value',
      help: "Value of the rule's signal in the baseline, per group and key (same unit as the current value).",
      labelNames,
      registers,
      collect: collectFor('baseline'),
    }),
    deviation: new Gauge<SeriesLabelName>({
      name: 'agentdrift_signal_deviation_ratio',
      help: 'Relative change of the current value against the baseline (0.2 = +20%), or the effect size for distribution signals; +Inf for a key new in the current window.',
      labelNames,
      registers,
      collect: collectFor('deviation'),
    }),
    runs: new Gauge<RunsLabelName>({
      name: 'agentdrift_signal_runs',
      help: 'Agent runs behind the signal value, in the current window or the baseline.',
      labelNames: [...labelNames, 'window'],
      registers,
      collect: collectFor('runs'),
    }),
    pValue: new Gauge<SeriesLabelName>({
      name: 'agentdrift_signal_p_value',
      help: 'Holm-adjusted p-value of the significance test of the series; absent when no test ran.',
      labelNames,
      registers,
      collect: collectFor('pValue'),
    }),
    alertState: new Gauge<StateLabelName>({
      name: 'agentdrift_alert_state',
      help: 'Current state of the alert series (inactive, pending, firing, resolved, nodata or error): 1 for the current state only.',
      labelNames: [...labelNames, 'alertstate'],
      registers,
      collect: collectFor('alertState'),
    }),
    accepted: new Gauge<SeriesLabelName>({
      name: 'agentdrift_alert_accepted_timestamp_seconds',
      help: 'When an operator accepted the series\' value as the new normal (agentdrift accept), while that acceptance is in force.',
      labelNames,
      registers,
      collect: collectFor('accepted'),
    }),
  };
}

export type SeriesGauges = ReturnType<typeof defineSeriesGauges>;

export function defineEventMetrics(registers: Registry[], collectPending: Collect) {
  return {
    groupDuration: new Histogram<'group'>({
      name: 'agentdrift_group_evaluation_duration_seconds',
      help: 'Wall time of one evaluation of a rule group.',
      labelNames: ['group'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    groupEvaluations: new Counter<'group'>({
      name: 'agentdrift_group_evaluations_total',
      help: 'Evaluations of a rule group, successful or not.',
      labelNames: ['group'],
      registers,
    }),
    groupFailures: new Counter<'group'>({
      name: 'agentdrift_group_evaluation_failures_total',
      help: 'Evaluations of a rule group in which at least one rule failed.',
      labelNames: ['group'],
      registers,
    }),
    groupLastSuccess: new Gauge<'group'>({
      name: 'agentdrift_group_last_success_timestamp_seconds',
      help: 'Unix time of the evaluation time of the last fully successful evaluation of a rule group.',
      labelNames: ['group'],
      registers,
    }),
    groupSkipped: new Counter<'group'>({
      name: 'agentdrift_group_skipped_evaluations_total',
      help: 'Ticks of a rule group skipped because its previous evaluation was still running.',
      labelNames: ['group'],
      registers,
    }),
    ruleEvaluations: new Counter<'group'>({
      name: 'agentdrift_rule_evaluations_total',
      help: 'Rule evaluations completed in a rule group (successful or with a query error).',
      labelNames: ['group'],
      registers,
    }),
    ruleSkipped: new Counter<'group' | 'rule' | 'reason'>({
      name: 'agentdrift_rule_evaluations_skipped_total',
      help: 'Scheduled rule evaluations not done, per rule and reason: timeout (the group ran out of time), overlap (the tick was skipped), shutdown.',
      labelNames: ['group', 'rule', 'reason'],
      registers,
    }),
    rulesLoaded: new Gauge({
      name: 'agentdrift_rules_loaded',
      help: 'Rules in the rule set currently being evaluated.',
      registers,
    }),
    ruleThreshold: new Gauge<'rule' | 'signal' | 'kind'>({
      name: 'agentdrift_rule_threshold',
      help: "Each loaded rule's threshold: kind relative (0.2 = a 20% change), or an absolute limit (kind above or below) in the signal's unit, to draw beside agentdrift_signal_current_value.",
      labelNames: ['rule', 'signal', 'kind'],
      registers,
    }),
    reloads: new Counter<'result'>({
      name: 'agentdrift_rule_reloads_total',
      help: 'Rule reloads by result; a failed reload keeps the previous rules running.',
      labelNames: ['result'],
      registers,
    }),
    overflow: new Counter<'rule'>({
      name: 'agentdrift_series_overflow_total',
      help: 'Series of a rule not exported because the rule had more series than the per-rule cap, summed over evaluations.',
      labelNames: ['rule'],
      registers,
    }),
    notificationsSent: new Counter<'receiver' | 'integration'>({
      name: 'agentdrift_notifications_total',
      help: 'Notifications delivered, per receiver and integration.',
      labelNames: ['receiver', 'integration'],
      registers,
    }),
    notificationsFailed: new Counter<'receiver' | 'integration' | 'reason'>({
      name: 'agentdrift_notifications_failed_total',
      help: 'Notifications given up on (a permanent failure, or the last retry failed), per receiver, integration and reason; failed attempts that are retried count in agentdrift_notification_attempts_failed_total.',
      labelNames: ['receiver', 'integration', 'reason'],
      registers,
    }),
    attemptsFailed: new Counter<'receiver' | 'integration' | 'reason'>({
      name: 'agentdrift_notification_attempts_failed_total',
      help: 'Failed delivery attempts, retried or not, per receiver, integration and reason.',
      labelNames: ['receiver', 'integration', 'reason'],
      registers,
    }),
    notificationRetries: new Counter<'receiver' | 'integration'>({
      name: 'agentdrift_notification_retries_total',
      help: 'Delivery attempts of notifications that were retried after a recoverable failure.',
      labelNames: ['receiver', 'integration'],
      registers,
    }),
    notificationsPending: new Gauge({
      name: 'agentdrift_notifications_pending',
      help: 'Notifications waiting to be delivered or retried.',
      registers,
      collect: collectPending,
    }),
    clickhouseUp: new Gauge({
      name: 'agentdrift_clickhouse_up',
      help: 'Whether the last ClickHouse health check succeeded (1) or not (0).',
      registers,
    }),
    persistFailures: new Counter({
      name: 'agentdrift_state_persist_failures_total',
      help: 'Failed writes of the state file or its delivery journal; while the last one failed, /readyz fails.',
      registers,
    }),
    persistLastSuccess: new Gauge({
      name: 'agentdrift_state_last_persist_success_timestamp_seconds',
      help: 'Unix time (daemon clock) of the last successful save of the state file.',
      registers,
    }),
    malformedRuns: new Gauge({
      name: 'agentdrift_malformed_runs',
      help: 'Agent runs with at least one attribute that could not be parsed, as last counted in ClickHouse.',
      registers,
    }),
  };
}

export type EventMetrics = ReturnType<typeof defineEventMetrics>;
