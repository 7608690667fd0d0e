/**
 * The Dispatcher's journal records: written (and fsynced) before a batch is sent and as soon as its
 * outcome is known, so a crash between two full saves of the state file repeats at most the request
 * that was in flight, never a delivery the receiver already accepted, and loses none.
 *
 *   attempt  — about to send this batch to this receiver (the alerts as sent)
 *   outcome  — the receiver accepted it (`sent`), or it was given up on (`failed`)
 *
 * This is the port the Dispatcher writes to; the file is persist/stateJournal.ts's, and reading the
 * records back at a start is persist/deliveryReplay.ts's.
 */
import type { AlertNotification } from './types.js';

/** One transition, as the log keys it. */
export interface TransitionRef {
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly startsAt: string;
}

export type DeliveryRecord =
  | { readonly kind: 'attempt'; readonly receiver: string; readonly at: number; readonly attempt: number; readonly alerts: readonly AlertNotification[] }
  | { readonly kind: 'outcome'; readonly receiver: string; readonly at: number; readonly outcome: 'sent' | 'failed'; readonly transitions: readonly TransitionRef[] };

/** Where the Dispatcher writes its records. Must not throw: a failure to write is the writer's to report. */
export interface DeliveryJournal {
  record(r: DeliveryRecord): void;
}

export const transitionOf = (a: TransitionRef): TransitionRef => ({ fingerprint: a.fingerprint, status: a.status, startsAt: a.startsAt });
