import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyEvaluation, newAlertStates, type AlertStates } from '../../src/alerting/state.js';
import {
  FileStateStore,
  MemoryStateStore,
  StateFileError,
  emptySnapshot,
  fromSnapshot,
  serializeAlerts,
  toSnapshot,
  type Snapshot,
  type StateStore,
} from '../../src/persist/stateFile.js';
import { seriesId, type Evidence, type Outcome, type Transition } from '../../src/alerting/types.js';

const T: Outcome = { kind: 'ok', active: true };
const F: Outcome = { kind: 'ok', active: false };
const MIN = 60_000;
const m = (n: number): number => n * MIN;
const FOR = m(30);
const ALERT = 'ToolCallsDrift';
const LABELS = { workflow_id: 'checkout' };
const KEY = seriesId(ALERT, LABELS);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentdrift-alerting-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One daemon lifetime: state loaded from the store, evaluations, state saved on the way out. */
async function runProcess(
  store: StateStore,
  steps: ReadonlyArray<[minutes: number, outcome: Outcome]>,
  log: Transition[],
  deliveries: unknown[] = [],
): Promise<AlertStates> {
  const snap = await store.load();
  const states = fromSnapshot(snap);
  for (const [t, outcome] of steps) {
    for (const c of applyEvaluation(states, ALERT, [{ labels: LABELS, outcome }], m(t), FOR)) log.push(c.transition);
  }
  const lastAt = steps.length > 0 ? m(steps[steps.length - 1]![0]) : snap.savedAt;
  await store.save(toSnapshot(states, [...snap.notifications, ...deliveries], lastAt));
  return states;
}

const brief = (log: Transition[]): string[] => log.map((t) => `${t.at / MIN}m ${t.from}->${t.to}`);

describe('restart through FileStateStore', () => {
  it('keeps the pending timer, does not fire twice, and still sends the resolution', async () => {
    const path = join(dir, 'nested', 'state', 'alerts.json');
    const log: Transition[] = [];

    // Process 1: the condition turns true at 0m; the process stops while pending.
    await runProcess(new FileStateStore(path), [[0, T], [10, T]], log);
    // Process 2: fresh objects, same file. Fires at the original activeAt + for, not 30m after the restart.
    const s2 = await runProcess(new FileStateStore(path), [[20, T], [30, T], [35, T]], log);
    expect(s2.get(KEY)?.record).toMatchObject({ state: 'firing', activeAt: 0, firedAt: m(30) });
    // Process 3: still true after the restart: no second firing; then false: the resolution is produced.
    await runProcess(new FileStateStore(path), [[40, T], [50, F]], log);
    // Process 4: the resolution is not produced again either.
    await runProcess(new FileStateStore(path), [[55, F]], log);

    expect(brief(log)).toEqual(['0m inactive->pending', '30m pending->firing', '50m firing->resolved']);
    expect(log.filter((t) => t.to === 'firing')).toHaveLength(1);
  });

  it('shows what the store prevents: without it a restart re-pends and fires a second time', async () => {
    const log: Transition[] = [];
    await runProcess(new MemoryStateStore(), [[0, T], [30, T]], log);
    await runProcess(new MemoryStateStore(), [[40, T], [70, T]], log); // a forgetful restart
    expect(log.filter((t) => t.to === 'firing')).toHaveLength(2);
  });

  it('keeps deliveries opaquely across a restart', async () => {
    const path = join(dir, 'alerts.json');
    const pending = [{ receiver: 'slack-oncall', attempt: 2, nextAt: m(31), payload: { text: 'drift', n: [1, 2] } }];
    await runProcess(new FileStateStore(path), [[0, T]], [], pending);
    const snap = await new FileStateStore(path).load();
    expect(snap.notifications).toEqual(pending);
    expect(snap.savedAt).toBe(0);
  });
});

