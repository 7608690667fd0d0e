import { describe, expect, it } from 'vitest';
import { dedup, isFiringOf, sameTransition, type DedupDecision, type Notified, type Pending } from '../../src/notify/dedup.js';
import { sampleAlert } from '../../src/notify/testReceivers.js';
import type { AlertNotification } from '../../src/notify/types.js';

const NOW = 1_000_000;
const EPISODE = '2026-01-01T00:00:00.000Z';
const NEXT_EPISODE = '2026-01-02T00:00:00.000Z';

function alert(status: 'firing' | 'resolved', startsAt = EPISODE, fingerprint = 'a'): AlertNotification {
  return { ...sampleAlert(0), fingerprint, status, startsAt, endsAt: status === 'resolved' ? '2026-01-01T06:00:00.000Z' : null };
}
const firing = alert('firing');
const resolved = alert('resolved');

function told(status: 'firing' | 'resolved', outcome: Notified['outcome'], startsAt = EPISODE): Notified {
  return { status, startsAt, at: NOW - 1000, outcome, seenAt: NOW - 1000 };
}

const nothing: Pending = { waiting: [], queued: [] };
const inGroupWait = (...alerts: AlertNotification[]): Pending => ({ waiting: alerts, queued: [] });
const queued = (...alerts: AlertNotification[]): Pending => ({ waiting: [], queued: alerts });

/** What the log says after a suppressed resolution, logged at NOW. */
const SUPPRESSED: Notified = { status: 'resolved', startsAt: EPISODE, at: NOW, outcome: 'suppressed', seenAt: NOW };

interface Row {
  readonly name: string;
  readonly last?: Notified;
  readonly incoming: AlertNotification;
  readonly pending?: Pending;
  readonly sendResolved?: boolean;
  readonly want: DedupDecision;
}

// The decisions, named once; the table says which input gets which.
const SEND: DedupDecision = { kind: 'send' };
const ALREADY_TOLD: DedupDecision = { kind: 'skip', why: 'already notified; not sent again' };
const AFTER_ITS_RESOLUTION: DedupDecision = { kind: 'skip', why: 'firing transition arrived after its own resolution; not sent' };
const PENDING: DedupDecision = { kind: 'pending', why: 'already pending; not queued again' };
const WITHDRAWN: DedupDecision = { kind: 'withdraw', why: 'resolved before its firing notification left group_wait; neither is sent', record: SUPPRESSED };
const NEVER_HEARD_IT_FIRE: DedupDecision = { kind: 'suppress', why: 'resolved, but this receiver was never told it fired; not sent', record: SUPPRESSED };
const RESOLVED_OFF = 'resolved; send_resolved is off for this route';

