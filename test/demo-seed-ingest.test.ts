/**
 * The demo seed's INSERT reaches agent_runs (summary form: staging -> otel_traces -> the summary
 * view) and, through it, the aggregate views: it carries INGEST_SETTINGS like every agentdrift insert
 * into them, so ClickHouse pushes each block to those views concurrently. A probe view on agent_runs
 * records the setting each run arrived with (fails when the seed inserts without it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type SeedResult } from '../src/demo/seed.js';
import { openTempStore, type TempStore } from './helpers/chdb.js';
import { DEMO_END } from './helpers/demo.js';

let store: TempStore;

beforeAll(async () => {
  store = await openTempStore();
  await store.ch.command('CREATE TABLE default.ingest_probe (run_id String, parallel UInt64) ENGINE = Memory');
  await store.ch.command(`CREATE MATERIALIZED VIEW default.ingest_probe_mv TO default.ingest_probe
    AS SELECT run_id, toUInt64(getSetting('parallel_view_processing')) AS parallel FROM default.agent_runs`);
}, 60_000);

afterAll(async () => {
  await store?.ch.close();
});

const probe = async () =>
  (await store.ch.query<{ parallel: string | number; n: string | number }>('SELECT parallel, count() AS n FROM default.ingest_probe GROUP BY parallel ORDER BY parallel')).map(
    (r) => [Number(r.parallel), Number(r.n)],
  );

describe('demo seed ingest settings', () => {
  it('every run the summary form writes reached agent_runs with parallel_view_processing', async () => {
    const seeded: SeedResult = await seedDemo(store.ch, store.names, { days: 2, runsPerDay: 400, seed: 'agentdrift', endMs: DEMO_END });
    expect(seeded.inserted).toBeGreaterThan(500);
    expect(await probe()).toEqual([[1, seeded.inserted]]);
  });
});
