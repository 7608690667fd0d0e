/**
 * The error catalogue: one stable code per kind of error agentdrift reports (as fastify's FST_ERR_*),
 * and for each the exit code of the command line and the HTTP status of the API. An error class
 * carries its code as `errorCode` (`readonly errorCode = ERR.STORE_NOT_READY`); the command line and the
 * API map an error to an exit code or a status here, once, by that code.
 *
 * The property is `errorCode`, not `code`: `code` already means the underlying code on two classes
 * (ClickHouseAccessError: ClickHouse's own error code or a system one; NotifyError: ECONNREFUSED,
 * EAUTH...), and a system error's `code` (ENOENT) is not one of ours.
 *
 * The codes are stable: scripts and dashboards may match them. test/util/errors.test.ts pins the table.
 */

export const ERR = {
  /** A command line that cannot run as given: a bad option value, options that exclude each other. */
  USAGE: 'AGENTDRIFT_ERR_USAGE',
  /** agentdrift.yaml (or --config) is invalid: every problem as file:line:col. */
  CONFIG: 'AGENTDRIFT_ERR_CONFIG',
  /** The ClickHouse target (clickhouse.target, --clickhouse) cannot be parsed. */
  TARGET: 'AGENTDRIFT_ERR_TARGET',
  /** A duration that cannot be read (`30m`, `1h30m`). */
  INVALID_DURATION: 'AGENTDRIFT_ERR_INVALID_DURATION',
  /** A percentage that cannot be read (`20%`, `0.2`). */
  INVALID_PERCENT: 'AGENTDRIFT_ERR_INVALID_PERCENT',
  /** An annotation template that cannot be parsed. */
  INVALID_TEMPLATE: 'AGENTDRIFT_ERR_INVALID_TEMPLATE',
  /** The rule files the daemon was given are invalid: it does not start (or keeps the rules it runs). */
  INVALID_RULES: 'AGENTDRIFT_ERR_INVALID_RULES',
  /** No rule of that name is loaded. */
  UNKNOWN_RULE: 'AGENTDRIFT_ERR_UNKNOWN_RULE',
  /** No series of the rule matches the labels asked for. */
  NO_SUCH_SERIES: 'AGENTDRIFT_ERR_NO_SUCH_SERIES',
  /** ClickHouse is unreachable, refused the credentials or a query, or the embedded store cannot open. */
  CLICKHOUSE: 'AGENTDRIFT_ERR_CLICKHOUSE',
  /** The store has no agent_runs: `agentdrift migrate` has not run. */
  STORE_NOT_READY: 'AGENTDRIFT_ERR_STORE_NOT_READY',
  /** The traces table cannot be rolled up as it is (absent, JSON-mode, unreadable). */
  ROLLUP_UNAVAILABLE: 'AGENTDRIFT_ERR_ROLLUP_UNAVAILABLE',
  /** The alert state file or its journal is corrupt, unreadable or cannot be written. */
  STATE_FILE: 'AGENTDRIFT_ERR_STATE_FILE',
  /** The state file is locked by another process (another agentdrift), or cannot be locked. */
  STATE_LOCK: 'AGENTDRIFT_ERR_STATE_LOCK',
  /** An evaluation ran out of its group's time. */
  TIMEOUT: 'AGENTDRIFT_ERR_TIMEOUT',
  /** A receiver could not be notified. */
  NOTIFY: 'AGENTDRIFT_ERR_NOTIFY',
} as const;

export type ErrorCode = (typeof ERR)[keyof typeof ERR];

export interface CatalogueEntry {
  /** The exit code of a command that stops on this error: 1 findings or failures, 2 usage or configuration. */
  readonly exitCode: 1 | 2;
  /** The status of an API answer this error is the reason for: 4xx when the request named or sent something wrong. */
  readonly httpStatus: number;
}

export const CATALOGUE: { readonly [C in ErrorCode]: CatalogueEntry } = {
  [ERR.USAGE]: { exitCode: 2, httpStatus: 400 },
  [ERR.CONFIG]: { exitCode: 2, httpStatus: 500 },
  [ERR.TARGET]: { exitCode: 2, httpStatus: 500 },
  [ERR.INVALID_DURATION]: { exitCode: 2, httpStatus: 400 },
  [ERR.INVALID_PERCENT]: { exitCode: 2, httpStatus: 400 },
  [ERR.INVALID_TEMPLATE]: { exitCode: 1, httpStatus: 400 },
  [ERR.INVALID_RULES]: { exitCode: 1, httpStatus: 500 },
  [ERR.UNKNOWN_RULE]: { exitCode: 2, httpStatus: 404 },
  [ERR.NO_SUCH_SERIES]: { exitCode: 2, httpStatus: 404 },
  [ERR.CLICKHOUSE]: { exitCode: 1, httpStatus: 503 },
  [ERR.STORE_NOT_READY]: { exitCode: 1, httpStatus: 503 },
  [ERR.ROLLUP_UNAVAILABLE]: { exitCode: 1, httpStatus: 503 },
  [ERR.STATE_FILE]: { exitCode: 1, httpStatus: 500 },
  [ERR.STATE_LOCK]: { exitCode: 1, httpStatus: 500 },
  [ERR.TIMEOUT]: { exitCode: 1, httpStatus: 504 },
  [ERR.NOTIFY]: { exitCode: 1, httpStatus: 502 },
};

/** An error of a kind agentdrift reports: its message is for the user, its code is in the catalogue. */
export interface CataloguedError extends Error {
  readonly errorCode: ErrorCode;
}

const CODES: ReadonlySet<string> = new Set(Object.values(ERR));

export function isCatalogued(e: unknown): e is CataloguedError {
  if (!(e instanceof Error)) return false;
  const code = (e as { errorCode?: unknown }).errorCode;
  return typeof code === 'string' && CODES.has(code);
}

/** The catalogue code of an error, or null for anything else (a bug, or a system error such as ENOENT). */
export function errorCodeOf(e: unknown): ErrorCode | null {
  return isCatalogued(e) ? e.errorCode : null;
}

/** The exit code of a command that stops on `e`: the catalogue's, else 1 (a bug or a system error). */
export function exitCodeOf(e: unknown): 1 | 2 {
  const code = errorCodeOf(e);
  return code === null ? 1 : CATALOGUE[code].exitCode;
}

/** The HTTP status of an API answer that fails with `e`: the catalogue's, else 500. */
export function httpStatusOf(e: unknown): number {
  const code = errorCodeOf(e);
  return code === null ? 500 : CATALOGUE[code].httpStatus;
}
