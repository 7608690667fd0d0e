/**
 * The dedup stage, as Alertmanager's nflog check: given what one receiver was last told about an
 * alert series (its notification log entry) and what is already on its way to that receiver, is an
 * incoming transition sent, left alone, or suppressed — and what does the log say afterwards?
 *
 * A pure decision: no I/O and no clock (the time to record comes in as an argument). The Dispatcher
 * carries it out on its lanes; keeping the rules here makes each one a row in a table test.
 */
import type { AlertNotification } from './types.js';

export const DELIVERY_OUTCOMES = ['sent', 'failed', 'suppressed'] as const;
/** What became of a transition meant for a receiver. */
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** What one receiver was last told (or not told, and why) about one alert series: its log entry. */
export interface Notified {
  status: 'firing' | 'resolved';
  startsAt: string;
  /** When it was sent, given up on, or suppressed: repeat_interval counts from here. */
  at: number;
  outcome: DeliveryOutcome;
  /** Last time refreshFiring listed it; keeps a long-firing alert's entry from being pruned. */
  seenAt: number;
}

/** What is on its way to the receiver already (one lane's batches, as alerts). */
export interface Pending {
  /** The batch still collecting during group_wait. */
  readonly waiting: readonly AlertNotification[];
  /** Batches past group_wait: queued, in flight or retrying. */
  readonly queued: readonly AlertNotification[];
}

export type DedupDecision =
  /** Into the receiver's batch. */
  | { readonly kind: 'send' }
  /** The log says this transition was handled already: nothing to do. */
  | { readonly kind: 'skip'; readonly why: string }
  /** The same transition is on its way: a copy still in group_wait takes the newer content. */
  | { readonly kind: 'pending'; readonly why: string }
  /** Resolved while its firing message is still in group_wait: take that message out, log `record`. */
  | { readonly kind: 'withdraw'; readonly why: string; readonly record: Notified }
  /** Not sent; the log gets `record` when there is one (none while the firing message is still on its way). */
  | { readonly kind: 'suppress'; readonly why: string; readonly record: Notified | null };

export interface DedupInput {
  /** The receiver's log entry for this fingerprint, if it has one. */
  readonly last: Notified | undefined;
  readonly incoming: AlertNotification;
  readonly pending: Pending;
  /** send_resolved of the route that brought the alert to this receiver. */
  readonly sendResolved: boolean;
  /** The time a suppression is logged at. */
  readonly now: number;
}

/** One transition: the same series, status and episode (startsAt). */
export function sameTransition(a: AlertNotification, b: AlertNotification): boolean {
  return a.fingerprint === b.fingerprint && a.status === b.status && a.startsAt === b.startsAt;
}

/** `a` is the firing message that `resolved` resolves. */
export function isFiringOf(a: AlertNotification, resolved: AlertNotification): boolean {
  return a.fingerprint === resolved.fingerprint && a.status === 'firing' && a.startsAt === resolved.startsAt;
}

const SEND: DedupDecision = { kind: 'send' };

export function dedup({ last, incoming: n, pending, sendResolved, now }: DedupInput): DedupDecision {
  const thisEpisode = last !== undefined && last.startsAt === n.startsAt;
  if (thisEpisode && last.status === n.status) return { kind: 'skip', why: 'already notified; not sent again' };
  if (thisEpisode && last.status === 'resolved' && n.status === 'firing') {
    return { kind: 'skip', why: 'firing transition arrived after its own resolution; not sent' };
  }
  const same = (a: AlertNotification): boolean => sameTransition(a, n);
  if (pending.waiting.some(same) || pending.queued.some(same)) return { kind: 'pending', why: 'already pending; not queued again' };
  if (n.status === 'firing') return SEND;

  const suppressed: Notified = { status: 'resolved', startsAt: n.startsAt, at: now, outcome: 'suppressed', seenAt: now };
  const firing = (a: AlertNotification): boolean => isFiringOf(a, n);
  // Fired and cleared within group_wait: the receiver hears neither, as in Alertmanager.
  if (pending.waiting.some(firing)) {
    return { kind: 'withdraw', why: 'resolved before its firing notification left group_wait; neither is sent', record: suppressed };
  }
  const firingOnItsWay = pending.queued.some(firing);
  const heardItFire = thisEpisode && last.status === 'firing' && last.outcome === 'sent';
  if (!firingOnItsWay && !heardItFire) {
    return { kind: 'suppress', why: 'resolved, but this receiver was never told it fired; not sent', record: suppressed };
  }
  if (!sendResolved) {
    // With the firing message still on its way, the log is left for its outcome to write.
    return { kind: 'suppress', why: 'resolved; send_resolved is off for this route', record: firingOnItsWay ? null : suppressed };
  }
  return SEND;
}
