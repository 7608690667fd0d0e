/**
 * The daemon's state file, so a restart neither re-sends a firing alert nor forgets to send its
 * resolution, nor restarts a pending timer. One section per owner: the engine's alert state (read and
 * written here, validated with zod) and notify/'s delivery state (stored as given, validated by
 * notify/). Behind an interface (as in Grafana ngalert) so the daemon uses a file and tests memory.
 */
import { ERR } from '../util/errors.js';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { deserializeAlerts, serializeAlerts, type SerializedAlert } from '../alerting/serialize.js';
import type { AlertStates } from '../alerting/state.js';

export { deserializeAlerts, serializeAlerts, type SerializedAlert };

/** The version this agentdrift writes; it reads 1, 2 and 3. */
export const STATE_VERSION = 3;

/**
 * The state file: one section per owner. The engine owns `alerts`; notify/ owns `notifications`
 * (its dedup log and undelivered batches), which this layer stores as given and notify/ validates.
 */
export interface Snapshot {
  readonly version: 3;
  /** When the snapshot was taken (ms); 0 for the empty snapshot of a first start. */
  readonly savedAt: number;
  /**
   * The last journal record (see stateJournal.ts) this snapshot already holds: at start, only later
   * records are replayed on top of it. 0 for files older than version 3 (replay every record).
   */
  readonly journalSeq: number;
  readonly alerts: readonly SerializedAlert[];
  readonly notifications: readonly unknown[];
}

export interface StateStore {
  /** The last saved snapshot, or an empty one when nothing was ever saved. */
  load(): Promise<Snapshot>;
  save(snapshot: Snapshot): Promise<void>;
}

/**
 * What went wrong with the state: `corrupt` (read, but not a state file this agentdrift can use),
 * `unreadable` (could not be read at all), `write` (could not be saved).
 */
export type StateFileProblem = 'corrupt' | 'unreadable' | 'write';

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  readonly errorCode = ERR.STATE_FILE;
  constructor(
    readonly path: string,
    message: string,
    readonly problem: StateFileProblem = 'write',
  ) {
    super(message);
  }
}

export function emptySnapshot(): Snapshot {
  return { version: 3, savedAt: 0, journalSeq: 0, alerts: [], notifications: [] };
}

/** A whole snapshot from the alert states and the notification section. */
export function toSnapshot(states: AlertStates, notifications: readonly unknown[], savedAt: number, journalSeq = 0): Snapshot {
  return { version: 3, savedAt, journalSeq, alerts: serializeAlerts(states), notifications: [...notifications] };
}

/** The alert states of a snapshot. */
export function fromSnapshot(snapshot: Snapshot): AlertStates {
  return deserializeAlerts(snapshot.alerts);
}


const time = z.number();
const nullableTime = time.nullable();

const recordSchema = z
  .object({
    state: z.enum(['inactive', 'pending', 'firing', 'resolved', 'nodata', 'error']),
    activeAt: nullableTime,
    firedAt: nullableTime,
    resolvedAt: nullableTime,
    lastEvalAt: time,
    health: z.enum(['ok', 'nodata', 'error']),
    lastError: z.string().nullable(),
    keepFiringSince: nullableTime.optional(),
  })
  // The machine reads these timestamps in these states; a record without them would fire early,
  // never fire, or never leave resolved.
  .refine((r) => !(r.state === 'pending' || r.state === 'firing') || r.activeAt !== null, {
    message: 'a pending or firing record needs activeAt',
  })
  .refine((r) => r.state !== 'firing' || r.firedAt !== null, { message: 'a firing record needs firedAt' })
  .refine((r) => r.state !== 'resolved' || r.resolvedAt !== null, { message: 'a resolved record needs resolvedAt' });

// JSON has no Infinity or NaN: a value that was not finite comes back as null, which every numeric
// field of the evidence allows (null = not computable).
const maybeNumber = z.number().nullable();
const evidenceSchema = z.object({
  current: maybeNumber,
  baseline: maybeNumber,
  deviation: maybeNumber,
  isNew: z.boolean(),
  currentRuns: z.number(),
  baselineRuns: z.number(),
  contributors: z.array(z.object({ name: z.string(), current: maybeNumber, baseline: maybeNumber })),
  exampleRunIds: z.array(z.string()),
  pValue: maybeNumber,
});

const alertSchema = z.object({
  alert: z.string().min(1),
  // Version 1 files have no key, evidence or measured: the next evaluation fills them in.
  key: z.string().default(''),
  labels: z.record(z.string(), z.string()),
  record: recordSchema,
  annotations: z.record(z.string(), z.string()).optional(),
  evidence: evidenceSchema.optional(),
  measured: z.boolean().default(false),
  frozenBaseline: z.number().optional(),
  accepted: z.object({ at: time, reason: z.string(), baseline: z.number(), until: time }).optional(),
  rule: z
    .object({
      alert: z.string(),
      signal: z.string(),
      labels: z.record(z.string(), z.string()),
      window: z.string(),
      baselineWindow: z.string(),
      threshold: z.number(),
      direction: z.string(),
    })
    .optional(),
});

const snapshotSchema = z.object({
  version: z.literal(3),
  savedAt: time,
  journalSeq: z.number().int().nonnegative(),
  alerts: z.array(alertSchema),
  notifications: z.array(z.unknown()),
});

