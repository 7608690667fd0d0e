/**
 * GET /alerts: the alert state of every series of a loaded rule, as JSON (what notification links
 * point at). Pure: it gets the engine's series and rules and the query's filter.
 */
import type { AlertSeries } from '../alerting/state.js';
import type { Rule } from '../rules/types.js';
import { isoOrNull } from '../util/format.js';

export interface AlertsFilter {
  readonly alertname: string | null;
  readonly state: string | null;
}

export function alertsView(series: Iterable<AlertSeries>, rules: ReadonlyMap<string, Rule>, filter: AlertsFilter): unknown[] {
  const out: unknown[] = [];
  for (const a of series) {
    // Loaded rules only, as /metrics: a removed rule's series wait out their grace unseen.
    if (!rules.has(a.alert) || (filter.alertname !== null && a.alert !== filter.alertname) || (filter.state !== null && a.record.state !== filter.state)) continue;
    out.push({
      alertname: a.alert,
      labels: a.labels,
      state: a.record.state,
      health: a.record.health,
      active_at: isoOrNull(a.record.activeAt),
      fired_at: isoOrNull(a.record.firedAt),
      resolved_at: isoOrNull(a.record.resolvedAt),
      last_evaluation: isoOrNull(a.record.lastEvalAt),
      value: a.evidence?.deviation ?? null,
      frozen_baseline: a.record.state === 'firing' ? (a.frozenBaseline ?? null) : null,
      accepted: a.accepted === undefined ? null : { at: isoOrNull(a.accepted.at), reason: a.accepted.reason, baseline: a.accepted.baseline, until: isoOrNull(a.accepted.until) },
      annotations: a.annotations ?? {},
      explanation: a.evidence?.explanation ?? null,
      example_run_ids: a.evidence?.exampleRunIds ?? [],
      last_error: a.record.lastError,
    });
  }
  return out;
}
