/**
 * agentdrift's /metrics, on a registry of its own (never prom-client's global one, so tests and
 * embedders can hold several instances and nothing from a dependency leaks in).
 *
 * Two kinds of metric, two ways of filling them. Counters and histograms count events as the engine,
 * the scheduler and the notifier report them. Everything that describes state (per-series values and
 * alert states, pending notifications) is read from its owner at scrape time: nothing here keeps a
 * copy of what is firing, so nothing can disagree with the engine. The per-series gauges of one
 * scrape are written from one snapshot of the engine's series (snapshot.ts): one walk per scrape,
 * and all seven describe the same moment.
 *
 * Alert state is exported like Prometheus' `ALERTS`: one series per alert series, carrying the
 * CURRENT state in the `alertstate` label with value 1, so `count by (alertstate)` counts alerts.
 */
import type { NotifyRecorder } from '../notify/types.js';
import { Registry, collectDefaultMetrics, type Gauge } from 'prom-client';
import { AlertStates, type AlertSeries } from '../alerting/state.js';
import { silentLogger, type Logger } from '../log.js';
import type { SkippedRule } from '../engine/skips.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { defineEventMetrics, defineSeriesGauges, type EventMetrics, type SeriesGaugeName, type SeriesGauges } from './definitions.js';
import { boundLabelValue } from './labels.js';
import { NOTIFICATION_FAILURE_REASONS, isNotificationFailureReason, type NotificationFailureReason } from './reasons.js';
import { ScrapeCache, renderFamily, seriesSamples, takeSnapshot, type SampleSink, type SeriesSnapshot } from './snapshot.js';

export const DEFAULT_MAX_SERIES_PER_RULE = 500;

export interface DriftMetricsOptions {
  /** Series (group and key combinations) exported per rule; the rest are counted as overflow. */
  readonly maxSeriesPerRule?: number;
  readonly logger?: Logger;
  /** Process and Node.js metrics (default true); off only where several instances share a process. */
  readonly defaultMetrics?: boolean;
}

/** Where the state-describing metrics are read from at scrape time. */
export interface MetricsSource {
  /** The engine's alert state, every series. */
  readonly alertStates: ReadonlyMap<string, AlertSeries>;
  /** The rules evaluated now, by alert name (for the rule-derived labels). */
  readonly rules: ReadonlyMap<string, Rule>;
  /** Notifications waiting to be delivered or retried. */
  pendingNotifications?(): number;
}

export interface ReceiverIntegration {
  readonly name: string;
  readonly integration: string;
}

export type NotificationResult = 'sent' | 'failed' | 'attempt_failed' | 'retry';

// prom-client also exports these as `_total` gauges, which promtool rejects (a `_total` suffix
// promises a counter); each is the sum of the per-type gauge of the same name without the suffix.
const REDUNDANT_DEFAULT_METRICS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const DEFAULT_PREFIX = 'agentdrift_';

/**
 * The snapshot the per-series gauges' `collect()` share when the registry is scraped directly
 * (`registry.metrics()`, `getMetricsAsJSON()`): taken by the first gauge collected, reused by the
 * others, and never by a gauge that already used it (that is the next scrape) nor after the current
 * synchronous turn (prom-client calls every collect() of one scrape before it yields; a scrape that
 * starts later is a later turn).
 */
interface SharedSnapshot {
  readonly snapshot: SeriesSnapshot;
  readonly used: Set<SeriesGaugeName>;
}

