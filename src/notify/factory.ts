/** Notifiers from a validated NotifyConfig: one per receiver, in config order. */
import { AlertmanagerNotifier } from './alertmanager.js';
import { notifySecrets, type NotifyConfig, type ReceiverConfig } from './config.js';
import { EmailNotifier } from './email.js';
import { SlackNotifier } from './slack.js';
import type { Notifier } from './types.js';
import { WebhookNotifier } from './webhook.js';

export interface BuildNotifiersOptions {
  /** agentdrift's own URL, sent as the webhook payload's externalURL. */
  readonly externalURL?: string;
  /** For Alertmanager endsAt and Retry-After dates; defaults to Date.now. */
  readonly now?: () => number;
  /** Replaces the global fetch (tests, proxies). */
  readonly fetch?: typeof fetch;
  /** Scrubbed from every notifier's errors; buildNotifiers passes every secret of the config. */
  readonly secrets?: readonly string[];
  /** The longest evaluation interval of the rules now loaded (Alertmanager's endsAt, see alertmanager.ts). */
  readonly evaluationIntervalMs?: () => number;
}

export function buildNotifier(r: ReceiverConfig, opts: BuildNotifiersOptions = {}): Notifier {
  const common = { name: r.name, timeoutMs: r.timeoutMs, now: opts.now, fetch: opts.fetch, secrets: opts.secrets };
  switch (r.integration) {
    case 'slack':
      return new SlackNotifier({ ...common, webhookUrl: r.webhookUrl, channel: r.channel });
    case 'webhook':
      return new WebhookNotifier({ ...common, url: r.url, headers: r.headers, maxAlerts: r.maxAlerts, externalURL: opts.externalURL });
    case 'alertmanager':
      return new AlertmanagerNotifier({ ...common, url: r.url, headers: r.headers, resendIntervalMs: r.resendIntervalMs, evaluationIntervalMs: opts.evaluationIntervalMs });
    case 'email':
      return new EmailNotifier({
        name: r.name,
        to: r.to,
        from: r.from,
        host: r.host,
        port: r.port,
        tls: r.tls,
        authUsername: r.authUsername,
        authPassword: r.authPassword,
        insecureSkipVerify: r.insecureSkipVerify,
        timeoutMs: r.timeoutMs,
        secrets: opts.secrets,
      });
  }
}

/**
 * Each notifier scrubs every secret of the config, not only its own: a reply (from a proxy, a shared
 * gateway) may echo any of them, and an error message is the one place they could surface.
 */
export function buildNotifiers(config: NotifyConfig, opts: BuildNotifiersOptions = {}): Notifier[] {
  const secrets = [...notifySecrets(config), ...(opts.secrets ?? [])];
  return config.receivers.map((r) => buildNotifier(r, { ...opts, secrets }));
}

/** Closes every notifier, each even when another fails (for callers that own notifiers without a Dispatcher). */
export async function closeNotifiers(notifiers: readonly Notifier[]): Promise<void> {
  await Promise.allSettled(notifiers.map(async (n) => n.close?.()));
}
