/**
 * The scores pass on embedded ClickHouse: late scores (run_scores) folded into the keyed aggregates
 * with their runs' buckets and dimensions, each counted once across passes and restarts (the
 * watermark in the scores log), a score whose run has not arrived waiting for it, one whose run never
 * comes counted as unmatched after the lateness, nothing done (and said) without aggregates, and
 * every score counted again, once, after migrate rebuilt the aggregates. A database per case.
 * T = 2026-11-20 10:00:00 UTC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScoresPass, scoresWatermark, type ScoresPassOptions } from '../../src/rollup/scores.js';
import { AGGREGATE_DEFAULTS, type AggregateSettings } from '../../src/store/aggregates.js';
import { migrate } from '../../src/store/migrate.js';
import type { StoreNames } from '../../src/store/schema.js';
import { openTempStore, type TempStore } from '../helpers/chdb.js';
import { run } from '../helpers/runs.js';
import { RollupJob } from '../../src/rollup/job.js';
import { ROLLUP_DEFAULTS } from '../../src/rollup/types.js';
import { silentLogger } from '../../src/log.js';
import { ManualClock } from '../../src/util/clock.js';

const T = Date.parse('2026-11-20T10:00:00Z');
const SEC = 1000;
const MIN = 60 * SEC;
const iso = (ms: number) => new Date(ms).toISOString();

let store: TempStore;
beforeAll(async () => {
  store = await openTempStore();
});
afterAll(async () => {
  await store?.ch.close();
});

async function database(name: string, aggregates: AggregateSettings = AGGREGATE_DEFAULTS): Promise<StoreNames> {
  await store.ch.command(`CREATE DATABASE IF NOT EXISTS ${name}`);
  const names: StoreNames = { ...store.names, database: name };
  await migrate(store.ch, names, { aggregates });
  return names;
}

const pass = (names: StoreNames, at: number, o: Partial<ScoresPassOptions> = {}) =>
  runScoresPass(store.ch, names, { mode: 'schedule', at, latenessMs: 10 * MIN, aggregates: AGGREGATE_DEFAULTS, ...o });

interface Score {
  readonly run: { readonly run_id: string; readonly timestamp: string };
  readonly name: string;
  readonly value: number;
  readonly insertedAt: number;
}

const insertScores = (names: StoreNames, scores: readonly Score[]) =>
  store.ch.insert(
    `${names.database}.run_scores`,
    scores.map((s) => ({ timestamp: s.run.timestamp, run_id: s.run.run_id, name: s.name, value: s.value, source: 'judge', inserted_at: iso(s.insertedAt) })),
  );

/** Σv, Σv², runs per (tier, dimension, name) of the score rows in the keyed aggregates. */
async function scoreSums(names: StoreNames, tier: '5m' | '1h' | '1d', dim = 'workflow_id') {
  return store.ch.query<Record<string, unknown>>(
    `SELECT ${dim} AS dim, key, round(sum(value), 9) AS v, round(sum(value_sq), 9) AS sq, sum(value_x_total) AS n
     FROM ${names.database}.agent_runs_agg_${tier}_keyed WHERE key_kind = 'score' GROUP BY dim, key ORDER BY dim, key`,
  );
}

