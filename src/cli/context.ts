/** What every data command needs: the validated config (with --clickhouse applied), a logger, a store. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openClickHouse, type ClickHouse } from '../clickhouse/client.js';
import { describeTarget, parseTarget } from '../clickhouse/target.js';
import { defaultConfig, loadConfig, type Config } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { formatProblems } from '../yaml/problem.js';
import { validateNotifyConfig, type NotifyConfig } from '../notify/config.js';
import { sortProblems } from '../yaml/source.js';
import { qualified, type StoreNames } from '../store/schema.js';
import { refuseMissingEmbeddedStore, requireAgentRuns } from '../store/ready.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly clickhouse?: string;
  readonly logLevel?: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_CONFIG_FILE = 'agentdrift.yaml';

export interface Settings {
  readonly config: Config;
  readonly notify: NotifyConfig;
}

/**
 * --config FILE, else ./agentdrift.yaml when present, else the defaults (embedded store in ./data).
 * Receivers and routes are validated here too, so every command refuses a broken file the same way.
 */
export async function resolveSettings(opts: GlobalOptions): Promise<Settings> {
  const file = opts.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null);
  let config: Config;
  let notify: NotifyConfig | null;
  if (file === null) {
    config = defaultConfig();
    notify = validateNotifyConfig([], {}, null, '(defaults)').config;
  } else {
    const path = resolve(file);
    const { config: loaded, problems, source } = await loadConfig(path);
    const n = validateNotifyConfig(loaded?.receivers ?? [], loaded?.route ?? {}, source, path);
    const all = sortProblems([...problems, ...n.problems]);
    if (!loaded || !n.config || all.length > 0) throw new UsageError(formatProblems(all).join('\n'));
    config = loaded;
    notify = n.config;
  }
  if (!notify) throw new UsageError('invalid default notification settings');
  if (opts.clickhouse) {
    const target = parseTarget(opts.clickhouse);
    config = { ...config, clickhouse: { ...config.clickhouse, target, targetSpec: opts.clickhouse } };
  }
  return { config, notify };
}

export async function resolveConfig(opts: GlobalOptions): Promise<Config> {
  return (await resolveSettings(opts)).config;
}

/** Base URL for links in notifications: external_url, else the listen address. */
export function externalUrl(config: Config): string {
  if (config.externalUrl) return config.externalUrl;
  const { host, port } = config.listen;
  const h = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}`;
}

export function loggerFor(config: Config, opts: GlobalOptions): Logger {
  return createLogger({ level: opts.logLevel ?? config.logLevel });
}

export function storeNames(config: Config): StoreNames {
  return {
    database: config.clickhouse.target.database,
    agentRuns: config.tables.agentRuns,
    otelTraces: config.tables.otelTraces,
    view: config.tables.view,
  };
}

export function agentRunsTable(config: Config): string {
  const n = storeNames(config);
  return qualified(n.database, n.agentRuns);
}

export async function openStore(config: Config): Promise<ClickHouse> {
  return openClickHouse(config.clickhouse.target, {
    user: config.clickhouse.user ?? undefined,
    password: config.clickhouse.password ?? undefined,
  });
}

/**
 * The store for a command that only reads (eval, explain, backtest): refused with one line naming
 * `agentdrift migrate` when agent_runs does not exist, and an embedded store whose directory does not
 * exist is refused before it is opened (opening would create it).
 */
export async function openReadyStore(config: Config): Promise<ClickHouse> {
  const names = storeNames(config);
  refuseMissingEmbeddedStore(config.clickhouse.target, names, config.clickhouse.targetSpec);
  const ch = await openStore(config);
  try {
    await requireAgentRuns(ch, names, config.clickhouse.targetSpec);
  } catch (e) {
    await ch.close().catch(() => undefined);
    throw e;
  }
  return ch;
}

export { describeTarget };
