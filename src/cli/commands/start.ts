/** `agentdrift start`: the daemon, until a signal stops it. */
import type { Command } from 'commander';
import { acquireStateLock } from '../../persist/stateLock.js';
import { composeDaemon } from '../../daemon/compose.js';
import { preparesStore } from '../../daemon/daemon.js';
import { alertmanagerOnly } from '../../notify/replica.js';
import { refuseMissingEmbeddedStore } from '../../store/ready.js';
import { shiftedClock, systemClock } from '../../util/clock.js';
import { action } from '../command.js';
import { externalUrl, loggerFor, openStore, resolveSettings, storeNames, type GlobalOptions } from '../context.js';
import { dataOptions, oneOf, TIME_ARG, timeOf } from '../options.js';
import { defaultLogFormat, LOG_FORMATS } from '../../log.js';

interface StartOptions extends GlobalOptions {
  readonly demo?: boolean;
  readonly migrate?: boolean;
  readonly demoEnd?: string;
  readonly now?: string;
  readonly freshState?: boolean;
  readonly alertmanagerOnly?: boolean;
  readonly logFormat?: string;
}

export function startCommand(program: Command): void {
  dataOptions(program.command('start').description('run the daemon: evaluate rules on schedule, export metrics, send alerts'))
    .option('--demo', 'seed demo data when the store is empty (what `npm start` does); implies --migrate')
    .option('--migrate', 'run `migrate` first (needs DDL rights; the daemon itself only reads)')
    .option(`--demo-end ${TIME_ARG}`, 'end of the demo period --demo seeds: ISO, now, or relative to the daemon\'s clock such as -1d (default: the daemon\'s current time)')
    .option(`--now ${TIME_ARG}`, 'start the daemon\'s clock at this time instead of the system time (it then advances in real time): replays a pinned period, as the tests do')
    .option('--alertmanager-only', 'send to the Alertmanager receivers only, not to Slack, email or webhooks: for every replica but one (README, "Running two replicas")')
    .option('--log-format <format>', 'pretty (one readable line per event) | json (default: pretty when stderr is a terminal, json otherwise)')
    .option('--fresh-state', 'start with empty alert and notification state: an existing state file and journal are moved aside (never deleted) first; needed after a corrupt state file was moved aside')
    .action(
      action(async (o: StartOptions): Promise<never> => {
        const logFormat = o.logFormat === undefined ? defaultLogFormat() : oneOf('--log-format', o.logFormat, LOG_FORMATS);
        const startAt = timeOf('--now', o.now, systemClock.now());
        const clock = startAt === undefined ? systemClock : shiftedClock(startAt);
        const demoEnd = timeOf('--demo-end', o.demoEnd, clock.now());
        const settings = await resolveSettings(o);
        const { config } = settings;
        const logger = loggerFor(config, o, logFormat);
        let notify = settings.notify;
        if (o.alertmanagerOnly) {
          const only = alertmanagerOnly(notify);
          notify = only.notify;
          logger.info({ disabled_receivers: only.disabled }, `--alertmanager-only: direct receivers not used by this replica${only.disabled.length > 0 ? `: ${only.disabled.join(', ')}` : ''}`);
        }
        // Without a receiver an alert reaches this log and /alerts, /api/v1 and the web UI, nowhere else.
        if (notify.receivers.length === 0) {
          logger.warn('no receivers configured: alerts reach only this log, /alerts, /api/v1 and the web UI; add receivers in agentdrift.yaml (docs/alerting.md)');
        }
        // Without --demo or --migrate nothing creates agent_runs: an embedded store that does not exist yet is
        // refused before the lock or the store would create its directory (an existing one: in Daemon.start).
        if (!preparesStore(config, { demo: !!o.demo, migrate: !!o.migrate })) refuseMissingEmbeddedStore(config.clickhouse.target, storeNames(config), config.clickhouse.targetSpec);
        // Before the store: a second daemon on this state file is refused for that, whatever else it shares.
        const lock = await acquireStateLock(config.stateFile, { logger, now: clock.now() });
        // Not withStore: the daemon owns the store from here on and closes it (daemon.close()).
        let ch;
        try {
          ch = await openStore(config);
        } catch (e) {
          await lock.release();
          throw e;
        }
        const daemon = composeDaemon({
          config,
          notify,
          ch,
          names: storeNames(config),
          logger,
          clock,
          externalUrl: externalUrl(config),
          demo: !!o.demo,
          migrate: !!o.migrate,
          freshState: !!o.freshState,
          lock,
          ...(demoEnd !== undefined ? { demoEndMs: demoEnd } : {}),
        });
        const stop = async (signal: string) => {
          logger.info({ signal }, 'signal received');
          await daemon.close();
          process.exit(0);
        };
        process.once('SIGTERM', () => void stop('SIGTERM'));
        process.once('SIGINT', () => void stop('SIGINT'));
        process.on('SIGHUP', () => void daemon.reload('SIGHUP'));
        try {
          await daemon.start();
        } catch (e) {
          // The reason the start failed is what the user needs to read, not a failure of the cleanup.
          await daemon.close().catch((closeErr: unknown) => logger.debug({ err: closeErr }, 'cleanup after a failed start failed too'));
          throw e;
        }
        // Runs until a signal arrives.
        return new Promise<never>(() => undefined);
      }),
    );
}
