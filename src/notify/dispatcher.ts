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
 * Time comes from an injected Clock; nothing here calls Date.now or setTimeout.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.js';
import { NotifyError } from './redact.js';
import { routeAlert, type RouteNode, type RouteTarget } from './route.js';
import { FAILURE_REASONS, nullRecorder, type AlertNotification, type FailureReason, type Notifier, type NotifyRecorder, type NotifyResult } from './types.js';

export interface RetryPolicy {
  /** First retry after this long; doubled per attempt. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Give up on a delivery once retrying it would take longer than this since its first attempt. */
  readonly giveUpAfterMs: number;
  /** Spread of the random factor around each delay: 0.2 means ×[0.9, 1.1]. */
  readonly jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialBackoffMs: 1000, maxBackoffMs: 60_000, giveUpAfterMs: 3600_000, jitter: 0.2 };

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
}

type Phase = 'waiting' | 'queued' | 'retrying';

interface Batch {
  readonly receiver: string;
  alerts: AlertNotification[];
  phase: Phase;
  /** waiting: end of group_wait; queued/retrying: earliest next attempt. */
  dueAt: number;
  attempts: number;
  firstAttemptAt: number | null;
  lastReason: FailureReason | null;
}

type Outcome = 'sent' | 'failed' | 'suppressed';

/** What one receiver was last told (or not told, and why) about one alert series. */
interface Notified {
  status: 'firing' | 'resolved';
  startsAt: string;
  /** When it was sent, given up on, or suppressed: repeat_interval counts from here. */
  at: number;
  outcome: Outcome;
  /** Last time refreshFiring listed it; keeps a long-firing alert's entry from being pruned. */
  seenAt: number;
}

interface InFlight {
  readonly batch: Batch;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

interface Lane {
  readonly notifier: Notifier;
  /**
   * The batch collecting alerts during group_wait: one per receiver, so the receiver gets one
   * message for everything that started firing together, whichever routes brought it.
   */
  waiting: Batch | null;
  /** Due or retrying batches, sent strictly in order. */
  readonly queue: Batch[];
  inFlight: InFlight | null;
  readonly notified: Map<string, Notified>;
}

/** Snapshot entries: plain JSON, versioned so a future format can tell them apart. */
export interface DeliverySnapshot {
  readonly v: 1;
  readonly type: 'delivery';
  readonly receiver: string;
  readonly phase: Phase;
  readonly dueAt: number;
  readonly attempts: number;
  readonly firstAttemptAt: number | null;
  readonly lastReason: FailureReason | null;
  readonly alerts: AlertNotification[];
}

export interface NotifiedSnapshot {
  readonly v: 1;
  readonly type: 'notified';
  readonly receiver: string;
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly startsAt: string;
  readonly at: number;
  readonly outcome: Outcome;
  readonly seenAt: number;
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

