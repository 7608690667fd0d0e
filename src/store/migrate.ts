/**
 * `agentdrift migrate`: create what is missing and bring agentdrift's own objects up to date, touching
 * no data (idempotent). agent_runs gains contract columns it lacks (appended, as ClickHouse adds them
 * cheaply); the view and the rollup's views are updated when their version comment differs. A traces
 * table agentdrift cannot read (the exporter's JSON mode) is reported, and the view is not created on it.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import type { Progress } from '../util/progress.js';
import { AGGREGATE_DEFAULTS, type AggregateSettings } from './aggregates.js';
import { migrateAggregates } from './aggregatesMigrate.js';
import { AGENT_RUNS_COLUMNS } from './contract.js';
import { createRollupLogSql, createScoresLogSql, rollupNames, rollupPipelineSql, ROLLUP_VERSION, SCORES_RESET_MODE, scoresLogName } from './rollupSchema.js';
import {
  addColumnSql,
  createAgentRunsSql,
  createDatabaseSql,
  createOtelTracesSql,
  createRunScoresSql,
  createViewSql,
  qualified,
  runScoresTable,
  updateViewSql,
  viewComment,
  VIEW_VERSION,
  type StoreNames,
} from './schema.js';
import { forAttributes, type AttributeColumns } from './attributes.js';
import { inspectSpanTable } from './spanTable.js';
import type { MigrationStep } from './migrationStep.js';

export type { MigrationStep };

interface TableInfo {
  readonly exists: boolean;
  readonly comment: string;
}

async function tableInfo(ch: ClickHouse, database: string, name: string): Promise<TableInfo> {
  const rows = await ch.query<{ comment: string }>(
    'SELECT comment FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: database, name },
  );
  return { exists: rows.length > 0, comment: rows[0]?.comment ?? '' };
}

async function missingColumns(ch: ClickHouse, names: StoreNames): Promise<typeof AGENT_RUNS_COLUMNS> {
  const rows = await ch.query<{ name: string }>('SELECT name FROM system.columns WHERE database = {db:String} AND table = {table:String}', {
    db: names.database,
    table: names.agentRuns,
  });
  const have = new Set(rows.map((r) => r.name));
  return AGENT_RUNS_COLUMNS.filter((c) => !have.has(c.name));
}

export interface MigrateOptions {
  readonly ttlDays?: number;
  /** The aggregate tables (default: enabled, default dimensions). */
  readonly aggregates?: AggregateSettings;
  /** Progress of a backfill of the aggregates from existing runs. */
  readonly progress?: Progress;
  /** Drop and backfill the aggregate tables even when they are complete. */
  readonly rebuildAggregates?: boolean;
}

