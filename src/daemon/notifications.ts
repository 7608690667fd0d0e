/**
 * From alert transitions to notifications: builds what a receiver is told (labels, rendered
 * annotations, the drift evidence), hands transitions to the Dispatcher, re-offers every firing alert
 * after each evaluation (repeat_interval, Alertmanager re-sends), and persists pending deliveries
 * with the alert state through the Dispatcher's snapshot.
 */
import { createHash } from 'node:crypto';
import type { AlertSeries, AlertStates } from '../alerting/state.js';
import { alertKey } from '../alerting/types.js';
import type { RuleEvaluation } from '../engine/evaluate.js';
import type { DriftMetrics } from '../metrics/registry.js';
import { Dispatcher } from '../notify/dispatcher.js';
import { buildNotifiers } from '../notify/factory.js';
import type { NotifyConfig } from '../notify/config.js';
import type { AlertNotification, DriftEvidence } from '../notify/types.js';
import type { Rule } from '../rules/types.js';
import { describeBaseline } from '../signals/windows.js';
import { formatDuration } from '../yaml/duration.js';
import type { SeriesEvaluation } from '../signals/index.js';
import type { Daemon } from './daemon.js';

export function alertFingerprint(alert: string, labels: Readonly<Record<string, string>>): string {
  return createHash('sha256').update(alertKey(alert, labels)).digest('hex').slice(0, 16);
}

export function notificationFor(
  rule: Rule,
  series: AlertSeries,
  measured: SeriesEvaluation | null,
  previous: AlertNotification | undefined,
  externalUrl: string,
): AlertNotification {
  const r = series.record;
  const resolved = r.state === 'resolved';
  // What the rule says about every series; the measurement (or the last one seen) adds the numbers.
  const fromRule = {
    signal: rule.signal,
    window: `last ${formatDuration(rule.windowMs)}`,
    baselineWindow: describeBaseline(rule.baseline),
    threshold: rule.threshold,
    direction: rule.direction,
  };
  const evidence: DriftEvidence = measured
    ? {
        ...fromRule,
        key: measured.key,
        current: measured.current,
        baseline: measured.baseline,
        deviation: measured.deviation,
        isNew: measured.isNew,
        currentRuns: measured.currentRuns,
        baselineRuns: measured.baselineRuns,
        pValue: measured.pValue,
        contributors: measured.contributors,
        exampleRunIds: measured.exampleRunIds,
      }
    : (previous?.evidence ?? {
        ...fromRule,
        key: series.labels.tool ?? '',
        current: null,
        baseline: null,
        deviation: series.value ?? null,
        isNew: false,
        currentRuns: 0,
        baselineRuns: 0,
        pValue: null,
        contributors: [],
        exampleRunIds: [],
      });
  const started = r.firedAt ?? r.activeAt ?? r.lastEvalAt;
  return {
    fingerprint: alertFingerprint(rule.alert, series.labels),
    status: resolved ? 'resolved' : 'firing',
    labels: { alertname: rule.alert, signal: rule.signal, ...rule.labels, ...series.labels },
    annotations: { ...(previous?.annotations ?? {}), ...(series.annotations ?? {}) },
    startsAt: new Date(started).toISOString(),
    endsAt: resolved && r.resolvedAt !== null ? new Date(r.resolvedAt).toISOString() : null,
    generatorURL: `${externalUrl.replace(/\/+$/, '')}/alerts?alertname=${encodeURIComponent(rule.alert)}`,
    evidence,
  };
}

export function attachNotifications(daemon: Daemon, notify: NotifyConfig, metrics: DriftMetrics, externalUrl: string): Dispatcher {
  const { logger } = daemon.opts;
  const notifiers = buildNotifiers(notify, { externalURL: externalUrl, now: () => daemon.clock.now() });
  metrics.registerReceivers(notifiers.map((n) => ({ name: n.name, integration: n.integration })));
  const dispatcher = new Dispatcher({
    route: notify.route,
    notifiers,
    logger,
    clock: daemon.clock,
    recorder: {
      sent: (receiver, integration) => metrics.recordNotification(receiver, integration, 'sent'),
      failed: (receiver, integration, reason) => metrics.recordNotification(receiver, integration, 'failed', reason),
      retry: (receiver, integration) => metrics.recordNotification(receiver, integration, 'retry'),
      pending: (n) => metrics.setPending(n),
    },
  });
  daemon.deliveries = dispatcher;

  // The last notification per firing series: evidence survives evaluations that fail or lose the group.
  const firing = new Map<string, AlertNotification>();
  const rulesByName = () => new Map((daemon.ruleSet?.groups ?? []).flatMap((g) => g.rules.map((r) => [r.alert, r] as const)));

  const refresh = (ev: RuleEvaluation, states: AlertStates) => {
    const rule = ev.rule;
    const measured = new Map(ev.series.map((s) => [alertKey(rule.alert, s.labels), s]));
    for (const [key, s] of states) {
      if (s.alert !== rule.alert) continue;
      if (s.record.state === 'firing') firing.set(key, notificationFor(rule, s, measured.get(key) ?? null, firing.get(key), externalUrl));
      else firing.delete(key);
    }
  };

  daemon.addListener({
    onTransitions: (events) => {
      for (const e of events) {
        const { transition } = e.change;
        const toFiring = transition.to === 'firing';
        const resolved = transition.from === 'firing' && transition.to === 'resolved';
        if (!toFiring && !resolved) continue;
        const key = alertKey(e.rule.alert, e.change.labels);
        // The engine has already stored the series with its rendered annotations.
        const series: AlertSeries = daemon.engine.alertStates.get(key) ?? { alert: e.rule.alert, labels: e.change.labels, record: e.change.record };
        dispatcher.enqueue(notificationFor(e.rule, { ...series, record: e.change.record }, e.series, firing.get(key), externalUrl));
      }
    },
    onEvaluation: (ev, states) => {
      refresh(ev, states);
    },
    onGroupDone: (_group, _ok, _ms, at) => {
      const live = rulesByName();
      for (const [key, n] of firing) if (!live.has(n.labels.alertname ?? '')) firing.delete(key);
      dispatcher.refreshFiring([...firing.values()], at);
    },
    onClose: async () => {
      const left = await dispatcher.flush(10_000);
      if (left > 0) logger.warn({ pending: left }, 'notifications still pending at shutdown: kept in the state file for the next start');
      await dispatcher.close();
    },
  });
  return dispatcher;
}