/** What an evaluation measured, with a given deviation. */
function evidence(deviation: number): Evidence {
  return { current: 1 + deviation, baseline: 1, deviation, isNew: false, currentRuns: 10, baselineRuns: 10, contributors: [], exampleRunIds: ['r1'], pValue: null };
}

describe('reads a version 1 state file', () => {
  it('takes its deliveries as the notification section and its alerts without key or evidence', async () => {
    const path = join(dir, 'alerts.json');
    const record = { state: 'firing', activeAt: 0, firedAt: m(30), resolvedAt: null, lastEvalAt: m(35), health: 'ok', lastError: null };
    await writeFile(path, JSON.stringify({ version: 1, savedAt: m(35), alerts: [{ alert: ALERT, labels: LABELS, record, value: 0.4 }], deliveries: [{ v: 1 }] }));
    const snap = await new FileStateStore(path).load();
    expect(snap).toEqual({ version: 3, savedAt: m(35), journalSeq: 0, alerts: [{ alert: ALERT, key: '', labels: LABELS, record, measured: false }], notifications: [{ v: 1 }] });
    expect(fromSnapshot(snap).get(KEY)?.record.state).toBe('firing');
  });
});

describe('reads a version 2 state file', () => {
  it('as version 3 with no journal records in it (every record beside it is newer)', async () => {
    const path = join(dir, 'alerts.json');
    const record = { state: 'firing', activeAt: 0, firedAt: m(30), resolvedAt: null, lastEvalAt: m(35), health: 'ok', lastError: null };
    await writeFile(path, JSON.stringify({ version: 2, savedAt: m(35), alerts: [{ alert: ALERT, key: '', labels: LABELS, record, measured: true }], notifications: [] }));
    expect(await new FileStateStore(path).load()).toEqual({ version: 3, savedAt: m(35), journalSeq: 0, alerts: [{ alert: ALERT, key: '', labels: LABELS, record, measured: true }], notifications: [] });
  });
});

describe('version 3 keeps what earlier versions lost on a restart', () => {
  it('round-trips the frozen baseline, the acceptance and the facts of the rule', async () => {
    const path = join(dir, 'alerts.json');
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [{ labels: LABELS, outcome: T, evidence: evidence(0.3), freezable: true }], 0, 0);
    const s = states.get(KEY)!;
    states.set(KEY, { ...s, accepted: { at: 5, reason: 'new prompt', baseline: 1.3, until: 99 } });
    const facts = { alert: ALERT, signal: 'tool_calls_per_run', labels: { severity: 'warning' }, window: 'last 7d', baselineWindow: 'previous 7d', threshold: 0.2, direction: 'up' };
    await new FileStateStore(path).save({ version: 3, savedAt: 1, journalSeq: 4, alerts: serializeAlerts(states, () => facts), notifications: [] });
    const snap = await new FileStateStore(path).load();
    expect(snap.journalSeq).toBe(4);
    expect(snap.alerts[0]!.rule).toEqual(facts);
    const back = fromSnapshot(snap).get(KEY)!;
    expect(back.frozenBaseline).toBe(1);
    expect(back.accepted).toEqual({ at: 5, reason: 'new prompt', baseline: 1.3, until: 99 });
  });
});

