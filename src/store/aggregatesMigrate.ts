/**
 * Creating, backfilling, finding and reporting the aggregate tables (aggregates.ts).
 *
 * migrate: the tables and views are derived data, so when their version or dimensions differ from
 * the configuration they are dropped and built again. A new set is filled from the rows already in
 * agent_runs: the views are created first (new inserts flow through them from then on), then merges
 * of agent_runs are paused, the parts that exist are listed, and exactly those parts are aggregated,
 * one partition (day) at a time, with progress. Rows the views saw are in parts created after the
 * list, so no row counts twice and none is missed (only an insert racing the instant between the
 * views' creation and the listing could count twice). Each table is marked ready when its backfill
 * is complete; the daemon reads only a ready set.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import type { Progress } from '../util/progress.js';
import { silentProgress } from '../util/progress.js';
import {
  aggregateObjects,
  aggregatesComment,
  createAggregateTableSql,
  createAggregateViewsSql,
  finestSelectsSql,
  FINEST_TIER,
  normalizeDimensions,
  type AggregateSettings,
  type AggregateSource,
} from './aggregates.js';
import type { MigrationStep } from './migrationStep.js';
import { qualified, type StoreNames } from './schema.js';

interface ObjectInfo {
  readonly name: string;
  readonly comment: string;
}

async function objectsIn(ch: ClickHouse, database: string, names: readonly string[]): Promise<Map<string, ObjectInfo>> {
  const rows = await ch.query<{ name: string; comment: string }>(
    'SELECT name, comment FROM system.tables WHERE database = {db:String} AND has({names:Array(String)}, name)',
    { db: database, names },
  );
  return new Map(rows.map((r) => [r.name, { name: r.name, comment: r.comment ?? '' }]));
}

export interface AggregatesMigrateOptions {
  readonly ttlDays?: number;
  readonly progress?: Progress;
  /** Drop and rebuild even a complete set (after runs were deleted from agent_runs, which the views cannot see). */
  readonly rebuild?: boolean;
}

export async function migrateAggregates(ch: ClickHouse, names: StoreNames, settings: AggregateSettings, o: AggregatesMigrateOptions = {}): Promise<MigrationStep[]> {
  const objects = aggregateObjects(names);
  const at = (name: string) => `${names.database}.${name}`;
  const present = await objectsIn(ch, names.database, objects.flatMap((x) => [x.table, ...x.views, ...x.retiredViews]));
  const dropAll = async () => {
    for (const x of [...objects].reverse()) {
      for (const v of [...x.views, ...x.retiredViews]) await ch.command(`DROP VIEW IF EXISTS ${qualified(names.database, v)}`);
      await ch.command(`DROP TABLE IF EXISTS ${qualified(names.database, x.table)}`);
    }
  };
  if (!settings.enabled) {
    // Views nobody reads would still cost every insert: disabled means gone (a later enable backfills).
    if (present.size > 0) await dropAll();
    return [{ object: at(`${names.agentRuns}_agg_{1d,1h,5m}_*`), kind: 'table', action: 'skipped', detail: `aggregates.enabled is false: rules read agent_runs${present.size > 0 ? '; the aggregate tables and views were dropped' : ''}` }];
  }
  const dims = normalizeDimensions(settings.dimensions);
  const readyComment = aggregatesComment(dims, true);
  const complete = objects.every((x) => present.get(x.table)?.comment === readyComment && x.views.every((v) => present.has(v)) && !x.retiredViews.some((v) => present.has(v)));
  if (complete && !o.rebuild) return objects.map((x) => ({ object: at(x.table), kind: 'table' as const, action: 'exists' as const }));

  const existed = objects.some((x) => present.has(x.table));
  await dropAll();
  for (const x of objects) await ch.command(createAggregateTableSql(names, x.tier, x.kind, dims, { ttlDays: o.ttlDays }));
  for (const x of objects) for (const sql of createAggregateViewsSql(names, x.tier, x.kind, dims)) await ch.command(sql);
  const backfilled = await backfill(ch, names, dims, o.progress ?? silentProgress);
  // A comment cannot be a bound parameter; it is built from the version and contract column names only.
  for (const x of objects) await ch.command(`ALTER TABLE ${qualified(names.database, x.table)} MODIFY COMMENT '${readyComment.replace(/[\\']/g, '')}'`);
  const detail = `dimensions ${dims.join(', ')}; backfilled ${backfilled.runs} runs from ${backfilled.parts} parts${backfilled.warning ? `; ${backfilled.warning}` : ''}`;
  return objects.map((x) => ({ object: at(x.table), kind: 'table' as const, action: existed ? ('updated' as const) : ('created' as const), detail }));
}

