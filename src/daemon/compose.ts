/**
 * The composition root of `agentdrift start`: builds every part of the daemon, in order, and wires
 * each to the owner of what it reads. Nothing else constructs these parts or connects them.
 *
 *   metrics -> durable state (file, journal, lock) -> notification pipeline -> engine (ports: query,
 *   notify, record, persist, clock) -> metrics read the engine's state -> HTTP server -> Daemon
 *
 * Durability, in order: the engine hands an evaluation's transitions to the Dispatcher, which holds
 * new sends until the state file holding them is saved; each send is journaled before it leaves and
 * its outcome as soon as it is known. So a crash repeats at most the request in flight.
 *
 * One owner per piece of state: the engine owns the alert state, the Dispatcher owns what each
 * receiver was told and what is still to send, the state file stores both in sections. Metrics and
 * /alerts read the engine at request time; notifications are built from the engine's series.
 */
import type { SerializedAlert } from '../alerting/stateFile.js';
import type { StateLock } from '../alerting/stateLock.js';
import type { ClickHouse } from '../clickhouse/client.js';
import { ClickHouseAccessError } from '../clickhouse/client.js';
import type { Config } from '../config/load.js';
import { Engine } from '../engine/engine.js';
import { SeriesExplainer } from '../explain/enrich.js';
import { traceLink } from '../explain/traceUrl.js';
import type { NotifyPort, RecordPort } from '../engine/types.js';
import { readinessFrom, startHttpServer } from '../http/server.js';
import type { Logger } from '../log.js';
import { DriftMetrics } from '../metrics/registry.js';
import type { NotifyConfig } from '../notify/config.js';
import { Dispatcher } from '../notify/dispatcher.js';
import { buildNotifiers } from '../notify/factory.js';
import { dispatchAlerts } from '../notify/fromAlerts.js';
import { RollupJob } from '../rollup/job.js';
import type { RuleSet } from '../rules/types.js';
import { qualified, type StoreNames } from '../store/schema.js';
import { malformedRunCount } from '../store/status.js';
import type { Clock } from '../util/clock.js';
import { coalesce } from '../util/coalesce.js';
import { AggregatesLookup } from './aggregatesLookup.js';
import { Daemon } from './daemon.js';
import { DurableState } from './durableState.js';

export interface ComposeOptions {
  readonly config: Config;
  readonly notify: NotifyConfig;
  readonly ch: ClickHouse;
  readonly names: StoreNames;
  readonly logger: Logger;
  readonly clock: Clock;
  /** agentdrift's own URL, for links in notifications. */
  readonly externalUrl: string;
  readonly demo: boolean;
  readonly migrate: boolean;
  readonly demoEndMs?: number;
  /** `start --fresh-state`: move any state file aside and start empty. */
  readonly freshState?: boolean;
  /** The state file's lock, taken before the store was opened; released when the daemon closes. */
  readonly lock?: StateLock | null;
}

/** How stale the last evaluation may be before /readyz fails: three slowest schedules plus a timeout. */
export function stalenessBound(rules: RuleSet | null): number {
  if (!rules || rules.groups.length === 0) return 15 * 60_000;
  const longest = Math.max(...rules.groups.map((g) => (g.schedule.kind === 'interval' ? g.schedule.everyMs : 60 * 60_000) + g.timeoutMs));
  return 3 * longest;
}

