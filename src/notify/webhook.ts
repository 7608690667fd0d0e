/**
 * A generic webhook speaking Alertmanager's webhook payload (version 4), so receivers written for
 * Alertmanager work unchanged; each alert also carries an `agentdrift` field with the evidence.
 */
import { commonAnnotations, commonLabels } from './format.js';
import { postJson } from './http.js';
import { secretSet } from './redact.js';
import type { AlertNotification, DriftEvidence, Notifier, NotifyResult } from './types.js';

export interface WebhookOptions {
  readonly name: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** 0: no limit. Beyond it alerts are dropped from the payload and counted in truncatedAlerts. */
  readonly maxAlerts?: number;
  readonly timeoutMs?: number;
  /** agentdrift's own URL, for `externalURL`. */
  readonly externalURL?: string;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** More values to scrub from errors: every secret of the config, in case a reply echoes another's. */
  readonly secrets?: readonly string[];
}

/** Alertmanager writes Go's zero time for "no end"; receivers parse it as such. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
  readonly agentdrift: DriftEvidence;
}

export interface WebhookPayload {
  readonly version: '4';
  readonly groupKey: string;
  readonly truncatedAlerts: number;
  readonly status: 'firing' | 'resolved';
  readonly receiver: string;
  readonly groupLabels: Record<string, string>;
  readonly commonLabels: Record<string, string>;
  readonly commonAnnotations: Record<string, string>;
  readonly externalURL: string;
  readonly alerts: readonly WebhookAlert[];
}

export class WebhookNotifier implements Notifier {
  readonly integration = 'webhook' as const;
  readonly name: string;
  private readonly secrets: string[];

  constructor(private readonly opts: WebhookOptions) {
    this.name = opts.name;
    this.secrets = secretSet([opts.url, ...Object.values(opts.headers ?? {}), ...(opts.secrets ?? [])]);
  }

  notify(alerts: readonly AlertNotification[], signal: AbortSignal): Promise<NotifyResult> {
    return postJson(
      {
        what: `webhook receiver ${this.name}`,
        url: this.opts.url,
        headers: this.opts.headers,
        timeoutMs: this.opts.timeoutMs ?? 10_000,
        secrets: this.secrets,
        now: this.opts.now,
        fetch: this.opts.fetch,
      },
      webhookPayload(this.name, alerts, { maxAlerts: this.opts.maxAlerts ?? 0, externalURL: this.opts.externalURL ?? '' }),
      signal,
    );
  }
}

export function webhookPayload(receiver: string, alerts: readonly AlertNotification[], opts: { maxAlerts: number; externalURL: string }): WebhookPayload {
  const kept = opts.maxAlerts > 0 ? alerts.slice(0, opts.maxAlerts) : alerts;
  const common = commonLabels(alerts);
  // agentdrift batches per receiver rather than by group_by; the alert name is the one grouping
  // label a batch can be said to have, when its alerts share it.
  const groupLabels: Record<string, string> = common.alertname !== undefined ? { alertname: common.alertname } : {};
  return {
    version: '4',
    groupKey: `{}:{${Object.entries(groupLabels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`,
    truncatedAlerts: alerts.length - kept.length,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels,
    commonLabels: common,
    commonAnnotations: commonAnnotations(alerts),
    externalURL: opts.externalURL,
    alerts: kept.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? ZERO_TIME,
      generatorURL: a.generatorURL,
      fingerprint: a.fingerprint,
      agentdrift: a.evidence,
    })),
  };
}