export class DriftMetrics {
  readonly registry: Registry;
  readonly maxSeriesPerRule: number;
  private readonly logger: Logger;
  private readonly groups = new Set<string>();
  /** Rules with an overflow counter, so a reload that removes the rule removes its counter. */
  private readonly overflowRules = new Set<string>();
  /** group, rule, reason (NUL-separated) of every skip counter, so a reload removes a removed rule's. */
  private readonly skippedRules = new Set<string>();
  private receivers: ReceiverIntegration[] = [];
  private readonly events: EventMetrics;
  private readonly series: SeriesGauges;
  /** The per-series gauges, by the metric object the registry lists (see metricsText()). */
  private readonly seriesGaugeOf = new Map<unknown, SeriesGaugeName>();
  private shared: SharedSnapshot | null = null;
  /** What the last scrape derived that the next may reuse (label texts, unchanged rules' samples). */
  private readonly scrapeCache = new ScrapeCache();
  private source: MetricsSource | null = null;

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
    this.series = defineSeriesGauges(registers, (name) => () => this.fill(name));
    for (const [name, gauge] of Object.entries(this.series)) this.seriesGaugeOf.set(gauge, name as SeriesGaugeName);
    this.events = defineEventMetrics(registers, () => {
      const n = this.source?.pendingNotifications?.();
      if (n !== undefined) this.events.notificationsPending.set(n);
    });
    this.events.rulesLoaded.set(0);
    this.events.persistFailures.inc(0);
    this.events.notificationsPending.set(0);
    for (const result of ['success', 'failure']) this.events.reloads.inc({ result }, 0);
  }

  /** The owner of the state the gauges describe; read at every scrape from then on. */
  readStateFrom(source: MetricsSource): void {
    this.source = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * One scrape: the text of every metric, in the registry's order, as `registry.metrics()` writes it.
   * The engine's state is walked once, into a snapshot of this scrape's own; the per-series gauges
   * are written from it directly (their labels escaped once per series rather than once per sample,
   * by prom-client), every other metric by prom-client. Byte for byte what registry.metrics() writes
   * (test/metrics/scrape.test.ts) for this registry: the Prometheus format, no default labels (nothing
   * here sets any); in another format the registry writes everything itself.
   */
  async metricsText(): Promise<string> {
    if (this.registry.contentType !== Registry.PROMETHEUS_CONTENT_TYPE) return this.registry.metrics();
    const snapshot = takeSnapshot(this.source, this.maxSeriesPerRule, this.scrapeCache);
    // Every family in the registry's order, as registry.metrics() writes them: prom-client's own
    // (their collect() called now, in that order) into a slot each, the per-series gauges in place.
    const out: string[] = [];
    const pending: Promise<void>[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      if (out.length > 0) out.push('\n\n');
      const name = this.seriesGaugeOf.get(metric);
      if (name !== undefined) {
        renderFamily(out, name, metric, snapshot);
        continue;
      }
      const slot = out.push('') - 1;
      pending.push(this.registry.getSingleMetricAsString(metric.name).then((text) => void (out[slot] = text)));
    }
    await Promise.all(pending);
    out.push('\n');
    return out.join('');
  }

  // ---- state, read at scrape time ---------------------------------------------------------------

  /**
   * Rebuilds one per-series gauge when the registry itself is scraped (metricsText() does not ask
   * the gauges): from the snapshot the scrape's gauges share.
   */
  private fill(name: SeriesGaugeName): void {
    const gauge = this.series[name] as Gauge<string>;
    gauge.reset();
    const sink: SampleSink = (e, extra, value) => gauge.set(extra === null ? e.labels : { ...e.labels, [extra.name]: extra.value }, value);
    for (const e of this.sharedSnapshot(name).series) seriesSamples(name, e, sink);
  }

  /** The snapshot of the scrape `name` is collected in (see SharedSnapshot). */
  private sharedSnapshot(name: SeriesGaugeName): SeriesSnapshot {
    let shared = this.shared;
    if (shared === null || shared.used.has(name)) {
      const fresh: SharedSnapshot = { snapshot: takeSnapshot(this.source, this.maxSeriesPerRule, this.scrapeCache), used: new Set() };
      this.shared = shared = fresh;
      queueMicrotask(() => {
        if (this.shared === fresh) this.shared = null;
      });
    }
    shared.used.add(name);
    return shared.snapshot;
  }

  // ---- events -----------------------------------------------------------------------------------

  /** After each rule evaluation: counts the series the cap leaves out (and says so in the log). */
  recordRuleEvaluation(rule: Pick<Rule, 'alert'>): void {
    let series = 0;
    const states = this.source?.alertStates;
    // The engine's states are indexed by alert (a scan per rule would be quadratic in rules).
    if (states instanceof AlertStates) series = states.idsOf(rule.alert).size;
    else for (const s of states?.values() ?? []) if (s.alert === rule.alert) series++;
    const dropped = series - this.maxSeriesPerRule;
    if (dropped <= 0) return;
    this.events.overflow.inc({ rule: rule.alert }, dropped);
    this.overflowRules.add(rule.alert);
    this.logger.warn(
      { rule: rule.alert, series, exported: this.maxSeriesPerRule, dropped, maxSeriesPerRule: this.maxSeriesPerRule },
      'rule has more series than the per-rule cap; the series with the least deviation are not exported',
    );
  }

  /**
   * A rule set was loaded: its groups' counters exist at 0 before their first evaluation, groups and
   * rules no longer loaded stop being exported.
   */
  recordRuleSet(rules: RuleSet): void {
    const alerts = new Set(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)));
    this.events.rulesLoaded.set(alerts.size);
    // Thresholds of the rules loaded now only: a rule gone (or its limit changed) leaves no series.
    this.events.ruleThreshold.reset();
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      const kind = r.absolute?.bound ?? 'relative';
      const value = r.absolute?.value ?? r.threshold;
      if (Number.isFinite(value)) this.events.ruleThreshold.set({ rule: boundLabelValue(r.alert), signal: r.signal, kind }, value);
    }
    const wanted = new Set(rules.groups.map((g) => g.name));
    for (const g of [...this.groups]) {
      if (wanted.has(g)) continue;
      const e = this.events;
      for (const m of [e.groupDuration, e.groupEvaluations, e.groupFailures, e.groupLastSuccess, e.groupSkipped, e.ruleEvaluations]) m.remove({ group: g });
      this.groups.delete(g);
    }
    for (const g of wanted) this.initGroup(g);
    // Skip counters of rules (or groups) no longer loaded go, like the rules' other series.
    const loaded = new Set(rules.groups.flatMap((g) => g.rules.map((r) => `${boundLabelValue(g.name)}\u0000${boundLabelValue(r.alert)}`)));
    for (const k of [...this.skippedRules]) {
      const [group, rule, reason] = k.split('\u0000') as [string, string, string];
      if (loaded.has(`${group}\u0000${rule}`)) continue;
      this.events.ruleSkipped.remove({ group, rule, reason });
      this.skippedRules.delete(k);
    }
    for (const alert of [...this.overflowRules]) {
      if (alerts.has(alert)) continue;
      this.events.overflow.remove({ rule: alert });
      this.overflowRules.delete(alert);
    }
  }

  recordReload(ok: boolean): void {
    this.events.reloads.inc({ result: ok ? 'success' : 'failure' });
  }

  /** `at` is the evaluation time in ms since the epoch. */
  recordGroupEvaluation(group: string, durationMs: number, ok: boolean, at: number, ruleEvaluations = 0): void {
    this.initGroup(group);
    this.events.groupDuration.observe({ group }, Math.max(0, durationMs) / 1000);
    this.events.groupEvaluations.inc({ group });
    if (ruleEvaluations > 0) this.events.ruleEvaluations.inc({ group }, ruleEvaluations);
    if (ok) this.events.groupLastSuccess.set({ group }, at / 1000);
    else this.events.groupFailures.inc({ group });
  }

  /** A tick of `group` skipped because its previous evaluation was still running: every rule of it skipped. */
  recordSkipped(group: string, rules: readonly string[] = []): void {
    this.initGroup(group);
    this.events.groupSkipped.inc({ group });
    this.recordRulesSkipped(group, rules.map((rule) => ({ rule, reason: 'overlap' as const })));
  }

  /** Rules of `group` not evaluated at a tick, each with why (agentdrift_rule_evaluations_skipped_total). */
  recordRulesSkipped(group: string, skipped: readonly SkippedRule[]): void {
    for (const s of skipped) {
      // Bounded like every label value (a group or alert name may be long; README "Limits").
      const [g, rule, reason] = [boundLabelValue(group), boundLabelValue(s.rule), s.reason];
      this.events.ruleSkipped.inc({ group: g, rule, reason });
      this.skippedRules.add(`${g}\u0000${rule}\u0000${reason}`);
    }
  }

  /**
   * Declares the configured receivers: every counter exists at 0 (every reason included) before the
   * first notification, so `rate()` and `increase()` see the first failure. Receivers missing from
   * the list (removed by a config reload) stop being exported.
   */
  registerReceivers(list: readonly ReceiverIntegration[]): void {
    const { notificationsSent, notificationRetries, notificationsFailed, attemptsFailed } = this.events;
    const key = (r: ReceiverIntegration) => JSON.stringify([r.name, r.integration]);
    const wanted = new Map(list.map((r) => [key(r), r]));
    for (const r of this.receivers) {
      if (wanted.has(key(r))) continue;
      const labels = { receiver: r.name, integration: r.integration };
      notificationsSent.remove(labels);
      notificationRetries.remove(labels);
      for (const reason of NOTIFICATION_FAILURE_REASONS) for (const c of [notificationsFailed, attemptsFailed]) c.remove({ ...labels, reason });
    }
    this.receivers = [...wanted.values()];
    for (const r of this.receivers) {
      const labels = { receiver: r.name, integration: r.integration };
      notificationsSent.inc(labels, 0);
      notificationRetries.inc(labels, 0);
      for (const reason of NOTIFICATION_FAILURE_REASONS) for (const c of [notificationsFailed, attemptsFailed]) c.inc({ ...labels, reason }, 0);
    }
  }

  /** The Dispatcher's recorder over these counters (no pending: the gauge reads pendingCount() at scrape time). */
  notifyRecorder(): NotifyRecorder {
    return {
      sent: (receiver, integration) => this.recordNotification(receiver, integration, 'sent'),
      failed: (receiver, integration, reason) => this.recordNotification(receiver, integration, 'failed', reason),
      attemptFailed: (receiver, integration, reason) => this.recordNotification(receiver, integration, 'attempt_failed', reason),
      retry: (receiver, integration) => this.recordNotification(receiver, integration, 'retry'),
    };
  }

  /** A reason outside the fixed set is counted as `other` so the label stays bounded. */
  recordNotification(receiver: string, integration: string, result: NotificationResult, reason?: NotificationFailureReason): void {
    const labels = { receiver, integration };
    switch (result) {
      case 'sent':
        this.events.notificationsSent.inc(labels);
        return;
      case 'retry':
        this.events.notificationRetries.inc(labels);
        return;
      case 'failed':
        this.events.notificationsFailed.inc({ ...labels, reason: boundedReason(reason) });
        return;
      case 'attempt_failed':
        this.events.attemptsFailed.inc({ ...labels, reason: boundedReason(reason) });
        return;
    }
  }

  setClickHouseUp(up: boolean): void {
    this.events.clickhouseUp.set(up ? 1 : 0);
  }

  /** A save of the state file (or a journal append) succeeded or failed, at `atMs`. */
  recordPersist(ok: boolean, atMs: number): void {
    if (ok) this.events.persistLastSuccess.set(atMs / 1000);
    else this.events.persistFailures.inc();
  }

  setMalformedRuns(n: number): void {
    this.events.malformedRuns.set(n);
  }

  private initGroup(group: string): void {
    if (this.groups.has(group)) return;
    this.groups.add(group);
    this.events.groupEvaluations.inc({ group }, 0);
    this.events.groupFailures.inc({ group }, 0);
    this.events.groupSkipped.inc({ group }, 0);
    this.events.ruleEvaluations.inc({ group }, 0);
  }
}

/** A reason outside the fixed set is counted as `other`, so the label stays bounded. */
function boundedReason(reason: string | undefined): NotificationFailureReason {
  return reason !== undefined && isNotificationFailureReason(reason) ? reason : 'other';
}