describe('what a save stores', () => {
  const healthy = { state: 'inactive', activeAt: null, firedAt: null, resolvedAt: null, lastEvalAt: m(5), health: 'ok', lastError: null } as const;
  it.each([
    { what: 'an inactive, healthy series', change: {}, stored: false },
    { what: 'a pending series', change: { record: { ...healthy, state: 'pending', activeAt: 0 } }, stored: true },
    { what: 'a firing series', change: { record: { ...healthy, state: 'firing', activeAt: 0, firedAt: m(1) } }, stored: true },
    { what: 'a resolved series', change: { record: { ...healthy, state: 'resolved', activeAt: 0, firedAt: m(1), resolvedAt: m(2) } }, stored: true },
    { what: 'an inactive series that resolved before', change: { record: { ...healthy, resolvedAt: m(2) } }, stored: true },
    { what: 'a series without data', change: { record: { ...healthy, state: 'nodata', health: 'nodata' } }, stored: true },
    { what: 'an inactive series whose last query failed', change: { record: { ...healthy, health: 'error', lastError: 'down' } }, stored: true },
    { what: 'an inactive series with an acceptance', change: { accepted: { at: 1, reason: 'ok', baseline: 2, until: m(60) } }, stored: true },
    { what: 'an inactive series with a frozen baseline', change: { frozenBaseline: 1.5 }, stored: true },
  ])('$what: stored $stored', ({ change, stored }) => {
    const states = newAlertStates();
    states.set(KEY, { id: KEY, alert: ALERT, key: '', labels: LABELS, record: healthy, evidence: evidence(0.01), measured: true, ...change } as never);
    expect(serializeAlerts(states)).toHaveLength(stored ? 1 : 0);
  });

  it('an inactive series left out is rebuilt by the next evaluation as it was', () => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [{ labels: LABELS, outcome: F, evidence: evidence(0.01) }], m(5), FOR);
    const before = states.get(KEY)!;
    const restored = fromSnapshot({ ...emptySnapshot(), alerts: serializeAlerts(states) });
    expect(restored.size).toBe(0);
    applyEvaluation(restored, ALERT, [{ labels: LABELS, outcome: F, evidence: evidence(0.01) }], m(5), FOR);
    expect(restored.get(KEY)).toEqual(before);
  });
});

