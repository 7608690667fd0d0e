/** `agentdrift migrate`: create what is missing, touch nothing that exists (idempotent). */
import type { ClickHouse } from '../clickhouse/client.js';
import { createAgentRunsSql, createDatabaseSql, createOtelTracesSql, createViewSql, type StoreNames } from './schema.js';

export interface MigrationStep {
  readonly object: string;
  readonly kind: 'database' | 'table' | 'materialized view';
  readonly action: 'created' | 'exists';
}

async function exists(ch: ClickHouse, database: string, name: string): Promise<boolean> {
  const rows = await ch.query<{ n: number | string }>(
    'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    { db: database, name },
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

export async function migrate(ch: ClickHouse, names: StoreNames, opts: { ttlDays?: number } = {}): Promise<MigrationStep[]> {
  const steps: MigrationStep[] = [];
  const dbRows = await ch.query<{ n: number | string }>('SELECT count() AS n FROM system.databases WHERE name = {db:String}', {
    db: names.database,
  });
  const dbExists = Number(dbRows[0]?.n ?? 0) > 0;
  if (!dbExists) await ch.command(createDatabaseSql(names));
  steps.push({ object: names.database, kind: 'database', action: dbExists ? 'exists' : 'created' });

  // Order matters: the view needs both tables.
  const objects: [string, MigrationStep['kind'], string][] = [
    [names.agentRuns, 'table', createAgentRunsSql(names, opts.ttlDays)],
    [names.otelTraces, 'table', createOtelTracesSql(names, opts.ttlDays)],
    [names.view, 'materialized view', createViewSql(names)],
  ];
  for (const [name, kind, sql] of objects) {
    const had = await exists(ch, names.database, name);
    if (!had) await ch.command(sql);
    steps.push({ object: `${names.database}.${name}`, kind, action: had ? 'exists' : 'created' });
  }
  return steps;
}
