/**
 * A probe view beside the aggregates' ones on agent_runs: it records, per run, whether the INSERT
 * that brought the run carried parallel_view_processing (INGEST_SETTINGS), i.e. whether ClickHouse
 * pushed that block to the views concurrently.
 */
import type { ClickHouse } from '../../src/clickhouse/client.js';

export async function createIngestProbe(ch: ClickHouse): Promise<void> {
  await ch.command('CREATE TABLE default.ingest_probe (run_id String, parallel UInt64) ENGINE = Memory');
  await ch.command(`CREATE MATERIALIZED VIEW default.ingest_probe_mv TO default.ingest_probe
    AS SELECT run_id, toUInt64(getSetting('parallel_view_processing')) AS parallel FROM default.agent_runs`);
}

/** [run_id, the setting's value (0 or 1)] for every run the probe saw, by run_id. */
export async function ingestProbeRuns(ch: ClickHouse): Promise<[string, number][]> {
  const rows = await ch.query<{ run_id: string; parallel: number | string }>('SELECT run_id, parallel FROM default.ingest_probe ORDER BY run_id');
  return rows.map((r) => [r.run_id, Number(r.parallel)]);
}