/** Aggregates the parts of agent_runs that exist now into the 5-minute tables (the hourly ones follow). */
async function backfill(
  ch: ClickHouse,
  names: StoreNames,
  dims: ReturnType<typeof normalizeDimensions>,
  progress: Progress,
): Promise<{ runs: number; parts: number; warning?: string }> {
  const runs = qualified(names.database, names.agentRuns);
  let merging = true;
  let warning: string | undefined;
  try {
    await ch.command(`SYSTEM STOP MERGES ${runs}`);
    merging = false;
  } catch {
    // No SYSTEM rights: a merge during the backfill could hide a part from the list below.
    warning = `could not pause merges of ${runs} (no SYSTEM rights?): rows merged during the backfill may be missed`;
  }
  try {
    const parts = await ch.query<{ partition_id: string; parts: string[]; rows: number | string }>(
      `SELECT partition_id, groupArray(name) AS parts, sum(rows) AS rows FROM system.parts
       WHERE database = {db:String} AND table = {t:String} AND active GROUP BY partition_id ORDER BY partition_id`,
      { db: names.database, t: names.agentRuns },
    );
    const total = parts.reduce((s, p) => s + Number(p.rows), 0);
    progress.start(total);
    let done = 0;
    for (const p of parts) {
      for (const x of aggregateObjects(names).filter((o) => o.tier === FINEST_TIER)) {
        // The same SELECTs as the table's views, so a backfilled row equals one the views wrote.
        for (const select of finestSelectsSql(runs, x.kind, dims, '_part IN {parts:Array(String)}')) {
          await ch.command(`INSERT INTO ${qualified(names.database, x.table)}\n${select}`, { parts: p.parts });
        }
      }
      done += Number(p.rows);
      progress.update(done);
    }
    progress.stop();
    return { runs: total, parts: parts.reduce((s, p) => s + p.parts.length, 0), ...(warning ? { warning } : {}) };
  } finally {
    if (!merging) await ch.command(`SYSTEM START MERGES ${runs}`).catch(() => undefined);
  }
}

/**
 * The aggregate tables the daemon may read: all present, of this version and these dimensions, and
 * backfilled. Anything else (not migrated yet, disabled, a backfill cut short): null, and every rule
 * reads agent_runs.
 */
export async function findAggregates(ch: ClickHouse, names: StoreNames, settings: AggregateSettings): Promise<AggregateSource | null> {
  if (!settings.enabled) return null;
  const dims = normalizeDimensions(settings.dimensions);
  const objects = aggregateObjects(names);
  const present = await objectsIn(ch, names.database, objects.map((x) => x.table));
  const ready = aggregatesComment(dims, true);
  if (!objects.every((x) => present.get(x.table)?.comment === ready)) return null;
  return { database: names.database, agentRuns: names.agentRuns, dimensions: dims };
}

export interface AggregateTableStatus {
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface AggregatesStatus {
  readonly ready: boolean;
  readonly dimensions: string | null;
  readonly tables: readonly AggregateTableStatus[];
  /** Newest run in agent_runs minus the end of the newest 5-minute bucket, in seconds (>= 0); null when empty. */
  readonly lagSeconds: number | null;
}

/** `status`: size of each aggregate table and how far the newest bucket trails the newest run. */
export async function aggregatesStatus(ch: ClickHouse, names: StoreNames): Promise<AggregatesStatus | null> {
  const objects = aggregateObjects(names);
  const present = await objectsIn(ch, names.database, objects.map((x) => x.table));
  if (present.size === 0) return null;
  const sizes = await ch.query<{ table: string; rows: number | string; bytes: number | string }>(
    `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts
     WHERE database = {db:String} AND has({names:Array(String)}, table) AND active GROUP BY table`,
    { db: names.database, names: objects.map((x) => x.table) },
  );
  const byTable = new Map(sizes.map((s) => [s.table, s]));
  const comments = [...present.values()].map((p) => p.comment);
  const ready = objects.every((x) => present.get(x.table)?.comment.endsWith('; ready'));
  const totals = objects.find((x) => x.tier === FINEST_TIER && x.kind === 'totals')!;
  let lagSeconds: number | null = null;
  if (present.has(totals.table)) {
    const [r] = await ch.query<{ newest_run: number | string | null; newest_bucket: number | string | null; runs: number | string }>(
      `SELECT (SELECT toUnixTimestamp64Milli(max(timestamp)) FROM ${qualified(names.database, names.agentRuns)}) AS newest_run,
              (SELECT toInt64(toUnixTimestamp(max(bucket))) * 1000 FROM ${qualified(names.database, totals.table)}) AS newest_bucket,
              (SELECT count() FROM ${qualified(names.database, names.agentRuns)}) AS runs`,
    );
    if (Number(r?.runs ?? 0) > 0) {
      const end = Number(r?.newest_bucket ?? 0) + FINEST_TIER.ms;
      lagSeconds = Math.max(0, Math.round((Number(r?.newest_run ?? 0) - end) / 1000) + 0);
    }
  }
  return {
    ready,
    dimensions: /dimensions=([^;]*)/.exec(comments[0] ?? '')?.[1] ?? null,
    tables: objects.map((x) => ({ table: x.table, rows: Number(byTable.get(x.table)?.rows ?? 0), bytes: Number(byTable.get(x.table)?.bytes ?? 0) })),
    lagSeconds,
  };
}
