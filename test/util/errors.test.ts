/**
 * The error catalogue (src/util/errors.ts): its codes are stable (scripts and dashboards may match
 * them), so the table is pinned here, code by code; every error class exported from src/ carries one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateFileError } from '../../src/persist/stateFile.js';
import { StateLockError } from '../../src/persist/stateLock.js';
import { ConfigError, UsageError } from '../../src/cli/context.js';
import { NoSuchSeriesError } from '../../src/report/explain.js';
import { TimeArgError } from '../../src/cli/time.js';
import { ClickHouseAccessError } from '../../src/clickhouse/client.js';
import { TargetError } from '../../src/clickhouse/target.js';
import { InvalidRulesError } from '../../src/daemon/daemon.js';
import { UnknownRuleError } from '../../src/engine/engine.js';
import { EvaluationTimeoutError } from '../../src/engine/skips.js';
import { NotifyError } from '../../src/notify/redact.js';
import { RollupUnavailableError } from '../../src/rollup/pass.js';
import { TemplateError } from '../../src/rules/template.js';
import { StoreNotReadyError } from '../../src/store/ready.js';
import { CATALOGUE, ERR, errorCodeOf, exitCodeOf, httpStatusOf, isCatalogued, type ErrorCode } from '../../src/util/errors.js';
import { DurationError } from '../../src/yaml/duration.js';
import { PercentError } from '../../src/yaml/percent.js';

/** code, exit code, HTTP status: changing a row is a breaking change (docs/cli.md, "Exit codes"). */
const PINNED: readonly (readonly [code: string, exitCode: number, httpStatus: number])[] = [
  ['AGENTDRIFT_ERR_USAGE', 2, 400],
  ['AGENTDRIFT_ERR_CONFIG', 2, 500],
  ['AGENTDRIFT_ERR_TARGET', 2, 500],
  ['AGENTDRIFT_ERR_INVALID_DURATION', 2, 400],
  ['AGENTDRIFT_ERR_INVALID_PERCENT', 2, 400],
  ['AGENTDRIFT_ERR_INVALID_TEMPLATE', 1, 400],
  ['AGENTDRIFT_ERR_INVALID_RULES', 1, 500],
  ['AGENTDRIFT_ERR_UNKNOWN_RULE', 2, 404],
  ['AGENTDRIFT_ERR_NO_SUCH_SERIES', 2, 404],
  ['AGENTDRIFT_ERR_CLICKHOUSE', 1, 503],
  ['AGENTDRIFT_ERR_STORE_NOT_READY', 1, 503],
  ['AGENTDRIFT_ERR_ROLLUP_UNAVAILABLE', 1, 503],
  ['AGENTDRIFT_ERR_STATE_FILE', 1, 500],
  ['AGENTDRIFT_ERR_STATE_LOCK', 1, 500],
  ['AGENTDRIFT_ERR_TIMEOUT', 1, 504],
  ['AGENTDRIFT_ERR_NOTIFY', 1, 502],
];

/** One instance of every error class of src/, and the code it carries. */
const INSTANCES: readonly (readonly [Error, ErrorCode])[] = [
  [new UsageError('--to must be after --from'), ERR.USAGE],
  [new TimeArgError('cannot read "yesterday" as a time'), ERR.USAGE],
  [new ConfigError('agentdrift.yaml:1:1: unknown key'), ERR.CONFIG],
  [new TargetError('chdb target needs a directory'), ERR.TARGET],
  [new DurationError('invalid duration "x"'), ERR.INVALID_DURATION],
  [new PercentError('invalid percentage "x"'), ERR.INVALID_PERCENT],
  [new TemplateError('empty action "{{ }}"'), ERR.INVALID_TEMPLATE],
  [new InvalidRulesError('invalid rules, not starting'), ERR.INVALID_RULES],
  [new UnknownRuleError('no rule named "X" is loaded'), ERR.UNKNOWN_RULE],
  [new NoSuchSeriesError('no series of X matches a=b'), ERR.NO_SUCH_SERIES],
  [new ClickHouseAccessError('unavailable', 'ClickHouse at x is unreachable', 'ECONNREFUSED'), ERR.CLICKHOUSE],
  [new StoreNotReadyError('chdb:./data', 'default.agent_runs'), ERR.STORE_NOT_READY],
  [new RollupUnavailableError('default.otel_traces does not exist'), ERR.ROLLUP_UNAVAILABLE],
  [new StateFileError('./data/state.json', 'alert state file is corrupt', 'corrupt'), ERR.STATE_FILE],
  [new StateLockError('could not lock state file'), ERR.STATE_LOCK],
  [new EvaluationTimeoutError(1000), ERR.TIMEOUT],
  [new NotifyError('webhook receiver w: connection refused', [], 'ECONNREFUSED'), ERR.NOTIFY],
];

