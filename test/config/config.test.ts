import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandEnv } from '../../src/config/env.js';
import { defaultConfig, loadConfig, parseConfigText, SHIPPED_RULES_DIR } from '../../src/config/load.js';
import { formatProblem } from '../../src/yaml/problem.js';

const FIX = 'test/fixtures/config';

function lines(text: string, env: Record<string, string> = {}, file = 'c.yaml'): string[] {
  return parseConfigText(text, file, env).problems.map(formatProblem);
}

function config(text: string, env: Record<string, string> = {}, file = 'c.yaml') {
  const r = parseConfigText(text, file, env);
  expect(r.problems).toEqual([]);
  return r.config!;
}

describe('defaults', () => {
  it.each([
    // where the config file is, whether rules/ exists there, what the config says -> the rules used
    ['rules/ next to the config', true, '# nothing\n', (d: string) => [join(d, 'rules')]],
    ['no rules/ next to the config: the rules shipped in the package', false, '# nothing\n', () => [SHIPPED_RULES_DIR]],
    ['named rules win, even when missing (the loader then says so)', false, 'rules: [mine]\n', (d: string) => [join(d, 'mine')]],
  ])('default rules: %s', (_name, withRules, text, expected) => {
    const dir = mkdtempSync(join(tmpdir(), 'agentdrift-config-rules-'));
    if (withRules) mkdirSync(join(dir, 'rules'));
    expect(config(text, {}, join(dir, 'agentdrift.yaml')).rules).toEqual(expected(dir));
  });

  it('the shipped rules are the package\'s own rules/ directory', () => {
    expect(SHIPPED_RULES_DIR).toBe(resolve(__dirname, '../../rules'));
  });

  it('defaultConfig() has every default, relative to the working directory', () => {
    expect(defaultConfig({})).toEqual({
      file: null,
      clickhouse: { target: { kind: 'chdb', path: 'data', database: 'default' }, targetSpec: 'chdb:data', user: null, password: null },
      tables: { agentRuns: 'agent_runs', otelTraces: 'otel_traces', view: 'agent_runs_from_otel', runScores: 'run_scores' },
      ttlDays: null,
      rules: ['rules'],
      stateFile: 'data/agentdrift-state.json',
      listen: { host: '127.0.0.1', port: 9464 },
      externalUrl: null,
      traceUrl: null,
      logLevel: 'info',
      evaluation: { timeoutMs: null, maxSeriesPerRule: 500, maxConcurrentGroups: 4 },
      receivers: [],
      route: {},
      demo: { seedIfEmpty: false },
      rollup: { enabled: true, intervalMs: 60_000, latenessMs: 600_000, maxRunDurationMs: 3_600_000, prices: [], attributes: {}, attributePrefix: 'agent.attributes.', metricPrefix: 'agent.metrics.' },
      aggregates: defaultConfig({}).aggregates,
    });
  });

  it('takes ClickHouse credentials from the environment when the file has none', () => {
    const env = { AGENTDRIFT_CLICKHOUSE_USER: 'reader', AGENTDRIFT_CLICKHOUSE_PASSWORD: 'pw' };
    expect(defaultConfig(env).clickhouse).toMatchObject({ user: 'reader', password: 'pw' });
    expect(config('clickhouse: { user: me }\n', env).clickhouse).toMatchObject({ user: 'me', password: 'pw' });
  });

  it('an empty file is all defaults, with paths relative to the file', () => {
    const c = config('# nothing\n', {}, 'etc/agentdrift.yaml');
    expect(c).toEqual({
      ...defaultConfig({}),
      file: 'etc/agentdrift.yaml',
      clickhouse: { target: { kind: 'chdb', path: 'etc/data', database: 'default' }, targetSpec: 'chdb:etc/data', user: null, password: null },
      rules: [SHIPPED_RULES_DIR], // there is no etc/rules
      stateFile: 'etc/data/agentdrift-state.json',
    });
  });

  it('the shipped agentdrift.example.yaml loads without problems and means the defaults', async () => {
    const r = await loadConfig('agentdrift.example.yaml', {});
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual({ ...defaultConfig({}), file: 'agentdrift.example.yaml' });
  });

  it('is deep-frozen', () => {
    const c = config('receivers: [{ name: a, slack: { url: x } }]\n');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.clickhouse.target)).toBe(true);
    expect(Object.isFrozen(c.receivers[0]!.slack)).toBe(true);
    expect(Object.isFrozen(defaultConfig({}).listen)).toBe(true);
  });
});