/** The longest time between two evaluations of a group (a cron group: one hour, as in stalenessBound). */
export function longestInterval(rules: RuleSet | null): number {
  if (!rules || rules.groups.length === 0) return 0;
  return Math.max(...rules.groups.map((g) => (g.schedule.kind === 'interval' ? g.schedule.everyMs : 60 * 60_000)));
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function composeDaemon(o: ComposeOptions): Daemon {
  const { config, ch, names, logger, clock } = o;

  // 1. Metrics (counters now; the state gauges read the engine once it exists).
  const metrics = new DriftMetrics({ maxSeriesPerRule: config.evaluation.maxSeriesPerRule, logger });

  // 2. The durable state: the state file from its owners' sections, and the delivery journal.
  const state: DurableState = new DurableState({
    path: config.stateFile,
    logger,
    now: () => clock.now(),
    fresh: o.freshState ?? false,
    lock: o.lock ?? null,
    sections: (): { alerts: SerializedAlert[]; notifications: unknown[] } => ({ alerts: engine.snapshot(), notifications: dispatcher.snapshot() }),
    onPersist: (ok, at) => metrics.recordPersist(ok, at),
  });

  // 3. The notification pipeline.
  const notifiers = buildNotifiers(o.notify, {
    externalURL: o.externalUrl,
    now: () => clock.now(),
    // Read at each send, so a reload that lengthens an interval lengthens endsAt with it.
    evaluationIntervalMs: () => longestInterval(daemon.rules),
  });
  metrics.registerReceivers(notifiers.map((n) => ({ name: n.name, integration: n.integration })));
  const dispatcher: Dispatcher = new Dispatcher({
    route: o.notify.route,
    notifiers,
    logger,
    clock,
    journal: state,
    recorder: {
      sent: (receiver, integration) => metrics.recordNotification(receiver, integration, 'sent'),
      failed: (receiver, integration, reason) => metrics.recordNotification(receiver, integration, 'failed', reason),
      attemptFailed: (receiver, integration, reason) => metrics.recordNotification(receiver, integration, 'attempt_failed', reason),
      retry: (receiver, integration) => metrics.recordNotification(receiver, integration, 'retry'),
      pending: () => undefined, // read at scrape time instead (metrics.readStateFrom below)
    },
  });

  // 4. The engine, given its ports.
  let lastMalformedCheck = 0;
  const record: RecordPort = {
    rule: (ev) => {
      metrics.recordRuleEvaluation(ev.rule);
      if (ev.error) metrics.setClickHouseUp(false);
    },
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
      // ClickHouse is up when it answered every query that was not cut by the timeout: a group that
      // runs out of time is slow, not a store that is down.
      if (r.evaluations.length === 0 || r.evaluations.some((e) => e.error)) return;
      metrics.setClickHouseUp(true);
      if (!r.ok) return;
      // The malformed-run count is one cheap aggregate; once a minute is plenty.
      if (r.at - lastMalformedCheck > 60_000) {
        lastMalformedCheck = r.at;
        malformedRunCount(ch, names).then(
          (n) => metrics.setMalformedRuns(n),
          () => undefined,
        );
      }
    },
  };
  // Each hand-over to the Dispatcher holds its sends until the save that follows it (the engine
  // always persists after it notifies) has written the transitions: see the header.
  const toDispatcher = dispatchAlerts(dispatcher, o.externalUrl);
  let holds: (() => void)[] = [];
  const notify: NotifyPort = (update) => {
    holds.push(dispatcher.hold());
    toDispatcher(update);
  };
  // Coalesced: a save requested while one is written is done once, right after it, with the state
  // as it is then (saves serialize the whole state: queuing one per group evaluation does not scale).
  // The holds taken before a save starts are released when it is done.
  const saveState = coalesce(async (): Promise<void> => {
    const mine = holds;
    holds = [];
    try {
      await state.save();
    } finally {
      // Released even when the save failed: alerts still go out (/readyz and the metrics say the
      // state is not being saved).
      for (const release of mine) release();
    }
  });
  const aggregates = new AggregatesLookup(ch, names, config.aggregates, clock, logger);
  // Explanations of pending and firing alerts (src/explain), cached per series.
  const explainer = new SeriesExplainer({
    query: (sql, params, signal) => ch.query(sql, params, { signal }),
    table: qualified(names.database, names.agentRuns),
    logger,
    traceUrl: traceLink(config.traceUrl),
  });
  const engine: Engine = new Engine({
    query: (sql, params, signal) => ch.query(sql, params, { signal }),
    explain: explainer.port,
    table: qualified(names.database, names.agentRuns),
    aggregates: () => aggregates.current(),
    clock,
    logger,
    notify,
    record,
    persist: saveState,
  });

  // 5. Metrics describe the engine's state and the pipeline's backlog, read at scrape time.
  metrics.readStateFrom({
    get alertStates() {
      return engine.alertStates;
    },
    get rules() {
      return engine.rules;
    },
    pendingNotifications: () => dispatcher.pendingCount(),
  });

  // 6. The HTTP server (started by the daemon once rules and state are loaded).
  const startedAt = clock.now();
  const startHttp = async () => {
    const server = await startHttpServer({
      host: config.listen.host,
      port: config.listen.port,
      metrics,
      logger,
      apiToken: config.api?.token ?? null,
      externalUrl: config.externalUrl,
      alerts: ({ alertname, state: wanted }) =>
        [...engine.alertStates.values()]
          // Loaded rules only, as /metrics: a removed rule's series wait out their grace unseen.
          .filter((a) => engine.rules.has(a.alert) && (alertname === null || a.alert === alertname) && (wanted === null || a.record.state === wanted))
          .map((a) => ({
            alertname: a.alert,
            labels: a.labels,
            state: a.record.state,
            health: a.record.health,
            active_at: iso(a.record.activeAt),
            fired_at: iso(a.record.firedAt),
            resolved_at: iso(a.record.resolvedAt),
            last_evaluation: iso(a.record.lastEvalAt),
            value: a.evidence?.deviation ?? null,
            frozen_baseline: a.record.state === 'firing' ? (a.frozenBaseline ?? null) : null,
            accepted: a.accepted === undefined ? null : { at: iso(a.accepted.at), reason: a.accepted.reason, baseline: a.accepted.baseline, until: iso(a.accepted.until) },
            annotations: a.annotations ?? {},
            explanation: a.evidence?.explanation ?? null,
            example_run_ids: a.evidence?.exampleRunIds ?? [],
            last_error: a.record.lastError,
          })),
      accept: async ({ alertname, match, reason }) => {
        if (!engine.rules.has(alertname)) return { status: 404, body: { error: `no rule named ${JSON.stringify(alertname)} is loaded` } };
        const accepted = await engine.accept(alertname, match, reason, clock.now());
        logger.warn({ alertname, match, reason, series: accepted.length }, `accepted the current value of ${accepted.length} firing series of ${alertname} as the new normal`);
        return { status: 200, body: { accepted: accepted.map((e) => ({ labels: e.series.labels, baseline: e.series.accepted?.baseline ?? null, until: iso(e.series.accepted?.until ?? null) })) } };
      },
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
          rulesLoaded: daemon.rules !== null,
          clickhouseOk,
          clickhouseDetail,
          lastEvaluationAt: engine.lastSuccessAt,
          now: clock.now(),
          maxStalenessMs: stalenessBound(daemon.rules),
          startedAt,
          persistence: state.health(),
        });
      },
    });
    const { host, port } = server.address;
    logger.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` }, 'serving /metrics, /healthz and /readyz');
    return server;
  };

  // 7. The daemon: schedules (the rules', and the span rollup's on the same clock), reloads, shutdown.
  const rollup = config.rollup.enabled ? new RollupJob({ ch, names, clock, logger, settings: config.rollup }) : null;
  const daemon = new Daemon({
    rollup,
    aggregates,
    config,
    ch,
    names,
    logger,
    clock,
    state,
    metrics,
    dispatcher,
    engine,
    saveState,
    startHttp,
    demo: o.demo,
    migrate: o.migrate,
    ...(o.demoEndMs !== undefined ? { demoEndMs: o.demoEndMs } : {}),
  });
  return daemon;
}
