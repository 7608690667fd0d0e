/**
 * The scores pass: scores that arrive after their run (run_scores: an offline judge, user feedback)
 * folded into the 5-minute keyed aggregates as key_kind 'score' rows (key = name, value = Σv,
 * value_sq = Σv², value_x_total = the runs scored), in the bucket of the run's start and with the
 * run's aggregate dimensions, found by joining agent_runs on run_id within the time range of the
 * batch (so only its days' partitions are read). The hourly and daily tables follow through their
 * views. agent_runs is never rewritten: late scores count through the aggregates only.
 *
 * Each score counts once. The pass keeps a watermark on run_scores.inserted_at in its log table
 * (<agent_runs>_scores_log): every row inserted at or before it was counted, or found unmatched. A
 * new row whose run is not in agent_runs yet waits, and so does every row inserted after it, until
 * the run arrives or `rollup.lateness` has passed since the score did; then it is counted as
 * unmatched. So the watermark only ever moves past rows that are settled, and a restart resumes there.
 * When `migrate` rebuilds the aggregates it writes a reset row: every score counts again.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import { AGGREGATES_VERSION, aggregateTableName, FINEST_TIER, INGEST_SETTINGS_SQL, normalizeDimensions, type AggregateSettings } from '../store/aggregates.js';
import { dimensionSelect, dimensionSql } from '../store/contract.js';
import { SCORES_COUNTERS, SCORES_RESET_MODE, scoresLogName, type ScoresCounter } from '../store/rollupSchema.js';
import { qualified, runScoresTable, type StoreNames } from '../store/schema.js';
import type { PassMode } from './pass.js';

export type ScoresCounters = Record<ScoresCounter, number>;

/**
 * How far before now (and before the server's clock) the pass reads: a row is stamped with its
 * insert's start and becomes visible when the insert commits, so the newest rows are left to the next pass.
 */
export const SCORES_SETTLE_MS = 5_000;

/** A score's timestamp is its run's start; a run this far off it is still found (times cut to ms, say). */
export const SCORES_RUN_SLACK_MS = 3_600_000;

export interface ScoresPassOptions {
  readonly mode: PassMode;
  /** Now, by the caller's clock. */
  readonly at: number;
  /** `rollup.lateness`: how long a score waits for its run before it counts as unmatched. */
  readonly latenessMs: number;
  /** `aggregates`: where late scores count. */
  readonly aggregates: AggregateSettings;
  /** Default SCORES_SETTLE_MS. */
  readonly settleMs?: number;
}

export interface ScoresPassResult {
  /** Null when the pass ran; else why it did nothing (said once by the schedule). */
  readonly skipped: string | null;
  readonly counters: ScoresCounters;
  /** The watermark after the pass (ms); null when skipped. */
  readonly watermarkMs: number | null;
  readonly elapsedMs: number;
}

export const zeroScoresCounters = (): ScoresCounters => Object.fromEntries(SCORES_COUNTERS.map((c) => [c, 0])) as ScoresCounters;

/** What a scores pass did, in one line. */
export function describeScores(r: ScoresPassResult): string {
  if (r.skipped !== null) return `late scores: ${r.skipped}`;
  const c = r.counters;
  return `late scores: ${c.scores_counted} counted in the aggregates, ${c.scores_unmatched} unmatched (no run with their run_id after rollup.lateness), ${c.scores_pending} waiting`;
}

const ms = (name: string) => `fromUnixTimestamp64Milli({${name}:Int64}, 'UTC')`;

/** The current watermark (ms since the epoch; 0 before the first pass and after a reset). */
export async function scoresWatermark(ch: ClickHouse, names: StoreNames): Promise<number> {
  const [row] = await ch.query<{ n: number | string; wm: number | string; mode: string }>(
    `SELECT count() AS n, toUnixTimestamp64Milli(argMax(watermark, written_at)) AS wm, argMax(mode, written_at) AS mode FROM ${qualified(names.database, scoresLogName(names))}`,
  );
  if (Number(row?.n ?? 0) === 0 || row?.mode === SCORES_RESET_MODE) return 0;
  return Number(row?.wm ?? 0);
}

async function tableComment(ch: ClickHouse, database: string, name: string): Promise<string | null> {
  const rows = await ch.query<{ comment: string }>('SELECT comment FROM system.tables WHERE database = {db:String} AND name = {name:String}', { db: database, name });
  return rows.length === 0 ? null : (rows[0]!.comment ?? '');
}

