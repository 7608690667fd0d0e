/**
 * The delivery journal: how its records fold into a snapshot's notification section (pure), and the
 * Dispatcher writing them around real sends, to a real webhook receiver on loopback, into a real
 * journal file: the attempt before the request leaves, the outcome once it is known. A "crash" is a
 * second Dispatcher built from the file alone.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readJournal, StateJournal } from '../../src/persist/stateJournal.js';
import { parseConfigText } from '../../src/config/load.js';
import { validateNotifyConfig } from '../../src/notify/config.js';
import { Dispatcher } from '../../src/notify/dispatcher.js';
import { buildNotifiers } from '../../src/notify/factory.js';
import type { DeliveryRecord } from '../../src/notify/journal.js';
import { replayDeliveries } from '../../src/persist/deliveryReplay.js';
import { sampleAlert } from '../../src/notify/testReceivers.js';
import type { AlertNotification } from '../../src/notify/types.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/httpReceiver.js';

function alert(fingerprint: string, status: 'firing' | 'resolved' = 'firing'): AlertNotification {
  return { ...sampleAlert(0), fingerprint, status, labels: { alertname: 'A', fp: fingerprint }, startsAt: '2026-01-01T00:00:00.000Z', endsAt: status === 'resolved' ? '2026-01-01T01:00:00.000Z' : null };
}
const ref = (a: AlertNotification) => ({ fingerprint: a.fingerprint, status: a.status, startsAt: a.startsAt });
const attempt = (receiver: string, at: number, ...alerts: AlertNotification[]): DeliveryRecord => ({ kind: 'attempt', receiver, at, attempt: 1, alerts });
const outcome = (receiver: string, at: number, result: 'sent' | 'failed', ...alerts: AlertNotification[]): DeliveryRecord => ({ kind: 'outcome', receiver, at, outcome: result, transitions: alerts.map(ref) });

describe('replayDeliveries', () => {
  const a = alert('a');
  const b = alert('b');
  const pending = { v: 1, type: 'delivery', receiver: 'hook', phase: 'queued', dueAt: 5, attempts: 0, firstAttemptAt: null, lastReason: null, alerts: [a, b] };

  it('an accepted delivery becomes the log entry and leaves the pending batch', () => {
    const r = replayDeliveries([pending], [attempt('hook', 10, a, b), outcome('hook', 11, 'sent', a)]);
    expect(r.notifications).toEqual([
      { ...pending, alerts: [b] },
      { v: 1, type: 'notified', receiver: 'hook', ...ref(a), at: 11, outcome: 'sent', seenAt: 11 },
      // b was in the request in flight: sent again.
      { v: 1, type: 'delivery', receiver: 'hook', phase: 'retrying', dueAt: 10, attempts: 1, firstAttemptAt: 10, lastReason: null, alerts: [b] },
    ]);
    expect(r).toMatchObject({ applied: 2, inFlight: 1, unreadable: 0 });
  });

  it('a delivery given up on is logged as failed and not retried after the restart', () => {
    const r = replayDeliveries([pending], [attempt('hook', 10, a, b), outcome('hook', 12, 'failed', a, b)]);
    expect(r.notifications).toEqual([
      { v: 1, type: 'notified', receiver: 'hook', ...ref(a), at: 12, outcome: 'failed', seenAt: 12 },
      { v: 1, type: 'notified', receiver: 'hook', ...ref(b), at: 12, outcome: 'failed', seenAt: 12 },
    ]);
    expect(r.inFlight).toBe(0);
  });

  it('keys by receiver: an outcome for one receiver leaves another receiver\'s batch alone', () => {
    const other = { ...pending, receiver: 'slack' };
    const r = replayDeliveries([other], [outcome('hook', 11, 'sent', a, b)]);
    expect(r.notifications[0]).toEqual(other);
  });

  it('skips and counts records it cannot read (a newer agentdrift\'s), applying the rest', () => {
    const r = replayDeliveries([], [{ kind: 'lease' }, 7, outcome('hook', 11, 'sent', a)]);
    expect(r).toMatchObject({ applied: 1, unreadable: 2 });
  });
});

describe('the Dispatcher journals each send', () => {
  let hook: HttpReceiver | null = null;
  const dispatchers: Dispatcher[] = [];
  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.close();
    await hook?.close();
  });

  function dispatcherFor(url: string, journal: StateJournal): Dispatcher {
    const loaded = parseConfigText(`receivers:\n  - name: hook\n    webhook: { url: "${url}/hook" }\nroute:\n  receivers: [hook]\n  group_wait: 0s\n`, 'c.yaml', {});
    const v = validateNotifyConfig(loaded.config!.receivers, loaded.config!.route, loaded.source, 'c.yaml');
    const d = new Dispatcher({ route: v.config!.route, notifiers: buildNotifiers(v.config!), journal: { record: (r) => void journal.append(r) } });
    dispatchers.push(d);
    return d;
  }

  it('writes the attempt before the request and the outcome after it; a restart from the journal sends nothing again', async () => {
    let journaledBeforeRequest: string | null = null;
    const path = join(mkdtempSync(join(tmpdir(), 'agentdrift-journal-')), 'state.json.journal');
    hook = await startHttpReceiver([], { fallback: 200, onRequest: () => (journaledBeforeRequest = readFileSync(path, 'utf8')) });
    const journal = new StateJournal(path);
    const d = dispatcherFor(hook.url, journal);
    d.enqueue(alert('a'));
    await hook.waitForRequests(1);
    await d.flush(5_000);
    // The attempt was on disk when the request arrived; the outcome followed.
    expect(journaledBeforeRequest).toMatch(/"kind":"attempt"/);
    expect(journaledBeforeRequest).not.toMatch(/"kind":"outcome"/);
    const { entries } = readJournal(path);
    expect(entries.map((e) => [e.seq, (e.record as DeliveryRecord).kind])).toEqual([[1, 'attempt'], [2, 'outcome']]);

    // "Crash": a new dispatcher knows only the journal (the state file was saved before the send).
    const replay = replayDeliveries([], entries.map((e) => e.record));
    const again = dispatcherFor(hook.url, new StateJournal(path, entries));
    again.restore(replay.notifications);
    again.enqueue(alert('a'));
    again.refreshFiring([alert('a')]);
    await again.flush(2_000);
    expect(hook.requests).toHaveLength(1);
  });

  it('hold(): nothing leaves until released, then it does', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'agentdrift-journal-')), 'state.json.journal');
    hook = await startHttpReceiver([], { fallback: 200 });
    const d = dispatcherFor(hook.url, new StateJournal(path));
    const release = d.hold();
    d.enqueue(alert('b'));
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.requests).toHaveLength(0);
    expect(readJournal(path).entries).toEqual([]);
    release();
    release(); // idempotent
    await hook.waitForRequests(1, 5_000);
  });
});

describe('StateJournal', () => {
  const fresh = () => join(mkdtempSync(join(tmpdir(), 'agentdrift-journal-')), 'j');

  it('numbers records on from what it read, and keeps only records newer than a compaction', () => {
    const path = fresh();
    const j = new StateJournal(path);
    expect([j.append({ n: 1 }), j.append({ n: 2 })]).toEqual([1, 2]);
    const again = new StateJournal(path, readJournal(path).entries);
    expect(again.append({ n: 3 })).toBe(3);
    again.compact(2);
    expect(readJournal(path).entries).toEqual([{ seq: 3, record: { n: 3 } }]);
    again.compact(3);
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(again.append({ n: 4 })).toBe(4);
    expect(readJournal(path).entries).toEqual([{ seq: 4, record: { n: 4 } }]);
  });

  it('starts after the seq the state file holds even when the journal is empty', () => {
    const j = new StateJournal(fresh(), [], 41);
    expect(j.append({})).toBe(42);
  });

  it('reads a torn last line as torn, and a bad line before it as corruption', () => {
    const path = fresh();
    const j = new StateJournal(path);
    j.append({ n: 1 });
    const whole = readFileSync(path, 'utf8');
    writeFileSync(path, `${whole}{"seq":2,"rec`);
    expect(readJournal(path)).toEqual({ entries: [{ seq: 1, record: { n: 1 } }], tornTail: true });
    writeFileSync(path, `{"seq":2}\n${whole}`);
    expect(() => readJournal(path)).toThrow(/line 1 is not a journal record/);
    writeFileSync(path, `${whole}${whole}`);
    expect(() => readJournal(path)).toThrow(/line 2 goes back to seq 1/);
  });
});
