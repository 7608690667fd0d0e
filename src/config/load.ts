/**
 * agentdrift.yaml -> Config. Validated as strictly as rule files: unknown keys and bad values are
 * problems with positions, all reported at once; a config with any problem is not returned.
 */
import { traceUrlProblem } from '../explain/traceUrl.js';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TARGET, parseTarget, TargetError, type Target } from '../clickhouse/target.js';
import type { Problem } from '../yaml/problem.js';
import { bool, Checker, describe, duration, int, isObj, labelOf, list, nonEmptyStr, oneOf, quote, str, type Obj, type Reader } from '../yaml/check.js';
import { deepFreeze } from '../yaml/freeze.js';
import { maskSecrets } from '../util/secrets.js';
import { fileProblem, parseYaml, plainValue, readSourceFile, sortProblems, type Path, type YamlSource } from '../yaml/source.js';
import { substituteEnv, type Env } from './env.js';
import { LOG_LEVELS, type ApiConfig, type Config, type ListenAddress } from './types.js';
import { ATTRIBUTE_OVERRIDE_COLUMNS, ROLLUP_DEFAULTS, type AttributeOverrideColumn, type AttributeOverrides, type ModelPrice, type RollupSettings } from '../rollup/types.js';
import { AGGREGATE_DEFAULTS, normalizeDimensions, type AggregateSettings } from '../store/aggregates.js';
import { SPAN_PREFIX } from '../store/attributes.js';
import { DIMENSION_COLUMNS, isDimension, type Dimension } from '../store/contract.js';

export type { Config } from './types.js';

export interface ConfigLoadResult {
  /** Null when there is any problem. Deep-frozen, every default filled. */
  readonly config: Config | null;
  readonly problems: Problem[];
  /**
   * The parsed file (after env substitution), for validators of sections this module does not own
   * (receivers, route) to report their own problems with positions. Null when the file was unreadable.
   */
  readonly source: YamlSource | null;
}

const TOP_KEYS = ['clickhouse', 'tables', 'ttl_days', 'rules', 'state_file', 'listen', 'external_url', 'trace_url', 'log_level', 'evaluation', 'receivers', 'route', 'demo', 'rollup', 'aggregates', 'api'] as const;
const CLICKHOUSE_KEYS = ['target', 'database', 'user', 'password'] as const;
const TABLE_KEYS = ['agent_runs', 'otel_traces', 'view', 'run_scores'] as const;
const EVALUATION_KEYS = ['timeout', 'max_series_per_rule', 'max_concurrent_groups'] as const;
const DEMO_KEYS = ['seed_if_empty'] as const;
const ROLLUP_KEYS = ['enabled', 'interval', 'lateness', 'max_run_duration', 'prices', 'attributes', 'attribute_prefix', 'metric_prefix'] as const;
const PRICE_KEYS = ['input', 'output', 'cache_read', 'cache_write'] as const;
const AGGREGATE_KEYS = ['enabled', 'dimensions'] as const;
const API_KEYS = ['token_file'] as const;

/**
 * The default rules shipped in the package (its rules/ directory), found from this module's own
 * location (src/config or dist/config), never from the working directory.
 */
export const SHIPPED_RULES_DIR = fileURLToPath(new URL('../../rules', import.meta.url));

/**
 * `rules` when the config names none: a rules/ directory next to the config file (in the working
 * directory without one) when there is one, as always; else the rules shipped in the package, so an
 * installed agentdrift started anywhere still has rules to run.
 */
export function defaultRules(dir: string): string[] {
  const local = relativeTo(dir, 'rules');
  return [existsSync(local) ? local : SHIPPED_RULES_DIR];
}

export const DEFAULTS = {
  target: DEFAULT_TARGET,
  tables: { agentRuns: 'agent_runs', otelTraces: 'otel_traces', view: 'agent_runs_from_otel', runScores: 'run_scores' },
  stateFile: './data/agentdrift-state.json',
  listen: '127.0.0.1:9464',
  logLevel: 'info',
  maxSeriesPerRule: 500,
  // As Prometheus' --rules.max-concurrent-rule-evals; enough to keep 2 cores busy without 50 groups
  // starving each other at a start.
  maxConcurrentGroups: 4,
} as const;

/** Credentials may come from the environment instead of the file (the target URL never carries them). */
const USER_ENV = 'AGENTDRIFT_CLICKHOUSE_USER';
const PASSWORD_ENV = 'AGENTDRIFT_CLICKHOUSE_PASSWORD';

