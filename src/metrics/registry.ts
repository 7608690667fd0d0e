/**
 * Everything agentdrift exports on /metrics, on a registry of its own (never prom-client's global
 * one, so tests and embedders can hold several instances and nothing from a dependency leaks in).
 *
 * Alert state is exported like Prometheus' `ALERTS`: one series per alert series, carrying the
 * CURRENT state in the `alertstate` label with value 1. Series of other states are removed, never
 * set to 0, so `count by (alertstate) (agentdrift_alert_state)` counts alerts per state and a move
 * from pending to firing never leaves a stale pending series behind.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AlertState } from '../alerting/types.js';
import { alertKey } from '../alerting/types.js';
import type { AlertStates } from '../alerting/state.js';
import type { RuleEvaluation } from '../engine/evaluate.js';
import { silentLogger, type Logger } from '../log.js';
import type { SeriesEvaluation } from '../signals/result.js';
import { capSeries, magnitudeOf } from './cap.js';
import { SERIES_LABEL_NAMES, keyFromAlertLabels, ruleLabels, seriesId, seriesLabels, type SeriesLabelName, type SeriesLabels } from './labels.js';
import { NOTIFICATION_FAILURE_REASONS, isNotificationFailureReason, type NotificationFailureReason } from './reasons.js';

export const DEFAULT_MAX_SERIES_PER_RULE = 500;

export interface DriftMetricsOptions {
  /** Series (group and key combinations) exported per rule; the rest are counted as overflow. */
  readonly maxSeriesPerRule?: number;
  readonly logger?: Logger;
  /** Process and Node.js metrics (default true); off only where several instances share a process. */
  readonly defaultMetrics?: boolean;
}

export interface ReceiverIntegration {
  readonly name: string;
  readonly integration: string;
}

export type NotificationResult = 'sent' | 'failed' | 'retry';

// prom-client also exports these as `_total` gauges, which promtool rejects (a `_total` suffix
// promises a counter); each is the sum of the per-type gauge of the same name without the suffix.
const REDUNDANT_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const DEFAULT_PREFIX = 'agentdrift_';

// From a fast ClickHouse query to a group that hits its 5 minute timeout.
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** One exported series of a rule, as remembered between evaluations so it can be removed later. */
interface Exported {
  readonly labels: SeriesLabels;
  /** Whether the value gauges hold this series (false: only its alert state is known). */
  readonly valued: boolean;
  readonly magnitude: number;
  readonly state: AlertState | null;
}

interface RuleMemory {
  readonly exported: Map<string, Exported>;
}

interface Candidate {
  readonly id: string;
  readonly labels: SeriesLabels;
  magnitude: number;
  state: AlertState | null;
  series: SeriesEvaluation | null;
  /** Exported with values before and kept as they are (the rule's query failed). */
  keepValues: boolean;
}

type StateLabelName = SeriesLabelName | 'alertstate';
type RunsLabelName = SeriesLabelName | 'window';

export class DriftMetrics {
  readonly registry: Registry;
  readonly maxSeriesPerRule: number;
  private readonly logger: Logger;
  private readonly rules = new Map<string, RuleMemory>();
  private readonly groups = new Set<string>();
  private receivers: ReceiverIntegration[] = [];

  private readonly current: Gauge<SeriesLabelName>;
  private readonly baseline: Gauge<SeriesLabelName>;
  private readonly deviation: Gauge<SeriesLabelName>;
  private readonly runs: Gauge<RunsLabelName>;
  private readonly pValue: Gauge<SeriesLabelName>;
  private readonly alertState: Gauge<StateLabelName>;

  private readonly groupDuration: Histogram<'group'>;
  private readonly groupEvaluations: Counter<'group'>;
  private readonly groupFailures: Counter<'group'>;
  private readonly groupLastSuccess: Gauge<'group'>;
  private readonly groupSkipped: Counter<'group'>;
  private readonly rulesLoaded: Gauge;
  private readonly reloads: Counter<'result'>;
  private readonly overflow: Counter<'rule'>;

  private readonly notificationsSent: Counter<'receiver' | 'integration'>;
  private readonly notificationsFailed: Counter<'receiver' | 'integration' | 'reason'>;
  private readonly notificationRetries: Counter<'receiver' | 'integration'>;
  private readonly notificationsPending: Gauge;

  private readonly clickhouseUp: Gauge;
  private readonly malformedRuns: Gauge;

