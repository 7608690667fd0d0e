/** The group runner: runs at once, then on its grid; never overlaps; bounds each run; survives failures. */
import { afterEach, describe, expect, it } from 'vitest';
import { GroupRunner, slotOffset } from '../src/engine/scheduler.js';
import { silentLogger } from '../src/log.js';
import type { RuleGroup } from '../src/rules/types.js';

const group = (everyMs: number, timeoutMs: number, name = 'g'): RuleGroup => ({ name, schedule: { kind: 'interval', everyMs }, timeoutMs, rules: [], file: 'f' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let runner: GroupRunner | null = null;
afterEach(async () => {
  await runner?.stop(true);
  runner = null;
});

describe('GroupRunner', () => {
  it('slot offsets are stable, inside the interval, and differ between groups', () => {
    expect(slotOffset('agent-drift', 300_000)).toBe(slotOffset('agent-drift', 300_000));
    for (const n of ['a', 'b', 'agent-drift', 'costs']) {
      const o = slotOffset(n, 300_000);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(300_000);
    }
    expect(new Set(['a', 'b', 'c', 'd'].map((n) => slotOffset(n, 300_000))).size).toBe(4);
  });

  it('runs at once, then keeps ticking', async () => {
    const starts: number[] = [];
    runner = new GroupRunner(group(40, 40), { now: Date.now, logger: silentLogger, onSkip: () => undefined, run: async (_g, at) => void starts.push(at) });
    runner.start();
    expect(starts).toHaveLength(1);
    await sleep(300);
    expect(starts.length).toBeGreaterThanOrEqual(3);
  });

  it('skips and counts a tick while the previous run is still going, and never overlaps', async () => {
    let running = 0;
    let maxRunning = 0;
    let skips = 0;
    runner = new GroupRunner(group(30, 1000), {
      now: Date.now,
      logger: silentLogger,
      onSkip: () => void skips++,
      run: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(200);
        running--;
      },
    });
    runner.start();
    await sleep(350);
    expect(maxRunning).toBe(1);
    expect(skips).toBeGreaterThanOrEqual(2);
  });

  it('aborts a run that exceeds the timeout, and the loop goes on after failures', async () => {
    const reasons: string[] = [];
    let calls = 0;
    runner = new GroupRunner(group(60, 50), {
      now: Date.now,
      logger: silentLogger,
      onSkip: () => undefined,
      run: async (_g, _at, signal) => {
        calls++;
        if (calls === 1) {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          reasons.push(String((signal.reason as Error).message));
          return;
        }
        throw new Error('query failed');
      },
    });
    runner.start();
    await sleep(400);
    expect(reasons).toEqual(['evaluation timed out after 50 ms']);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('stop() waits for the running evaluation, and is idempotent', async () => {
    let finished = false;
    runner = new GroupRunner(group(1000, 1000), { now: Date.now, logger: silentLogger, onSkip: () => undefined, run: async () => { await sleep(100); finished = true; } });
    runner.start();
    await runner.stop();
    expect(finished).toBe(true);
    await runner.stop();
  });
});
