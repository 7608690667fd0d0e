/**
 * The alert model's plain form: the alert states as the state file's `alerts` section holds them,
 * and back. The engine writes and reads its section through these; the file around them (versions,
 * schemas, atomic writes) is persist/stateFile.ts.
 */
import type { RuleFacts } from '../rules/facts.js';
import { newAlertStates, type AlertStates, type AlertSeries } from './state.js';
import { seriesId } from './types.js';

/**
 * A series as stored: everything but its id, which is recomputed on load; plus, since version 3, the
 * notification-facing facts of its rule, so a series whose rule is gone from the rule files by the
 * next start can still be resolved to receivers with the labels it fired with.
 */
export type SerializedAlert = Omit<AlertSeries, 'id'> & { readonly rule?: RuleFacts };

/**
 * Whether a series holds anything its next evaluation would not find again: a state other than
 * inactive, an episode's times (a resolved series turned inactive still says when it resolved), an
 * unhealthy last evaluation, a frozen or accepted baseline. A series without any of these is
 * inactive and healthy, and the next evaluation (at once after a start) rebuilds it exactly, evidence
 * and annotations included, so it is not stored: in a fleet such series are nearly all of them
 * (49,000 of 50,000 in bench:series' largest fleet), and writing them made every save rewrite tens of
 * megabytes. Prometheus keeps no inactive alerts across a restart either.
 */
export function isRemembered(s: AlertSeries): boolean {
  const r = s.record;
  return (
    r.state !== 'inactive' ||
    r.health !== 'ok' ||
    r.activeAt !== null ||
    r.firedAt !== null ||
    r.resolvedAt !== null ||
    (r.keepFiringSince ?? null) !== null ||
    s.frozenBaseline !== undefined ||
    s.accepted !== undefined
  );
}

/**
 * The engine's section of the state file: the series worth remembering (isRemembered); `factsOf`
 * gives the facts of each series' rule, when known.
 */
export function serializeAlerts(states: AlertStates, factsOf: (alert: string) => RuleFacts | undefined = () => undefined): SerializedAlert[] {
  return [...states.values()].filter(isRemembered).map((s) => {
    const rule = factsOf(s.alert);
    return {
    alert: s.alert,
    key: s.key,
    labels: s.labels,
    record: s.record,
    ...(s.annotations !== undefined ? { annotations: s.annotations } : {}),
    ...(s.evidence !== undefined ? { evidence: s.evidence } : {}),
    measured: s.measured,
    ...(s.frozenBaseline !== undefined ? { frozenBaseline: s.frozenBaseline } : {}),
    ...(s.accepted !== undefined ? { accepted: s.accepted } : {}),
    ...(rule !== undefined ? { rule } : {}),
    };
  });
}

/** Ids are recomputed rather than stored, so a snapshot cannot disagree with `seriesId`. */
export function deserializeAlerts(alerts: readonly SerializedAlert[]): AlertStates {
  const states = newAlertStates();
  for (const a of alerts) {
    const id = seriesId(a.alert, a.labels);
    states.set(id, {
      id,
      alert: a.alert,
      key: a.key,
      labels: { ...a.labels },
      record: { ...a.record },
      ...(a.annotations !== undefined ? { annotations: { ...a.annotations } } : {}),
      ...(a.evidence !== undefined ? { evidence: a.evidence } : {}),
      measured: a.measured,
      // Stored since they were introduced, but not read back before version 3: a restart lost them.
      ...(a.frozenBaseline !== undefined ? { frozenBaseline: a.frozenBaseline } : {}),
      ...(a.accepted !== undefined ? { accepted: { ...a.accepted } } : {}),
    });
  }
  return states;
}