/** The configuration without a file: every default, paths relative to the working directory. */
export function defaultConfig(env: Env = process.env): Config {
  return deepFreeze({
    file: null,
    clickhouse: { ...resolveTarget(parseTarget(DEFAULT_TARGET), '.'), user: env[USER_ENV] ?? null, password: env[PASSWORD_ENV] ?? null },
    tables: { ...DEFAULTS.tables },
    ttlDays: null,
    rules: defaultRules('.'),
    stateFile: relativeTo('.', DEFAULTS.stateFile),
    listen: parseListen(DEFAULTS.listen) as ListenAddress,
    externalUrl: null,
    traceUrl: null,
    logLevel: DEFAULTS.logLevel,
    evaluation: { timeoutMs: null, maxSeriesPerRule: DEFAULTS.maxSeriesPerRule, maxConcurrentGroups: DEFAULTS.maxConcurrentGroups },
    receivers: [],
    route: {},
    demo: { seedIfEmpty: false },
    rollup: { ...ROLLUP_DEFAULTS, prices: [], attributes: {} },
    aggregates: AGGREGATE_DEFAULTS,
  });
}

export async function loadConfig(file: string, env: Env = process.env): Promise<ConfigLoadResult> {
  const r = await readSourceFile(file, 'config file');
  if (r.problem) return { config: null, problems: [r.problem], source: null };
  return parseConfigText(r.text, file, env);
}

/** Validates the text of a config file; relative paths in it are taken relative to `file`'s directory. */
export function parseConfigText(text: string, file: string, env: Env = process.env): ConfigLoadResult {
  const parsed = parseYaml(text, file);
  if (parsed.problems.length > 0) return { config: null, problems: parsed.problems, source: parsed.source };
  const source = parsed.source;
  const substituted = substituteEnv(source, env);
  const plain = plainValue(source);
  if (plain.problems.length > 0) return { config: null, problems: plain.problems, source };

  const c = new Checker(source, substituted.paths);
  const config = readConfig(c, plain.value, file, env);
  const secrets = [config.clickhouse.password, config.api?.token ?? null].filter((s): s is string => s !== null && s.length >= 3);
  // A value whose variable is missing would also fail its own check; one problem per value is enough.
  const envSpots = new Set(substituted.problems.map((p) => `${p.line}:${p.col}`));
  const followUps = c.problems.filter((p) => !envSpots.has(`${p.line}:${p.col}`));
  const problems = sortProblems([...substituted.problems, ...followUps]).map((p) => scrub(p, secrets));
  return { config: problems.length > 0 ? null : deepFreeze(config), problems, source };
}

/** A last guard: no message is written from a secret, but if one ever were, it would not leak. */
function scrub(p: Problem, secrets: readonly string[]): Problem {
  const message = maskSecrets(p.message, secrets);
  return message === p.message ? p : { ...p, message };
}

function relativeTo(dir: string, p: string): string {
  return path.isAbsolute(p) ? path.normalize(p) : path.join(dir, p);
}

function resolveTarget(t: Target, dir: string): { target: Target; targetSpec: string } {
  if (t.kind === 'chdb') {
    // Same base as state_file, so the embedded database and the state live together wherever agentdrift starts.
    const p = relativeTo(dir, t.path);
    return { target: { ...t, path: p }, targetSpec: `chdb:${p}` };
  }
  return { target: t, targetSpec: `${t.url}/${t.database}` };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function identifier(what: string): Reader<string> {
  return (c, v, p) => {
    const s = str(c, v, p);
    if (s === undefined) return undefined;
    if (IDENTIFIER.test(s)) return s;
    c.report(p, `${what}: invalid name ${quote(s)}: use letters, digits and _, not starting with a digit`);
    return undefined;
  };
}

/** host:port, IPv6 in brackets; returns a message when it is not one. */
function parseListen(s: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  if (m === null) return `listen: expected host:port (e.g. 127.0.0.1:9464 or [::1]:9464), got ${quote(s)}`;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (host === '') return `listen: needs a host; use 0.0.0.0:${m[3]} to listen on all interfaces`;
  if (m[1] !== undefined && isIP(host) !== 6) return `listen: ${quote(host)} is not an IPv6 address`;
  if (m[1] === undefined && isIP(host) === 0 && !/^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
    return `listen: ${quote(host)} is not a valid host name or IP address`;
  }
  if (port > 65535) return `listen: port must be at most 65535, got ${port}`;
  return { host, port };
}

const listenReader: Reader<ListenAddress> = (c, v, p) => {
  const s = str(c, v, p);
  if (s === undefined) return undefined;
  const r = parseListen(s);
  if (typeof r === 'string') {
    c.report(p, r);
    return undefined;
  }
  return r;
};

/**
 * external_url: how users reach this daemon (behind a proxy, say); links in notifications use it.
 * Credentials in it (`https://user:pw@host/`) are dropped: the URL is copied into every
 * notification, the state file and the journal, and a link a person clicks has no use for them.
 */
const urlReader: Reader<string> = (c, v, p) => {
  const s = str(c, v, p);
  if (s === undefined) return undefined;
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return withoutCredentials(u).replace(/\/+$/, '');
  } catch {
    // reported below
  }
  c.report(p, `external_url: expected an http(s) URL, got ${quote(s)}`);
  return undefined;
};

