/**
 * `migrate --cluster`: the DDL for a sharded, replicated ClickHouse (checked statically: no cluster
 * runs here; chDB has none and Debian's 18.x server predates the SQL the views use).
 */
import { describe, expect, it } from 'vitest';
import { AGGREGATE_DEFAULTS, aggregateObjects } from '../../src/store/aggregates.js';
import { clusterDdl } from '../../src/store/cluster.js';
import { DEFAULT_NAMES } from '../../src/store/schema.js';

const names = { database: 'agentdrift', ...DEFAULT_NAMES };
const ddl = clusterDdl(names, 'prod_cluster', AGGREGATE_DEFAULTS, 30);

describe('migrate --cluster DDL', () => {
  it('runs every statement ON CLUSTER', () => {
    for (const s of ddl) expect(s, s.split('\n')[0]).toMatch(/ON CLUSTER prod_cluster/);
  });

  it('agent_runs: a replicated local table sharded by run_id behind a Distributed table of the same name the daemon reads', () => {
    const local = ddl.find((s) => s.includes('`agentdrift`.`agent_runs_local` ON CLUSTER'))!;
    expect(local).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/agentdrift/agent_runs_local', '{replica}')");
    expect(local).toContain('TTL toDateTime(timestamp) + toIntervalDay(30)');
    const dist = ddl.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS `agentdrift`.`agent_runs` ON CLUSTER'))!;
    expect(dist).toContain('ENGINE = Distributed(prod_cluster, agentdrift, agent_runs_local, cityHash64(run_id))');
  });

  it('aggregates: replicated local tables fed by views on the local tables, Distributed tables under the names the daemon reads, marked ready', () => {
    for (const x of aggregateObjects(names)) {
      const table = ddl.find((s) => s.includes(`\`agentdrift\`.\`${x.table}_local\` ON CLUSTER`) && s.startsWith('CREATE TABLE'))!;
      expect(table, x.table).toContain(`ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/agentdrift/${x.table}_local', '{replica}')`);
      for (const v of x.views) {
        const view = ddl.find((s) => s.includes(`\`agentdrift\`.\`${v}_local\``))!;
        expect(view, v).toContain(`TO \`agentdrift\`.\`${x.table}_local\``);
        // the 5-minute views read the shard's local runs, the hourly and daily ones its local 5-minute table
        expect(view).toMatch(x.tier.name === '5m' ? /FROM \(?`agentdrift`\.`agent_runs_local`/ : /FROM `agentdrift`\.`agent_runs_agg_5m_\w+_local`/);
        expect(view).not.toMatch(/`agent_runs`[^_]/);
      }
      const dist = ddl.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS \`agentdrift\`.\`${x.table}\` ON CLUSTER`))!;
      expect(dist).toContain(`ENGINE = Distributed(prod_cluster, agentdrift, ${x.table}_local)`);
      expect(dist).toMatch(/COMMENT 'agentdrift aggregates v\d+; dimensions=workflow_id,agent_id,environment,service_name; ready'/);
    }
  });

  it('creates the local tables before the views that write to them, and a cluster name is checked', () => {
    const idx = (needle: string) => ddl.findIndex((s) => s.includes(needle));
    expect(idx('agent_runs_agg_5m_totals_local` ON CLUSTER')).toBeLessThan(idx('agent_runs_agg_5m_totals_mv_local'));
    expect(() => clusterDdl(names, 'a; DROP TABLE x', AGGREGATE_DEFAULTS)).toThrow(/invalid cluster name/);
  });
});