export async function migrate(ch: ClickHouse, names: StoreNames, opts: MigrateOptions = {}): Promise<MigrationStep[]> {
  const steps: MigrationStep[] = [];
  const dbRows = await ch.query<{ n: number | string }>('SELECT count() AS n FROM system.databases WHERE name = {db:String}', {
    db: names.database,
  });
  const dbExists = Number(dbRows[0]?.n ?? 0) > 0;
  if (!dbExists) await ch.command(createDatabaseSql(names));
  steps.push({ object: names.database, kind: 'database', action: dbExists ? 'exists' : 'created' });
  const at = (name: string) => `${names.database}.${name}`;

  // agent_runs first: the views write into it.
  if (!(await tableInfo(ch, names.database, names.agentRuns)).exists) {
    await ch.command(createAgentRunsSql(names, opts.ttlDays));
    steps.push({ object: at(names.agentRuns), kind: 'table', action: 'created' });
  } else {
    const missing = await missingColumns(ch, names);
    for (const c of missing) await ch.command(addColumnSql(names, c));
    steps.push(
      missing.length === 0
        ? { object: at(names.agentRuns), kind: 'table', action: 'exists' }
        : { object: at(names.agentRuns), kind: 'table', action: 'updated', detail: `added columns ${missing.map((c) => c.name).join(', ')}` },
    );
  }

  const hadTraces = (await tableInfo(ch, names.database, names.otelTraces)).exists;
  if (!hadTraces) await ch.command(createOtelTracesSql(names, opts.ttlDays));
  steps.push({ object: at(names.otelTraces), kind: 'table', action: hadTraces ? 'exists' : 'created' });

  const spans = await inspectSpanTable(ch, names);
  const view = await tableInfo(ch, names.database, names.view);
  if (spans.problem !== null) {
    steps.push({ object: at(names.view), kind: 'materialized view', action: 'skipped', problem: spans.problem });
  } else if (!view.exists) {
    await ch.command(forAttributes(createViewSql(names), spans.kind === 'json' ? 'json' : 'map', spans.events));
    steps.push({ object: at(names.view), kind: 'materialized view', action: 'created' });
  } else if (view.comment !== viewComment(names)) {
    await updateView(ch, names, spans.kind === 'json' ? 'json' : 'map', spans.events);
    steps.push({ object: at(names.view), kind: 'materialized view', action: 'updated', detail: VIEW_VERSION });
  } else {
    steps.push({ object: at(names.view), kind: 'materialized view', action: 'exists' });
  }

  const r = rollupNames(names);
  const hadLog = (await tableInfo(ch, r.database, r.log)).exists;
  if (!hadLog) await ch.command(createRollupLogSql(r, opts.ttlDays));
  steps.push({ object: at(r.log), kind: 'table', action: hadLog ? 'exists' : 'created' });

  // The input table and its views hold no data: rebuild them whole when their version differs.
  const pipeline = rollupPipelineSql(r, names);
  const present = await Promise.all(pipeline.map((p) => tableInfo(ch, r.database, p.object)));
  const current = present.every((p) => p.exists) && present[1]!.comment === ROLLUP_VERSION;
  if (!current) {
    for (const p of [...pipeline].reverse()) await ch.command(p.drop);
    for (const p of pipeline) await ch.command(p.create);
  }
  pipeline.forEach((p, i) =>
    steps.push({ object: at(p.object), kind: p.kind, action: current ? 'exists' : present[i]!.exists ? 'updated' : 'created' }),
  );

  // Late scores: their table, and the scores pass's log (its watermark).
  const scores = runScoresTable(names);
  const hadScores = (await tableInfo(ch, names.database, scores)).exists;
  if (!hadScores) await ch.command(createRunScoresSql(names, opts.ttlDays));
  steps.push({ object: at(scores), kind: 'table', action: hadScores ? 'exists' : 'created' });
  const scoresLog = scoresLogName(names);
  const hadScoresLog = (await tableInfo(ch, names.database, scoresLog)).exists;
  if (!hadScoresLog) await ch.command(createScoresLogSql(names));
  steps.push({ object: at(scoresLog), kind: 'table', action: hadScoresLog ? 'exists' : 'created' });

  const aggregateSteps = await migrateAggregates(ch, names, opts.aggregates ?? AGGREGATE_DEFAULTS, { ttlDays: opts.ttlDays, progress: opts.progress, rebuild: opts.rebuildAggregates === true });
  steps.push(...aggregateSteps);
  // Rebuilt (or dropped) aggregates hold the runs' own scores only: every late score counts again.
  if (hadScoresLog && aggregateSteps.some((s) => s.action !== 'exists')) {
    await ch.insert(qualified(names.database, scoresLog), [
      { at: new Date().toISOString(), mode: SCORES_RESET_MODE, watermark: new Date(0).toISOString(), scores_counted: 0, scores_unmatched: 0, scores_pending: 0 },
    ]);
  }
  return steps;
}

/** In place where the server can (no gap for the exporter's inserts); else drop and create. */
async function updateView(ch: ClickHouse, names: StoreNames, columns: AttributeColumns, events: boolean): Promise<void> {
  try {
    for (const sql of updateViewSql(names)) await ch.command(forAttributes(sql, columns, events));
  } catch {
    await ch.command(`DROP VIEW IF EXISTS ${qualified(names.database, names.view)}`);
    await ch.command(forAttributes(createViewSql(names), columns, events));
  }
}
