/**
 * The group runner on a ManualClock: runs at once, then on its grid (or at its cron matches, UTC);
 * never overlaps (a tick during a run is skipped and counted); bounds each run by its timeout;
 * survives failures; after a pause resumes at the next slot without a burst; stops cleanly. Times
 * are exact: every `at` is a grid slot or a cron match, every abort lands at run start + timeout.
 */
import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileCron, GroupRunner, onSchedule, peersOf, scheduleTimes, slotOffset, startRunAt, tickOffset, type RunnerDeps } from '../../src/engine/scheduler.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { RuleGroup } from '../../src/rules/types.js';
import { ManualClock, type Clock, type TimerHandle } from '../../src/util/clock.js';
import { Limiter } from '../../src/util/limiter.js';
import { captureLogs } from '../helpers/logs.js';

const START = Date.parse('2026-01-01T00:00:00Z'); // a Thursday
const iso = (ms: number): string => new Date(ms).toISOString();

const intervalGroup = (name: string, everyMs: number, timeoutMs = everyMs): RuleGroup => ({ name, schedule: { kind: 'interval', everyMs }, timeoutMs, rules: [], file: 'f' });
const cronGroup = (expression: string, timeoutMs = 60_000): RuleGroup => ({ name: 'c', schedule: { kind: 'cron', expression }, timeoutMs, rules: [], file: 'f' });

/** Resolves `ms` later on the clock, or when `signal` aborts: a run that takes that long. */
const takes = (clock: Clock, ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    clock.setTimer(ms, resolve);
    signal?.addEventListener('abort', () => resolve());
  });

/**
 * A ManualClock whose wall time can jump while its timers stay put, like a suspended machine: Node's
 * timers run on the monotonic clock, so on wake-up they fire late by the length of the sleep.
 */
class SuspendableClock implements Clock {
  private skew = 0;
  constructor(readonly manual: ManualClock) {}
  now = (): number => this.manual.now() + this.skew;
  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.manual.setTimer(ms, fn);
  }
  suspend(ms: number): void {
    this.skew += ms;
  }
}

const runners: GroupRunner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop(true)));
});

/** A started runner that records each run's `at`, and the clock time of each skipped tick. */
function startRunner(group: RuleGroup, clock: Clock, run: RunnerDeps['run'] = async () => undefined, logger: Logger = silentLogger) {
  const ats: number[] = [];
  const skips: number[] = [];
  let running = 0;
  let maxRunning = 0;
  const runner = new GroupRunner(group, {
    clock,
    logger,
    onSkip: () => void skips.push(clock.now()),
    run: (g, at, signal) => {
      ats.push(at);
      running++;
      maxRunning = Math.max(maxRunning, running);
      const done = () => void running--;
      try {
        const p = run(g, at, signal);
        p.then(done, done);
        return p;
      } catch (err) {
        done();
        throw err;
      }
    },
  });
  runners.push(runner);
  runner.start();
  return { runner, ats, skips, maxRunning: () => maxRunning };
}

describe('slotOffset', () => {
  it('is stable, inside the interval, and differs between groups', () => {
    // Pinned: a new hash would move every group's slots.
    expect(slotOffset('g', 60_000)).toBe(26_982);
    expect(slotOffset('a', 10_000)).toBe(2_220);
    expect(slotOffset('agent-drift', 300_000)).toBe(53_232);
    for (const n of ['a', 'b', 'agent-drift', 'costs']) {
      const o = slotOffset(n, 300_000);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(300_000);
    }
    expect(new Set(['a', 'b', 'c', 'd'].map((n) => slotOffset(n, 300_000))).size).toBe(4);
  });
});

