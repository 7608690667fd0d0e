/**
 * The composition root of `agentdrift start`: builds every part of the daemon in dependency order
 * (nothing refers to a part built after it) and wires each to the owner of what it reads. Behaviour
 * lives in the parts: the commit order in stateManager.ts, the HTTP handlers in http/, the metrics'
 * record port in recordPort.ts, the lifecycle in daemon.ts.
 *
 *   metrics -> durable state -> engine -> notifiers, dispatcher -> state manager -> HTTP -> Daemon
 */
import type { StateLock } from '../persist/stateLock.js';
import type { ClickHouse } from '../clickhouse/client.js';
import type { Config } from '../config/load.js';
import { ActivityLog, bothRecords } from '../engine/activity.js';
import { backtest } from '../engine/backtest.js';
import { Engine } from '../engine/engine.js';
import { SeriesExplainer } from '../explain/enrich.js';
import { explainSeries } from '../explain/explain.js';
import { traceLink } from '../explain/traceUrl.js';
import { acceptHandler } from '../http/acceptHandler.js';
import { alertsView } from '../http/alertsView.js';
import { noRules, type ApiSources } from '../http/api.js';
import type { CommandSources } from '../http/commandsHandler.js';
import { backtestReport, evalReport, explainReport, type StoreAccess } from '../report/commands.js';
import { ruleNamedIn } from '../report/explain.js';
import { describeTarget } from '../clickhouse/target.js';
import { storeStatus } from '../store/status.js';
import { readinessOf } from '../http/readiness.js';
import { startHttpServer } from '../http/server.js';
import type { Logger } from '../log.js';
import { DriftMetrics } from '../metrics/registry.js';
import type { NotifyConfig } from '../notify/config.js';
import { Dispatcher } from '../notify/dispatcher.js';
import { buildNotifiers } from '../notify/factory.js';
import { dispatchAlerts } from '../notify/fromAlerts.js';
import { RollupJob } from '../rollup/job.js';
import { longestInterval, stalenessBound } from '../rules/schedules.js';
import type { RuleSet } from '../rules/types.js';
import { StoreSums } from '../signals/sums.js';
import { qualified, type StoreNames } from '../store/schema.js';
import type { Clock } from '../util/clock.js';
import { AggregatesLookup } from './aggregatesLookup.js';
import { Daemon } from './daemon.js';
import { DurableState } from '../persist/durableState.js';
import { recordToMetrics } from './recordPort.js';
import { StateManager } from './stateManager.js';

/** A /readyz that waits longer than this for ClickHouse reports it down instead of hanging. */
const READY_PING_TIMEOUT_MS = 2_000;

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