  constructor(opts: DriftMetricsOptions = {}) {
    const max = opts.maxSeriesPerRule ?? DEFAULT_MAX_SERIES_PER_RULE;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxSeriesPerRule must be an integer >= 1, got ${max}`);
    this.maxSeriesPerRule = max;
    this.logger = opts.logger ?? silentLogger;
    this.registry = new Registry();
    const registers = [this.registry];
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_PREFIX });
      for (const name of REDUNDANT_DEFAULT_METRICS) this.registry.removeSingleMetric(DEFAULT_PREFIX + name);
    }
    const labelNames = SERIES_LABEL_NAMES;

    this.current = new Gauge({
      name: 'agentdrift_signal_current_value',
      help: "Value of the rule's signal in the current window, per group and key (unit depends on the signal).",
      labelNames,
      registers,
    });
    this.baseline = new Gauge({
      name: 'agentdrift_signal_baseline_value',
      help: "Value of the rule's signal in the baseline, per group and key (same unit as the current value).",
      labelNames,
      registers,
    });
    this.deviation = new Gauge({
      name: 'agentdrift_signal_deviation_ratio',
      help: 'Relative change of the current value against the baseline (0.2 = +20%), or the effect size for distribution signals; +Inf for a key new in the current window.',
      labelNames,
      registers,
    });
    this.runs = new Gauge({
      name: 'agentdrift_signal_runs',
      help: 'Agent runs behind the signal value, in the current window or the baseline.',
      labelNames: [...labelNames, 'window'],
      registers,
    });
    this.pValue = new Gauge({
      name: 'agentdrift_signal_p_value',
      help: 'Holm-adjusted p-value of the significance test of the series; absent when no test ran.',
      labelNames,
      registers,
    });
    this.alertState = new Gauge({
      name: 'agentdrift_alert_state',
      help: 'Current state of the alert series (inactive, pending, firing, resolved, nodata or error): 1 for the current state only.',
      labelNames: [...labelNames, 'alertstate'],
      registers,
    });

    this.groupDuration = new Histogram({
      name: 'agentdrift_group_evaluation_duration_seconds',
      help: 'Wall time of one evaluation of a rule group.',
      labelNames: ['group'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.groupEvaluations = new Counter({
      name: 'agentdrift_group_evaluations_total',
      help: 'Evaluations of a rule group, successful or not.',
      labelNames: ['group'],
      registers,
    });
    this.groupFailures = new Counter({
      name: 'agentdrift_group_evaluation_failures_total',
      help: 'Evaluations of a rule group in which at least one rule failed.',
      labelNames: ['group'],
      registers,
    });
    this.groupLastSuccess = new Gauge({
      name: 'agentdrift_group_last_success_timestamp_seconds',
      help: 'Unix time of the evaluation time of the last fully successful evaluation of a rule group.',
      labelNames: ['group'],
      registers,
    });
    this.groupSkipped = new Counter({
      name: 'agentdrift_group_skipped_evaluations_total',
      help: 'Ticks of a rule group skipped because its previous evaluation was still running.',
      labelNames: ['group'],
      registers,
    });
    this.rulesLoaded = new Gauge({
      name: 'agentdrift_rules_loaded',
      help: 'Rules in the rule set currently being evaluated.',
      registers,
    });
    this.reloads = new Counter({
      name: 'agentdrift_rule_reloads_total',
      help: 'Rule reloads by result; a failed reload keeps the previous rules running.',
      labelNames: ['result'],
      registers,
    });
    this.overflow = new Counter({
      name: 'agentdrift_series_overflow_total',
      help: 'Series of a rule not exported because the rule had more series than the per-rule cap, summed over evaluations.',
      labelNames: ['rule'],
      registers,
    });

    this.notificationsSent = new Counter({
      name: 'agentdrift_notifications_total',
      help: 'Notifications delivered, per receiver and integration.',
      labelNames: ['receiver', 'integration'],
      registers,
    });
    this.notificationsFailed = new Counter({
      name: 'agentdrift_notifications_failed_total',
      help: 'Notifications given up on, per receiver, integration and reason.',
      labelNames: ['receiver', 'integration', 'reason'],
      registers,
    });
    this.notificationRetries = new Counter({
      name: 'agentdrift_notification_retries_total',
      help: 'Delivery attempts of notifications that were retried after a recoverable failure.',
      labelNames: ['receiver', 'integration'],
      registers,
    });
    this.notificationsPending = new Gauge({
      name: 'agentdrift_notifications_pending',
      help: 'Notifications waiting to be delivered or retried.',
      registers,
    });

    this.clickhouseUp = new Gauge({
      name: 'agentdrift_clickhouse_up',
      help: 'Whether the last ClickHouse health check succeeded (1) or not (0).',
      registers,
    });
    this.malformedRuns = new Gauge({
      name: 'agentdrift_malformed_runs',
      help: 'Agent runs with at least one attribute that could not be parsed, as last counted in ClickHouse.',
      registers,
    });

    this.rulesLoaded.set(0);
    this.notificationsPending.set(0);
    for (const result of ['success', 'failure']) this.reloads.inc({ result }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * Exports one rule's evaluation and the alert states of that rule (after the state machine has
   * applied the evaluation). Series of the rule that neither the evaluation nor the alert state still
   * mention are removed. When the rule's query failed, the value gauges keep their last values (the
   * data did not change, the query did) while the alert state shows what the state machine says.
   */
  recordRuleEvaluation(ev: RuleEvaluation, states: AlertStates): void {
    const alert = ev.rule.alert;
    const base = ruleLabels(ev.rule);
    const memory = this.rules.get(alert) ?? { exported: new Map<string, Exported>() };
    const candidates = new Map<string, Candidate>();
    // The evaluation's own key wins over one derived from alert labels.
    const idByAlertKey = new Map<string, string>();

    if (ev.error === null) {
      for (const s of ev.series) {
        const labels = seriesLabels(base, s.labels, s.key);
        const id = seriesId(labels);
        idByAlertKey.set(alertKey(alert, s.labels), id);
        candidates.set(id, { id, labels, magnitude: magnitudeOf(s.deviation, s.isNew), state: null, series: s, keepValues: false });
      }
    } else {
      for (const [id, e] of memory.exported) {
        // A reload may have changed the rule's severity: the old label set must not be kept.
        if (!e.valued) continue;
        if (e.labels.severity !== base.severity || e.labels.signal !== base.signal) continue;
        candidates.set(id, { id, labels: e.labels, magnitude: e.magnitude, state: null, series: null, keepValues: true });
      }
    }

    for (const [key, s] of states) {
      if (s.alert !== alert) continue;
      let id = idByAlertKey.get(key);
      let labels: SeriesLabels;
      if (id !== undefined) {
        labels = candidates.get(id)!.labels;
      } else {
        labels = seriesLabels(base, s.labels, keyFromAlertLabels(s.labels));
        id = seriesId(labels);
      }
      const c = candidates.get(id);
      if (c) {
        c.state = s.record.state;
      } else {
        const magnitude = memory.exported.get(id)?.magnitude ?? -1;
        candidates.set(id, { id, labels, magnitude, state: s.record.state, series: null, keepValues: false });
      }
    }

    const { kept, dropped } = capSeries([...candidates.values()], this.maxSeriesPerRule);
    if (dropped > 0) {
      this.overflow.inc({ rule: alert }, dropped);
      this.logger.warn(
        { rule: alert, series: candidates.size, exported: kept.length, dropped, maxSeriesPerRule: this.maxSeriesPerRule },
        'rule has more series than the per-rule cap; the series with the least deviation are not exported',
      );
    }

    const next = new Map<string, Exported>();
    for (const c of kept) {
      const prev = memory.exported.get(c.id);
      let valued = false;
      if (c.series) {
        this.setValues(c.labels, c.series);
        valued = true;
      } else if (c.keepValues) {
        valued = true;
      } else if (prev?.valued) {
        this.removeValues(prev.labels);
      }
      if (prev?.state && prev.state !== c.state) this.alertState.remove({ ...prev.labels, alertstate: prev.state });
      if (c.state) this.alertState.set({ ...c.labels, alertstate: c.state }, 1);
      next.set(c.id, { labels: c.labels, valued, magnitude: c.magnitude, state: c.state });
    }
    for (const [id, prev] of memory.exported) {
      if (!next.has(id)) this.removeExported(prev);
    }
    this.rules.set(alert, { exported: next });
  }

  /** Removes every series of a rule that a reload removed. */
  forgetRule(alertName: string): void {
    const memory = this.rules.get(alertName);
    if (memory) for (const e of memory.exported.values()) this.removeExported(e);
    this.rules.delete(alertName);
    this.overflow.remove({ rule: alertName });
  }

  /**
   * Declares the rule groups of the loaded rule set: their counters exist at 0 before the first
   * evaluation, and groups no longer loaded stop being exported.
   */
  registerGroups(groups: readonly string[]): void {
    const wanted = new Set(groups);
    for (const g of [...this.groups]) {
      if (wanted.has(g)) continue;
      for (const m of [this.groupDuration, this.groupEvaluations, this.groupFailures, this.groupLastSuccess, this.groupSkipped]) m.remove({ group: g });
      this.groups.delete(g);
    }
    for (const g of wanted) this.initGroup(g);
  }

  /** `at` is the evaluation time in ms since the epoch. */
  recordGroupEvaluation(group: string, durationMs: number, ok: boolean, at: number): void {
    this.initGroup(group);
    this.groupDuration.observe({ group }, Math.max(0, durationMs) / 1000);
    this.groupEvaluations.inc({ group });
    if (ok) this.groupLastSuccess.set({ group }, at / 1000);
    else this.groupFailures.inc({ group });
  }

  recordSkipped(group: string): void {
    this.initGroup(group);
    this.groupSkipped.inc({ group });
  }

  recordReload(ok: boolean, rulesLoaded: number): void {
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
    this.rulesLoaded.set(rulesLoaded);
  }

  /**
   * Declares the configured receivers: every counter exists at 0 (every reason included) before the
   * first notification, so `rate()` and `increase()` see the first failure. Receivers missing from
   * the list (removed by a config reload) stop being exported.
   */
  registerReceivers(list: readonly ReceiverIntegration[]): void {
    const key = (r: ReceiverIntegration) => JSON.stringify([r.name, r.integration]);
    const wanted = new Map(list.map((r) => [key(r), r]));
    for (const r of this.receivers) {
      if (wanted.has(key(r))) continue;
      const labels = { receiver: r.name, integration: r.integration };
      this.notificationsSent.remove(labels);
      this.notificationRetries.remove(labels);
      for (const reason of NOTIFICATION_FAILURE_REASONS) this.notificationsFailed.remove({ ...labels, reason });
    }
    this.receivers = [...wanted.values()];
    for (const r of this.receivers) {
      const labels = { receiver: r.name, integration: r.integration };
      this.notificationsSent.inc(labels, 0);
      this.notificationRetries.inc(labels, 0);
      for (const reason of NOTIFICATION_FAILURE_REASONS) this.notificationsFailed.inc({ ...labels, reason }, 0);
    }
  }

  /** A reason outside the fixed set is counted as `other` so the label stays bounded. */
  recordNotification(receiver: string, integration: string, result: NotificationResult, reason?: NotificationFailureReason): void {
    const labels = { receiver, integration };
    switch (result) {
      case 'sent':
        this.notificationsSent.inc(labels);
        return;
      case 'retry':
        this.notificationRetries.inc(labels);
        return;
      case 'failed':
        this.notificationsFailed.inc({ ...labels, reason: reason !== undefined && isNotificationFailureReason(reason) ? reason : 'other' });
        return;
    }
  }

  setPending(n: number): void {
    this.notificationsPending.set(n);
  }

  setClickHouseUp(up: boolean): void {
    this.clickhouseUp.set(up ? 1 : 0);
  }

  setMalformedRuns(n: number): void {
    this.malformedRuns.set(n);
  }

  private initGroup(group: string): void {
    if (this.groups.has(group)) return;
    this.groups.add(group);
    this.groupEvaluations.inc({ group }, 0);
    this.groupFailures.inc({ group }, 0);
    this.groupSkipped.inc({ group }, 0);
  }

  private setValues(labels: SeriesLabels, s: SeriesEvaluation): void {
    setOrRemove(this.current, labels, s.current);
    setOrRemove(this.baseline, labels, s.baseline);
    setOrRemove(this.deviation, labels, s.deviation === null && s.isNew ? Infinity : s.deviation);
    this.runs.set({ ...labels, window: 'current' }, s.currentRuns);
    this.runs.set({ ...labels, window: 'baseline' }, s.baselineRuns);
    setOrRemove(this.pValue, labels, s.pValue);
  }

  private removeValues(labels: SeriesLabels): void {
    for (const g of [this.current, this.baseline, this.deviation, this.pValue]) g.remove(labels);
    this.runs.remove({ ...labels, window: 'current' });
    this.runs.remove({ ...labels, window: 'baseline' });
  }

  private removeExported(e: Exported): void {
    if (e.valued) this.removeValues(e.labels);
    if (e.state) this.alertState.remove({ ...e.labels, alertstate: e.state });
  }
}

/** A value that cannot be computed is left out rather than exported as NaN or a made-up 0. */
function setOrRemove(gauge: Gauge<SeriesLabelName>, labels: SeriesLabels, value: number | null): void {
  if (value === null || Number.isNaN(value)) gauge.remove(labels);
  else gauge.set(labels, value);
}