describe('tickOffset: the grid lands on whole 5 minutes where the interval allows', () => {
  it.each([
    // slotOffset rounded down to a multiple of gcd(everyMs, 5 min).
    { name: 'g', everyMs: 60_000, slot: 26_982, tick: 0 },
    { name: 'a', everyMs: 10_000, slot: 2_220, tick: 0 },
    { name: 'agent-drift', everyMs: 300_000, slot: 53_232, tick: 0 },
    { name: 'a', everyMs: 600_000, slot: 402_220, tick: 300_000 },
    { name: 'g', everyMs: 3_600_000, slot: 1_646_982, tick: 1_500_000 },
    { name: 'g', everyMs: 420_000, slot: 266_982, tick: 240_000 }, // 7m: gcd 1m
    { name: 'g', everyMs: 90_000, slot: 26_982, tick: 0 }, // 90s: gcd 30s
    { name: 'g', everyMs: 2, slot: 0, tick: 0 },
  ])('$name every $everyMs ms: $tick', ({ name, everyMs, slot, tick }) => {
    expect(slotOffset(name, everyMs)).toBe(slot);
    expect(tickOffset(name, everyMs)).toBe(tick);
  });

  it.each([
    { everyMs: 300_000, onGrid: 1 },
    { everyMs: 600_000, onGrid: 1 },
    { everyMs: 3_600_000, onGrid: 1 },
    { everyMs: 86_400_000, onGrid: 1 },
    { everyMs: 60_000, onGrid: 1 / 5 },
    { everyMs: 420_000, onGrid: 1 / 5 },
    { everyMs: 150_000, onGrid: 1 / 2 },
  ])('every $everyMs ms: a share $onGrid of the ticks of any group ends on whole 5 minutes', ({ everyMs, onGrid }) => {
    for (const name of ['a', 'b', 'agentdrift-default', 'agentdrift-fast', 'costs', 'g17']) {
      const group = intervalGroup(name, everyMs);
      // From an arbitrary start, over 60 ticks (the first, the start run itself, left out).
      const from = START + 12_345;
      const ticks = [...scheduleTimes(group, from, from + 60 * everyMs)].slice(1);
      expect(ticks).toHaveLength(60);
      expect(ticks.filter((t) => t % 300_000 === 0).length / ticks.length).toBeCloseTo(onGrid, 10);
      // Counted from the epoch: a restart anywhere keeps the same grid.
      expect(new Set(ticks.map((t) => ((t % everyMs) + everyMs) % everyMs))).toEqual(new Set([tickOffset(name, everyMs)]));
    }
  });

  it('hourly groups still spread over the hour, on whole 5 minutes', () => {
    const names = ['agentdrift-default', 'agentdrift-fast', 'costs', 'policy', 'schema', 'tools', 'billing', 'support', 'search', 'checkout', 'onboarding', 'refunds'];
    const offsets = new Set(names.map((n) => tickOffset(n, 3_600_000)));
    expect(offsets.size).toBeGreaterThanOrEqual(6);
    for (const o of offsets) expect(o % 300_000).toBe(0);
  });
});

describe('the start run: on whole 5 minutes where the interval allows', () => {
  const OFF = START + 3 * 60_000 + 10_000; // 00:03:10
  it.each([
    { every: '5m', group: intervalGroup('agentdrift-default', 300_000), at: START },
    { every: '1h', group: intervalGroup('g', 3_600_000), at: START },
    { every: '10m', group: intervalGroup('g', 600_000), at: START },
    // Ticks off the 5-minute grid (a 1 m or 7 m interval) or at cron matches: the start itself.
    { every: '1m', group: intervalGroup('g', 60_000), at: OFF },
    { every: '7m', group: intervalGroup('g', 420_000), at: OFF },
    { every: 'cron */5 * * * *', group: cronGroup('*/5 * * * *'), at: OFF },
  ])('every $every, started at 00:03:10: evaluates first at $at', async ({ group, at }) => {
    expect(startRunAt(group, OFF)).toBe(at);
    expect([...scheduleTimes(group, OFF, OFF)]).toEqual([at]);
    const clock = new ManualClock(OFF);
    const r = startRunner(group, clock);
    expect(r.ats).toEqual([at]);
  });

  it('is never before a tick of the same group that came before the start (a restart)', () => {
    for (const everyMs of [300_000, 600_000, 3_600_000, 86_400_000]) {
      for (const name of ['agentdrift-default', 'agentdrift-fast', 'costs']) {
        const group = intervalGroup(name, everyMs);
        for (let now = START; now < START + 2 * everyMs; now += 37_000) {
          const lastTick = [...scheduleTimes(group, START - 3 * everyMs, now)].at(-1)!;
          expect(startRunAt(group, now)).toBeGreaterThanOrEqual(lastTick);
          expect(startRunAt(group, now)).toBeLessThanOrEqual(now);
          expect(now - startRunAt(group, now)).toBeLessThan(300_000);
        }
      }
    }
  });
});

