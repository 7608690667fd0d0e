/**
 * From the engine's alert state to notifications: what a receiver is told about a series (labels,
 * rendered annotations, the drift evidence), and the engine's notify port, which hands each group
 * evaluation's transitions and firing set to the Dispatcher. Everything is read from the series
 * itself (`AlertSeries`, owned by the engine): nothing here keeps a copy of what is firing.
 */
import { createHash } from 'node:crypto';
import type { AlertSeries } from '../alerting/state.js';
import type { NotifyPort, TransitionEvent } from '../engine/types.js';
import { ruleFacts, type RuleFacts } from '../rules/facts.js';
import type { Rule } from '../rules/types.js';
import type { Dispatcher } from './dispatcher.js';
import type { AlertNotification, DriftEvidence } from './types.js';

/** The receiver-facing id of a series: a short hash of its identity (labels may hold anything). */
export function alertFingerprint(series: Pick<AlertSeries, 'id'>): string {
  return createHash('sha256').update(series.id).digest('hex').slice(0, 16);
}

export function notificationFor(rule: Rule | RuleFacts, series: AlertSeries, externalUrl: string): AlertNotification {
  const facts = 'windowMs' in rule ? ruleFacts(rule) : rule;
  const r = series.record;
  const resolved = r.state === 'resolved';
  const e = series.evidence;
  const evidence: DriftEvidence = {
    signal: facts.signal,
    window: facts.window,
    // A firing series is compared with the baseline as it was when it fired (see engine/verdict.ts).
    baselineWindow:
      series.frozenBaseline !== undefined && r.firedAt !== null
        ? `${facts.baselineWindow} as of ${new Date(r.firedAt).toISOString()} (frozen while firing)`
        : facts.baselineWindow,
    threshold: facts.threshold,
    direction: facts.direction,
    key: series.key,
    current: e?.current ?? null,
    baseline: e?.baseline ?? null,
    deviation: e?.deviation ?? null,
    isNew: e?.isNew ?? false,
    currentRuns: e?.currentRuns ?? 0,
    baselineRuns: e?.baselineRuns ?? 0,
    pValue: e?.pValue ?? null,
    contributors: e?.contributors ?? [],
    exampleRunIds: e?.exampleRunIds ?? [],
    ...(e?.explanation !== undefined ? { explanation: e.explanation } : {}),
  };
  const started = r.firedAt ?? r.activeAt ?? r.lastEvalAt;
  return {
    fingerprint: alertFingerprint(series),
    status: resolved ? 'resolved' : 'firing',
    labels: { alertname: facts.alert, signal: facts.signal, ...facts.labels, ...series.labels },
    annotations: { ...(series.annotations ?? {}) },
    startsAt: new Date(started).toISOString(),
    endsAt: resolved && r.resolvedAt !== null ? new Date(r.resolvedAt).toISOString() : null,
    generatorURL: `${externalUrl.replace(/\/+$/, '')}/alerts?alertname=${encodeURIComponent(facts.alert)}`,
    evidence,
  };
}

/**
 * The engine's notify port over a Dispatcher: a series that starts firing or resolves from firing is
 * enqueued as it happens; then the whole firing set is offered again for repeat_interval re-sends.
 */
export function dispatchAlerts(dispatcher: Pick<Dispatcher, 'enqueue' | 'refreshFiring'>, externalUrl: string): NotifyPort {
  const notify = (a: Pick<TransitionEvent, 'rule' | 'series'>) => notificationFor(a.rule, a.series, externalUrl);
  return ({ at, transitions, firing }) => {
    for (const { rule, series, transition } of transitions) {
      const toFiring = transition.to === 'firing';
      const resolved = transition.from === 'firing' && transition.to === 'resolved';
      if (toFiring || resolved) dispatcher.enqueue(notify({ rule, series }));
    }
    dispatcher.refreshFiring(firing.map(notify), at);
  };
}
