/**
 * Delivery of alert transitions to receivers, as Alertmanager's notification pipeline:
 *
 *   route -> group (group_wait) -> dedup -> send, retry while recoverable -> record
 *
 * Per receiver there is one lane: batches leave it one at a time, in order, so a resolution never
 * overtakes the firing message it resolves, and a receiver that is down (or rate limiting) holds its
 * own lane only. What each receiver was told (fingerprint, status, startsAt, when) is kept per
 * receiver: it is the dedup log, it drives repeat_interval, and it decides whether a resolution is
 * worth sending (only to a receiver that heard the alert fire).
 *
 * Everything the daemon must keep across a restart — batches not yet delivered (waiting for
 * group_wait, queued, or retrying) and the dedup log — comes out of snapshot() as plain JSON and goes
 * back in through restore(). A batch that was in flight at shutdown is restored as queued and sent
 * again: delivery is at-least-once, never silently dropped.
 *
 * Between two snapshots, the journal port (journal.ts) makes each send durable as it happens: the
 * attempt is recorded before the request leaves and the outcome as soon as it is known, so a crash
 * repeats at most the request in flight. And hold() keeps new batches from leaving until the state
 * that produced them is saved: a transition the receiver heard of must not be re-derived, with
 * another startsAt, from an older state file after a crash.
 *
 * This file is the orchestration: routing, timers, sending, recording outcomes. The stages' rules
 * live beside it, each pure or nearly so: dedup.ts (send, skip or suppress a transition), retry.ts
 * (backoff and give-up), lanes.ts (the per-receiver batches and log), snapshot.ts (the persisted
 * form, read back with zod).
 *
 * Time comes from an injected Clock; nothing here calls Date.now or setTimeout.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { dedup } from './dedup.js';
import {
  addToBatch,
  beginAttempt,
  endAttempt,
  markInFlight,
  retryLater,
  bringForward,
  isBusy,
  newLane,
  nextDue,
  pendingBatches,
  pendingView,
  promoteWaiting,
  pruneLog,
  putBack,
  recordOutcome,
  refreshPending,
  removeBatch,
  stillOwed,
  withdrawFiring,
  type Batch,
  type InFlight,
  type Lane,
} from './lanes.js';
import { NotifyError } from './redact.js';
import { DEFAULT_RETRY, nextRetry, type RetryPolicy } from './retry.js';
import { routeAlert, type RouteNode, type RouteTarget } from './route.js';
import { transitionOf, type DeliveryJournal, type DeliveryRecord } from './journal.js';
import { laneEntries, readNotifySnapshot, toBatch, toNotified, type NotifySnapshot } from './snapshot.js';
import { nullRecorder, type AlertNotification, type Notifier, type NotifyRecorder, type NotifyResult } from './types.js';

export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { parseAlert, type NotifySnapshot, type NotifySnapshotEntry, type DeliverySnapshot, type NotifiedSnapshot } from './snapshot.js';

/** How long the dedup log remembers a receiver was told about an alert that is no longer seen (Alertmanager's nflog keeps 120h). */
export const DEFAULT_HISTORY_RETENTION_MS = 5 * 24 * 3600_000;

export interface DispatcherOptions {
  readonly route: RouteNode;
  readonly notifiers: readonly Notifier[];
  readonly recorder?: NotifyRecorder;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** For backoff jitter; injected so tests are deterministic. */
  readonly random?: () => number;
  readonly retry?: Partial<RetryPolicy>;
  readonly historyRetentionMs?: number;
  /** Where each attempt and outcome is made durable as it happens (the state file's journal). */
  readonly journal?: DeliveryJournal;
}

