/**
 * Folds the delivery records written after a snapshot (notify/journal.ts) into its notification
 * section: an outcome becomes the receiver's log entry (and takes the transition out of the pending
 * batches); an attempt with no outcome goes back as a batch to retry. Pure: the file is
 * stateJournal.ts's. Records of another shape (a newer agentdrift's) are skipped and counted.
 */
import { z } from 'zod';
import type { TransitionRef } from '../notify/journal.js';
import { alertNotificationSchema, type DeliverySnapshot, type NotifiedSnapshot } from '../notify/snapshot.js';
import type { AlertNotification } from '../notify/types.js';

const transitionSchema = z.object({ fingerprint: z.string(), status: z.enum(['firing', 'resolved']), startsAt: z.string() });
const recordSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('attempt'), receiver: z.string(), at: z.number(), attempt: z.number(), alerts: z.array(alertNotificationSchema) }),
  z.object({ kind: z.literal('outcome'), receiver: z.string(), at: z.number(), outcome: z.enum(['sent', 'failed']), transitions: z.array(transitionSchema) }),
]);

const keyOf = (receiver: string, t: TransitionRef): string => JSON.stringify([receiver, t.fingerprint, t.status, t.startsAt]);

export interface Replay {
  /** The notification section with the journal folded in, for Dispatcher.restore(). */
  readonly notifications: unknown[];
  /** Records applied. */
  readonly applied: number;
  /** (receiver, alert) pairs whose request was in flight at the crash: sent again. */
  readonly inFlight: number;
  /** Records of another shape (a newer agentdrift's): skipped. */
  readonly unreadable: number;
}

export function replayDeliveries(notifications: readonly unknown[], records: readonly unknown[]): Replay {
  // Per transition and receiver: the alert of an attempt without outcome yet, in attempt order.
  const open = new Map<string, { receiver: string; at: number; attempt: number; alert: AlertNotification }>();
  const settled = new Set<string>();
  const log: NotifiedSnapshot[] = [];
  let applied = 0;
  let unreadable = 0;
  for (const raw of records) {
    const r = recordSchema.safeParse(raw);
    if (!r.success) {
      unreadable++;
      continue;
    }
    applied++;
    const rec = r.data;
    if (rec.kind === 'attempt') {
      for (const alert of rec.alerts) open.set(keyOf(rec.receiver, alert), { receiver: rec.receiver, at: rec.at, attempt: rec.attempt, alert });
      continue;
    }
    for (const t of rec.transitions) {
      const key = keyOf(rec.receiver, t);
      open.delete(key);
      settled.add(key);
      log.push({ v: 1, type: 'notified', receiver: rec.receiver, ...t, at: rec.at, outcome: rec.outcome, seenAt: rec.at });
    }
  }

  // The snapshot's pending batches lose what the journal says was settled after it was taken.
  const out: unknown[] = [];
  for (const e of notifications) {
    const d = e as Partial<DeliverySnapshot>;
    if (d?.type !== 'delivery' || typeof d.receiver !== 'string' || !Array.isArray(d.alerts)) {
      out.push(e);
      continue;
    }
    const receiver = d.receiver;
    const alerts = d.alerts.filter((a) => !settled.has(keyOf(receiver, a)));
    if (alerts.length > 0) out.push({ ...d, alerts });
  }
  out.push(...log);

  // In flight at the crash: it may or may not have arrived, so it is sent again (at-least-once for
  // that one request). One batch per receiver and attempt, as it was sent.
  const batches = new Map<string, DeliverySnapshot & { alerts: AlertNotification[] }>();
  for (const o of open.values()) {
    const id = JSON.stringify([o.receiver, o.at, o.attempt]);
    const b = batches.get(id) ?? { v: 1, type: 'delivery', receiver: o.receiver, phase: 'retrying', dueAt: o.at, attempts: o.attempt, firstAttemptAt: o.at, lastReason: null, alerts: [] };
    b.alerts.push(o.alert);
    batches.set(id, b);
  }
  out.push(...batches.values());
  return { notifications: out, applied, inFlight: open.size, unreadable };
}
