import { describe, expect, it } from 'vitest';
import { notifySnapshotSchema, parseAlert, readNotifySnapshot, type NotifySnapshotEntry } from '../../src/notify/snapshot.js';
import { sampleAlert } from '../../src/notify/testReceivers.js';

const alert = { ...sampleAlert(0), fingerprint: 'x' };
const delivery = { v: 1, type: 'delivery', receiver: 'slack', phase: 'queued', dueAt: 0, attempts: 0, firstAttemptAt: null, lastReason: null, alerts: [alert] };
const notified = { v: 1, type: 'notified', receiver: 'slack', fingerprint: 'x', status: 'firing', startsAt: alert.startsAt, at: 5, outcome: 'sent', seenAt: 7 };
const known = (r: string): boolean => r === 'slack' || r === 'email';

describe('readNotifySnapshot: entry by entry', () => {
  it('reads both entry types as written, log entries first', () => {
    const r = readNotifySnapshot([delivery, notified], known);
    expect(r).toEqual({ entries: [delivery, notified].reverse(), unknownReceivers: [], dropped: 0, notAList: false });
  });

  it.each([
    { name: 'not an object', entry: 'garbage' },
    { name: 'null', entry: null },
    { name: 'an array', entry: [delivery] },
    { name: 'another version', entry: { ...delivery, v: 2 } },
    { name: 'no receiver', entry: { ...delivery, receiver: undefined } },
    { name: 'an unknown type', entry: { ...delivery, type: 'other' } },
    { name: 'an unknown phase', entry: { ...delivery, phase: 'sending' } },
    { name: 'attempts not a number', entry: { ...delivery, attempts: '1' } },
    { name: 'firstAttemptAt missing', entry: { ...delivery, firstAttemptAt: undefined } },
    { name: 'an alert of the wrong shape', entry: { ...delivery, alerts: [alert, { fingerprint: 'broken' }] } },
    { name: 'alerts not a list', entry: { ...delivery, alerts: alert } },
    { name: 'an unknown outcome', entry: { ...notified, outcome: 'lost' } },
    { name: 'at missing', entry: { ...notified, at: undefined } },
  ])('drops an entry with $name, and only that one', ({ entry }) => {
    const r = readNotifySnapshot([notified, entry, delivery], known);
    expect(r.dropped).toBe(1);
    expect(r.entries).toEqual([notified, delivery]);
  });

  it('leaves out entries of receivers no longer configured, naming each once', () => {
    const r = readNotifySnapshot([{ ...delivery, receiver: 'gone' }, { ...notified, receiver: 'gone' }, { ...notified, receiver: 'old' }, delivery], known);
    expect(r).toEqual({ entries: [delivery], unknownReceivers: ['gone', 'old'], dropped: 0, notAList: false });
  });

  it('something other than a list is read as nothing', () => {
    expect(readNotifySnapshot({ entries: [] }, known)).toEqual({ entries: [], unknownReceivers: [], dropped: 0, notAList: true });
  });

  it('tolerates what older or hand-edited files lack: seenAt defaults to at, an unknown lastReason reads as none', () => {
    const { seenAt: _, ...noSeenAt } = notified;
    const r = readNotifySnapshot([noSeenAt, { ...notified, fingerprint: 'y', seenAt: 'soon' }, { ...delivery, lastReason: 'cosmic_rays' }], known);
    expect(r.dropped).toBe(0);
    expect(r.entries).toEqual([
      { ...notified, seenAt: 5 },
      { ...notified, fingerprint: 'y', seenAt: 5 },
      { ...delivery, lastReason: null },
    ]);
  });

  it('the strict schema accepts what the dispatcher writes', () => {
    const entries: NotifySnapshotEntry[] = notifySnapshotSchema.parse([delivery, notified]);
    expect(entries).toHaveLength(2);
    expect(notifySnapshotSchema.safeParse([delivery, 'garbage']).success).toBe(false);
  });
});

describe('parseAlert', () => {
  it('returns the alert as stored, fields it does not know included', () => {
    const stored = { ...alert, futureField: 1, evidence: { ...alert.evidence, unit: 'calls' } };
    expect(parseAlert(stored)).toEqual(stored);
  });

  it.each([
    { name: 'a label that is not a string', x: { ...alert, labels: { a: 1 } } },
    { name: 'labels as a list', x: { ...alert, labels: ['a'] } },
    { name: 'endsAt missing', x: { ...alert, endsAt: undefined } },
    { name: 'an unknown status', x: { ...alert, status: 'pending' } },
    { name: 'evidence without numbers', x: { ...alert, evidence: { ...alert.evidence, currentRuns: null } } },
    { name: 'a contributor without a name', x: { ...alert, evidence: { ...alert.evidence, contributors: [{ current: 1, baseline: 1 }] } } },
    { name: 'a run id that is not a string', x: { ...alert, evidence: { ...alert.evidence, exampleRunIds: [1] } } },
    { name: 'not an object', x: 'alert' },
  ])('null for $name', ({ x }) => {
    expect(parseAlert(x)).toBeNull();
  });
});