describe('peers: groups that tick at the same times (their reads are shared)', () => {
  it('5-minute groups together, hourly groups by their slot, cron groups by their expression', () => {
    const groups = [intervalGroup('agentdrift-default', 300_000), intervalGroup('agentdrift-fast', 300_000), intervalGroup('costs', 3_600_000), intervalGroup('schema', 3_600_000), cronGroup('*/5 * * * *'), intervalGroup('minutely', 60_000)];
    const peers = peersOf({ groups });
    const names = (n: string) => peers.get(n)!.map((g) => g.name);
    expect(names('agentdrift-default')).toEqual(['agentdrift-default', 'agentdrift-fast']);
    expect(names('agentdrift-fast')).toEqual(['agentdrift-default', 'agentdrift-fast']);
    // Hourly groups share only when their names put them in the same 5 minutes of the hour.
    const same = tickOffset('costs', 3_600_000) === tickOffset('schema', 3_600_000);
    expect(names('costs')).toEqual(same ? ['costs', 'schema'] : ['costs']);
    expect(names(groups[4]!.name)).toEqual([groups[4]!.name]);
    expect(names('minutely')).toEqual(['minutely']);
  });

  it.each([
    { group: intervalGroup('agentdrift-fast', 300_000), at: START + 600_000, on: true },
    { group: intervalGroup('agentdrift-fast', 300_000), at: START + 610_000, on: false },
    { group: intervalGroup('costs', 3_600_000), at: START + tickOffset('costs', 3_600_000), on: true },
    { group: intervalGroup('costs', 3_600_000), at: START + tickOffset('costs', 3_600_000) + 300_000, on: false },
    { group: cronGroup('*/5 * * * *'), at: START + 300_000, on: true },
    { group: cronGroup('*/5 * * * *'), at: START + 301_000, on: false },
  ])('onSchedule($group.name, +$at ms) is $on', ({ group, at, on }) => {
    expect(onSchedule(group, at)).toBe(on);
  });
});