function withoutCredentials(u: URL): string {
  u.username = '';
  u.password = '';
  return u.href;
}

/** trace_url: a link template for trace ids, e.g. https://tempo.example.com/trace/{trace_id} (src/explain/traceUrl.ts). */
const traceUrlReader: Reader<string> = (c, v, p) => {
  const s = str(c, v, p);
  if (s === undefined) return undefined;
  const problem = traceUrlProblem(s);
  if (problem === null) return s;
  c.report(p, problem);
  return undefined;
};

function section(c: Checker, top: Obj, key: string, allowed: readonly string[]): Obj | undefined {
  const v = top[key];
  if (v === undefined || v === null) return undefined;
  return c.mapping(v, [key], key, allowed);
}

function readConfig(c: Checker, value: unknown, file: string, env: Env): Config {
  const dir = path.dirname(file);
  // An empty file is a valid config: all defaults.
  const top = value === undefined || value === null ? {} : (c.mapping(value, [], 'config', TOP_KEYS) ?? {});

  const ch = section(c, top, 'clickhouse', CLICKHOUSE_KEYS) ?? {};
  const chPath: Path = ['clickhouse'];
  const spec = c.field(ch, chPath, 'target', nonEmptyStr) ?? DEFAULT_TARGET;
  const database = c.field(ch, chPath, 'database', identifier('clickhouse.database'));
  const user = c.field(ch, chPath, 'user', str);
  const password = c.field(ch, chPath, 'password', secretString);
  let target: Target = parseTarget(DEFAULT_TARGET);
  try {
    target = parseTarget(spec, database);
  } catch (e) {
    if (!(e instanceof TargetError)) throw e;
    // parseTarget quotes the spec in some messages; a malformed URL may still hold user:password@.
    c.report([...chPath, 'target'], `clickhouse.target: ${e.message.split(JSON.stringify(spec.trim())).join(quote(redactUserinfo(spec.trim())))}`);
  }

  const tb = section(c, top, 'tables', TABLE_KEYS) ?? {};
  const tables = {
    agentRuns: c.field(tb, ['tables'], 'agent_runs', identifier('tables.agent_runs')) ?? DEFAULTS.tables.agentRuns,
    otelTraces: c.field(tb, ['tables'], 'otel_traces', identifier('tables.otel_traces')) ?? DEFAULTS.tables.otelTraces,
    view: c.field(tb, ['tables'], 'view', identifier('tables.view')) ?? DEFAULTS.tables.view,
    runScores: c.field(tb, ['tables'], 'run_scores', identifier('tables.run_scores')) ?? DEFAULTS.tables.runScores,
  };

  const ttlDays = c.field(top, [], 'ttl_days', int(1, 100 * 365, 'a positive whole number of days')) ?? null;
  const rules = c.field(top, [], 'rules', list(nonEmptyStr))?.map((r) => relativeTo(dir, r)) ?? defaultRules(dir);
  const stateFile = c.field(top, [], 'state_file', nonEmptyStr) ?? DEFAULTS.stateFile;
  const listen = c.field(top, [], 'listen', listenReader) ?? (parseListen(DEFAULTS.listen) as ListenAddress);
  const logLevel = c.field(top, [], 'log_level', oneOf(LOG_LEVELS)) ?? DEFAULTS.logLevel;
  const externalUrl = c.field(top, [], 'external_url', urlReader) ?? null;
  const traceUrl = c.field(top, [], 'trace_url', traceUrlReader) ?? null;

  const ev = section(c, top, 'evaluation', EVALUATION_KEYS) ?? {};
  const evaluation = {
    timeoutMs: c.field(ev, ['evaluation'], 'timeout', duration({ min: [1000, '1s'] })) ?? null,
    maxSeriesPerRule: c.field(ev, ['evaluation'], 'max_series_per_rule', int(1, 1_000_000, 'an integer from 1 to 1000000')) ?? DEFAULTS.maxSeriesPerRule,
    maxConcurrentGroups: c.field(ev, ['evaluation'], 'max_concurrent_groups', int(1, 1_000, 'an integer from 1 to 1000')) ?? DEFAULTS.maxConcurrentGroups,
  };

  // receivers and route only need their outer shape here. Their contents are validated by the
  // notification layer (src/notify), which owns their schema and reports positions through `source`.
  const receivers = c.field(top, [], 'receivers', list(mappingItem)) ?? [];
  const route = c.field(top, [], 'route', mappingItem) ?? {};

  const dm = section(c, top, 'demo', DEMO_KEYS) ?? {};
  const seedIfEmpty = c.field(dm, ['demo'], 'seed_if_empty', bool) ?? false;

  const ru = section(c, top, 'rollup', ROLLUP_KEYS) ?? {};
  const rollup: RollupSettings = {
    enabled: c.field(ru, ['rollup'], 'enabled', bool) ?? ROLLUP_DEFAULTS.enabled,
    intervalMs: c.field(ru, ['rollup'], 'interval', duration({ min: [1000, '1s'], max: [86_400_000, '1d'] })) ?? ROLLUP_DEFAULTS.intervalMs,
    latenessMs: c.field(ru, ['rollup'], 'lateness', duration({ max: [7 * 86_400_000, '7d'] })) ?? ROLLUP_DEFAULTS.latenessMs,
    maxRunDurationMs:
      c.field(ru, ['rollup'], 'max_run_duration', duration({ min: [60_000, '1m'], max: [7 * 86_400_000, '7d'] })) ?? ROLLUP_DEFAULTS.maxRunDurationMs,
    prices: c.field(ru, ['rollup'], 'prices', priceTable) ?? [],
    attributes: c.field(ru, ['rollup'], 'attributes', attributeOverrides) ?? {},
    attributePrefix: c.field(ru, ['rollup'], 'attribute_prefix', spanPrefix) ?? ROLLUP_DEFAULTS.attributePrefix,
    metricPrefix: c.field(ru, ['rollup'], 'metric_prefix', spanPrefix) ?? ROLLUP_DEFAULTS.metricPrefix,
  };

  const ag = section(c, top, 'aggregates', AGGREGATE_KEYS) ?? {};
  const aggregates: AggregateSettings = {
    enabled: c.field(ag, ['aggregates'], 'enabled', bool) ?? AGGREGATE_DEFAULTS.enabled,
    dimensions: c.field(ag, ['aggregates'], 'dimensions', list(dimensionColumn)) ?? AGGREGATE_DEFAULTS.dimensions,
  };

  const ap = section(c, top, 'api', API_KEYS) ?? {};
  const tokenFile = c.field(ap, ['api'], 'token_file', nonEmptyStr);
  const api = tokenFile === undefined ? undefined : readTokenFile(c, ['api', 'token_file'], relativeTo(dir, tokenFile));

  return {
    file,
    clickhouse: {
      ...resolveTarget(target, dir),
      user: user ?? env[USER_ENV] ?? null,
      password: password ?? env[PASSWORD_ENV] ?? null,
    },
    tables,
    ttlDays,
    rules,
    stateFile: relativeTo(dir, stateFile),
    listen,
    externalUrl,
    traceUrl,
    logLevel,
    evaluation,
    receivers,
    route,
    demo: { seedIfEmpty },
    rollup,
    aggregates: { ...aggregates, dimensions: normalizeDimensions(aggregates.dimensions) },
    ...(api !== undefined ? { api } : {}),
  };
}

