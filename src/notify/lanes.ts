/**
 * Per-receiver lanes: the data the Dispatcher keeps for each receiver, and the small operations on it.
 *
 * A lane holds the batch collecting alerts during group_wait, the batches past it (sent strictly in
 * order, so a resolution never overtakes the firing message it resolves, and a receiver that is down
 * holds up its own lane only), and the receiver's notification log (what it was last told per
 * fingerprint). These functions change a lane and nothing else: no clock, no timers, no sending —
 * when things happen is the Dispatcher's business.
 */
import { sameTransition, isFiringOf, type Notified, type DeliveryOutcome, type Pending } from './dedup.js';
import type { AlertNotification, FailureReason, Notifier } from './types.js';

export const PHASES = ['waiting', 'queued', 'retrying'] as const;
/** waiting: in group_wait; queued: due, never tried; retrying: tried and failed recoverably. */
export type Phase = (typeof PHASES)[number];

export interface Batch {
  readonly receiver: string;
  alerts: AlertNotification[];
  phase: Phase;
  /** waiting: end of group_wait; queued/retrying: earliest next attempt. */
  dueAt: number;
  attempts: number;
  firstAttemptAt: number | null;
  lastReason: FailureReason | null;
}

/** The one send a lane has in progress; aborted on close(). */
export interface InFlight {
  readonly batch: Batch;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

export interface Lane {
  readonly notifier: Notifier;
  /**
   * The batch collecting alerts during group_wait: one per receiver, so the receiver gets one
   * message for everything that started firing together, whichever routes brought it.
   */
  waiting: Batch | null;
  /** Due or retrying batches, sent strictly in order; the head is the one in flight. */
  readonly queue: Batch[];
  inFlight: InFlight | null;
  /** The notification log: what the receiver was last told, by fingerprint. */
  readonly notified: Map<string, Notified>;
}

export function newLane(notifier: Notifier): Lane {
  return { notifier, waiting: null, queue: [], inFlight: null, notified: new Map() };
}

/** Every batch not yet delivered: queued ones first, then the one in group_wait. */
export function pendingBatches(lane: Lane): Batch[] {
  return lane.waiting !== null ? [...lane.queue, lane.waiting] : lane.queue;
}

/** The lane's undelivered alerts, as the dedup stage looks at them. */
export function pendingView(lane: Lane): Pending {
  return { waiting: lane.waiting?.alerts ?? [], queued: lane.queue.flatMap((b) => b.alerts) };
}

/** True when some undelivered batch holds an alert of this fingerprint matching `pred`. */
export function hasPending(lane: Lane, fingerprint: string, pred: (a: AlertNotification) => boolean = () => true): boolean {
  return pendingBatches(lane).some((b) => b.alerts.some((a) => a.fingerprint === fingerprint && pred(a)));
}

/**
 * Joins the lane's open batch, or opens one. The batch leaves when the earliest of its alerts'
 * waits ends: group_wait of the route that brought each, nothing for a re-send.
 */
export function addToBatch(lane: Lane, n: AlertNotification, dueAt: number): void {
  const open = lane.waiting;
  if (open !== null) {
    const i = open.alerts.findIndex((a) => sameTransition(a, n));
    if (i >= 0) open.alerts[i] = n;
    else open.alerts.push(n);
    open.dueAt = Math.min(open.dueAt, dueAt);
    return;
  }
  lane.waiting = { receiver: lane.notifier.name, alerts: [n], phase: 'waiting', dueAt, attempts: 0, firstAttemptAt: null, lastReason: null };
}

/**
 * True when this transition is already on its way to the lane. A batch still waiting gets the
 * newer content (fresher numbers); one already queued or retrying is left alone.
 */
export function refreshPending(lane: Lane, n: AlertNotification): boolean {
  const w = lane.waiting;
  const i = w !== null ? w.alerts.findIndex((a) => sameTransition(a, n)) : -1;
  if (w !== null && i >= 0) {
    w.alerts[i] = n;
    return true;
  }
  return lane.queue.some((b) => b.alerts.some((a) => sameTransition(a, n)));
}

/** Takes the firing message that `resolved` resolves out of the batch in group_wait. */
export function withdrawFiring(lane: Lane, resolved: AlertNotification): void {
  const waiting = lane.waiting;
  if (waiting === null) return;
  waiting.alerts = waiting.alerts.filter((a) => !isFiringOf(a, resolved));
  if (waiting.alerts.length === 0) lane.waiting = null;
}

/** A restored batch goes back where it was: into group_wait (joining an open batch) or the queue. */
export function putBack(lane: Lane, b: Batch): void {
  if (b.phase !== 'waiting') {
    lane.queue.push(b);
    return;
  }
  const open = lane.waiting;
  if (open === null) lane.waiting = b;
  else {
    open.alerts.push(...b.alerts);
    open.dueAt = Math.min(open.dueAt, b.dueAt);
  }
}

/** The batch at the head of the queue is done with (sent or given up on). */
export function removeBatch(lane: Lane, batch: Batch): void {
  const i = lane.queue.indexOf(batch);
  if (i >= 0) lane.queue.splice(i, 1);
}

/** Writes the outcome of a send (or a give-up) into the lane's notification log. */
export function recordOutcome(lane: Lane, a: AlertNotification, now: number, outcome: DeliveryOutcome): void {
  const prev = lane.notified.get(a.fingerprint);
  lane.notified.set(a.fingerprint, { status: a.status, startsAt: a.startsAt, at: now, outcome, seenAt: Math.max(now, prev?.seenAt ?? 0) });
}

/**
 * For a restored alert: true unless the log says this exact transition reached the receiver, or it is
 * on its way already (restored from another entry, or enqueued before restore()).
 */
export function stillOwed(lane: Lane, a: AlertNotification): boolean {
  const rec = lane.notified.get(a.fingerprint);
  const delivered = rec !== undefined && rec.status === a.status && rec.startsAt === a.startsAt && rec.outcome === 'sent';
  return !delivered && !hasPending(lane, a.fingerprint, (p) => sameTransition(p, a));
}

/** Forgets log entries neither touched nor seen for `retentionMs`, unless a batch still carries the alert. */
export function pruneLog(lane: Lane, now: number, retentionMs: number): void {
  for (const [fp, rec] of lane.notified) {
    if (now - Math.max(rec.at, rec.seenAt) <= retentionMs) continue;
    if (hasPending(lane, fp)) continue;
    lane.notified.delete(fp);
  }
}

/** The batch in group_wait joins the queue once its wait is over. */
export function promoteWaiting(lane: Lane, now: number): void {
  const b = lane.waiting;
  if (b === null || b.dueAt > now) return;
  lane.waiting = null;
  b.phase = 'queued';
  lane.queue.push(b);
}

/** For flush(): group_wait cut short and retries brought forward, to `now`. */
export function bringForward(lane: Lane, now: number): void {
  for (const b of pendingBatches(lane)) b.dueAt = Math.min(b.dueAt, now);
}

/** True while the lane is sending or has something due by `now`. */
export function isBusy(lane: Lane, now: number): boolean {
  if (lane.inFlight !== null) return true;
  const head = lane.queue[0];
  if (head !== undefined && head.dueAt <= now) return true;
  return lane.waiting !== null && lane.waiting.dueAt <= now;
}

/** The earliest moment something in the lane is due, Infinity when nothing is. */
export function nextDue(lane: Lane): number {
  let due = lane.waiting?.dueAt ?? Infinity;
  const head = lane.queue[0];
  if (head !== undefined && lane.inFlight === null) due = Math.min(due, head.dueAt);
  return due;
}

/**
 * The head batch, if the lane is idle and it is due, counted as one more attempt (the first one
 * stamps `firstAttemptAt`, from which the retry budget runs); null when there is nothing to send now.
 */
export function beginAttempt(lane: Lane, now: number): Batch | null {
  if (lane.inFlight !== null) return null;
  const batch = lane.queue[0];
  if (batch === undefined || batch.dueAt > now) return null;
  batch.attempts++;
  if (batch.firstAttemptAt === null) batch.firstAttemptAt = now;
  return batch;
}

/** The send of `inFlight.batch` has started; the lane sends nothing else until endAttempt. */
export function markInFlight(lane: Lane, inFlight: InFlight): void {
  lane.inFlight = inFlight;
}

export function endAttempt(lane: Lane): void {
  lane.inFlight = null;
}

/** A recoverable failure: the batch stays at the head, to be tried again from `dueAt`. */
export function retryLater(batch: Batch, reason: FailureReason, dueAt: number): void {
  batch.phase = 'retrying';
  batch.lastReason = reason;
  batch.dueAt = dueAt;
}
