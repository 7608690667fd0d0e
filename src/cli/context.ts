/**
 * What every data command needs: the validated config (with --clickhouse applied), a logger, the rules,
 * a store that is closed when the command is done (withStore).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openClickHouse, type ClickHouse } from '../clickhouse/client.js';
import { describeTarget, parseTarget } from '../clickhouse/target.js';
import { defaultConfig, loadConfig, type Config } from '../config/load.js';
import { createLogger, type LogFormat, type Logger } from '../log.js';
import { formatProblems } from '../yaml/problem.js';
import { validateNotifyConfig, type NotifyConfig } from '../notify/config.js';
import { sortProblems } from '../yaml/source.js';
import { qualified, type StoreNames } from '../store/schema.js';
import { DEFAULT_SPAN_PREFIXES } from '../store/attributes.js';
import { refuseMissingEmbeddedStore, requireAgentRuns } from '../store/ready.js';
import { loadRuleFiles } from '../rules/load.js';
import { findAggregates } from '../store/aggregatesMigrate.js';
import { traceLink } from '../explain/traceUrl.js';
import type { StoreAccess } from '../report/commands.js';
import { ruleNamedIn } from '../report/explain.js';
import type { Rule, RuleSet } from '../rules/types.js';
import { ERR } from '../util/errors.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly clickhouse?: string;
  readonly logLevel?: string;
}

/** A command line that cannot run as given (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly errorCode = ERR.USAGE;
}

/** agentdrift.yaml (or --config) is invalid: every problem as file:line:col (exit 2). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly errorCode = ERR.CONFIG;
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
    if (!loaded || !n.config || all.length > 0) throw new ConfigError(formatProblems(all).join('\n'));
    config = loaded;
    notify = n.config;
  }
  if (!notify) throw new ConfigError('invalid default notification settings');
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

export function loggerFor(config: Config, opts: GlobalOptions, format?: LogFormat): Logger {
  return createLogger({ level: opts.logLevel ?? config.logLevel, ...(format ? { format } : {}) });
}

export function storeNames(config: Config): StoreNames {
  return {
    database: config.clickhouse.target.database,
    agentRuns: config.tables.agentRuns,
    otelTraces: config.tables.otelTraces,
    view: config.tables.view,
    runScores: config.tables.runScores,
    prefixes: {
      attributes: config.rollup.attributePrefix ?? DEFAULT_SPAN_PREFIXES.attributes,
      metrics: config.rollup.metricPrefix ?? DEFAULT_SPAN_PREFIXES.metrics,
    },
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

/**
 * Runs `fn` with the store and closes it afterwards, whatever `fn` does. `ready: true` for a command
 * that only reads (openReadyStore: refused with the hint to migrate when agent_runs does not exist),
 * `ready: false` for one that creates or inspects (migrate, demo seed, status, rollup).
 */
export async function withStore<T>(config: Config, fn: (ch: ClickHouse) => Promise<T>, o: { readonly ready: boolean }): Promise<T> {
  const ch = o.ready ? await openReadyStore(config) : await openStore(config);
  try {
    return await fn(ch);
  } finally {
    await ch.close();
  }
}

export interface RulesOptions extends GlobalOptions {
  /** --rules: files or directories instead of the config's. */
  readonly rules?: readonly string[];
}

export interface RulesContext {
  readonly config: Config;
  readonly ruleSet: RuleSet;
  /** Where the rules were read from: --rules, else the config's. */
  readonly paths: readonly string[];
}

/** The config (unless already read), then the rules (--rules, else the config's); invalid rules are a usage error naming file:line:col. */
export async function resolveRules(o: RulesOptions, read?: Config): Promise<RulesContext> {
  const config = read ?? (await resolveConfig(o));
  const paths = o.rules ?? config.rules;
  const loaded = await loadRuleFiles(paths);
  if (!loaded.ruleSet) throw new UsageError(formatProblems(loaded.problems).join('\n'));
  return { config, ruleSet: loaded.ruleSet, paths };
}

/** The rule whose alert is `name`, or an error naming where the rules were read and the rules there. */
export function findRule(ctx: RulesContext, name: string): Rule {
  return ruleNamedIn(ctx.ruleSet, ctx.paths, name);
}

/** What the report builders read: agent_runs, the aggregate tables when there are, trace links. */
export async function storeAccess(config: Config, ch: ClickHouse): Promise<StoreAccess> {
  return { ch, table: agentRunsTable(config), aggregates: await findAggregates(ch, storeNames(config), config.aggregates), traceUrl: traceLink(config.traceUrl) };
}

export { describeTarget };
