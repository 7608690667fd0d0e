/**
 * Wires the daemon's observable outputs: Prometheus metrics from every evaluation, and the HTTP
 * server with /metrics, /healthz and /readyz.
 */
import { ClickHouseAccessError, type ClickHouse } from '../clickhouse/client.js';
import { startHttpServer, readinessFrom, type HttpServer } from '../http/server.js';
import type { DriftMetrics } from '../metrics/registry.js';
import type { RuleSet } from '../rules/types.js';
import { malformedRunCount } from '../store/status.js';
import type { StoreNames } from '../store/schema.js';
import type { Daemon } from './daemon.js';

/** How stale the last evaluation may be before /readyz fails: three slowest schedules plus a timeout. */
export function stalenessBound(rules: RuleSet | null): number {
  if (!rules || rules.groups.length === 0) return 15 * 60_000;
  const longest = Math.max(...rules.groups.map((g) => (g.schedule.kind === 'interval' ? g.schedule.everyMs : 60 * 60_000) + g.timeoutMs));
  return 3 * longest;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function attachMetrics(daemon: Daemon, metrics: DriftMetrics, ch: ClickHouse, names: StoreNames): void {
  let lastMalformedCheck = 0;
  daemon.addListener({
    onEvaluation: (ev, states) => {
      metrics.recordRuleEvaluation(ev, states);
      if (ev.error) metrics.setClickHouseUp(false);
    },
    onGroupDone: (group, ok, durationMs, at) => {
      metrics.recordGroupEvaluation(group, durationMs, ok, at);
      if (ok) metrics.setClickHouseUp(true);
      // The malformed-run count is one cheap aggregate; once a minute is plenty.
      if (ok && at - lastMalformedCheck > 60_000) {
        lastMalformedCheck = at;
        malformedRunCount(ch, names).then(
          (n) => metrics.setMalformedRuns(n),
          () => undefined,
        );
      }
    },
    onSkip: (group) => metrics.recordSkipped(group),
    onRules: (ok, rules, removed) => {
      const count = rules ? rules.groups.reduce((n, g) => n + g.rules.length, 0) : 0;
      metrics.recordReload(ok, count);
      if (ok && rules) metrics.registerGroups(rules.groups.map((g) => g.name));
      for (const alert of removed) metrics.forgetRule(alert);
    },
  });
}

export async function attachHttp(daemon: Daemon, metrics: DriftMetrics, ch: ClickHouse): Promise<HttpServer> {
  const { config, logger } = daemon.opts;
  const startedAt = daemon.clock.now();
  const server = await startHttpServer({
    host: config.listen.host,
    port: config.listen.port,
    metrics,
    logger,
    alerts: ({ alertname, state }) =>
      [...(daemon.engine?.alertStates.values() ?? [])]
        .filter((a) => (alertname === null || a.alert === alertname) && (state === null || a.record.state === state))
        .map((a) => ({
          alertname: a.alert,
          labels: a.labels,
          state: a.record.state,
          health: a.record.health,
          active_at: iso(a.record.activeAt),
          fired_at: iso(a.record.firedAt),
          resolved_at: iso(a.record.resolvedAt),
          last_evaluation: iso(a.record.lastEvalAt),
          value: a.value ?? null,
          annotations: a.annotations ?? {},
          last_error: a.record.lastError,
        })),
    readiness: async () => {
      let clickhouseOk = true;
      let clickhouseDetail = 'reachable';
      try {
        await Promise.race([ch.ping(), new Promise((_, rej) => setTimeout(() => rej(new Error('ping timed out after 2s')), 2000).unref())]);
      } catch (err) {
        clickhouseOk = false;
        clickhouseDetail = err instanceof ClickHouseAccessError ? err.message : String((err as Error)?.message ?? err);
      }
      metrics.setClickHouseUp(clickhouseOk);
      return readinessFrom({
        rulesLoaded: daemon.ruleSet !== null,
        clickhouseOk,
        clickhouseDetail,
        lastEvaluationAt: daemon.lastEvaluationAt,
        now: daemon.clock.now(),
        maxStalenessMs: stalenessBound(daemon.ruleSet),
        startedAt,
      });
    },
  });
  logger.info({ url: `http://${server.address.host.includes(':') ? `[${server.address.host}]` : server.address.host}:${server.address.port}` }, 'serving /metrics, /healthz and /readyz');
  daemon.addListener({ onClose: () => server.close() });
  return server;
}