describe('the scores pass', () => {
  it('counts each late score once, across passes and a restart, in its run\'s bucket and dimensions', async () => {
    const names = await database('scores_once');
    const a = run({ ts: iso(T - 30 * MIN), workflow_id: 'wf_a' });
    const b = run({ ts: iso(T - 20 * MIN), workflow_id: 'wf_b' });
    await store.ch.insert(`scores_once.agent_runs`, [{ ...a, scores: { relevance: 0.5 } }, b]);
    await insertScores(names, [
      { run: a, name: 'relevance', value: 1, insertedAt: T + 1 * SEC },
      { run: b, name: 'relevance', value: 0.25, insertedAt: T + 2 * SEC },
      { run: b, name: 'thumbs_up', value: 1, insertedAt: T + 3 * SEC },
    ]);
    const first = await pass(names, T + MIN);
    expect(first).toMatchObject({ skipped: null, counters: { scores_counted: 3, scores_unmatched: 0, scores_pending: 0 }, watermarkMs: T + MIN - 5 * SEC });
    const expected = [
      // the run's own 0.5 (through the views on agent_runs) and the late 1
      { dim: 'wf_a', key: 'relevance', v: 1.5, sq: 1.25, n: 2 },
      { dim: 'wf_b', key: 'relevance', v: 0.25, sq: 0.0625, n: 1 },
      { dim: 'wf_b', key: 'thumbs_up', v: 1, sq: 1, n: 1 },
    ];
    for (const tier of ['5m', '1h', '1d'] as const) expect(await scoreSums(names, tier)).toEqual(expected);
    // In the run's 5-minute bucket, not the score's.
    const buckets = await store.ch.query<{ bucket: string }>(`SELECT DISTINCT toString(bucket) AS bucket FROM scores_once.agent_runs_agg_5m_keyed WHERE key_kind = 'score' AND workflow_id = 'wf_a'`);
    expect(buckets).toEqual([{ bucket: '2026-11-20 09:30:00' }]);

    // A second pass, and a "restart" (a pass that knows only what the log says), count nothing again.
    expect((await pass(names, T + 2 * MIN)).counters.scores_counted).toBe(0);
    // Nothing new: the watermark stays where the last counted row put it (no log row is written).
    expect(await scoresWatermark(store.ch, names)).toBe(T + MIN - 5 * SEC);
    await insertScores(names, [{ run: a, name: 'relevance', value: 0, insertedAt: T + 3 * MIN }]);
    expect((await pass(names, T + 5 * MIN, { mode: 'backfill' })).counters).toEqual({ scores_counted: 1, scores_unmatched: 0, scores_pending: 0 });
    expect(await scoreSums(names, '1d')).toEqual([{ dim: 'wf_a', key: 'relevance', v: 1.5, sq: 1.25, n: 3 }, ...expected.slice(1)]);
  });

  it('waits for a run that has not arrived (and the scores after it), then counts them', async () => {
    const names = await database('scores_wait');
    const early = run({ ts: iso(T - 10 * MIN), workflow_id: 'wf_a' });
    const late = run({ ts: iso(T - 5 * MIN), workflow_id: 'wf_late' });
    await store.ch.insert('scores_wait.agent_runs', [early]);
    await insertScores(names, [
      { run: late, name: 'relevance', value: 0.5, insertedAt: T + 10 * SEC },
      { run: early, name: 'relevance', value: 1, insertedAt: T + 20 * SEC },
    ]);
    const waiting = await pass(names, T + MIN);
    expect(waiting.counters).toEqual({ scores_counted: 0, scores_unmatched: 0, scores_pending: 2 });
    expect(await scoreSums(names, '5m')).toEqual([]);
    await store.ch.insert('scores_wait.agent_runs', [late]);
    expect((await pass(names, T + 2 * MIN)).counters).toEqual({ scores_counted: 2, scores_unmatched: 0, scores_pending: 0 });
    expect(await scoreSums(names, '5m')).toEqual([
      { dim: 'wf_a', key: 'relevance', v: 1, sq: 1, n: 1 },
      { dim: 'wf_late', key: 'relevance', v: 0.5, sq: 0.25, n: 1 },
    ]);
  });

  it('counts a score whose run never comes as unmatched once rollup.lateness has passed', async () => {
    const names = await database('scores_unmatched');
    const ghost = { run_id: 'never-ran', timestamp: iso(T - MIN) };
    const real = run({ ts: iso(T - 2 * MIN) });
    await store.ch.insert('scores_unmatched.agent_runs', [real]);
    await insertScores(names, [
      { run: ghost, name: 'relevance', value: 0.5, insertedAt: T + 10 * SEC },
      { run: real, name: 'relevance', value: 0.75, insertedAt: T + 20 * SEC },
    ]);
    expect((await pass(names, T + 5 * MIN)).counters).toEqual({ scores_counted: 0, scores_unmatched: 0, scores_pending: 2 });
    expect((await pass(names, T + 10 * MIN + 11 * SEC)).counters).toEqual({ scores_counted: 1, scores_unmatched: 1, scores_pending: 0 });
    expect((await pass(names, T + 12 * MIN)).counters).toEqual({ scores_counted: 0, scores_unmatched: 0, scores_pending: 0 });
    expect(await scoreSums(names, '1h')).toEqual([{ dim: 'wf', key: 'relevance', v: 0.75, sq: 0.5625, n: 1 }]);
  });

  it('joins the configured dimensions, attribute dimensions included: the sums match a scan of the runs and their scores', async () => {
    const aggregates: AggregateSettings = { enabled: true, dimensions: ['workflow_id', 'environment', 'attributes.customer.tier'] };
    const names = await database('scores_dims', aggregates);
    const runs = [
      run({ ts: iso(T - 50 * MIN), workflow_id: 'wf_a', environment: 'prod' }),
      run({ ts: iso(T - 40 * MIN), workflow_id: 'wf_a', environment: 'staging' }),
      run({ ts: iso(T - 3 * 60 * MIN), workflow_id: 'wf_b', environment: 'prod' }),
    ];
    const tiers = ['gold', 'silver', ''];
    await store.ch.insert('scores_dims.agent_runs', runs.map((r, i) => ({ ...r, attributes: tiers[i] ? { 'customer.tier': tiers[i] } : {}, scores: { relevance: i / 4 } })));
    await insertScores(
      names,
      runs.flatMap((r, i) => [
        { run: r, name: 'relevance', value: 0.5 + i / 8, insertedAt: T + i * SEC },
        { run: r, name: 'feedback', value: i, insertedAt: T + (10 + i) * SEC },
      ]),
    );
    expect((await pass(names, T + MIN, { aggregates })).counters.scores_counted).toBe(6);
    const truth = await store.ch.query<Record<string, unknown>>(
      `SELECT workflow_id AS w, environment AS e, attributes['customer.tier'] AS t, k AS key, round(sum(v), 9) AS v, toFloat64(count()) AS n
       FROM (
         SELECT workflow_id, environment, attributes, kv.1 AS k, kv.2 AS v FROM scores_dims.agent_runs ARRAY JOIN CAST(scores, 'Map(String, Float64)') AS kv
         UNION ALL
         SELECT r.workflow_id, r.environment, r.attributes, s.name, s.value FROM scores_dims.run_scores AS s INNER JOIN scores_dims.agent_runs AS r ON s.run_id = r.run_id
       ) GROUP BY w, e, t, key ORDER BY w, e, t, key`,
    );
    for (const tier of ['5m', '1d'] as const) {
      const sums = await store.ch.query<Record<string, unknown>>(
        `SELECT workflow_id AS w, environment AS e, attributes_customer_tier AS t, key, round(sum(value), 9) AS v, sum(value_x_total) AS n
         FROM scores_dims.agent_runs_agg_${tier}_keyed WHERE key_kind = 'score' GROUP BY w, e, t, key ORDER BY w, e, t, key`,
      );
      expect(sums).toEqual(truth);
    }
    expect(truth).toHaveLength(6);
  });

  it('does nothing without aggregates, and says why', async () => {
    const aggregates = { enabled: false, dimensions: [] };
    const names = await database('scores_off', aggregates);
    const r = await pass(names, T + MIN, { aggregates });
    expect(r.skipped).toMatch(/aggregates\.enabled is false: scores in run_scores count through the aggregates only/);
    expect(r.counters).toEqual({ scores_counted: 0, scores_unmatched: 0, scores_pending: 0 });
  });

  it('after migrate rebuilt the aggregates, counts every score again, once', async () => {
    const names = await database('scores_rebuild');
    const a = run({ ts: iso(T - 30 * MIN) });
    await store.ch.insert('scores_rebuild.agent_runs', [{ ...a, scores: { relevance: 0.5 } }]);
    await insertScores(names, [{ run: a, name: 'relevance', value: 1, insertedAt: T + SEC }]);
    expect((await pass(names, T + MIN)).counters.scores_counted).toBe(1);
    await migrate(store.ch, names, { rebuildAggregates: true });
    expect(await scoresWatermark(store.ch, names)).toBe(0);
    // The rebuilt tables hold the run's own score; the pass adds the late one again, once.
    expect(await scoreSums(names, '5m')).toEqual([{ dim: 'wf', key: 'relevance', v: 0.5, sq: 0.25, n: 1 }]);
    expect((await pass(names, T + 2 * MIN)).counters.scores_counted).toBe(1);
    expect((await pass(names, T + 3 * MIN)).counters.scores_counted).toBe(0);
    expect(await scoreSums(names, '1d')).toEqual([{ dim: 'wf', key: 'relevance', v: 1.5, sq: 1.25, n: 2 }]);
  });

  it("runs on the daemon's rollup schedule, after the rollup's passes", async () => {
    const names = await database('scores_job');
    const a = run({ ts: iso(T - 30 * MIN) });
    await store.ch.insert('scores_job.agent_runs', [a]);
    await insertScores(names, [{ run: a, name: 'relevance', value: 1, insertedAt: T + SEC }, { run: { run_id: 'nope', timestamp: a.timestamp }, name: 'relevance', value: 0, insertedAt: T + 2 * SEC }]);
    const clock = new ManualClock(T + 11 * MIN);
    const job = new RollupJob({ ch: store.ch, names, clock, logger: silentLogger, settings: { ...ROLLUP_DEFAULTS, prices: [] }, aggregates: AGGREGATE_DEFAULTS });
    await job.runOnce();
    expect(job.scoreTotals).toEqual({ scores_counted: 1, scores_unmatched: 1, scores_pending: 0 });
    await job.runOnce();
    expect(job.scoreTotals).toEqual({ scores_counted: 1, scores_unmatched: 1, scores_pending: 0 });
    expect(await scoreSums(names, '5m')).toEqual([{ dim: 'wf', key: 'relevance', v: 1, sq: 1, n: 1 }]);
  });
});