describe('a full config with environment variables', () => {
  const env = { CH_USER: 'agent', CH_PASSWORD: '123456', SLACK_URL: 'https://hooks.example/T1', PORT: '9999' };

  it('substitutes, types and resolves every value', async () => {
    const r = await loadConfig(`${FIX}/sub/agentdrift.yaml`, env);
    expect(r.problems).toEqual([]);
    expect(r.config).toEqual({
      file: `${FIX}/sub/agentdrift.yaml`,
      clickhouse: {
        target: { kind: 'http', url: 'http://clickhouse:8123', database: 'agents', tls: false },
        targetSpec: 'http://clickhouse:8123/agents',
        user: 'agent',
        // digits from the environment stay a string
        password: '123456',
      },
      tables: { agentRuns: 'runs_v2', otelTraces: 'otel_traces', view: 'agent_runs_from_otel', runScores: 'run_scores' },
      ttlDays: 30,
      rules: [`${FIX}/sub/rules`, '/etc/agentdrift/rules'],
      stateFile: `${FIX}/sub/state/agentdrift.json`,
      listen: { host: '::1', port: 9999 },
      externalUrl: null,
      traceUrl: null,
      logLevel: 'warn',
      evaluation: { timeoutMs: 60_000, maxSeriesPerRule: 50, maxConcurrentGroups: 4 },
      receivers: [{ name: 'slack', slack: { webhook_url: 'https://hooks.example/T1' } }],
      route: { receiver: 'slack' },
      demo: { seedIfEmpty: true },
      rollup: defaultConfig({}).rollup,
      aggregates: defaultConfig({}).aggregates,
    });
  });

  it('names each missing variable at its value, and never a value', async () => {
    const r = await loadConfig(`${FIX}/sub/agentdrift.yaml`, { CH_USER: 'agent' });
    expect(r.config).toBeNull();
    expect(r.problems.map(formatProblem)).toEqual([
      `${FIX}/sub/agentdrift.yaml:4:13: environment variable CH_PASSWORD is not set (use \${CH_PASSWORD:-default} for a default)`,
      `${FIX}/sub/agentdrift.yaml:17:27: environment variable SLACK_URL is not set (use \${SLACK_URL:-default} for a default)`,
    ]);
  });

  it('hands the parsed source on, so receivers can be checked with positions elsewhere', async () => {
    const r = await loadConfig(`${FIX}/sub/agentdrift.yaml`, env);
    expect(r.source?.file).toBe(`${FIX}/sub/agentdrift.yaml`);
  });
});

describe('expandEnv', () => {
  const env = { A: 'x', EMPTY: '', N: '42' };
  it.each([
    ['${A}', 'x'],
    ['pre-${A}-post', 'pre-x-post'],
    ['${A}${N}', 'x42'],
    ['${MISSING:-fallback}', 'fallback'],
    ['${EMPTY:-fallback}', 'fallback'],
    ['${EMPTY}', ''],
    ['${A:-fallback}', 'x'],
    ['${MISSING:-}', ''],
    ['${MISSING:-a b:c}', 'a b:c'],
    ['$${A}', '${A}'],
    ['pa$$word $A', 'pa$$word $A'],
    ['no variables', 'no variables'],
  ])('%s -> %s', (text, value) => {
    expect(expandEnv(text, env)).toEqual({ value, errors: [] });
  });

  it.each([
    ['${MISSING}', 'environment variable MISSING is not set (use ${MISSING:-default} for a default)'],
    ['${1BAD}', 'invalid variable reference "${1BAD}": use ${NAME} or ${NAME:-default}'],
    ['${A-x}', 'invalid variable reference "${A-x}": use ${NAME} or ${NAME:-default}'],
    ['${}', 'invalid variable reference "${}": use ${NAME} or ${NAME:-default}'],
    ['${A', 'unclosed "${" (write $${ for a literal ${)'],
  ])('%s is an error', (text, error) => {
    expect(expandEnv(text, env).errors).toEqual([error]);
  });

  it('substitutes only in values, and numbers and booleans where they are expected', () => {
    const c = config('ttl_days: ${T}\ndemo: { seed_if_empty: "${S}" }\nroute: { "${K}": 1 }\n', { T: '7', S: 'true', K: 'k' });
    expect(c.ttlDays).toBe(7);
    expect(c.demo.seedIfEmpty).toBe(true);
    expect(c.route).toEqual({ '${K}': 1 });
    expect(lines('ttl_days: ${T}\n', { T: 'seven' })).toEqual(['c.yaml:1:11: ttl_days: must be a positive whole number of days, got a string']);
  });

  it('does not stack a follow-up problem on a value whose variable is missing', () => {
    expect(lines('listen: ${LISTEN}\n')).toEqual(['c.yaml:1:9: environment variable LISTEN is not set (use ${LISTEN:-default} for a default)']);
  });
});

