/**
 * The durable state's pieces apart from the daemon: the lock file, the refusal to save what was never
 * read, save health for /readyz, the readiness check itself, and the engine resolving the firing
 * series of a removed rule (and dropping its pending ones). The daemon-level faults are in
 * test/faults/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { newAlertStates, applyEvaluation } from '../../src/alerting/state.js';
import { serializeAlerts } from '../../src/persist/stateFile.js';
import { acquireStateLock, StateLockError } from '../../src/persist/stateLock.js';
import { fileStamp, moveAside } from '../../src/persist/moveAside.js';
import { DurableState } from '../../src/persist/durableState.js';
import { Engine, REMOVED_RULE_REASON } from '../../src/engine/engine.js';
import type { TransitionEvent } from '../../src/engine/types.js';
import { readinessFrom } from '../../src/http/readiness.js';
import { silentLogger } from '../../src/log.js';
import { parseRules } from '../../src/rules/load.js';
import { ManualClock } from '../../src/util/clock.js';

const dir = () => mkdtempSync(join(tmpdir(), 'agentdrift-durable-'));
const T0 = Date.parse('2026-12-03T17:15:00Z');

/** A pid that is certainly not running: a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('state lock', () => {
  it('is exclusive while held, names its holder, and is released only by its owner', async () => {
    const state = join(dir(), 'deep', 'state.json');
    const lock = await acquireStateLock(state, { logger: silentLogger, now: T0 });
    expect(JSON.parse(readFileSync(`${state}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), startedAt: '2026-12-03T17:15:00.000Z' });
    // Our own pid counts as alive here: a second daemon in this process is still a second daemon.
    await expect(acquireStateLock(state, { logger: silentLogger, now: T0, isAlive: () => true })).rejects.toThrow(StateLockError);
    await lock.release();
    expect(existsSync(`${state}.lock`)).toBe(false);
    const again = await acquireStateLock(state, { logger: silentLogger, now: T0 });
    await lock.release(); // the old handle does not remove the new lock
    expect(existsSync(`${state}.lock`)).toBe(true);
    await again.release();
  });

  it('takes over a lock whose pid is dead on this host; refuses one from another host', async () => {
    const d = dir();
    const state = join(d, 'state.json');
    writeFileSync(`${state}.lock`, JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'x', token: 't' }));
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_o: unknown, m: string) => warnings.push(m) } as unknown as typeof silentLogger;
    const lock = await acquireStateLock(state, { logger, now: T0 });
    expect(warnings[0]).toMatch(/taking over the stale lock/);
    await lock.release();

    writeFileSync(`${state}.lock`, JSON.stringify({ pid: deadPid(), host: 'elsewhere', startedAt: 'x', token: 't' }));
    await expect(acquireStateLock(state, { logger: silentLogger, now: T0 })).rejects.toThrow(/locked by another agentdrift \(pid \d+ on elsewhere/);
  });
});

describe('moveAside', () => {
  it('never replaces an earlier copy moved aside in the same second', async () => {
    const d = dir();
    const f = join(d, 's.json');
    writeFileSync(f, 'one');
    const first = await moveAside(f, 'corrupt', T0);
    writeFileSync(f, 'two');
    const second = await moveAside(f, 'corrupt', T0);
    expect(first).toBe(`${f}.corrupt-${fileStamp(T0)}`);
    expect(fileStamp(T0)).toBe('20261203T171500Z');
    expect(second).toBe(`${first}-2`);
    expect([readFileSync(first, 'utf8'), readFileSync(second, 'utf8')]).toEqual(['one', 'two']);
  });
});

const EMPTY = { alerts: [], notifications: [] };

describe('DurableState', () => {
  const open = (path: string, persisted: boolean[] = []) =>
    new DurableState({ path, logger: silentLogger, now: () => T0, fresh: false, onPersist: (ok) => persisted.push(ok) });

  it('refuses to save before the state file was read: a failed start cannot replace it', async () => {
    const path = join(dir(), 'state.json');
    writeFileSync(path, 'precious');
    await expect(open(path).save(EMPTY)).rejects.toThrow(/not saving alert state .* it was not read successfully at start/);
    expect(readFileSync(path, 'utf8')).toBe('precious');
  });

  it('reports a failed save to /readyz and the metrics until a save succeeds again', async () => {
    const d = dir();
    const path = join(d, 'state.json');
    const persisted: boolean[] = [];
    const s = open(path, persisted);
    await s.open();
    await s.save(EMPTY);
    expect(s.health()).toEqual({ ok: true, detail: 'last saved 2026-12-03T17:15:00.000Z' });
    mkdirSync(`${path}.tmp-${process.pid}`); // the temp file cannot be created
    await expect(s.save(EMPTY)).rejects.toThrow(/could not save alert state/);
    expect(s.health()).toMatchObject({ ok: false, detail: expect.stringMatching(/^saving state failed 2026-12-03T17:15:00\.000Z: could not save alert state to .*EISDIR/) });
    spawnSync('rmdir', [`${path}.tmp-${process.pid}`]);
    await s.save(EMPTY);
    expect(s.health().ok).toBe(true);
    expect(persisted).toEqual([true, false, true]);
  });
});

describe('readiness with the state check', () => {
  const base = { rulesLoaded: true, clickhouseOk: true, clickhouseDetail: 'reachable', lastEvaluationAt: 0, now: 1_000, maxStalenessMs: 60_000 };
  it('fails while the state is not being saved, naming why', () => {
    const r = readinessFrom({ ...base, persistence: { ok: false, detail: 'saving state failed ...: EACCES' } });
    expect(r.ready).toBe(false);
    expect(r.checks.state).toEqual({ ok: false, detail: 'saving state failed ...: EACCES' });
    expect(readinessFrom({ ...base, persistence: { ok: true, detail: 'last saved' } }).ready).toBe(true);
  });
});

describe('Engine.adoptRuleSet with a rule removed', () => {
  const rules = (alerts: string[]) =>
    parseRules([
      {
        file: 'r.yaml',
        text: `groups:\n  - name: g\n    interval: 5m\n    rules:\n${alerts.map((a) => `      - alert: ${a}\n        signal: cost_per_success\n        threshold: 20%\n        labels: { severity: critical }\n`).join('')}`,
      },
    ]).ruleSet!;

  it('resolves its firing series once, with the reason and its labels, and drops its pending ones', () => {
    const events: TransitionEvent[] = [];
    const engine = new Engine({
      sums: { reader: () => ({ sumsFor: () => Promise.reject(new Error('no query expected')) }) },
      clock: new ManualClock(T0),
      logger: silentLogger,
    });
    const states = newAlertStates();
    applyEvaluation(states, 'Gone', [{ labels: { workflow_id: 'a' }, outcome: { kind: 'ok', active: true } }], 0, 0); // firing
    applyEvaluation(states, 'Gone', [{ labels: { workflow_id: 'a' }, outcome: { kind: 'ok', active: true } }, { labels: { workflow_id: 'b' }, outcome: { kind: 'ok', active: true } }], 1, 10);
    // As at a start: the state file's series first, then the rule files, which no longer have Gone.
    engine.restore(serializeAlerts(states, (a) => (a === 'Gone' ? { alert: 'Gone', signal: 'cost_per_success', labels: { severity: 'critical' }, window: 'last 7d', baselineWindow: 'previous 7d', threshold: 0.2, direction: 'up' } : undefined)));
    expect([...engine.alertStates.values()].map((s) => `${s.labels.workflow_id} ${s.record.state}`).sort()).toEqual(['a firing', 'b pending']);

    const { retired } = engine.adoptRuleSet(rules(['Kept']), T0);
    events.push(...retired);
    expect(events).toHaveLength(1);
    expect(events[0]!.transition).toEqual({ from: 'firing', to: 'resolved', at: T0, reason: REMOVED_RULE_REASON });
    expect(events[0]!.series.labels).toEqual({ workflow_id: 'a' });
    expect(events[0]!.series.annotations?.resolved_reason).toBe(REMOVED_RULE_REASON);
    // The rule is known only from the facts the state file kept.
    expect(events[0]!.rule).toEqual({ alert: 'Gone', signal: 'cost_per_success', labels: { severity: 'critical' }, window: 'last 7d', baselineWindow: 'previous 7d', threshold: 0.2, direction: 'up' });
    expect(engine.alertStates.size).toBe(0);
    // Once gone, nothing more is sent for it.
    expect(engine.adoptRuleSet(rules(['Kept']), T0 + 1).retired).toEqual([]);
  });
});