describe('GroupRunner, interval schedule', () => {
  it.each([
    // offset = tickOffset(name, everyMs); START is a multiple of every interval here, so the grid is
    // START + offset + j*everyMs (a slot at START itself is the start run).
    { name: 'g', everyMs: 60_000, offset: 0, runMs: 0, ats: [0, 60_000, 120_000, 180_000] },
    { name: 'a', everyMs: 10_000, offset: 0, runMs: 0, ats: [0, 10_000, 20_000, 30_000] },
    { name: 'g', everyMs: 2, offset: 0, runMs: 0, ats: [0, 2, 4, 6] },
    { name: 'g', everyMs: 3_600_000, offset: 1_500_000, runMs: 0, ats: [0, 1_500_000, 5_100_000, 8_700_000] },
    { name: 'g', everyMs: 420_000, offset: 240_000, runMs: 0, ats: [0, 240_000, 660_000, 1_080_000] },
    // Runs taking most of the interval do not push the grid (no drift from run durations).
    { name: 'g', everyMs: 3_600_000, offset: 1_500_000, runMs: 1_400_000, ats: [0, 1_500_000, 5_100_000, 8_700_000] },
  ])('$name every $everyMs ms, runs of $runMs ms: runs at once, then at START+$ats', async ({ name, everyMs, offset, runMs, ats }) => {
    expect(tickOffset(name, everyMs)).toBe(offset);
    const clock = new ManualClock(START);
    const logs = captureLogs();
    const r = startRunner(intervalGroup(name, everyMs), clock, (_g, _at, signal) => takes(clock, runMs, signal), logs.logger);
    expect(r.ats).toEqual([START]);
    await clock.advance(ats[1]! - 1);
    expect(r.ats).toEqual([START]);
    await clock.advance(1);
    expect(r.ats).toEqual([START, START + ats[1]!]);
    await clock.advance(ats.at(-1)! - ats[1]!);
    expect(r.ats).toEqual(ats.map((t) => START + t));
    await clock.advance(everyMs - 1);
    expect(r.ats).toEqual(ats.map((t) => START + t));
    expect(r.skips).toEqual([]);
    expect(r.maxRunning()).toBe(1);
    expect(logs.lines()).toEqual([]);
  });

  it('keeps exactly one timer pending between runs: the next slot (each run cancels its timeout)', async () => {
    const clock = new ManualClock(START);
    const r = startRunner(intervalGroup('a', 10_000), clock);
    await clock.advance(30_000);
    expect(r.ats).toEqual([START, START + 10_000, START + 20_000, START + 30_000]);
    expect(clock.pendingTimers).toBe(1);
  });

  it.each([
    // A run as long as runMs blocks the ticks that fall inside it: each is skipped and counted, and
    // the next run starts at the first slot after it ends.
    { runMs: 12_000, until: 40_000, ats: [0, 20_000, 40_000], skips: [10_000, 30_000] },
    { runMs: 25_000, until: 60_000, ats: [0, 30_000, 60_000], skips: [10_000, 20_000, 40_000, 50_000] },
  ])('a run of $runMs ms on a 10 s grid: runs at START+$ats, skips counted at START+$skips', async ({ runMs, until, ats, skips }) => {
    const clock = new ManualClock(START);
    const r = startRunner(intervalGroup('a', 10_000, 60_000), clock, (_g, _at, signal) => takes(clock, runMs, signal));
    await clock.advance(until);
    expect(r.ats).toEqual(ats.map((t) => START + t));
    expect(r.skips).toEqual(skips.map((t) => START + t));
    expect(r.maxRunning()).toBe(1);
  });

  it.each([1, 7_000, 20_000])('aborts a run at exactly start + timeout (%i ms), for every run', async (timeoutMs) => {
    const clock = new ManualClock(START);
    const aborts: { at: number; since: number; reason: string }[] = [];
    const r = startRunner(intervalGroup('g', 60_000, timeoutMs), clock, (_g, at, signal) => {
      return new Promise<void>((resolve) =>
        signal.addEventListener('abort', () => {
          aborts.push({ at: clock.now(), since: at, reason: (signal.reason as Error).message });
          resolve();
        }),
      );
    });
    const reason = `evaluation timed out after ${timeoutMs} ms`;
    await clock.advance(timeoutMs - 1);
    expect(aborts).toEqual([]);
    await clock.advance(1);
    expect(aborts).toEqual([{ at: START + timeoutMs, since: START, reason }]);
    await clock.advance(60_000 + timeoutMs - clock.now() + START);
    expect(r.ats).toEqual([START, START + 60_000]);
    expect(aborts).toEqual([
      { at: START + timeoutMs, since: START, reason },
      { at: START + 60_000 + timeoutMs, since: START + 60_000, reason },
    ]);
  });

  it('does not abort a run that ends in time', async () => {
    const clock = new ManualClock(START);
    const signals: AbortSignal[] = [];
    startRunner(intervalGroup('g', 60_000, 7_000), clock, async (_g, _at, signal) => {
      signals.push(signal);
      await takes(clock, 6_999);
    });
    await clock.advance(60_000 + 6_999);
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
  });

  it.each<[string, RunnerDeps['run']]>([
    ['rejects', async () => Promise.reject(new Error('query failed'))],
    [
      'throws synchronously',
      () => {
        throw new Error('query failed');
      },
    ],
  ])('a run that %s never stops the loop, and is logged', async (_kind, run) => {
    const clock = new ManualClock(START);
    const logs = captureLogs();
    const r = startRunner(intervalGroup('a', 10_000), clock, run, logs.logger);
    await clock.advance(30_000);
    expect(r.ats).toEqual([START, START + 10_000, START + 20_000, START + 30_000]);
    expect(logs.lines().filter((l) => l.msg === 'group a: evaluation failed')).toHaveLength(4);
    expect(clock.pendingTimers).toBe(1);
  });

  it('after a pause through several slots, runs once and resumes on the grid (no burst, no skips)', async () => {
    const manual = new ManualClock(START);
    const clock = new SuspendableClock(manual);
    const logs = captureLogs();
    const r = startRunner(intervalGroup('a', 10_000), clock, undefined, logs.logger);
    await manual.advance(12_000); // the run at +10_000 happened
    clock.suspend(35_000); // now +47_000; the timer for +20_000 fires at +55_000
    await manual.advance(8_000);
    // It evaluates at the last slot it reached, so its windows end on the grid.
    expect(r.ats).toEqual([START, START + 10_000, START + 50_000]);
    await manual.advance(15_000);
    expect(r.ats).toEqual([START, START + 10_000, START + 50_000, START + 60_000, START + 70_000]);
    expect(r.skips).toEqual([]);
    // Slots +20_000 (served late, as +50_000), +30_000, +40_000: three missed.
    expect(logs.lines().filter((l) => l.level === 'warn').map((l) => [l.msg, l.missed])).toEqual([['group a: 3 scheduled evaluation(s) missed, resuming at the next slot', 3]]);
  });

  it.each([
    { kind: 'interval', group: intervalGroup('agentdrift-default', 300_000) },
    { kind: 'cron', group: cronGroup('*/5 * * * *') },
  ])('a $kind tick whose timer fires late evaluates at its slot, not at the time it fired', async ({ group }) => {
    const manual = new ManualClock(START);
    const clock = new SuspendableClock(manual);
    const r = startRunner(group, clock);
    clock.suspend(37); // the event loop was busy: every timer now fires 37 ms late
    await manual.advance(600_000);
    expect(r.ats).toEqual([START, START + 300_000, START + 600_000]);
  });

  it('stop() halts the ticks, waits for the running evaluation, and is idempotent', async () => {
    const clock = new ManualClock(START);
    let finished = false;
    const r = startRunner(intervalGroup('a', 10_000), clock, async () => {
      await takes(clock, 4_000);
      finished = true;
    });
    let stopped = false;
    const stopping = r.runner.stop().then(() => void (stopped = true));
    await clock.advance(3_999);
    expect([stopped, finished]).toEqual([false, false]);
    await clock.advance(1);
    await stopping;
    expect([stopped, finished]).toEqual([true, true]);
    await clock.advance(100_000);
    expect(r.ats).toEqual([START]);
    expect(clock.pendingTimers).toBe(0);
    await r.runner.stop();
    await r.runner.stop(true);
    expect(await r.runner.tick()).toBeUndefined();
    expect(r.ats).toEqual([START]);
  });

  it('stop(true) aborts the running evaluation at once', async () => {
    const clock = new ManualClock(START);
    const reasons: string[] = [];
    const r = startRunner(intervalGroup('a', 10_000, 60_000), clock, (_g, _at, signal) => {
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(void reasons.push(`${(signal.reason as Error).message} at +${clock.now() - START}`))));
    });
    await clock.advance(1_000);
    await r.runner.stop(true);
    expect(reasons).toEqual(['shutting down at +1000']);
    await clock.advance(100_000);
    expect(r.ats).toEqual([START]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('GroupRunner, cron schedule (UTC, on the clock)', () => {
  it.each([
    { expression: '*/5 * * * *', start: '2026-01-01T00:02:30.000Z', fires: ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z', '2026-01-01T00:15:00.000Z'] },
    // Started on a match: that run is the start run, not a second one.
    { expression: '*/5 * * * *', start: '2026-01-01T00:00:00.000Z', fires: ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z'] },
    { expression: '*/20 * * * * *', start: '2026-01-01T00:00:07.250Z', fires: ['2026-01-01T00:00:20.000Z', '2026-01-01T00:00:40.000Z', '2026-01-01T00:01:00.000Z'] },
    { expression: '@hourly', start: '2026-01-01T00:30:00.000Z', fires: ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z'] },
    { expression: '0 9 * * MON-FRI', start: '2026-01-01T00:00:00.000Z', fires: ['2026-01-01T09:00:00.000Z', '2026-01-02T09:00:00.000Z', '2026-01-05T09:00:00.000Z'] },
    { expression: '0 0 L * *', start: '2026-01-01T00:00:00.000Z', fires: ['2026-01-31T00:00:00.000Z', '2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z'] },
    { expression: '30 12 * * 5L', start: '2026-01-01T00:00:00.000Z', fires: ['2026-01-30T12:30:00.000Z', '2026-02-27T12:30:00.000Z', '2026-03-27T12:30:00.000Z'] },
  ])('$expression from $start: runs at once, then at $fires', async ({ expression, start, fires }) => {
    const clock = new ManualClock(Date.parse(start));
    const r = startRunner(cronGroup(expression), clock);
    expect(r.ats.map(iso)).toEqual([start]);
    await clock.advance(Date.parse(fires.at(-1)!) - clock.now());
    expect(r.ats.map(iso)).toEqual([start, ...fires]);
    expect(clock.pendingTimers).toBe(1);
  });

  it('skips and counts a match that arrives during a run', async () => {
    const clock = new ManualClock(START);
    const r = startRunner(cronGroup('* * * * * *'), clock, (_g, _at, signal) => takes(clock, 2_500, signal));
    await clock.advance(6_000);
    expect(r.ats).toEqual([0, 3_000, 6_000].map((t) => START + t));
    expect(r.skips).toEqual([1_000, 2_000, 4_000, 5_000].map((t) => START + t));
    expect(r.maxRunning()).toBe(1);
  });

  it('aborts each run at exactly its start + timeout', async () => {
    const clock = new ManualClock(START);
    const aborted: number[] = [];
    startRunner(cronGroup('*/5 * * * *', 30_000), clock, (_g, _at, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(void aborted.push(clock.now() - START)))));
    await clock.advance(329_999);
    expect(aborted).toEqual([30_000]);
    await clock.advance(1);
    expect(aborted).toEqual([30_000, 330_000]);
  });

  it('after a pause through several matches, runs once and resumes at the next match', async () => {
    const manual = new ManualClock(START);
    const clock = new SuspendableClock(manual);
    const r = startRunner(cronGroup('*/5 * * * *'), clock);
    await manual.advance(60_000);
    clock.suspend(17 * 60_000); // now 00:18; the 00:05 timer fires at 00:22
    await manual.advance(4 * 60_000);
    expect(r.ats.map(iso)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:22:00.000Z']);
    await manual.advance(8 * 60_000);
    expect(r.ats.map(iso)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:22:00.000Z', '2026-01-01T00:25:00.000Z', '2026-01-01T00:30:00.000Z']);
    expect(r.skips).toEqual([]);
  });

  it.each([
    { expression: '0 0 1 * 1#5', error: 'group c: cron "0 0 1 * 1#5" has no further match, group will not be scheduled' },
    { expression: '61 * * * *', error: 'group c: cron "61 * * * *" not usable, group will not be scheduled' },
  ])('$expression: runs once at start, says why it schedules nothing more', async ({ expression, error }) => {
    const clock = new ManualClock(START);
    const logs = captureLogs();
    const r = startRunner(cronGroup(expression), clock, undefined, logs.logger);
    await clock.advance(0);
    expect(r.ats).toEqual([START]);
    expect(clock.pendingTimers).toBe(0);
    expect(logs.lines().filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([error]);
  });

  it.each([false, true])('stop(%s) halts the matches', async (abort) => {
    const clock = new ManualClock(START);
    const signals: AbortSignal[] = [];
    const r = startRunner(cronGroup('*/5 * * * *'), clock, async (_g, _at, signal) => {
      signals.push(signal);
      await takes(clock, 1_000);
    });
    await clock.advance(300_000);
    expect(r.ats).toEqual([START, START + 300_000]);
    const stopping = r.runner.stop(abort);
    await clock.advance(1_000);
    await stopping;
    expect(signals.map((s) => s.aborted)).toEqual([false, abort]);
    await clock.advance(3_600_000);
    expect(r.ats).toEqual([START, START + 300_000]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('compileCron', () => {
  const expressions = [
    '*/5 * * * *',
    '*/20 * * * * *',
    '15,45 */6 1-7 JAN,jul *',
    '0 22-2 * * *',
    '0 9 * * MON-FRI',
    '5 4 * * sun',
    '0 0 * * 7',
    '@weekly',
    '@monthly',
    '@yearly',
    '0 0 L * *',
    '0 0 L-3 * *',
    '0 0 LW * *',
    '0 0 1W * *',
    '0 0 15W * *',
    '30 12 * * 5L',
    '0 0 * * 1#2',
    '0 0 13 * 5',
    '0 0 29 2 *',
  ];
  const froms = ['2026-01-01T00:00:00.000Z', '2026-02-27T23:59:59.500Z', '2027-12-31T23:00:00.000Z'];

  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(expressions.flatMap((e) => froms.map((from) => [e, from] as const)))('%s from %s: the same next 6 matches as node-cron', (expression, from) => {
    const next = compileCron(expression);
    const ours: string[] = [];
    for (let t: number | null = Date.parse(from), i = 0; i < 6; i++) {
      t = next(t!);
      expect(t).not.toBeNull();
      ours.push(iso(t!));
    }
    // node-cron's own walker, pinned to `from` by faking Date (it reads the real time).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse(from));
    const task = cron.createTask(expression, () => undefined, { timezone: 'UTC' });
    const theirs = task.getNextRuns(6).map((d) => d.toISOString());
    void task.destroy();
    expect(ours).toEqual(theirs);
  });

  it.each([
    ['*/5 * * * *', '2026-01-01T00:04:59.999Z', '2026-01-01T00:05:00.000Z'],
    ['*/5 * * * *', '2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z'],
    ['* * * * * *', '2026-01-01T00:00:00.001Z', '2026-01-01T00:00:01.000Z'],
    ['0 0 29 2 *', '2026-01-01T00:00:00.000Z', '2028-02-29T00:00:00.000Z'],
    ['59 23 31 12 *', '2026-12-31T23:59:00.000Z', '2027-12-31T23:59:00.000Z'],
  ])('%s after %s is %s (strictly later)', (expression, from, expected) => {
    expect(iso(compileCron(expression)(Date.parse(from))!)).toBe(expected);
  });

  it('returns null for an expression that never matches, and throws for an invalid one', () => {
    expect(compileCron('0 0 1 * 1#5')(START)).toBeNull();
    expect(() => compileCron('61 * * * *')).toThrow();
  });
});

describe('evaluation slots shared by the groups (evaluation.max_concurrent_groups)', () => {
  /** `n` hourly groups on `slots`, each run taking `runMs` of clock time, with a timeout of `timeoutMs`. */
  function startMany(clock: ManualClock, slots: Limiter, n: number, runMs: number, timeoutMs: number, logger: Logger = silentLogger) {
    const seen = { running: 0, maxRunning: 0, done: [] as string[], aborted: [] as string[], ats: [] as number[], started: [] as number[] };
    const list: GroupRunner[] = [];
    for (let i = 0; i < n; i++) {
      const runner = new GroupRunner(intervalGroup(`g${i}`, 3_600_000, timeoutMs), {
        clock,
        logger,
        onSkip: () => undefined,
        slots,
        run: async (g, at, signal) => {
          seen.running++;
          seen.maxRunning = Math.max(seen.maxRunning, seen.running);
          seen.ats.push(at);
          seen.started.push(clock.now());
          await takes(clock, runMs, signal);
          seen.running--;
          (signal.aborted ? seen.aborted : seen.done).push(g.name);
        },
      });
      runners.push(runner);
      list.push(runner);
      runner.start();
    }
    return { seen, list };
  }

  it('ten groups starting together on two slots: two at a time, each in full, though the last waits four times its timeout', async () => {
    const clock = new ManualClock(START);
    const slots = new Limiter(2);
    const { seen } = startMany(clock, slots, 10, 10_000, 15_000);
    await clock.advance(60_000);
    expect(seen.maxRunning).toBe(2);
    expect(seen.done).toHaveLength(10);
    // Time in the queue is not the evaluation's: a timeout counted from the tick would abort six of them.
    expect(seen.aborted).toEqual([]);
    expect(seen.started).toEqual([0, 0, 10, 10, 20, 20, 30, 30, 40, 40].map((s) => START + s * 1000));
    // Each evaluates at its tick's time, not when its turn came.
    expect(seen.ats).toEqual(Array(10).fill(START));
    expect(slots.running).toBe(0);
  });

  it('a runner stopped while it waits for a slot gives the place up: it never runs and nothing is logged as failed', async () => {
    const clock = new ManualClock(START);
    const slots = new Limiter(1);
    const logs = captureLogs();
    const { seen, list } = startMany(clock, slots, 3, 10_000, 60_000, logs.logger);
    await clock.advance(1_000);
    expect(slots.queued).toBe(2);
    await list[1]!.stop(true);
    expect(slots.queued).toBe(1);
    await clock.advance(30_000);
    expect(seen.done).toEqual(['g0', 'g2']);
    expect(logs.lines().filter((l) => l.level === 'error' || l.level === 50)).toEqual([]);
  });

  it('a limiter hands slots out in arrival order and rejects a non-positive size', async () => {
    const l = new Limiter(1);
    const order: number[] = [];
    const first = await l.acquire();
    const waits = [1, 2, 3].map((i) => l.acquire().then((release) => { order.push(i); release(); }));
    expect(l.queued).toBe(3);
    first();
    first(); // idempotent: a second release frees nothing more
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
    expect(l.running).toBe(0);
    expect(() => new Limiter(0)).toThrow(/positive integer/);
  });
});