describe('problems', () => {
  it('reports every bad key and value of a file, with positions', async () => {
    const f = `${FIX}/bad.yaml`;
    const r = await loadConfig(f, {});
    expect(r.config).toBeNull();
    expect(r.problems.map(formatProblem)).toEqual([
      `${f}:2:11: clickhouse.target: unknown ClickHouse target "mysql://db": use chdb:<dir> or http(s)://host:port/database`,
      `${f}:3:13: clickhouse.database: invalid name "agents; DROP": use letters, digits and _, not starting with a digit`,
      `${f}:4:3: unknown key "passwd" in clickhouse (did you mean "password"?)`,
      `${f}:6:15: tables.agent_runs: invalid name "agent-runs": use letters, digits and _, not starting with a digit`,
      `${f}:7:3: unknown key "spans" in tables (allowed: agent_runs, otel_traces, view, run_scores)`,
      `${f}:8:11: ttl_days: must be a positive whole number of days, got 0`,
      `${f}:9:8: rules: expected a list, got a string`,
      `${f}:10:13: state_file: must not be empty`,
      `${f}:11:9: listen: expected host:port (e.g. 127.0.0.1:9464 or [::1]:9464), got "localhost"`,
      `${f}:12:12: log_level: must be one of debug, info, warn, error, got "verbose"`,
      `${f}:14:12: evaluation.timeout: invalid duration "30 seconds": use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d`,
      `${f}:15:24: evaluation.max_series_per_rule: must be an integer from 1 to 1000000, got -1`,
      `${f}:16:12: receivers: expected a list, got a mapping`,
      `${f}:17:8: route: expected a mapping, got a list`,
      `${f}:19:18: demo.seed_if_empty: expected true or false, got a string`,
      `${f}:20:1: unknown key "extra" in config (allowed: clickhouse, tables, ttl_days, rules, state_file, listen, external_url, trace_url, log_level, evaluation, receivers, route, demo, rollup, aggregates, api)`,
    ]);
  });

  it.each([
    ['misspelt top-level key', 'listen: "127.0.0.1:1"\nloglevel: debug\n', ['c.yaml:2:1: unknown key "loglevel" in config (did you mean "log_level"?)']],
    [
      'unknown top-level key',
      'listen_address: ":9464"\n',
      ['c.yaml:1:1: unknown key "listen_address" in config (allowed: clickhouse, tables, ttl_days, rules, state_file, listen, external_url, trace_url, log_level, evaluation, receivers, route, demo, rollup, aggregates, api)'],
    ],
    ['unknown nested key', 'evaluation:\n  interval: 1m\n', ['c.yaml:2:3: unknown key "interval" in evaluation (allowed: timeout, max_series_per_rule, max_concurrent_groups)']],
    ['unknown demo key', 'demo: { seed: true }\n', ['c.yaml:1:9: unknown key "seed" in demo (allowed: seed_if_empty)']],
    ['section not a mapping', 'clickhouse: chdb:./data\n', ['c.yaml:1:13: clickhouse: expected a mapping, got a string']],
    ['receiver not a mapping', 'receivers: [slack]\n', ['c.yaml:1:13: receivers[0]: expected a mapping, got a string']],
    ['config is a list', '- a\n', ['c.yaml:1:1: config: expected a mapping, got a list']],
    ['YAML syntax error', 'listen: "127.0.0.1:9464\n', ['c.yaml:2:1: YAML: a quoted string is not closed: add the closing quote']],
    ['bad evaluation timeout', 'evaluation: { timeout: 0s }\n', ['c.yaml:1:24: evaluation.timeout: must be at least 1s, got 0s']],
    ['no evaluation slot', 'evaluation: { max_concurrent_groups: 0 }\n', ['c.yaml:1:38: evaluation.max_concurrent_groups: must be an integer from 1 to 1000, got 0']],
    ['bad view name', 'tables: { view: "v; DROP TABLE agent_runs" }\n', ['c.yaml:1:17: tables.view: invalid name "v; DROP TABLE agent_runs": use letters, digits and _, not starting with a digit']],
    ['credentials in the URL', 'clickhouse: { target: "https://u:pw@h:8443/db" }\n', ['c.yaml:1:23: clickhouse.target: credentials in the ClickHouse URL are not accepted; set AGENTDRIFT_CLICKHOUSE_USER and AGENTDRIFT_CLICKHOUSE_PASSWORD instead']],
  ])('%s', (_name, text, expected) => {
    expect(lines(text)).toEqual(expected);
  });

  it('a missing file is a problem', async () => {
    const r = await loadConfig(`${FIX}/nope.yaml`, {});
    expect(r.config).toBeNull();
    expect(r.problems.map(formatProblem)).toEqual([`${FIX}/nope.yaml:1:1: cannot read config file: no such file or directory`]);
  });
});

