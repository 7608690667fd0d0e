/**
 * Hands alerts to a Prometheus Alertmanager through its v2 API, for teams that already route,
 * group and silence there. agentdrift then behaves like a Prometheus server towards it:
 *
 *  - A firing alert is sent with endsAt = now + 4 × max(resend_interval, evaluation interval),
 *    exactly Prometheus' choice (`ValidUntil = ts + 4 * max(resend_delay, interval)`). Re-sends
 *    happen after evaluations, so with rules evaluated every 5m and a 1m resend_interval an alert
 *    valid for only 4 resend intervals would expire in Alertmanager between two evaluations. The
 *    dispatcher re-sends at least every resend_interval while the alert fires, so endsAt keeps
 *    moving ahead; if agentdrift dies, the alert resolves by itself in Alertmanager after four
 *    missed re-sends instead of firing forever.
 *  - Labels are the alert's own (alertname, signal, rule and group labels), never anything about the
 *    sending process: two replicas evaluating the same rules on the same data send identical label
 *    sets, which Alertmanager deduplicates into one alert and one notification, and either
 *    replica's re-sends keep it firing while the other is down (Prometheus' HA model).
 *    A firing alert that already carries an endsAt (a test alert) keeps it.
 *  - A resolved alert is sent with endsAt = the time it resolved, which ends it in Alertmanager.
 *
 * Evidence is added as annotations (`agentdrift_change`, `agentdrift_example_runs`, and from the
 * explanation `agentdrift_onset`, `agentdrift_moved`, `agentdrift_cause`, `agentdrift_trace_ids`) unless the rule
 * already set them, since Alertmanager's alerts only hold strings.
 */
import { alertFacts } from './format.js';
import { postJson } from './http.js';
import { secretSet } from './redact.js';
import type { AlertNotification, Notifier, NotifyResult } from './types.js';

export interface AlertmanagerOptions {
  readonly name: string;
  /** Base URL, e.g. http://alertmanager:9093 (a path prefix is kept). */
  readonly url: string;
  readonly resendIntervalMs?: number;
  /** The longest evaluation interval of the loaded rules, read at each send (default: none). */
  readonly evaluationIntervalMs?: () => number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** More values to scrub from errors: every secret of the config, in case a reply echoes another's. */
  readonly secrets?: readonly string[];
}

export const DEFAULT_RESEND_INTERVAL_MS = 60_000;
const VALIDITY_RESENDS = 4;

export interface PostableAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL?: string;
}

export class AlertmanagerNotifier implements Notifier {
  readonly integration = 'alertmanager' as const;
  readonly name: string;
  readonly resendIntervalMs: number;
  private readonly secrets: string[];
  private readonly endpoint: string;

  constructor(private readonly opts: AlertmanagerOptions) {
    this.name = opts.name;
    this.resendIntervalMs = opts.resendIntervalMs ?? DEFAULT_RESEND_INTERVAL_MS;
    this.secrets = secretSet([opts.url, ...Object.values(opts.headers ?? {}), ...(opts.secrets ?? [])]);
    this.endpoint = alertsEndpoint(opts.url);
  }

  notify(alerts: readonly AlertNotification[], signal: AbortSignal): Promise<NotifyResult> {
    const now = (this.opts.now ?? Date.now)();
    return postJson(
      {
        what: `alertmanager receiver ${this.name}`,
        url: this.endpoint,
        headers: this.opts.headers,
        timeoutMs: this.opts.timeoutMs ?? 10_000,
        secrets: this.secrets,
        now: this.opts.now,
        fetch: this.opts.fetch,
      },
      alerts.map((a) => postableAlert(a, now, Math.max(this.resendIntervalMs, this.opts.evaluationIntervalMs?.() ?? 0))),
      signal,
    );
  }
}

/** `<base>/api/v2/alerts`, keeping a path prefix (Alertmanager behind --web.route-prefix). */
export function alertsEndpoint(base: string): string {
  try {
    const u = new URL(base);
    u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
    u.search = '';
    u.hash = '';
    return u.href;
  } catch {
    return base;
  }
}

/** `resendIntervalMs`: the longer of resend_interval and the evaluation interval (see the top of this file). */
export function postableAlert(a: AlertNotification, now: number, resendIntervalMs: number): PostableAlert {
  const facts = alertFacts(a);
  const annotations: Record<string, string> = { ...a.annotations };
  if (annotations.agentdrift_change === undefined) annotations.agentdrift_change = facts.moved;
  if (annotations.agentdrift_example_runs === undefined && facts.exampleRunIds.length > 0) annotations.agentdrift_example_runs = facts.exampleRunIds.join(', ');
  // The explanation, one bounded line per annotation (Alertmanager's alerts hold strings only).
  const explained: Record<string, string | null> = { agentdrift_onset: facts.onset, agentdrift_moved: facts.whatMoved, agentdrift_cause: facts.cause, agentdrift_trace_ids: facts.examples.map((x) => x.traceId).join(', ') || null };
  for (const [k, v] of Object.entries(explained)) if (v !== null && annotations[k] === undefined) annotations[k] = v;
  const endsAt = a.status === 'resolved' ? (a.endsAt ?? new Date(now).toISOString()) : (a.endsAt ?? new Date(now + VALIDITY_RESENDS * resendIntervalMs).toISOString());
  return {
    labels: { ...a.labels },
    annotations,
    startsAt: a.startsAt,
    endsAt,
    // Alertmanager rejects the whole batch when one generatorURL is not a URI.
    ...(facts.generatorURL !== null ? { generatorURL: facts.generatorURL } : {}),
  };
}
