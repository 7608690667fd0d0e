/**
 * The tables of the span rollup (src/rollup), created by `migrate` next to agent_runs and named after
 * it, so each agent_runs table has its own:
 *
 *   <agent_runs>_rollup_input   Null engine. A rollup pass inserts one row per run it found (and one
 *                               per trace for the spans outside any run), with why it is skipped, if it is.
 *   <agent_runs>_rollup_write   materialized view: the rows not skipped -> agent_runs.
 *   <agent_runs>_rollup_count   materialized view: counts of the same rows -> the log ('runs' rows).
 *   <agent_runs>_rollup_log     one 'pass' row per pass: its interval and what it saw and skipped.
 *                               The schedule's watermark is the end of its last pass.
 *
 * One INSERT ... SELECT computes the runs; the two views split it, so the pass neither repeats its
 * work to count nor pulls rows into Node.
 *
 *   <agent_runs>_scores_log     one row per scores pass (rollup/scores.ts): the watermark on
 *                               run_scores.inserted_at up to which every score was counted, and counts.
 */
import { AGENT_RUNS_COLUMNS, checkTableName } from './contract.js';
import { qualified, type StoreNames } from './schema.js';

export interface RollupNames {
  readonly database: string;
  readonly input: string;
  readonly write: string;
  readonly count: string;
  readonly log: string;
}

export function rollupNames(n: StoreNames): RollupNames {
  return {
    database: n.database,
    input: `${n.agentRuns}_rollup_input`,
    write: `${n.agentRuns}_rollup_write`,
    count: `${n.agentRuns}_rollup_count`,
    log: `${n.agentRuns}_rollup_log`,
  };
}

/** Why a row of the input table is not written to agent_runs ('' = written). */
export const SKIP = {
  written: '',
  /** The same (trace_id, run_id) is already in agent_runs: an earlier pass, or a backfill, wrote it. */
  alreadyPresent: 'already_present',
  /** The trace's root span carries an agent.run.* summary: the view wrote its row. */
  summarizedOnRoot: 'summarized_on_root',
  /** The spans of a trace outside any invoke_agent / invoke_workflow span (an HTTP root, say). */
  outsideRun: 'outside_run',
  /** Another run of the same trace that ends outside this pass's interval: its own pass takes it. */
  otherInterval: 'other_interval',
} as const;

/** Columns the input table has beyond the contract's. */
export const INPUT_EXTRA_COLUMNS = [
  ['pass_id', 'String'],
  ['skip', 'LowCardinality(String)'],
  ['spans', 'UInt32'],
  ['nested_agents', 'UInt32'],
  ['unpriced_model_calls', 'UInt32'],
] as const;

/** The counters of a pass, in the log table and in `status`. */
export const PASS_COUNTERS = [
  'spans',
  'runs',
  'runs_written',
  'runs_already_present',
  'runs_summarized',
  'spans_outside_runs',
  'spans_without_run',
  'nested_agents',
  'malformed_runs',
  'unpriced_model_calls',
] as const;
export type PassCounter = (typeof PASS_COUNTERS)[number];

/**
 * Stored as the write view's comment. `migrate` rebuilds the input table and both views (they hold no
 * data) when it differs: change it whenever the contract's columns or the counting change.
 */
export const ROLLUP_VERSION = 'agentdrift rollup v1';

function ttl(ttlDays: number | undefined): string {
  return ttlDays === undefined ? '' : `TTL toDateTime(to_time) + toIntervalDay(${Math.floor(ttlDays)})`;
}

export function createRollupLogSql(r: RollupNames, ttlDays?: number): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(r.database, r.log)}
(
    pass_id String,
    kind LowCardinality(String) COMMENT 'pass: one row per pass; runs: counts from the count view, summed into the pass row',
    mode LowCardinality(String) COMMENT 'schedule (the daemon) or backfill (agentdrift rollup, demo seed --spans)',
    at DateTime64(3, 'UTC') COMMENT 'when the pass ran, by the clock of the process that ran it',
    from_time DateTime64(3, 'UTC') COMMENT 'runs whose span ended at or after this time',
    to_time DateTime64(3, 'UTC') COMMENT 'and before this time',
${PASS_COUNTERS.map((c) => `    ${c} UInt64`).join(',\n')}
)
ENGINE = MergeTree
ORDER BY (kind, mode, to_time)
${ttl(ttlDays)}`;
}

export function createRollupInputSql(r: RollupNames): string {
  const cols = [...AGENT_RUNS_COLUMNS.map((c) => [c.name, c.type] as const), ...INPUT_EXTRA_COLUMNS];
  return `CREATE TABLE IF NOT EXISTS ${qualified(r.database, r.input)}
