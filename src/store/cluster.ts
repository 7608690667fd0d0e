/**
 * DDL for a ClickHouse cluster (`agentdrift migrate --cluster <name>`): each shard holds replicated
 * local tables (`<name>_local`) and every node a Distributed table under the name the daemon reads,
 * so its queries run unchanged. agent_runs is sharded by run_id; the aggregates' views run on each
 * shard's local agent_runs and write to its local aggregate tables, and a query through the
 * Distributed aggregate tables adds the shards' sums (every column is a sum, so any split adds up).
 * Statements only: `--print-sql` shows them, otherwise migrate runs them in order.
 */
import { aggregateObjects, createAggregateTableSql, createAggregateViewsSql, normalizeDimensions, aggregatesComment, type AggregateSettings } from './aggregates.js';
import { checkTableName } from './contract.js';
import { createAgentRunsSql, qualified, type StoreNames } from './schema.js';

const local = (t: string) => checkTableName(`${t}_local`);

/** ReplicatedMergeTree paths by shard and table, the replica from the node's macros. */
function replicated(engine: 'MergeTree' | 'AggregatingMergeTree', table: string, database: string): string {
  return `Replicated${engine}('/clickhouse/tables/{shard}/${database}/${table}', '{replica}')`;
}

export function clusterDdl(names: StoreNames, cluster: string, aggregates: AggregateSettings, ttlDays?: number): string[] {
  const c = checkTableName(cluster, 'cluster');
  const db = checkTableName(names.database, 'database');
  const runsLocal = local(names.agentRuns);
  const out: string[] = [`CREATE DATABASE IF NOT EXISTS \`${db}\` ON CLUSTER ${c}`];
  out.push(
    createAgentRunsSql({ ...names, agentRuns: runsLocal }, ttlDays)
      .replace(`${qualified(db, runsLocal)}\n`, `${qualified(db, runsLocal)} ON CLUSTER ${c}\n`)
      .replace('ENGINE = MergeTree', `ENGINE = ${replicated('MergeTree', runsLocal, db)}`),
    `CREATE TABLE IF NOT EXISTS ${qualified(db, names.agentRuns)} ON CLUSTER ${c} AS ${qualified(db, runsLocal)}
ENGINE = Distributed(${c}, ${db}, ${runsLocal}, cityHash64(run_id))`,
  );
  if (!aggregates.enabled) return out;
  const dims = normalizeDimensions(aggregates.dimensions);
  // A new cluster's tables start empty, so they are ready at once (no backfill to wait for).
  for (const x of aggregateObjects(names)) {
    const l = local(x.table);
    out.push(
      createAggregateTableSql({ ...names, agentRuns: names.agentRuns }, x.tier, x.kind, dims, {
        ttlDays,
        ready: true,
        onCluster: c,
        engine: () => replicated('AggregatingMergeTree', l, db),
      }).replace(qualified(db, x.table), qualified(db, l)),
    );
  }
  for (const x of aggregateObjects(names)) {
    createAggregateViewsSql(names, x.tier, x.kind, dims, { onCluster: c, sourceRuns: qualified(db, runsLocal), sourceTable: local }).forEach((sql, i) => {
      const view = x.views[i]!;
      out.push(sql.replace(qualified(db, view), qualified(db, local(view))));
    });
    out.push(`CREATE TABLE IF NOT EXISTS ${qualified(db, x.table)} ON CLUSTER ${c} AS ${qualified(db, local(x.table))}
ENGINE = Distributed(${c}, ${db}, ${local(x.table)})
COMMENT '${aggregatesComment(dims, true)}'`);
  }
  return out;
}
