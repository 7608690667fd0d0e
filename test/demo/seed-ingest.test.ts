/**
 * The demo seed's INSERT reaches agent_runs (summary form: staging -> otel_traces -> the summary
 * view) and, through it, the aggregate views: it carries INGEST_SETTINGS like every agentdrift insert
 * into them, so ClickHouse pushes each block to those views concurrently. A probe view on agent_runs
 * records the setting each run arrived with (fails when the seed inserts without it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type SeedResult } from '../../src/demo/seed.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { DEMO_END } from '../helpers/demo.js';
import { createIngestProbe, ingestProbeRuns } from '../helpers/ingestProbe.js';

let store: TempStore;

beforeAll(async () => {
  store = await openTempStore();
  await createIngestProbe(store.ch);
}, 60_000);

afterAll(async () => {
  await store?.ch.close();
});

describe('demo seed ingest settings', () => {
  it('every run the summary form writes reached agent_runs with parallel_view_processing', async () => {
    const seeded: SeedResult = await seedDemo(store.ch, store.names, { days: 2, runsPerDay: 400, seed: 'agentdrift', endMs: DEMO_END });
    expect(seeded.inserted).toBeGreaterThan(500);
    const probed = await ingestProbeRuns(store.ch);
    expect(probed).toHaveLength(seeded.inserted);
    expect(probed.filter(([, parallel]) => parallel !== 1)).toEqual([]);
  });
});
