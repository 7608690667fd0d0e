/**
 * The Dispatcher's persisted state — undelivered batches and each receiver's notification log — as
 * a typed, versioned list of plain-JSON entries, and its reading back with zod.
 *
 * The state file outlives the process that wrote it and may be hand-edited or older, so it is read
 * one entry at a time: an unreadable entry is dropped and counted, the others still load. The
 * schemas are exported so the state file layer can embed them.
 */
import { z } from 'zod';
import { DELIVERY_OUTCOMES, type Notified, type DeliveryOutcome } from './dedup.js';
import { PHASES, pendingBatches, type Batch, type Lane, type Phase } from './lanes.js';
import { FAILURE_REASONS, type AlertNotification, type FailureReason } from './types.js';

/** A batch not yet delivered when the snapshot was taken. */
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

/** One entry of one receiver's notification log. */
export interface NotifiedSnapshot {
  readonly v: 1;
  readonly type: 'notified';
  readonly receiver: string;
  readonly fingerprint: string;
  readonly status: 'firing' | 'resolved';
  readonly startsAt: string;
  readonly at: number;
  readonly outcome: DeliveryOutcome;
  readonly seenAt: number;
}

export type NotifySnapshotEntry = DeliverySnapshot | NotifiedSnapshot;

/**
 * What Dispatcher.snapshot() returns and restore() takes. A mutable array type only because the
 * engine's persistence hook is typed `unknown[]`; the snapshot is a fresh copy, owned by the caller.
 */
export type NotifySnapshot = NotifySnapshotEntry[];

// ---- schemas ---------------------------------------------------------------------------------------

const num = z.number();
const numOrNull = num.nullable();
const status = z.enum(['firing', 'resolved']);
const stringMap = z.record(z.string(), z.string());

/*
 * Loose objects: a restored alert is sent exactly as it was stored, fields this version does not
 * know included, as the hand-written checks these replace did.
 */
const evidenceSchema = z.looseObject({
  signal: z.string(),
  key: z.string(),
  current: numOrNull,
  baseline: numOrNull,
  deviation: numOrNull,
  isNew: z.boolean(),
  window: z.string(),
  baselineWindow: z.string(),
  currentRuns: num,
  baselineRuns: num,
  pValue: numOrNull,
  threshold: num,
  direction: z.string(),
  contributors: z.array(z.looseObject({ name: z.string(), current: numOrNull, baseline: numOrNull })),
  exampleRunIds: z.array(z.string()),
});

export const alertNotificationSchema: z.ZodType<AlertNotification> = z.looseObject({
  fingerprint: z.string(),
  status,
  labels: stringMap,
  annotations: stringMap,
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  generatorURL: z.string(),
  evidence: evidenceSchema,
});

export const deliverySnapshotSchema: z.ZodType<DeliverySnapshot> = z.object({
  v: z.literal(1),
  type: z.literal('delivery'),
  receiver: z.string(),
  phase: z.enum(PHASES),
  dueAt: num,
  attempts: num,
  firstAttemptAt: numOrNull,
  // Only informational (logs): an unknown or missing reason reads as none rather than losing the batch.
  lastReason: z.enum(FAILURE_REASONS).nullable().catch(null),
  alerts: z.array(alertNotificationSchema),
});

export const notifiedSnapshotSchema: z.ZodType<NotifiedSnapshot> = z
  .object({
    v: z.literal(1),
    type: z.literal('notified'),
    receiver: z.string(),
    fingerprint: z.string(),
    status,
    startsAt: z.string(),
    at: num,
    outcome: z.enum(DELIVERY_OUTCOMES),
    // Older state files have no seenAt: the entry counts as seen when it was written.
    seenAt: num.optional().catch(undefined),
  })
  .transform(({ seenAt, ...e }) => ({ ...e, seenAt: seenAt ?? e.at }));

export const notifySnapshotEntrySchema: z.ZodType<NotifySnapshotEntry> = z.union([deliverySnapshotSchema, notifiedSnapshotSchema]);

/** The whole snapshot, strictly: one bad entry fails it. restore() reads entry by entry instead. */
export const notifySnapshotSchema: z.ZodType<NotifySnapshot> = z.array(notifySnapshotEntrySchema);

/** What every entry must have before its receiver is looked at. */
const envelopeSchema = z.object({ v: z.literal(1), receiver: z.string() });

/** An AlertNotification read back from JSON, or null when any field has the wrong shape. */
export function parseAlert(x: unknown): AlertNotification | null {
  const r = alertNotificationSchema.safeParse(x);
  return r.success ? r.data : null;
}

// ---- reading and writing ---------------------------------------------------------------------------

export interface SnapshotReading {
  /** The readable entries of configured receivers; log entries first, so the log is back before the batches it filters. */
  readonly entries: NotifySnapshotEntry[];
  /** Receivers named by entries that are not configured any more (their entries are left out). */
  readonly unknownReceivers: string[];
  /** Entries that could not be read: not a list item of this shape or version. */
  readonly dropped: number;
  /** The snapshot itself was not a list; nothing was read. */
  readonly notAList: boolean;
}

/** Reads a snapshot entry by entry; `isKnown` says which receivers are configured. */
export function readNotifySnapshot(x: unknown, isKnown: (receiver: string) => boolean): SnapshotReading {
  const list = z.array(z.unknown()).safeParse(x);
  if (!list.success) return { entries: [], unknownReceivers: [], dropped: 0, notAList: true };
  const entries: NotifySnapshotEntry[] = [];
  const unknownReceivers = new Set<string>();
  let dropped = 0;
  for (const raw of list.data) {
    const envelope = envelopeSchema.safeParse(raw);
    if (!envelope.success) {
      dropped++;
      continue;
    }
    if (!isKnown(envelope.data.receiver)) {
      unknownReceivers.add(envelope.data.receiver);
      continue;
    }
    const entry = notifySnapshotEntrySchema.safeParse(raw);
    if (entry.success) entries.push(entry.data);
    else dropped++;
  }
  // Stable: entries of one type keep their order.
  entries.sort((a, b) => rank(a) - rank(b));
  return { entries, unknownReceivers: [...unknownReceivers], dropped, notAList: false };
}

const rank = (e: NotifySnapshotEntry): number => (e.type === 'notified' ? 0 : 1);

/** One lane's undelivered batches and log, as snapshot entries. */
export function laneEntries(receiver: string, lane: Lane): NotifySnapshotEntry[] {
  const out: NotifySnapshotEntry[] = [];
  for (const b of pendingBatches(lane)) {
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
  return out;
}

/** A delivery entry as a batch again, with only the alerts `keep` lets through. */
export function toBatch(e: DeliverySnapshot, keep: (a: AlertNotification) => boolean): Batch {
  const { receiver, phase, dueAt, attempts, firstAttemptAt, lastReason } = e;
  return { receiver, alerts: e.alerts.filter(keep), phase, dueAt, attempts, firstAttemptAt, lastReason };
}

/** A log entry without its envelope. */
export function toNotified(e: NotifiedSnapshot): Notified {
  return { status: e.status, startsAt: e.startsAt, at: e.at, outcome: e.outcome, seenAt: e.seenAt };
}