/**
 * api.token_file: read once, when the config is loaded (the daemon's start, `agentdrift accept`), and
 * trimmed. Problems name the file, never its content.
 */
function readTokenFile(c: Checker, at: Path, file: string): ApiConfig | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    c.report(at, `api.token_file: cannot read ${quote(file)}${code ? ` (${code})` : ''}`);
    return undefined;
  }
  const token = text.trim();
  if (token === '') {
    c.report(at, `api.token_file: ${quote(file)} is empty`);
    return undefined;
  }
  // What an Authorization header can carry: one line of visible ASCII, no spaces.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    c.report(at, `api.token_file: the token in ${quote(file)} must be one line of printable ASCII without spaces`);
    return undefined;
  }
  return { tokenFile: file, token };
}

/** A column of the contract a rule may filter or group on, or an attribute key (`attributes.KEY`). */
const dimensionColumn: Reader<Dimension> = (c, v, p) => {
  if (typeof v === 'string' && isDimension(v)) return v;
  c.report(
    p,
    `${labelOf(p)}: expected a dimension column of agent_runs (${DIMENSION_COLUMNS.join(', ')}) or attributes.KEY (KEY of letters, digits and _ . : / -), got ${typeof v === 'string' ? quote(v) : describe(v)}`,
  );
  return undefined;
};