const ROWS: Row[] = [
  // ---- firing
  { name: 'firing, never told: sent', incoming: firing, want: SEND },
  { name: 'firing, told it fired (sent): already notified', last: told('firing', 'sent'), incoming: firing, want: ALREADY_TOLD },
  { name: 'firing, told it fired but the send failed: not sent again (repeat_interval retries it)', last: told('firing', 'failed'), incoming: firing, want: ALREADY_TOLD },
  { name: 'firing after its own resolution (late duplicate): not sent', last: told('resolved', 'sent'), incoming: firing, want: AFTER_ITS_RESOLUTION },
  { name: 'firing after its own suppressed resolution: not sent either', last: told('resolved', 'suppressed'), incoming: firing, want: AFTER_ITS_RESOLUTION },
  { name: 'firing, a new episode after a resolution: sent', last: told('resolved', 'sent'), incoming: alert('firing', NEXT_EPISODE), want: SEND },
  { name: 'firing, a new episode while the old one is logged firing: sent', last: told('firing', 'sent'), incoming: alert('firing', NEXT_EPISODE), want: SEND },
  { name: 'firing, already in group_wait: pending', incoming: firing, pending: inGroupWait(firing), want: PENDING },
  { name: 'firing, already queued or retrying: pending', incoming: firing, pending: queued(firing), want: PENDING },
  { name: 'firing, only another series pending: sent', incoming: firing, pending: inGroupWait(alert('firing', EPISODE, 'b')), want: SEND },
  { name: 'firing, only another episode pending: sent', incoming: firing, pending: queued(alert('firing', NEXT_EPISODE)), want: SEND },
  { name: 'firing with send_resolved off: sent (it only concerns resolutions)', incoming: firing, sendResolved: false, want: SEND },

  // ---- resolved
  { name: 'resolved, receiver heard it fire: sent', last: told('firing', 'sent'), incoming: resolved, want: SEND },
  { name: 'resolved, told already: already notified', last: told('resolved', 'sent'), incoming: resolved, want: ALREADY_TOLD },
  { name: 'resolved, suppressed already: already notified', last: told('resolved', 'suppressed'), incoming: resolved, want: ALREADY_TOLD },
  { name: 'resolved, already pending: pending', last: told('firing', 'sent'), incoming: resolved, pending: queued(resolved), want: PENDING },
  { name: 'resolved while its firing message is in group_wait: withdrawn, logged suppressed', incoming: resolved, pending: inGroupWait(firing), want: WITHDRAWN },
  { name: 'resolved in group_wait wins over send_resolved off', incoming: resolved, pending: inGroupWait(firing), sendResolved: false, want: WITHDRAWN },
  { name: 'resolved while its firing message is queued: sent behind it', incoming: resolved, pending: queued(firing), want: SEND },
  { name: 'resolved, never told it fired: suppressed and logged', incoming: resolved, want: NEVER_HEARD_IT_FIRE },
  { name: 'resolved, the firing send failed: suppressed and logged', last: told('firing', 'failed'), incoming: resolved, want: NEVER_HEARD_IT_FIRE },
  { name: 'resolved, heard an earlier episode fire only: suppressed and logged', last: told('firing', 'sent', NEXT_EPISODE), incoming: resolved, want: NEVER_HEARD_IT_FIRE },
  { name: 'resolved, only another series firing in group_wait: suppressed and logged', incoming: resolved, pending: inGroupWait(alert('firing', EPISODE, 'b')), want: NEVER_HEARD_IT_FIRE },
  {
    name: 'resolved, heard it fire, send_resolved off: suppressed and logged',
    last: told('firing', 'sent'),
    incoming: resolved,
    sendResolved: false,
    want: { kind: 'suppress', why: RESOLVED_OFF, record: SUPPRESSED },
  },
  {
    name: 'resolved, firing queued, send_resolved off: suppressed, the log left to the firing send',
    incoming: resolved,
    pending: queued(firing),
    sendResolved: false,
    want: { kind: 'suppress', why: RESOLVED_OFF, record: null },
  },
];

describe('dedup: one decision per (log entry, transition, pending, send_resolved)', () => {
  it.each(ROWS)('$name', (row) => {
    const d = dedup({ last: row.last, incoming: row.incoming, pending: row.pending ?? nothing, sendResolved: row.sendResolved ?? true, now: NOW });
    expect(d).toEqual(row.want);
  });

  it('is pure: the same input gives the same decision and nothing it was given changes', () => {
    const last = told('firing', 'sent');
    const pending = queued(firing);
    const before = JSON.stringify({ last, pending });
    const input = { last, incoming: resolved, pending, sendResolved: true, now: NOW };
    expect(dedup(input)).toEqual(dedup(input));
    expect(JSON.stringify({ last, pending })).toBe(before);
  });
});

describe('transition identity', () => {
  it.each([
    // isFiringOf(a, b): a is the firing message of b's series and episode, whatever b's status.
    { name: 'same series, status and episode', a: firing, b: { ...firing, annotations: { summary: 'newer text' } }, same: true, firingOf: true },
    { name: 'the firing message of a resolution', a: firing, b: resolved, same: false, firingOf: true },
    { name: 'a resolution is no firing message', a: resolved, b: resolved, same: true, firingOf: false },
    { name: 'another episode', a: firing, b: alert('resolved', NEXT_EPISODE), same: false, firingOf: false },
    { name: 'another series', a: firing, b: alert('resolved', EPISODE, 'b'), same: false, firingOf: false },
  ])('$name', ({ a, b, same, firingOf }) => {
    expect(sameTransition(a, b)).toBe(same);
    expect(isFiringOf(a, b)).toBe(firingOf);
  });
});