const SRC = resolve(__dirname, '../../src');

/**
 * Every class exported from a module of src/ that extends an Error class, as "file: Name". Read from
 * the source, not imported: some modules are entry points that run when imported (worker threads).
 */
function exportedErrorClasses(): string[] {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const found: string[] = [];
  for (const f of files.sort()) {
    const text = readFileSync(join(SRC, f), 'utf8');
    for (const m of text.matchAll(/^export\s+(?:abstract\s+)?class\s+(\w+)\s+extends\s+(\w*Error)\b/gm)) found.push(`${f}: ${m[1]}`);
  }
  return found;
}

describe('the error catalogue', () => {
  it.each(PINNED)('%s: exit %i, HTTP %i', (code, exitCode, httpStatus) => {
    expect(CATALOGUE[code as ErrorCode]).toEqual({ exitCode, httpStatus });
  });

  it('holds exactly the pinned codes, each AGENTDRIFT_ERR_<NAME> under its NAME', () => {
    expect(Object.keys(CATALOGUE).sort()).toEqual(PINNED.map(([c]) => c).sort());
    for (const [name, code] of Object.entries(ERR)) expect(code).toBe(`AGENTDRIFT_ERR_${name}`);
    expect(new Set(Object.values(ERR)).size).toBe(Object.values(ERR).length);
  });

  it.each(INSTANCES.map(([e, code]) => [e.name, code, e] as const))('%s carries %s and is mapped by it', (_name, code, e) => {
    expect(isCatalogued(e)).toBe(true);
    expect(errorCodeOf(e)).toBe(code);
    expect(exitCodeOf(e)).toBe(CATALOGUE[code].exitCode);
    expect(httpStatusOf(e)).toBe(CATALOGUE[code].httpStatus);
  });

  it('every code has an error class that carries it', () => {
    expect(new Set(INSTANCES.map(([, code]) => code))).toEqual(new Set(Object.values(ERR)));
  });

  it('every error class exported from src/ is in the table above, so it carries a code', () => {
    const classes = exportedErrorClasses();
    const named = new Set(INSTANCES.map(([e]) => e.constructor.name));
    expect(classes.filter((c) => !named.has(c.slice(c.indexOf(': ') + 2)))).toEqual([]);
    expect(classes.length).toBe(INSTANCES.length);
  });

  it('the ClickHouse and notifier codes stay where they were: `code` is the underlying one, `errorCode` ours', () => {
    const ch = new ClickHouseAccessError('query', 'unknown database', '81');
    expect(ch.code).toBe('81');
    expect(ch.errorCode).toBe(ERR.CLICKHOUSE);
    const n = new NotifyError('smtp refused', [], 'EAUTH');
    expect(n.code).toBe('EAUTH');
    expect(n.errorCode).toBe(ERR.NOTIFY);
  });

  it('anything else is not catalogued: exit 1 and HTTP 500, as a bug', () => {
    const sys = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    const forged = Object.assign(new Error('x'), { errorCode: 'AGENTDRIFT_ERR_NOPE' });
    const notAnError = { errorCode: ERR.USAGE, message: 'x' };
    for (const e of [new TypeError('x is not a function'), new Error('plain'), sys, forged, notAnError, 'a string', undefined]) {
      expect(isCatalogued(e)).toBe(false);
      expect(errorCodeOf(e)).toBeNull();
      expect(exitCodeOf(e)).toBe(1);
      expect(httpStatusOf(e)).toBe(500);
    }
  });

  it('the accept API answers an unknown rule with 404 and a missing store with 503', () => {
    expect(httpStatusOf(new UnknownRuleError('no rule named "X" is loaded'))).toBe(404);
    expect(httpStatusOf(new StoreNotReadyError('chdb:./data', 'default.agent_runs'))).toBe(503);
  });
});