export async function runScoresPass(ch: ClickHouse, names: StoreNames, o: ScoresPassOptions): Promise<ScoresPassResult> {
  const t0 = performance.now();
  const skip = (why: string): ScoresPassResult => ({ skipped: why, counters: zeroScoresCounters(), watermarkMs: null, elapsedMs: performance.now() - t0 });
  if (!o.aggregates.enabled) return skip('aggregates.enabled is false: scores in run_scores count through the aggregates only, so they are not counted');
  const dims = normalizeDimensions(o.aggregates.dimensions);
  const keyed = aggregateTableName(names, FINEST_TIER, 'keyed');
  const comment = await tableComment(ch, names.database, keyed);
  // Built for these dimensions by this version (ready or still backfilling: the backfill reads agent_runs only).
  if (comment === null || !comment.startsWith(`${AGGREGATES_VERSION}; dimensions=${dims.join(',')}`)) {
    return skip(`${names.database}.${keyed} is missing or was built for other dimensions: run agentdrift migrate`);
  }
  const scores = runScoresTable(names);
  const log = scoresLogName(names);
  if ((await tableComment(ch, names.database, scores)) === null || (await tableComment(ch, names.database, log)) === null) {
    return skip(`${names.database}.${scores} or ${names.database}.${log} does not exist: run agentdrift migrate`);
  }

  const from = await scoresWatermark(ch, names);
  const [server] = await ch.query<{ now: number | string }>('SELECT toUnixTimestamp64Milli(now64(3)) AS now');
  const upTo = Math.min(o.at, Number(server?.now ?? o.at)) - (o.settleMs ?? SCORES_SETTLE_MS);
  const counters = zeroScoresCounters();
  const done = (watermarkMs: number): ScoresPassResult => ({ skipped: null, counters, watermarkMs, elapsedMs: performance.now() - t0 });
  if (upTo <= from) return done(from);

  const table = qualified(names.database, scores);
  const runsTable = qualified(names.database, names.agentRuns);
  const batch = (hi: string) => `inserted_at > ${ms('from_ms')} AND inserted_at <= ${ms(hi)}`;
  const [range] = await ch.query<{ n: number | string; lo: number | string; hi: number | string }>(
    `SELECT count() AS n, toUnixTimestamp64Milli(min(toDateTime64(timestamp, 3))) AS lo, toUnixTimestamp64Milli(max(toDateTime64(timestamp, 3))) AS hi FROM ${table} WHERE ${batch('up_ms')}`,
    { from_ms: from, up_ms: upTo },
  );
  if (Number(range?.n ?? 0) === 0) return done(from);
  const params = {
    from_ms: from,
    up_ms: upTo,
    lo_ms: Number(range!.lo) - SCORES_RUN_SLACK_MS,
    hi_ms: Number(range!.hi) + SCORES_RUN_SLACK_MS + 1,
    young_ms: o.at - o.latenessMs,
  };
  // The runs of the batch: one row per run_id, with its start and aggregate dimensions.
  const runs = `SELECT run_id, timestamp AS run_ts${dims.length > 0 ? `, ${dims.map(dimensionSelect).join(', ')}` : ''}
    FROM ${runsTable}
    WHERE timestamp >= ${ms('lo_ms')} AND timestamp < ${ms('hi_ms')} AND run_id IN (SELECT run_id FROM ${table} WHERE ${batch('up_ms')})
    LIMIT 1 BY run_id`;

  // Scores still waiting for their run, and younger than the lateness: the watermark stops before the first.
  const [waiting] = await ch.query<{ n: number | string; first: number | string }>(
    `SELECT count() AS n, toUnixTimestamp64Milli(min(inserted_at)) AS first FROM ${table}
     WHERE ${batch('up_ms')} AND inserted_at > ${ms('young_ms')} AND run_id NOT IN (SELECT run_id FROM (${runs}))`,
    params,
  );
  const to = Number(waiting?.n ?? 0) > 0 ? Math.min(upTo, Number(waiting!.first) - 1) : upTo;
  const p = { ...params, to_ms: to };
  const [seen] = await ch.query<{ matched: number | string; unmatched: number | string; later: number | string }>(
    `SELECT countIf(inserted_at <= ${ms('to_ms')} AND r.run_id != '') AS matched,
            countIf(inserted_at <= ${ms('to_ms')} AND r.run_id = '') AS unmatched,
            countIf(inserted_at > ${ms('to_ms')}) AS later
     FROM (SELECT run_id, inserted_at FROM ${table} WHERE ${batch('up_ms')}) AS s
     LEFT JOIN (${runs}) AS r ON s.run_id = r.run_id`,
    p,
  );
  counters.scores_counted = Number(seen?.matched ?? 0);
  counters.scores_unmatched = Number(seen?.unmatched ?? 0);
  counters.scores_pending = Number(seen?.later ?? 0);
  if (to <= from) return done(from);

  if (counters.scores_counted > 0) {
    const dimCols = dims.map((d) => dimensionSql(d, 'aggregates'));
    const target = qualified(names.database, keyed);
    await ch.command(
      `INSERT INTO ${target} (bucket${dimCols.map((c) => `, ${c}`).join('')}, key_kind, key, value, value_sq, value_x_total)
SELECT toDateTime(toStartOfInterval(r.run_ts, INTERVAL ${FINEST_TIER.ms / 60_000} MINUTE, 'UTC'), 'UTC') AS b${dimCols.map((c) => `, r.${c}`).join('')},
    'score', CAST(s.name, 'String') AS k, sum(s.value), sum(s.value * s.value), toFloat64(count())
FROM (SELECT run_id, name, value FROM ${table} WHERE inserted_at > ${ms('from_ms')} AND inserted_at <= ${ms('to_ms')}) AS s
INNER JOIN (${runs}) AS r ON s.run_id = r.run_id
GROUP BY b${dimCols.map((c) => `, r.${c}`).join('')}, k
${INGEST_SETTINGS_SQL}`,
      p,
    );
  }
  await ch.insert(qualified(names.database, log), [
    { at: new Date(o.at).toISOString(), mode: o.mode, watermark: new Date(to).toISOString(), ...counters },
  ]);
  return done(to);
}