describe('FileStateStore', () => {
  const sample = (savedAt: number): Snapshot => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [{ labels: LABELS, outcome: T, evidence: evidence(0.3), annotations: { summary: 's' } }], 0, 0);
    return toSnapshot(states, [{ id: savedAt }], savedAt);
  };

  it('reads a missing file as an empty snapshot', async () => {
    await expect(new FileStateStore(join(dir, 'nope', 'alerts.json')).load()).resolves.toEqual(emptySnapshot());
  });

  it('round-trips a snapshot and leaves no tmp file behind', async () => {
    const path = join(dir, 'alerts.json');
    const store = new FileStateStore(path);
    await store.save(sample(5));
    await expect(store.load()).resolves.toEqual(sample(5));
    expect(await readdir(dir)).toEqual(['alerts.json']);
  });

  it('ignores a half-written tmp file left by a crash, and saves over it afterwards', async () => {
    const path = join(dir, 'alerts.json');
    const store = new FileStateStore(path);
    await store.save(sample(1));
    const before = await readFile(path, 'utf8');

    // What a crash in the middle of the next save leaves: a truncated tmp file (ours, and one of another pid).
    const next = JSON.stringify(sample(2));
    await writeFile(`${path}.tmp-${process.pid}`, next.slice(0, next.length / 2));
    await writeFile(`${path}.tmp-99999`, next.slice(0, 10));

    expect(await readFile(path, 'utf8')).toBe(before);
    await expect(new FileStateStore(path).load()).resolves.toEqual(sample(1));

    await store.save(sample(2));
    await expect(new FileStateStore(path).load()).resolves.toEqual(sample(2));
    expect((await readdir(dir)).sort()).toEqual(['alerts.json', 'alerts.json.tmp-99999']);
  });

  it('leaves the stored state alone when a save fails', async () => {
    const path = join(dir, 'alerts.json');
    const store = new FileStateStore(path);
    await store.save(sample(1));
    await expect(store.save(toSnapshot(newAlertStates(), [{ n: 1n }], 2))).rejects.toThrow(StateFileError);
    // A record the machine could not use is refused at save time, not discovered at the next start.
    const broken = { ...sample(3), alerts: [{ alert: ALERT, key: '', labels: LABELS, measured: true, record: { ...sample(3).alerts[0]!.record, firedAt: null } }] };
    await expect(store.save(broken)).rejects.toThrow(/refusing to save .*firedAt/);
    await expect(store.load()).resolves.toEqual(sample(1));
    expect(await readdir(dir)).toEqual(['alerts.json']);
    // The store is still usable after a failed save.
    await store.save(sample(4));
    await expect(store.load()).resolves.toEqual(sample(4));
  });

  it('removes its tmp file when the rename fails', async () => {
    // A non-empty directory where the file should go: the tmp file is written, the rename fails.
    const path = join(dir, 'alerts.json');
    await mkdir(join(path, 'occupied'), { recursive: true });
    const err = await new FileStateStore(path).save(sample(1)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StateFileError);
    expect((err as Error).message).toContain(`could not save alert state to ${path}`);
    expect(await readdir(dir)).toEqual(['alerts.json']);
  });

  it('runs overlapping saves one after the other; the last one wins', async () => {
    const path = join(dir, 'alerts.json');
    const store = new FileStateStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(sample(i))));
    await expect(store.load()).resolves.toEqual(sample(19));
  });

  it.each([
    ['truncated JSON', (s: string) => s.slice(0, s.length - 7), /is corrupt \(not valid JSON/],
    ['an empty file', () => '', /is corrupt \(not valid JSON/],
    ['an unknown state', (s: string) => s.replace('"firing"', '"exploded"'), /alerts\[0\]\.record\.state/],
    ['a firing record without firedAt', (s: string) => s.replace(/"firedAt":\d+/, '"firedAt":null'), /a firing record needs firedAt/],
    ['no alerts list', () => '{"version":2,"savedAt":0,"notifications":[]}', /alerts: /],
    ['no alerts list in a version 1 file', () => '{"version":1,"savedAt":0,"deliveries":[]}', /alerts: /],
    ['another version', (s: string) => s.replace('"version":3', '"version":4'), /has version 4; this agentdrift writes version 3 and reads versions 1 to 3 \(a newer agentdrift wrote it\)/],
  ])('refuses a state file with %s, naming the file', async (_what, corrupt, detail) => {
    const path = join(dir, 'alerts.json');
    await new FileStateStore(path).save(sample(1));
    await writeFile(path, corrupt(await readFile(path, 'utf8')));

    const err = await new FileStateStore(path).load().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StateFileError);
    expect((err as StateFileError).path).toBe(path);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(detail);
    // What to do about it (move it aside, refuse to start) is the daemon's: see test/faults/.
    expect((err as StateFileError).problem).toBe('corrupt');
  });

  it('reports an unreadable path as an error naming it, not as an empty state', async () => {
    // A directory where the file should be: reading fails with EISDIR.
    await expect(new FileStateStore(dir).load()).rejects.toThrow(new RegExp(`could not read alert state file ${dir}`));
  });
});

describe('MemoryStateStore', () => {
  it('starts empty, round-trips through JSON, and is isolated from later mutation', async () => {
    const store = new MemoryStateStore();
    await expect(store.load()).resolves.toEqual(emptySnapshot());
    const deliveries = [{ id: 'd1' }];
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [{ labels: LABELS, outcome: T, evidence: evidence(Number.NaN) }], 0, 0);
    await store.save(toSnapshot(states, deliveries, 7));
    deliveries[0]!.id = 'changed';
    const snap = await store.load();
    expect(snap.notifications).toEqual([{ id: 'd1' }]);
    // Like the file store: a NaN value comes back as null, not as a different NaN-shaped surprise.
    expect(fromSnapshot(snap).get(KEY)?.evidence?.deviation).toBeNull();
    expect(store.saves).toBe(1);
  });

  it('can be seeded, for backtests that start from a known state', async () => {
    const states = newAlertStates();
    applyEvaluation(states, ALERT, [{ labels: LABELS, outcome: T }], 0, 0);
    const store = new MemoryStateStore(toSnapshot(states, [], 0));
    expect(fromSnapshot(await store.load()).get(KEY)?.record.state).toBe('firing');
  });
});
