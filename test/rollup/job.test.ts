/**
 * The rollup's schedule alone, on a manual clock and a stand-in store: ticks on the interval's grid,
 * a tick that comes while a catch-up runs is skipped and counted, a problem that lasts is logged once,
 * stop() waits for the running catch-up and leaves no timer behind. (What a pass writes is
 * test/rollup/rollup.test.ts, on a real store.)
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ClickHouseAccessError, type ClickHouse } from '../../src/clickhouse/client.js';
import { parseTarget } from '../../src/clickhouse/target.js';
import { createLogger } from '../../src/log.js';
import { RollupJob } from '../../src/rollup/job.js';
import { ROLLUP_DEFAULTS } from '../../src/rollup/types.js';
import { DEFAULT_NAMES } from '../../src/store/schema.js';
import { ManualClock } from '../../src/util/clock.js';

const START = Date.parse('2026-11-20T10:00:20Z');

/** A store whose every query waits for `gate` and then fails with `error`. */
function failingStore(error: Error, gate: Promise<void> = Promise.resolve()) {
  let queries = 0;
  const ch = {
    target: parseTarget('chdb:/nonexistent'),
    query: async () => {
      queries++;
      await gate;
      throw error;
    },
  } as unknown as ClickHouse;
  return { ch, queries: () => queries };
}

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const settings = { ...ROLLUP_DEFAULTS, prices: [] };

describe('RollupJob', () => {
  it('runs at start, then on the interval grid; a problem that lasts is logged once', async () => {
    const clock = new ManualClock(START);
    const { ch, queries } = failingStore(new ClickHouseAccessError('query', 'ClickHouse at x rejected a write (read-only user): READONLY'));
    const { logger, lines } = capturedLogger();
    // Without aggregates the scores pass after each catch-up asks nothing, and says why once.
    const job = new RollupJob({ ch, names: { database: 'default', ...DEFAULT_NAMES }, clock, logger, settings, aggregates: { enabled: false, dimensions: [] } });
    job.start();
    await clock.tick();
    await job.idle();
    expect(queries()).toBe(1);
    // Next ticks at 10:01:00 and 10:02:00 (the grid), not 60 s after the start.
    await clock.advance(40_000);
    await job.idle();
    expect(queries()).toBe(2);
    await clock.advance(60_000);
    await job.idle();
    expect(queries()).toBe(3);
    const errors = lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ job: 'rollup', err: 'ClickHouse at x rejected a write (read-only user): READONLY' });
    const scores = lines.filter((l) => l.job === 'scores');
    expect(scores).toHaveLength(1);
    expect(scores[0]).toMatchObject({ level: 'info', msg: expect.stringContaining('aggregates.enabled is false') });
    await job.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('skips and counts a tick that comes while the catch-up still runs; stop waits for it', async () => {
    const clock = new ManualClock(START);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { ch, queries } = failingStore(new Error('slow store'), gate);
    const { logger, lines } = capturedLogger();
    const job = new RollupJob({ ch, names: { database: 'default', ...DEFAULT_NAMES }, clock, logger, settings });
    job.start();
    await clock.tick();
    await clock.advance(60_000);
    expect(job.skippedTicks).toBe(1);
    expect(queries()).toBe(1);
    expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('tick skipped'))).toBe(true);
    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await clock.tick();
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(clock.pendingTimers).toBe(0);
  });
});
