/** What every data command needs: the validated config (with --clickhouse applied), a logger, a store. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openClickHouse, type ClickHouse } from '../clickhouse/client.js';
import { describeTarget, parseTarget } from '../clickhouse/target.js';
import { defaultConfig, loadConfig, type Config } from '../config/load.js';
import { createLogger, type Logger } from '../log.js';
import { formatProblem } from '../rules/types.js';
import { qualified, type StoreNames } from '../store/schema.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly clickhouse?: string;
  readonly logLevel?: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_CONFIG_FILE = 'agentdrift.yaml';

/** --config FILE, else ./agentdrift.yaml when present, else the defaults (embedded store in ./data). */
export async function resolveConfig(opts: GlobalOptions): Promise<Config> {
  const file = opts.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : null);
  let config: Config;
  if (file === null) config = defaultConfig();
  else {
    const { config: loaded, problems } = await loadConfig(resolve(file));
    if (!loaded) throw new UsageError(problems.map(formatProblem).join('\n'));
    config = loaded;
  }
  if (opts.clickhouse) {
    const target = parseTarget(opts.clickhouse);
    config = { ...config, clickhouse: { ...config.clickhouse, target, targetSpec: opts.clickhouse } };
  }
  return config;
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

export { describeTarget };