export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly route: RouteNode;
  private readonly recorder: NotifyRecorder;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retry: RetryPolicy;
  private readonly retentionMs: number;
  private timer: { handle: TimerHandle; at: number } | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private lastPending = -1;
  private readonly warnedMissing = new Set<string>();
  private readonly journal: DeliveryJournal | null;
  /** While above 0, nothing new is sent (see hold()). */
  private holds = 0;

  constructor(opts: DispatcherOptions) {
    this.route = opts.route;
    this.recorder = opts.recorder ?? nullRecorder;
    this.log = (opts.logger ?? silentLogger).child({ component: 'notify' });
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.retentionMs = opts.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS;
    this.journal = opts.journal ?? null;
    for (const n of opts.notifiers) {
      if (this.lanes.has(n.name)) throw new Error(`duplicate receiver name ${JSON.stringify(n.name)}`);
      this.lanes.set(n.name, newLane(n));
      // Counters exist at zero before the first failure, so a rate() over them is defined.
      this.recorder.init?.(n.name, n.integration);
    }
    this.reportPending();
  }

  // ---- input -------------------------------------------------------------------------------------

  /**
   * One transition (firing or resolved) of one alert. Safe to call twice with the same transition:
   * each receiver gets it once. Accepted even after close(), so it is in the next snapshot().
   */
  enqueue(n: AlertNotification): void {
    for (const t of this.targets(n)) this.accept(t.lane, t.target, n);
    this.reportPending();
    this.kick();
  }

  /**
   * The alerts firing now, after each evaluation. Re-sends those whose receiver was last told
   * repeat_interval ago (resend_interval for Alertmanager receivers, so the alert does not expire
   * there), and sends those a receiver was never told about (a receiver added to the config, a
   * transition lost before this process started).
   */
  refreshFiring(alerts: readonly AlertNotification[], now: number = this.clock.now()): void {
    for (const n of alerts) {
      if (n.status !== 'firing') continue;
      for (const { lane, target } of this.targets(n)) {
        const rec = lane.notified.get(n.fingerprint);
        if (rec !== undefined && rec.startsAt === n.startsAt) rec.seenAt = Math.max(rec.seenAt, now);
        if (refreshPending(lane, n)) continue;
        if (rec === undefined || rec.startsAt !== n.startsAt) {
          this.accept(lane, target, n);
          continue;
        }
        if (rec.status !== 'firing') continue;
        const resend = lane.notifier.resendIntervalMs;
        const interval = resend !== undefined ? Math.min(target.repeatIntervalMs, resend) : target.repeatIntervalMs;
        if (now - rec.at >= interval) addToBatch(lane, n, now);
      }
    }
    this.prune(now);
    this.reportPending();
    this.kick();
  }

  private targets(n: AlertNotification): { lane: Lane; target: RouteTarget }[] {
    const out: { lane: Lane; target: RouteTarget }[] = [];
    for (const target of routeAlert(this.route, n.labels)) {
      const lane = this.lanes.get(target.receiver);
      if (lane !== undefined) out.push({ lane, target });
      else if (!this.warnedMissing.has(target.receiver)) {
        this.warnedMissing.add(target.receiver);
        this.log.warn({ receiver: target.receiver }, `route names receiver ${target.receiver}, which has no notifier; its alerts are not sent`);
      }
    }
    return out;
  }

  /** Dedup (a decision over the receiver's log and lane), then into a batch. */
  private accept(lane: Lane, target: RouteTarget, n: AlertNotification): void {
    const now = this.clock.now();
    const d = dedup({ last: lane.notified.get(n.fingerprint), incoming: n, pending: pendingView(lane), sendResolved: target.sendResolved, now });
    switch (d.kind) {
      case 'send':
        addToBatch(lane, n, now + target.groupWaitMs);
        return;
      case 'pending':
        refreshPending(lane, n);
        break;
      case 'withdraw':
        withdrawFiring(lane, n);
        lane.notified.set(n.fingerprint, d.record);
        break;
      case 'suppress':
        if (d.record !== null) lane.notified.set(n.fingerprint, d.record);
        break;
      case 'skip':
        break;
    }
    this.log.debug({ receiver: lane.notifier.name, fingerprint: n.fingerprint, alertname: n.labels.alertname, status: n.status }, d.why);
  }

  // ---- sending -----------------------------------------------------------------------------------

  /** Defers processing to a timer, so enqueue() never sends from inside the caller's stack. */
  private kick(): void {
    this.arm();
  }

  private process(): void {
    const now = this.clock.now();
    for (const lane of this.lanes.values()) {
      promoteWaiting(lane, now);
      this.pump(lane, now);
    }
    this.arm();
    this.checkIdle();
  }

  /**
   * Until the returned function is called, no request leaves (group_wait and retries still count
   * down; what falls due goes out on release). The daemon holds from handing the dispatcher an
   * evaluation's transitions until the state file that holds them is written. Release is idempotent.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0 && !this.closed) this.process();
    };
  }

  private pump(lane: Lane, now: number): void {
    if (this.closed || this.holds > 0) return;
    const batch = beginAttempt(lane, now);
    if (batch === null) return;
    // Durable before the request leaves: a crash from here on repeats this request, and only it.
    this.write({ kind: 'attempt', receiver: lane.notifier.name, at: now, attempt: batch.attempts, alerts: batch.alerts });
    const controller = new AbortController();
    const done = safeNotify(lane.notifier, batch.alerts, controller.signal).then((r) => this.onResult(lane, batch, r));
    markInFlight(lane, { batch, controller, done });
  }

  private onResult(lane: Lane, batch: Batch, r: NotifyResult): void {
    endAttempt(lane);
    const now = this.clock.now();
    const { name: receiver, integration } = lane.notifier;
    const fields = {
      receiver,
      integration,
      alerts: batch.alerts.length,
      fingerprints: batch.alerts.map((a) => a.fingerprint),
      attempt: batch.attempts,
    };
    if (r.ok) {
      this.write({ kind: 'outcome', receiver, at: now, outcome: 'sent', transitions: batch.alerts.map(transitionOf) });
      removeBatch(lane, batch);
      for (const a of batch.alerts) recordOutcome(lane, a, now, 'sent');
      this.recorder.sent(receiver, integration);
      this.log.info(fields, `notified ${receiver} (${integration}) of ${batch.alerts.length} alert(s)`);
    } else if (r.recoverable && this.closed) {
      // Shutting down: not a failure of the receiver. The batch stays for the snapshot.
      retryLater(batch, r.reason, now);
    } else if (r.recoverable) {
      this.recorder.attemptFailed?.(receiver, integration, r.reason);
      const next = nextRetry(this.retry, { attempts: batch.attempts, firstAttemptAt: batch.firstAttemptAt, now, retryAfterMs: r.retryAfterMs }, this.random());
      if (next.kind === 'give-up') {
        this.drop(lane, batch, r, now, `gave up after ${batch.attempts} attempts`, fields);
      } else {
        const delay = next.delayMs;
        retryLater(batch, r.reason, now + delay);
        this.recorder.retry(receiver, integration);
        this.log.warn({ ...fields, reason: r.reason, retryInMs: delay, error: r.error.message }, `notifying ${receiver} failed (${r.reason}); retrying in ${delay}ms`);
      }
    } else {
      this.recorder.attemptFailed?.(receiver, integration, r.reason);
      this.drop(lane, batch, r, now, 'permanent failure, not retried', fields);
    }
    this.reportPending();
    this.process();
  }

  private drop(lane: Lane, batch: Batch, r: Extract<NotifyResult, { ok: false }>, now: number, why: string, fields: object): void {
    const { name: receiver, integration } = lane.notifier;
    this.write({ kind: 'outcome', receiver, at: now, outcome: 'failed', transitions: batch.alerts.map(transitionOf) });
    removeBatch(lane, batch);
    // Recorded, so a duplicate of the same transition is not retried; a firing alert is tried
    // again at its next repeat_interval.
    for (const a of batch.alerts) recordOutcome(lane, a, now, 'failed');
    this.recorder.failed(receiver, integration, r.reason);
    this.log.error({ ...fields, reason: r.reason, error: r.error.message }, `notifying ${receiver} failed: ${why}`);
  }

  private write(r: DeliveryRecord): void {
    if (this.journal === null) return;
    try {
      this.journal.record(r);
    } catch (err) {
      // The port promises not to throw; if it does, sending goes on and the next full save catches up.
      this.log.error({ error: err instanceof Error ? err.message : String(err) }, 'writing the delivery journal failed');
    }
  }

  /** One timer for the whole dispatcher, at the earliest moment anything is due. */
  private arm(): void {
    // While held nothing can leave, and release() processes: a timer now would only spin.
    if (this.closed || this.holds > 0) return;
    let due = Infinity;
    for (const lane of this.lanes.values()) due = Math.min(due, nextDue(lane));
    if (this.timer !== null && this.timer.at <= due) return;
    this.timer?.handle.cancel();
    this.timer = null;
    if (due === Infinity) return;
    const delay = Math.max(0, due - this.clock.now());
    const handle = this.clock.setTimer(delay, () => {
      this.timer = null;
      this.process();
    });
    this.timer = { handle, at: due };
  }

  private prune(now: number): void {
    for (const lane of this.lanes.values()) pruneLog(lane, now, this.retentionMs);
  }

  /** (receiver, alert) pairs not yet delivered. */
  pendingCount(): number {
    let n = 0;
    for (const lane of this.lanes.values()) for (const b of pendingBatches(lane)) n += b.alerts.length;
    return n;
  }

  private reportPending(): void {
    if (this.recorder.pending === undefined) return;
    const n = this.pendingCount();
    if (n === this.lastPending) return;
    this.lastPending = n;
    this.recorder.pending?.(n);
  }

  // ---- persistence -------------------------------------------------------------------------------

  /** Undelivered batches and the dedup log, as plain JSON for the state file. Holds no secrets. */
  snapshot(): NotifySnapshot {
    const out = [...this.lanes].flatMap(([receiver, lane]) => laneEntries(receiver, lane));
    // A deep copy: the caller may keep it while the lanes change.
    return JSON.parse(JSON.stringify(out)) as NotifySnapshot;
  }

  /**
   * Puts a snapshot back, before or after enqueue() calls. Entries for receivers that no longer exist
   * and malformed entries (a hand-edited or older state file) are dropped with a warning, each on its
   * own. A restored alert that the dedup log says was already delivered is not sent again.
   */
  restore(snapshot: unknown): void {
    const read = readNotifySnapshot(snapshot, (receiver) => this.lanes.has(receiver));
    let deliveries = 0;
    let notified = 0;
    for (const e of read.entries) {
      const lane = this.lanes.get(e.receiver);
      if (lane === undefined) continue; // not read: readNotifySnapshot leaves out unknown receivers
      if (e.type === 'notified') {
        const prev = lane.notified.get(e.fingerprint);
        if (prev === undefined || prev.at <= e.at) {
          lane.notified.set(e.fingerprint, toNotified(e));
          notified++;
        }
        continue;
      }
      const b = toBatch(e, (a) => stillOwed(lane, a));
      if (b.alerts.length === 0) continue;
      deliveries++;
      putBack(lane, b);
    }
    if (read.notAList) this.log.warn('notification state is not a list of entries; it was ignored');
    if (read.unknownReceivers.length > 0) this.log.warn({ receivers: read.unknownReceivers }, 'state names receivers that are no longer configured; their pending notifications are dropped');
    if (read.dropped > 0) this.log.warn({ entries: read.dropped }, 'unreadable notification state entries were dropped');
    this.log.info({ deliveries, notified }, 'notification state restored');
    this.reportPending();
    this.kick();
  }

  // ---- shutdown ----------------------------------------------------------------------------------

  /**
   * For shutdown: sends what is waiting now (group_wait cut short, retries brought forward once),
   * and resolves when nothing is in flight and nothing is due, or after timeoutMs. Whatever is still
   * pending stays in snapshot(). Returns the number of pending (receiver, alert) pairs.
   */
  async flush(timeoutMs: number): Promise<number> {
    if (!this.closed) {
      const now = this.clock.now();
      for (const lane of this.lanes.values()) bringForward(lane, now);
      this.process();
      await new Promise<void>((resolve) => {
        const t = this.clock.setTimer(timeoutMs, () => finish());
        const finish = (): void => {
          t.cancel();
          resolve();
        };
        this.idleWaiters.push(finish);
        this.checkIdle();
      });
    }
    return this.pendingCount();
  }

  private isIdle(): boolean {
    if (this.closed) return [...this.lanes.values()].every((l) => l.inFlight === null);
    const now = this.clock.now();
    return [...this.lanes.values()].every((l) => !isBusy(l, now));
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Stops sending: cancels the timer, aborts sends in flight (they stay pending for the snapshot)
   * and closes the notifiers, each even when another fails. Idempotent.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closed = true;
    this.timer?.handle.cancel();
    this.timer = null;
    this.closing = (async () => {
      const inFlight = [...this.lanes.values()].map((l) => l.inFlight).filter((f): f is InFlight => f !== null);
      for (const f of inFlight) f.controller.abort();
      await Promise.allSettled(inFlight.map((f) => f.done));
      for (const lane of this.lanes.values()) {
        try {
          await lane.notifier.close?.();
        } catch (err) {
          this.log.warn({ receiver: lane.notifier.name, error: err instanceof Error ? err.name : 'error' }, 'closing notifier failed');
        }
      }
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    })();
    return this.closing;
  }
}

/** A notifier that throws breaks its contract; the throw becomes a permanent failure, not a crash. */
async function safeNotify(n: Notifier, alerts: readonly AlertNotification[], signal: AbortSignal): Promise<NotifyResult> {
  try {
    return await n.notify(alerts, signal);
  } catch (e) {
    // Only the error's name: a thrown message from a third-party notifier is not known to be secret-free.
    const name = e instanceof Error ? e.name : typeof e;
    return { ok: false, recoverable: false, reason: 'other', error: new NotifyError(`${n.integration} receiver ${n.name}: notifier threw ${name}`, []) };
  }
}