/** USD per million tokens: a number, at least 0. */
const usdPerMillion: Reader<number> = (c, v, p) => {
  if (typeof v === 'string' && c.fromEnv(p) && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  c.report(p, `${labelOf(p)}: expected USD per million tokens (a number, 0 or more), got ${typeof v === 'number' ? String(v) : describe(v)}`);
  return undefined;
};

/** `prices: { <model>: { input: 2.0, output: 8.0, cache_read: 0.5, cache_write: 2.5 } }` (USD per million tokens). */
const priceTable: Reader<ModelPrice[]> = (c, v, p) => {
  if (!isObj(v)) {
    c.report(p, `${labelOf(p)}: expected a mapping of model names to prices, got ${describe(v)}`);
    return undefined;
  }
  const out: ModelPrice[] = [];
  for (const [model, entry] of Object.entries(v)) {
    const at: Path = [...p, model];
    const e = c.mapping(entry, at, `price of ${quote(model)}`, PRICE_KEYS);
    if (e === undefined) continue;
    const what = `price of ${quote(model)}`;
    const input = c.field(e, at, 'input', usdPerMillion, what);
    const output = c.field(e, at, 'output', usdPerMillion, what);
    const cacheRead = c.field(e, at, 'cache_read', usdPerMillion) ?? null;
    const cacheWrite = c.field(e, at, 'cache_write', usdPerMillion) ?? null;
    if (input !== undefined && output !== undefined) out.push({ model, inputPerMillion: input, outputPerMillion: output, cacheReadPerMillion: cacheRead, cacheWritePerMillion: cacheWrite });
  }
  return out;
};

/** An attribute key as agentdrift writes it into SQL (store/attributes.ts checks the same). */
const ATTRIBUTE_KEY = /^[A-Za-z0-9_.]+$/;

/** `attributes: { workflow_id: [app.flow], tenant_id: [customer.id] }`: span attributes read first for a column. */
const attributeOverrides: Reader<AttributeOverrides> = (c, v, p) => {
  if (!isObj(v)) {
    c.report(p, `${labelOf(p)}: expected a mapping of agent_runs columns to lists of span attributes, got ${describe(v)}`);
    return undefined;
  }
  const out: Partial<Record<AttributeOverrideColumn, string[]>> = {};
  for (const [column, keys] of Object.entries(v)) {
    const at: Path = [...p, column];
    if (!(ATTRIBUTE_OVERRIDE_COLUMNS as readonly string[]).includes(column)) {
      c.report(at, `${labelOf(p)}: ${quote(column)} is not a column a span attribute may fill (allowed: ${ATTRIBUTE_OVERRIDE_COLUMNS.join(', ')})`, 'key');
      continue;
    }
    const items = list(str)(c, keys, at);
    if (items === undefined) continue;
    const good = items.filter((k, i) => {
      if (ATTRIBUTE_KEY.test(k)) return true;
      c.report([...at, i], `${labelOf(at)}: ${quote(k)} is not an attribute key (letters, digits, _ and . only)`);
      return false;
    });
    out[column as AttributeOverrideColumn] = good;
  }
  return out;
};

/**
 * rollup.attribute_prefix, rollup.metric_prefix: attribute-name characters ending with a dot
 * (`agent.attributes.`); the root-span view's DDL embeds them.
 */
const spanPrefix: Reader<string> = (c, v, p) => {
  const s = str(c, v, p);
  if (s === undefined) return undefined;
  if (SPAN_PREFIX.test(s)) return s;
  c.report(p, `${labelOf(p)}: expected an attribute prefix of letters, digits and _ . : / - ending with '.' (e.g. agent.attributes.), got ${quote(s)}`);
  return undefined;
};

/** Like `str`, but a wrong type is reported without any hint derived from the value. */
const secretString: Reader<string> = (c, v, p) => {
  if (typeof v === 'string') return v;
  c.report(p, `${labelOf(p)}: expected a string (quote it)`);
  return undefined;
};

const mappingItem: Reader<Record<string, unknown>> = (c, v, p) => {
  if (isObj(v)) return v as Record<string, unknown>;
  c.report(p, `${labelOf(p)}: expected a mapping, got ${describe(v)}`);
  return undefined;
};

function redactUserinfo(s: string): string {
  return s.replace(/\/\/[^/@]*@/, '//***@');
}