(
${cols.map(([name, type]) => `    \`${name}\` ${type}`).join(',\n')}
)
ENGINE = Null`;
}

export function createRollupWriteSql(r: RollupNames, n: StoreNames): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(r.database, r.write)}
TO ${qualified(n.database, n.agentRuns)}
COMMENT '${ROLLUP_VERSION}'
AS SELECT ${AGENT_RUNS_COLUMNS.map((c) => `\`${c.name}\``).join(', ')}
FROM ${qualified(r.database, r.input)}
WHERE skip = '${SKIP.written}'`;
}

export function createRollupCountSql(r: RollupNames): string {
  // Runs of other intervals are counted by their own pass; summarized traces by the pass itself, from
  // their root spans (it reads the spans of such a trace only when an inner agent span brings it in).
  const counted = `skip NOT IN ('${SKIP.otherInterval}', '${SKIP.summarizedOnRoot}')`;
  const written = `skip = '${SKIP.written}'`;
  const counts: Record<Exclude<PassCounter, 'spans_without_run' | 'runs_summarized'>, string> = {
    spans: `sumIf(spans, ${counted})`,
    runs: `countIf(skip IN ('${SKIP.written}', '${SKIP.alreadyPresent}'))`,
    runs_written: `countIf(${written})`,
    runs_already_present: `countIf(skip = '${SKIP.alreadyPresent}')`,
    spans_outside_runs: `sumIf(spans, skip = '${SKIP.outsideRun}')`,
    nested_agents: `sumIf(nested_agents, ${written})`,
    malformed_runs: `countIf(${written} AND malformed_fields > 0)`,
    unpriced_model_calls: `sumIf(unpriced_model_calls, ${written})`,
  };
  const names = Object.keys(counts);
  // Aggregates under other names first: an alias equal to a column inside its own aggregate is refused.
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${qualified(r.database, r.count)}
TO ${qualified(r.database, r.log)}
AS SELECT pass_id, 'runs' AS kind, ${names.map((c) => `c_${c} AS ${c}`).join(', ')}
FROM (
    SELECT pass_id, ${Object.entries(counts).map(([c, expr]) => `${expr} AS c_${c}`).join(',\n        ')}
    FROM ${qualified(r.database, r.input)}
    GROUP BY pass_id
)`;
}

/** The input table and its views, in creation order (drop in reverse). */
export function rollupPipelineSql(r: RollupNames, n: StoreNames): { object: string; kind: 'table' | 'materialized view'; create: string; drop: string }[] {
  return [
    { object: r.input, kind: 'table', create: createRollupInputSql(r), drop: `DROP TABLE IF EXISTS ${qualified(r.database, r.input)}` },
    { object: r.write, kind: 'materialized view', create: createRollupWriteSql(r, n), drop: `DROP VIEW IF EXISTS ${qualified(r.database, r.write)}` },
    { object: r.count, kind: 'materialized view', create: createRollupCountSql(r), drop: `DROP VIEW IF EXISTS ${qualified(r.database, r.count)}` },
  ];
}

/** The scores pass's log: its watermark and counters (rollup/scores.ts). */
export function scoresLogName(n: Pick<StoreNames, 'agentRuns'>): string {
  return checkTableName(`${n.agentRuns}_scores_log`);
}

/** The counters of a scores pass, in its log and its log line. */
export const SCORES_COUNTERS = ['scores_counted', 'scores_unmatched', 'scores_pending'] as const;
export type ScoresCounter = (typeof SCORES_COUNTERS)[number];

/** A log row of this mode voids the watermark: migrate rebuilt the aggregates, every score counts again. */
export const SCORES_RESET_MODE = 'reset';

/** No TTL: its newest row is the watermark, however long ago it was written. */
export function createScoresLogSql(n: StoreNames): string {
  return `CREATE TABLE IF NOT EXISTS ${qualified(n.database, scoresLogName(n))}
(
    at DateTime64(3, 'UTC') COMMENT 'when the pass ran, by the clock of the process that ran it',
    written_at DateTime64(6, 'UTC') DEFAULT now64(6) COMMENT 'server time of the row: the newest row holds the watermark',
    mode LowCardinality(String) COMMENT 'schedule (the daemon), backfill (agentdrift rollup) or reset (migrate rebuilt the aggregates)',
    watermark DateTime64(3, 'UTC') COMMENT 'every run_scores row inserted at or before this was counted or found unmatched',
${SCORES_COUNTERS.map((c) => `    ${c} UInt64`).join(',\n')}
)
ENGINE = MergeTree
ORDER BY written_at`;
}