describe('listen', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['metrics.internal:9464', { host: 'metrics.internal', port: 9464 }],
    ['"[::]:9464"', { host: '::', port: 9464 }],
  ])('%s', (value, expected) => {
    expect(config(`listen: ${value}\n`).listen).toEqual(expected);
  });

  it.each([
    ['":9464"', 'listen: needs a host; use 0.0.0.0:9464 to listen on all interfaces'],
    ['127.0.0.1:99999', 'listen: port must be at most 65535, got 99999'],
    ['"[nothost]:1"', 'listen: "nothost" is not an IPv6 address'],
    ['"bad_host!:1"', 'listen: "bad_host!" is not a valid host name or IP address'],
    ['9464', 'listen: expected a string, got a number (quote it)'],
    ['"::1:9464"', 'listen: expected host:port (e.g. 127.0.0.1:9464 or [::1]:9464), got "::1:9464"'],
  ])('%s is refused', (value, message) => {
    expect(lines(`listen: ${value}\n`)).toEqual([`c.yaml:1:9: ${message}`]);
  });
});

describe('secrets', () => {
  const SECRET = 'hunter2-Sup3r';
  it.each([
    ['password of the wrong type beside other problems', `clickhouse:\n  password: ${SECRET}\n  passwrd: ${SECRET}x\n  target: nope\nlisten: bad\n`, {}],
    ['password from the environment', 'clickhouse:\n  password: ${PW}\n  target: nope\n  user: [x]\n', { PW: SECRET }],
    ['credentials in the target URL', `clickhouse:\n  target: "https://user:${SECRET}@host:8443/db"\n`, {}],
    ['credentials in a malformed target URL', `clickhouse:\n  target: "https://user:${SECRET}@ho st/db"\n`, {}],
    ['a password that is a list', `clickhouse:\n  password: [${SECRET}]\n`, {}],
  ])('never appear in a problem: %s', (_name, text, env) => {
    const r = parseConfigText(text, 'c.yaml', env);
    expect(r.problems.length).toBeGreaterThan(0);
    for (const p of r.problems) expect(p.message).not.toContain(SECRET);
  });
});