/** Version 2 had no journal: every journal record found beside it is newer than it. */
const snapshotV2Schema = z
  .object({ version: z.literal(2), savedAt: time, alerts: z.array(alertSchema), notifications: z.array(z.unknown()) })
  .transform(({ savedAt, alerts, notifications }) => ({ version: 3 as const, savedAt, journalSeq: 0, alerts, notifications }));

/** Version 1 kept the notification section under `deliveries`; everything else reads as version 2. */
const snapshotV1Schema = z
  .object({ version: z.literal(1), savedAt: time, alerts: z.array(alertSchema), deliveries: z.array(z.unknown()) })
  .transform(({ savedAt, alerts, deliveries }) => ({ version: 3 as const, savedAt, journalSeq: 0, alerts, notifications: deliveries }));

const SCHEMAS = { 1: snapshotV1Schema, 2: snapshotV2Schema, 3: snapshotSchema } as const;

function schemaProblems(err: z.ZodError): string {
  const shown = err.issues.slice(0, 3).map((i) => {
    const where = i.path.map((p, n) => (typeof p === 'number' ? `[${p}]` : `${n === 0 ? '' : '.'}${String(p)}`)).join('');
    return `${where || '(top level)'}: ${i.message}`;
  });
  const more = err.issues.length > shown.length ? ` (and ${err.issues.length - shown.length} more)` : '';
  return shown.join('; ') + more;
}

/**
 * Parses a stored snapshot; every problem is a `corrupt` error naming `source`, never a silent reset.
 * What to do about it (move the file aside, refuse to start) is the caller's decision.
 */
export function parseSnapshot(text: string, source: string): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new StateFileError(source, `alert state file ${source} is corrupt (not valid JSON: ${(err as Error).message})`, 'corrupt');
  }
  const version = raw !== null && typeof raw === 'object' && 'version' in raw ? raw.version : STATE_VERSION;
  if (version !== 1 && version !== 2 && version !== 3) {
    throw new StateFileError(source, `alert state file ${source} has version ${JSON.stringify(version)}; this agentdrift writes version ${STATE_VERSION} and reads versions 1 to ${STATE_VERSION}${typeof version === 'number' && version > STATE_VERSION ? ' (a newer agentdrift wrote it)' : ''}`, 'corrupt');
  }
  const parsed = SCHEMAS[version].safeParse(raw);
  if (!parsed.success) {
    throw new StateFileError(source, `alert state file ${source} is corrupt: ${schemaProblems(parsed.error)}`, 'corrupt');
  }
  return parsed.data as Snapshot;
}

/** Serializes and checks a snapshot, so nothing is ever saved that `load` would refuse. */
function serialize(snapshot: Snapshot, target: string): string {
  let text: string;
  try {
    text = JSON.stringify(snapshot);
  } catch (err) {
    throw new StateFileError(target, `could not save alert state to ${target}: ${(err as Error).message}`);
  }
  const parsed = snapshotSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new StateFileError(target, `refusing to save invalid alert state to ${target}: ${schemaProblems(parsed.error)}`);
  }
  return text;
}

/**
 * One JSON file, replaced atomically: write `<path>.tmp-<pid>`, fsync it, rename it over `<path>`, fsync
 * the directory. A crash at any point leaves either the old or the new file, never a mix; a stray tmp
 * file is ignored on load.
 */
export class FileStateStore implements StateStore {
  // Saves share one tmp path, so two overlapping saves would interleave their bytes: run them in turn.
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  async load(): Promise<Snapshot> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptySnapshot();
      throw new StateFileError(this.path, `could not read alert state file ${this.path}: ${(err as Error).message}`, 'unreadable');
    }
    return parseSnapshot(text, this.path);
  }

  save(snapshot: Snapshot): Promise<void> {
    const run = this.queue.then(() => this.write(snapshot));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async write(snapshot: Snapshot): Promise<void> {
    const text = serialize(snapshot, this.path);
    const dir = dirname(this.path);
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      await mkdir(dir, { recursive: true });
      // 0o600: pending notifications may carry rendered payloads meant for one receiver only.
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        // Without this, rename can reach the disk before the data and a power cut leaves an empty file.
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new StateFileError(this.path, `could not save alert state to ${this.path}: ${(err as Error).message}`);
    }
    await syncDir(dir, this.path);
  }
}

/** Makes the rename itself durable. Some platforms (Windows) cannot open a directory: nothing to do there. */
async function syncDir(dir: string, path: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM' || code === 'EINVAL' || code === 'EBADF') return;
    throw new StateFileError(path, `saved alert state to ${path} but could not sync ${dir}: ${(err as Error).message}`);
  } finally {
    await fh?.close();
  }
}

/**
 * For tests and backtests. Keeps the JSON text, not the object, so it fails where the file store would
 * (a value JSON cannot hold) and a caller mutating its objects cannot change what was "saved".
 */
export class MemoryStateStore implements StateStore {
  private text: string | null = null;
  /** How many saves succeeded, so tests can assert when state was persisted. */
  saves = 0;

  constructor(initial?: Snapshot) {
    if (initial) this.text = serialize(initial, 'memory');
  }

  async load(): Promise<Snapshot> {
    return this.text === null ? emptySnapshot() : parseSnapshot(this.text, 'memory');
  }

  async save(snapshot: Snapshot): Promise<void> {
    this.text = serialize(snapshot, 'memory');
    this.saves += 1;
  }
}
