/**
 * Several replicas, the Prometheus way: every replica sends to Alertmanager, which deduplicates
 * (identical labels, see alertmanager.ts). Direct receivers (Slack, email, webhook) have no such
 * deduplication, so the rule is: at most one replica sends to them; every other replica is started
 * with `--alertmanager-only`, which removes its direct receivers here, before anything is built from
 * the configuration. The configuration itself stays the same file on every replica.
 */
import type { NotifyConfig } from './config.js';
import type { RouteNode } from './route.js';

export interface AlertmanagerOnly {
  readonly notify: NotifyConfig;
  /** The direct receivers taken out, by name. */
  readonly disabled: readonly string[];
}

/** `config` with only its Alertmanager receivers; routes keep their matchers and lose the others. */
export function alertmanagerOnly(config: NotifyConfig): AlertmanagerOnly {
  const kept = config.receivers.filter((r) => r.integration === 'alertmanager');
  const names = new Set(kept.map((r) => r.name));
  const prune = (n: RouteNode): RouteNode => ({ ...n, receivers: n.receivers.filter((r) => names.has(r)), routes: n.routes.map(prune) });
  return {
    notify: { receivers: kept, route: prune(config.route) },
    disabled: config.receivers.filter((r) => !names.has(r.name)).map((r) => r.name),
  };
}