  constructor(opts: DispatcherOptions) {
    this.route = opts.route;
    this.recorder = opts.recorder ?? nullRecorder;
    this.log = (opts.logger ?? silentLogger).child({ component: 'notify' });
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.retentionMs = opts.historyRetentionMs ?? DEFAULT_HISTORY_RETENTION_MS;
    for (const n of opts.notifiers) {
      if (this.lanes.has(n.name)) throw new Error(`duplicate receiver name ${JSON.stringify(n.name)}`);
      this.lanes.set(n.name, { notifier: n, waiting: null, queue: [], inFlight: null, notified: new Map() });
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
        if (this.refreshPending(lane, n)) continue;
        if (rec === undefined || rec.startsAt !== n.startsAt) {
          this.accept(lane, target, n);
          continue;
        }
        if (rec.status !== 'firing') continue;
        const resend = lane.notifier.resendIntervalMs;
        const interval = resend !== undefined ? Math.min(target.repeatIntervalMs, resend) : target.repeatIntervalMs;
        if (now - rec.at >= interval) this.addToBatch(lane, target, n, now, true);
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

  /** Dedup, then into a batch. */
  private accept(lane: Lane, target: RouteTarget, n: AlertNotification): void {
    const now = this.clock.now();
    const receiver = lane.notifier.name;
    const rec = lane.notified.get(n.fingerprint);
    const fields = { receiver, fingerprint: n.fingerprint, alertname: n.labels.alertname, status: n.status };
    if (rec !== undefined && rec.status === n.status && rec.startsAt === n.startsAt) {
      this.log.debug(fields, 'already notified; not sent again');
      return;
    }
    if (rec !== undefined && rec.status === 'resolved' && n.status === 'firing' && rec.startsAt === n.startsAt) {
      this.log.debug(fields, 'firing transition arrived after its own resolution; not sent');
      return;
    }
    if (this.findPending(lane, n, (a) => a.status === n.status && a.startsAt === n.startsAt) !== null) {
      this.refreshPending(lane, n);
      this.log.debug(fields, 'already pending; not queued again');
      return;
    }
    if (n.status === 'resolved') {
      // Fired and cleared within group_wait: the receiver hears neither, as in Alertmanager.
      const waiting = lane.waiting;
      if (waiting !== null && waiting.alerts.some((a) => isFiringOf(a, n))) {
        waiting.alerts = waiting.alerts.filter((a) => !isFiringOf(a, n));
        if (waiting.alerts.length === 0) lane.waiting = null;
        lane.notified.set(n.fingerprint, { status: 'resolved', startsAt: n.startsAt, at: now, outcome: 'suppressed', seenAt: now });
        this.log.debug(fields, 'resolved before its firing notification left group_wait; neither is sent');
        return;
      }
      const firingOnItsWay = this.findPending(lane, n, (a) => isFiringOf(a, n)) !== null;
      const heardItFire = rec !== undefined && rec.status === 'firing' && rec.startsAt === n.startsAt && rec.outcome === 'sent';
      if (!firingOnItsWay && !heardItFire) {
        lane.notified.set(n.fingerprint, { status: 'resolved', startsAt: n.startsAt, at: now, outcome: 'suppressed', seenAt: now });
        this.log.debug(fields, 'resolved, but this receiver was never told it fired; not sent');
        return;
      }
      if (!target.sendResolved) {
        if (!firingOnItsWay) lane.notified.set(n.fingerprint, { status: 'resolved', startsAt: n.startsAt, at: now, outcome: 'suppressed', seenAt: now });
        this.log.debug(fields, 'resolved; send_resolved is off for this route');
        return;
      }
    }
    this.addToBatch(lane, target, n, now, false);
  }

  /**
   * Joins the receiver's open batch, or opens one. The batch leaves when the earliest of its alerts'
   * waits ends: group_wait of the route that brought each, nothing for a re-send.
   */
  private addToBatch(lane: Lane, target: RouteTarget, n: AlertNotification, now: number, immediate: boolean): void {
    const dueAt = immediate ? now : now + target.groupWaitMs;
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

  private pendingBatches(lane: Lane): Batch[] {
    return lane.waiting !== null ? [...lane.queue, lane.waiting] : lane.queue;
  }

  private findPending(lane: Lane, n: AlertNotification, pred: (a: AlertNotification) => boolean): Batch | null {
    for (const b of this.pendingBatches(lane)) {
      if (b.alerts.some((a) => a.fingerprint === n.fingerprint && pred(a))) return b;
    }
    return null;
  }

  /**
   * True when this firing alert is already on its way to the lane. A batch still waiting gets the
   * newer content (fresher numbers); one already queued or retrying is left alone.
   */
  private refreshPending(lane: Lane, n: AlertNotification): boolean {
    const w = lane.waiting;
    const i = w !== null ? w.alerts.findIndex((a) => sameTransition(a, n)) : -1;
    if (w !== null && i >= 0) {
      w.alerts[i] = n;
      return true;
    }
    return lane.queue.some((b) => b.alerts.some((a) => sameTransition(a, n)));
  }

  // ---- sending -----------------------------------------------------------------------------------

  /** Defers processing to a timer, so enqueue() never sends from inside the caller's stack. */
  private kick(): void {
    this.arm();
  }

  private process(): void {
    const now = this.clock.now();
    for (const lane of this.lanes.values()) {
      const b = lane.waiting;
      if (b !== null && b.dueAt <= now) {
        lane.waiting = null;
        b.phase = 'queued';
        lane.queue.push(b);
      }
      this.pump(lane, now);
    }
    this.arm();
    this.checkIdle();
  }

  private pump(lane: Lane, now: number): void {
    if (this.closed || lane.inFlight !== null) return;
    const batch = lane.queue[0];
    if (batch === undefined || batch.dueAt > now) return;
    batch.attempts++;
    if (batch.firstAttemptAt === null) batch.firstAttemptAt = now;
    const controller = new AbortController();
    const done = safeNotify(lane.notifier, batch.alerts, controller.signal).then((r) => this.onResult(lane, batch, r));
    lane.inFlight = { batch, controller, done };
  }

  private onResult(lane: Lane, batch: Batch, r: NotifyResult): void {
    lane.inFlight = null;
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
      this.removeHead(lane, batch);
      for (const a of batch.alerts) this.record(lane, a, now, 'sent');
      this.recorder.sent(receiver, integration);
      this.log.info(fields, `notified ${receiver} (${integration}) of ${batch.alerts.length} alert(s)`);
    } else if (r.recoverable && this.closed) {
      // Shutting down: not a failure of the receiver. The batch stays for the snapshot.
      batch.phase = 'retrying';
      batch.lastReason = r.reason;
      batch.dueAt = now;
    } else if (r.recoverable) {
      const delay = this.backoff(batch.attempts, r.retryAfterMs);
      const elapsed = now - (batch.firstAttemptAt ?? now);
      if (elapsed + delay > this.retry.giveUpAfterMs) {
        this.drop(lane, batch, r, now, `gave up after ${batch.attempts} attempts`, fields);
      } else {
        batch.phase = 'retrying';
        batch.lastReason = r.reason;
        batch.dueAt = now + delay;
        this.recorder.retry(receiver, integration);
        this.log.warn({ ...fields, reason: r.reason, retryInMs: delay, error: r.error.message }, `notifying ${receiver} failed (${r.reason}); retrying in ${delay}ms`);
      }
    } else {
      this.drop(lane, batch, r, now, 'permanent failure, not retried', fields);
    }
    this.reportPending();
    this.process();
  }

  private drop(lane: Lane, batch: Batch, r: Extract<NotifyResult, { ok: false }>, now: number, why: string, fields: object): void {
    const { name: receiver, integration } = lane.notifier;
    this.removeHead(lane, batch);
    // Recorded, so a duplicate of the same transition is not retried; a firing alert is tried
    // again at its next repeat_interval.
    for (const a of batch.alerts) this.record(lane, a, now, 'failed');
    this.recorder.failed(receiver, integration, r.reason);
    this.log.error({ ...fields, reason: r.reason, error: r.error.message }, `notifying ${receiver} failed: ${why}`);
  }

  private removeHead(lane: Lane, batch: Batch): void {
    const i = lane.queue.indexOf(batch);
    if (i >= 0) lane.queue.splice(i, 1);
  }

  private record(lane: Lane, a: AlertNotification, now: number, outcome: Outcome): void {
    const prev = lane.notified.get(a.fingerprint);
    lane.notified.set(a.fingerprint, { status: a.status, startsAt: a.startsAt, at: now, outcome, seenAt: Math.max(now, prev?.seenAt ?? 0) });
  }

  /** Exponential with jitter, capped; never sooner than the receiver's Retry-After. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { initialBackoffMs, maxBackoffMs, jitter } = this.retry;
    const base = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
    const jittered = Math.round(base * (1 - jitter / 2 + this.random() * jitter));
    return Math.max(jittered, retryAfterMs ?? 0);
  }

  /** One timer for the whole dispatcher, at the earliest moment anything is due. */
  private arm(): void {
    if (this.closed) return;
    let due = Infinity;
    for (const lane of this.lanes.values()) {
      if (lane.waiting !== null) due = Math.min(due, lane.waiting.dueAt);
      const head = lane.queue[0];
      if (head !== undefined && lane.inFlight === null) due = Math.min(due, head.dueAt);
    }
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
    for (const lane of this.lanes.values()) {
      for (const [fp, rec] of lane.notified) {
        if (now - Math.max(rec.at, rec.seenAt) <= this.retentionMs) continue;
        if (this.pendingBatches(lane).some((b) => b.alerts.some((a) => a.fingerprint === fp))) continue;
        lane.notified.delete(fp);
      }
    }
  }

  /** (receiver, alert) pairs not yet delivered. */
  pendingCount(): number {
    let n = 0;
    for (const lane of this.lanes.values()) for (const b of this.pendingBatches(lane)) n += b.alerts.length;
    return n;
  }

  private reportPending(): void {
    const n = this.pendingCount();
    if (n === this.lastPending) return;
    this.lastPending = n;
    this.recorder.pending(n);
  }

  // ---- persistence -------------------------------------------------------------------------------

  /** Undelivered batches and the dedup log, as plain JSON for the state file. Holds no secrets. */
  snapshot(): unknown[] {
    const out: (DeliverySnapshot | NotifiedSnapshot)[] = [];
    for (const [receiver, lane] of this.lanes) {
      for (const b of this.pendingBatches(lane)) {
        out.push({
          v: 1,
          type: 'delivery',
          receiver,
          // In flight at snapshot time: it may or may not arrive, so it is kept to be sent again.
          phase: b.phase === 'waiting' ? 'waiting' : b.attempts > 0 ? 'retrying' : 'queued',
          dueAt: b.dueAt,
          attempts: b.attempts,
          firstAttemptAt: b.firstAttemptAt,
          lastReason: b.lastReason,
          alerts: b.alerts,
        });
      }
      for (const [fingerprint, r] of lane.notified) out.push({ v: 1, type: 'notified', receiver, fingerprint, ...r });
    }
    return JSON.parse(JSON.stringify(out)) as unknown[];
  }

  /**
   * Puts a snapshot back, before or after enqueue() calls. Entries for receivers that no longer exist
   * and malformed entries (a hand-edited or older state file) are dropped with a warning. A restored
   * alert that the dedup log says was already delivered is not sent again.
   */
  restore(entries: readonly unknown[]): void {
    let dropped = 0;
    const unknownReceivers = new Set<string>();
    let deliveries = 0;
    let notified = 0;
    const ordered = [...entries].sort((a, b) => rank(a) - rank(b));
    for (const e of ordered) {
      if (!isRecord(e) || e.v !== 1 || typeof e.receiver !== 'string') {
        dropped++;
        continue;
      }
      const lane = this.lanes.get(e.receiver);
      if (lane === undefined) {
        unknownReceivers.add(e.receiver);
        continue;
      }
      if (e.type === 'notified') {
        const rec = parseNotified(e);
        if (rec === null) {
          dropped++;
          continue;
        }
        const prev = lane.notified.get(rec.fingerprint);
        if (prev === undefined || prev.at <= rec.at) {
          lane.notified.set(rec.fingerprint, { status: rec.status, startsAt: rec.startsAt, at: rec.at, outcome: rec.outcome, seenAt: rec.seenAt });
          notified++;
        }
      } else if (e.type === 'delivery') {
        const b = parseDelivery(e);
        if (b === null) {
          dropped++;
          continue;
        }
        b.alerts = b.alerts.filter((a) => {
          const rec = lane.notified.get(a.fingerprint);
          const delivered = rec !== undefined && rec.status === a.status && rec.startsAt === a.startsAt && rec.outcome === 'sent';
          const dup = this.findPending(lane, a, (p) => p.status === a.status && p.startsAt === a.startsAt) !== null;
          return !delivered && !dup;
        });
        if (b.alerts.length === 0) continue;
        deliveries++;
        if (b.phase === 'waiting') {
          const open = lane.waiting;
          if (open === null) lane.waiting = b;
          else {
            open.alerts.push(...b.alerts);
            open.dueAt = Math.min(open.dueAt, b.dueAt);
          }
        } else lane.queue.push(b);
      } else dropped++;
    }
    if (unknownReceivers.size > 0) this.log.warn({ receivers: [...unknownReceivers] }, 'state names receivers that are no longer configured; their pending notifications are dropped');
    if (dropped > 0) this.log.warn({ entries: dropped }, 'unreadable notification state entries were dropped');
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
      for (const lane of this.lanes.values()) {
        for (const b of this.pendingBatches(lane)) b.dueAt = Math.min(b.dueAt, now);
      }
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
    for (const lane of this.lanes.values()) {
      if (lane.inFlight !== null) return false;
      const head = lane.queue[0];
      if (head !== undefined && head.dueAt <= now) return false;
      if (lane.waiting !== null && lane.waiting.dueAt <= now) return false;
    }
    return true;
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

function sameTransition(a: AlertNotification, b: AlertNotification): boolean {
  return a.fingerprint === b.fingerprint && a.status === b.status && a.startsAt === b.startsAt;
}

function isFiringOf(a: AlertNotification, resolved: AlertNotification): boolean {
  return a.fingerprint === resolved.fingerprint && a.status === 'firing' && a.startsAt === resolved.startsAt;
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

// ---- snapshot parsing ------------------------------------------------------------------------------

function rank(e: unknown): number {
  return isRecord(e) && e.type === 'notified' ? 0 : 1;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

function isStringMap(x: unknown): x is Record<string, string> {
  return isRecord(x) && Object.values(x).every((v) => typeof v === 'string');
}

const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const numOrNull = (x: unknown): x is number | null => x === null || num(x);

function parseNotified(e: Record<string, unknown>): NotifiedSnapshot | null {
  if (typeof e.fingerprint !== 'string' || (e.status !== 'firing' && e.status !== 'resolved') || typeof e.startsAt !== 'string') return null;
  if (!num(e.at) || (e.outcome !== 'sent' && e.outcome !== 'failed' && e.outcome !== 'suppressed')) return null;
  return { v: 1, type: 'notified', receiver: e.receiver as string, fingerprint: e.fingerprint, status: e.status, startsAt: e.startsAt, at: e.at, outcome: e.outcome, seenAt: num(e.seenAt) ? e.seenAt : e.at };
}

function parseDelivery(e: Record<string, unknown>): Batch | null {
  if (!num(e.dueAt) || !num(e.attempts) || !numOrNull(e.firstAttemptAt) || !Array.isArray(e.alerts)) return null;
  const phase = e.phase === 'waiting' || e.phase === 'queued' || e.phase === 'retrying' ? e.phase : null;
  if (phase === null) return null;
  const reason = (FAILURE_REASONS as readonly unknown[]).includes(e.lastReason) ? (e.lastReason as FailureReason) : null;
  const alerts = e.alerts.map(parseAlert);
  if (alerts.some((a) => a === null)) return null;
  return {
    receiver: e.receiver as string,
    alerts: alerts as AlertNotification[],
    phase,
    dueAt: e.dueAt,
    attempts: e.attempts,
    firstAttemptAt: e.firstAttemptAt,
    lastReason: reason,
  };
}

/** An AlertNotification read back from JSON, or null when any field has the wrong shape. */
export function parseAlert(x: unknown): AlertNotification | null {
  if (!isRecord(x)) return null;
  if (typeof x.fingerprint !== 'string' || (x.status !== 'firing' && x.status !== 'resolved')) return null;
  if (!isStringMap(x.labels) || !isStringMap(x.annotations) || typeof x.startsAt !== 'string') return null;
  if (x.endsAt !== null && typeof x.endsAt !== 'string') return null;
  if (typeof x.generatorURL !== 'string' || !isRecord(x.evidence)) return null;
  const ev = x.evidence;
  if (typeof ev.signal !== 'string' || typeof ev.key !== 'string' || !Array.isArray(ev.contributors) || !Array.isArray(ev.exampleRunIds)) return null;
  if (!numOrNull(ev.current) || !numOrNull(ev.baseline) || !numOrNull(ev.deviation) || !numOrNull(ev.pValue)) return null;
  if (!num(ev.currentRuns) || !num(ev.baselineRuns) || !num(ev.threshold) || typeof ev.isNew !== 'boolean') return null;
  if (typeof ev.window !== 'string' || typeof ev.baselineWindow !== 'string' || typeof ev.direction !== 'string') return null;
  if (!ev.exampleRunIds.every((r) => typeof r === 'string')) return null;
  if (!ev.contributors.every((c) => isRecord(c) && typeof c.name === 'string' && numOrNull(c.current) && numOrNull(c.baseline))) return null;
  return x as unknown as AlertNotification;
}