export function composeDaemon(o: ComposeOptions): Daemon {
  const { config, ch, names, logger, clock } = o;
  const table = qualified(names.database, names.agentRuns);
  const query = (sql: string, params: Record<string, unknown>, signal?: AbortSignal) => ch.query(sql, params, { signal });

  // 1. Metrics: counters now; the state gauges read the engine and the dispatcher at scrape time (5).
  const metrics = new DriftMetrics({ maxSeriesPerRule: config.evaluation.maxSeriesPerRule, logger });

  // 2. The durable state: the state file and the delivery journal.
  const state = new DurableState({
    path: config.stateFile,
    logger,
    now: () => clock.now(),
    fresh: o.freshState ?? false,
    lock: o.lock ?? null,
    onPersist: (ok, at) => metrics.recordPersist(ok, at),
  });

  // 3. The engine: evaluation and the alert state (saving and sending are the state manager's). Its
  // evaluations are counted by the metrics and remembered, with the transitions, by the activity
  // log that the web UI and /api/v1 read.
  const aggregates = new AggregatesLookup(ch, names, config.aggregates, clock, logger);
  const traceUrl = traceLink(config.traceUrl);
  const explainer = new SeriesExplainer({ query, table, logger, traceUrl, aggregates: () => aggregates.current() });
  const activity = new ActivityLog(clock.now());
  const engine = new Engine({
    sums: new StoreSums({ query, table, aggregates: () => aggregates.current() }),
    explain: explainer.port,
    record: bothRecords(recordToMetrics(metrics, logger, { ch, names }), activity.record),
    clock,
    logger,
  });

  // 4. The notification pipeline, and the state manager that commits to it and to the state file.
  const notifiers = buildNotifiers(o.notify, {
    externalURL: o.externalUrl,
    now: () => clock.now(),
    // Read at each send, so a reload that lengthens an interval lengthens endsAt with it.
    evaluationIntervalMs: () => longestInterval(engine.ruleSet),
  });
  metrics.registerReceivers(notifiers.map((n) => ({ name: n.name, integration: n.integration })));
  const dispatcher = new Dispatcher({ route: o.notify.route, notifiers, logger, clock, journal: state, recorder: metrics.notifyRecorder() });
  const toDispatcher = dispatchAlerts(dispatcher, o.externalUrl);
  const manager = new StateManager({
    engine,
    dispatcher,
    // Every committed transition (evaluations, accepts, removed rules) passes here, in commit order.
    notify: (update) => {
      activity.transitions(update.transitions);
      toDispatcher(update);
    },
    save: (sections) => state.save(sections),
    clickhouseUp: (up) => metrics.setClickHouseUp(up),
    logger,
  });

  // 5. Metrics describe the engine's state and the pipeline's backlog.
  // Getters: the engine replaces its maps when it restores state and adopts rules.
  metrics.readStateFrom({
    get alertStates() {
      return engine.alertStates;
    },
    get rules() {
      return engine.rules;
    },
    pendingNotifications: () => dispatcher.pendingCount(),
  });

  // 6. The HTTP server (started by the daemon once rules and state are loaded), with the read side of
  // /api/v1 and the web UI over the engine's state and the activity log.
  const startedAt = clock.now();
  const api: ApiSources = {
    alertStates: () => engine.alertStates,
    rules: () => engine.rules,
    ruleSet: () => engine.ruleSet,
    activity,
    explain: (rule, labels, key, at) => explainSeries((sql, params) => query(sql, params), table, { rule, labels, key, at, active: true }, { traceUrl, hourly: true, aggregates: () => aggregates.current() }),
    backtest: (rules, fromMs, toMs, stepMs) => backtest({ query, table, aggregates: aggregates.current(), rules, fromMs, toMs, stepMs, logger }),
    now: () => clock.now(),
  };
  // The reports of eval, explain, backtest and status, for those commands run beside this daemon
  // while it holds the embedded store: built by the same code the commands run alone.
  const access = (): StoreAccess => ({ ch, table, aggregates: aggregates.current(), traceUrl });
  const loadedRules = (): RuleSet => {
    if (engine.ruleSet === null) throw noRules();
    return engine.ruleSet;
  };
  const commands: CommandSources = {
    eval: async (at) => evalReport(access(), loadedRules(), at),
    explain: async (alertname, match, at) => {
      const rules = loadedRules();
      return explainReport(access(), rules, ruleNamedIn(rules, config.rules, alertname), match, at);
    },
    backtest: async (fromMs, toMs, stepMs) => {
      const rules = loadedRules();
      const result = await backtest({ query, table, aggregates: aggregates.current(), rules, fromMs, toMs, ...(stepMs !== null ? { stepMs } : {}), logger });
      return backtestReport(result, rules);
    },
    status: async () => ({ store: describeTarget(config.clickhouse.target), status: await storeStatus(ch, names) }),
  };
  const startHttp = async () => {
    const server = await startHttpServer({
      host: config.listen.host,
      port: config.listen.port,
      metrics,
      logger,
      apiToken: config.api?.token ?? null,
      externalUrl: config.externalUrl,
      alerts: (filter) => alertsView(engine.alertStates.values(), engine.rules, filter),
      api,
      commands,
      accept: acceptHandler(
        {
          get rules() {
            return engine.rules;
          },
          accept: (...a) => manager.accept(...a),
        },
        () => clock.now(),
        logger,
      ),
      readiness: readinessOf({
        ping: () => ch.ping(),
        pingTimeoutMs: READY_PING_TIMEOUT_MS,
        onPing: (ok) => manager.observePing(ok),
        rulesLoaded: () => manager.ruleSet !== null,
        lastEvaluationAt: () => engine.lastSuccessAt,
        maxStalenessMs: () => stalenessBound(manager.ruleSet),
        now: () => clock.now(),
        startedAt,
        persistence: () => state.health(),
      }),
    });
    const { host, port } = server.address;
    logger.info({ url: `http://${host.includes(':') ? `[${host}]` : host}:${port}` }, 'serving /alerts, /metrics, /healthz, /readyz, /api/v1 and the web UI at /');
    // Where commands run beside this daemon find its API (cli/server.ts): a wildcard address is
    // reached on loopback. Not fatal: without it those commands say to pass --server.
    const local = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    await o.lock
      ?.advertise(`http://${local.includes(':') ? `[${local}]` : local}:${port}`)
      .catch((err: unknown) => logger.warn({ err }, 'could not record the HTTP address in the state lock: commands run beside the daemon need --server'));
    return server;
  };

  // 7. The daemon: schedules (the rules', and the span rollup's on the same clock), reloads, shutdown.
  const rollup = config.rollup.enabled ? new RollupJob({ ch, names, clock, logger, settings: config.rollup, aggregates: config.aggregates }) : null;
  return new Daemon({
    config,
    ch,
    names,
    logger,
    clock,
    state,
    metrics,
    dispatcher,
    manager,
    startHttp,
    rollup,
    aggregates,
    activity,
    demo: o.demo,
    migrate: o.migrate,
    ...(o.demoEndMs !== undefined ? { demoEndMs: o.demoEndMs } : {}),
  });
}