describe('rollup', () => {
  it('reads the schedule, the lateness and the price table', () => {
    const c = config(
      'rollup:\n  interval: 30s\n  lateness: 15m\n  max_run_duration: 2h\n  prices:\n    gpt-4.1-mini: { input: 0.4, output: 1.6, cache_read: 0.1 }\n    claude-sonnet-4: { input: 3, output: 15, cache_write: 3.75 }\n',
    );
    expect(c.rollup).toEqual({
      enabled: true,
      intervalMs: 30_000,
      latenessMs: 900_000,
      maxRunDurationMs: 7_200_000,
      attributePrefix: 'agent.attributes.',
      metricPrefix: 'agent.metrics.',
      prices: [
        { model: 'gpt-4.1-mini', inputPerMillion: 0.4, outputPerMillion: 1.6, cacheReadPerMillion: 0.1, cacheWritePerMillion: null },
        { model: 'claude-sonnet-4', inputPerMillion: 3, outputPerMillion: 15, cacheReadPerMillion: null, cacheWritePerMillion: 3.75 },
      ],
      attributes: {},
    });
    expect(config('rollup: { enabled: false }\n').rollup.enabled).toBe(false);
    // Where a team's conventions put a column: read before the built-in attributes.
    expect(config('rollup:\n  attributes:\n    workflow_id: [app.flow, service.flow]\n    tenant_id: [customer.id]\n').rollup.attributes).toEqual({
      workflow_id: ['app.flow', 'service.flow'],
      tenant_id: ['customer.id'],
    });
  });

  it.each([
    ['a price without output', 'rollup:\n  prices:\n    m: { input: 1 }\n', ['c.yaml:3:8: price of "m" is missing required key "output"']],
    ['a negative price', 'rollup:\n  prices:\n    m: { input: -1, output: 2 }\n', ['c.yaml:3:17: rollup.prices.m.input: expected USD per million tokens (a number, 0 or more), got -1']],
    ['an override for a column no attribute fills', 'rollup:\n  attributes:\n    outcome: [x.status]\n', ['c.yaml:3:5: rollup.attributes: "outcome" is not a column a span attribute may fill (allowed: run_id, workflow_id, agent_id, tenant_id, prompt_version, policy_version, output_schema_fingerprint, conversation_id)']],
    ['an attribute key that could not be written into SQL', "rollup:\n  attributes:\n    workflow_id: [\"a'b\"]\n", ['c.yaml:3:19: rollup.attributes.workflow_id: "a\'b" is not an attribute key (letters, digits, _ and . only)']],
    ['an unknown price key', 'rollup:\n  prices:\n    m: { input: 1, output: 2, cached: 1 }\n', ['c.yaml:3:31: unknown key "cached" in price of "m" (allowed: input, output, cache_read, cache_write)']],
    ['prices as a list', 'rollup:\n  prices: [1]\n', ['c.yaml:2:11: rollup.prices: expected a mapping of model names to prices, got a list']],
    ['a lateness without unit', 'rollup: { lateness: 5 }\n', ['c.yaml:1:21: rollup.lateness: expected a duration, got a number without a unit (use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d)']],
    ['an interval under a second', 'rollup: { interval: 100ms }\n', ['c.yaml:1:21: rollup.interval: must be at least 1s, got 100ms']],
    ['an unknown key', 'rollup: { latenes: 5m }\n', ['c.yaml:1:11: unknown key "latenes" in rollup (did you mean "lateness"?)']],
  ])('refuses %s', (_name, text, expected) => {
    expect(lines(text)).toEqual(expected);
  });
});

describe('trace_url', () => {
  it('is a link template with {trace_id} or {run_id}, http(s) only', () => {
    const ok = parseConfigText('trace_url: https://tempo.example.com/trace/{trace_id}\n', 'c.yaml', {});
    expect(ok.problems).toEqual([]);
    expect(ok.config?.traceUrl).toBe('https://tempo.example.com/trace/{trace_id}');
    expect(parseConfigText('trace_url: https://tempo.example.com/\n', 'c.yaml', {}).problems.map(formatProblem)).toEqual(['c.yaml:1:12: trace_url must contain {trace_id} or {run_id}']);
    expect(parseConfigText('trace_url: "javascript:x({trace_id})"\n', 'c.yaml', {}).problems.map(formatProblem)).toEqual(['c.yaml:1:12: trace_url must be an http(s) URL']);
  });
});

describe('external_url', () => {
  it('is kept without a trailing slash, and must be an http(s) URL', () => {
    const ok = parseConfigText('external_url: https://drift.example.com/\n', 'c.yaml', {});
    expect(ok.problems).toEqual([]);
    expect(ok.config?.externalUrl).toBe('https://drift.example.com');
    const bad = parseConfigText('external_url: ftp://x\n', 'c.yaml', {});
    expect(bad.problems.map(formatProblem)).toEqual(['c.yaml:1:15: external_url: expected an http(s) URL, got "ftp://x"']);
  });
  it('drops credentials: links carry none, so no notification, state file or journal does', () => {
    const r = parseConfigText('external_url: "https://ops:s3cret-pw@drift.example.com/agentdrift/"\n', 'c.yaml', {});
    expect(r.problems).toEqual([]);
    expect(r.config!.externalUrl).toBe('https://drift.example.com/agentdrift');
  });
});
