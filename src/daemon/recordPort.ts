/**
 * The engine's record port over the metrics: each rule and group evaluation counted, a group cut by
 * its timeout logged with what it did not reach, and the malformed-run count refreshed now and then
 * after a successful evaluation (one cheap aggregate; once a minute is plenty).
 */
import type { ClickHouse } from '../clickhouse/client.js';
import type { RecordPort } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { DriftMetrics } from '../metrics/registry.js';
import type { StoreNames } from '../store/schema.js';
import { malformedRunCount } from '../store/status.js';

const MALFORMED_EVERY_MS = 60_000;

export function recordToMetrics(metrics: DriftMetrics, logger: Logger, store: { ch: ClickHouse; names: StoreNames }): RecordPort {
  let lastMalformedCheck = -Infinity;
  return {
    rule: (ev) => metrics.recordRuleEvaluation(ev.rule),
    group: (r) => {
      metrics.recordGroupEvaluation(r.group, r.durationMs, r.ok, r.at, r.evaluations.length);
      metrics.recordRulesSkipped(r.group, r.skipped);
      const timedOut = r.skipped.filter((s) => s.reason === 'timeout').length;
      if (timedOut > 0) {
        logger.warn(
          { group: r.group, rules: r.ruleCount, evaluated: r.evaluations.length, skipped: timedOut, duration_ms: r.durationMs, reason: 'timeout' },
          `group ${r.group}: evaluation timed out after ${r.durationMs} ms; ${timedOut} of ${r.ruleCount} rules not evaluated this time (the next evaluation starts with them)`,
        );
      }
      if (!r.ok || r.at - lastMalformedCheck <= MALFORMED_EVERY_MS) return;
      lastMalformedCheck = r.at;
      malformedRunCount(store.ch, store.names).then(
        (n) => metrics.setMalformedRuns(n),
        () => undefined,
      );
    },
  };
}
