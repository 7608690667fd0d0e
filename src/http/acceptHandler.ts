/**
 * POST /api/v1/accept, after the guard and the body checks of server.ts: accepts the current value of
 * firing series as the new normal through the state manager (which saves, then sends the resolutions)
 * and says what was accepted.
 */
import type { TransitionEvent } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { AcceptAnswer, AcceptRequest } from './server.js';
import { isoOrNull } from '../util/format.js';

export interface AcceptPort {
  /** The rules loaded now, by alert name. */
  readonly rules: ReadonlyMap<string, unknown>;
  accept(alert: string, match: Readonly<Record<string, string>>, reason: string, at: number): Promise<readonly TransitionEvent[]>;
}

export function acceptHandler(port: AcceptPort, now: () => number, logger: Logger): (r: AcceptRequest) => Promise<AcceptAnswer> {
  return async ({ alertname, match, reason }) => {
    if (!port.rules.has(alertname)) return { status: 404, body: { error: `no rule named ${JSON.stringify(alertname)} is loaded` } };
    const accepted = await port.accept(alertname, match, reason, now());
    logger.warn({ alertname, match, reason, series: accepted.length }, `accepted the current value of ${accepted.length} firing series of ${alertname} as the new normal`);
    return { status: 200, body: { accepted: accepted.map((e) => ({ labels: e.series.labels, baseline: e.series.accepted?.baseline ?? null, until: isoOrNull(e.series.accepted?.until ?? null) })) } };
  };
}
