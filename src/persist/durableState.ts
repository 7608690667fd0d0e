/**
 * The daemon's durable state: the state file (alerts and notifications, saved whole after each
 * evaluation), its journal (each delivery attempt and outcome, as it happens), the lock that keeps a
 * second daemon off both, and the health of saving them.
 *
 *   open   — read the state file and replay the journal on top of it. A file that cannot be used is
 *            moved aside (never overwritten) and the start refused, unless starting fresh was asked for.
 *   save   — write the whole state (temp file, fsync, rename, directory fsync), then cut from the
 *            journal what the file now holds. Refused until open succeeded: a failed start must not
 *            replace the only copy of what receivers were told with nothing.
 *   record — append one delivery record to the journal (fsynced before it returns).
 *
 * A failure to save or to append is reported (health() for /readyz, onPersist for the metrics, an
 * error log) and never stops the daemon: alerts keep being evaluated and sent; what a crash would
 * then repeat is bounded by the last successful save.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileStateStore, StateFileError, emptySnapshot, type SerializedAlert, type Snapshot } from './stateFile.js';
import { readJournal, StateJournal, type JournalEntry } from './stateJournal.js';
import type { StateLock } from './stateLock.js';
import { exists, moveAside } from './moveAside.js';
import type { Logger } from '../log.js';
import type { DeliveryJournal, DeliveryRecord } from '../notify/journal.js';
import { replayDeliveries } from './deliveryReplay.js';
import type { ReadinessCheck } from '../http/readiness.js';

export const journalPathOf = (stateFile: string): string => `${stateFile}.journal`;

/** What a start restores: each owner's section, the journal already folded into the notifications. */
export interface RestoredState {
  readonly alerts: readonly SerializedAlert[];
  readonly notifications: readonly unknown[];
}

/** Each owner's section of the state file, as a save writes it. */
export interface StateSections {
  readonly alerts: readonly SerializedAlert[];
  readonly notifications: readonly unknown[];
}

/** What the daemon needs of its durable state (the file-backed one below, or one in tests). */
export interface StatePersistence extends DeliveryJournal {
  open(): Promise<RestoredState>;
  save(sections: StateSections): Promise<void>;
  close(): Promise<void>;
}

export interface DurableStateOptions {
  readonly path: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Move whatever state there is aside and start empty (`start --fresh-state`). */
  readonly fresh: boolean;
  /** Held from before the store was opened; released on close. */
  readonly lock?: StateLock | null;
  /** Each save and journal append, for the metrics: ok or not, and when. */
  readonly onPersist?: (ok: boolean, at: number) => void;
}

const FRESH_HINT = 'start with --fresh-state to begin with empty state (firing alerts are sent again)';

export class DurableState implements StatePersistence {
  private readonly store: FileStateStore;
  private readonly journalPath: string;
  private journal: StateJournal | null = null;
  private failure: { at: number; message: string } | null = null;
  private lastSuccessAt: number | null = null;
  private closed = false;
  private tornTail = false;

  constructor(private readonly o: DurableStateOptions) {
    this.store = new FileStateStore(o.path);
    this.journalPath = journalPathOf(o.path);
  }

  async open(): Promise<RestoredState> {
    const { path, logger } = this.o;
    if (this.o.fresh) await this.moveAllAside();
    const snapshot = this.o.fresh ? emptySnapshot() : await this.readSnapshot();
    const entries = this.o.fresh ? [] : await this.readJournal();
    const newer = entries.filter((e) => e.seq > snapshot.journalSeq);
    const replay = replayDeliveries(snapshot.notifications, newer.map((e) => e.record));
    if (newer.length > 0) {
      logger.info({ records: replay.applied, in_flight: replay.inFlight, journal: this.journalPath }, 'delivery journal replayed on top of the state file');
    }
    if (replay.inFlight > 0) {
      logger.warn({ in_flight: replay.inFlight }, 'notifications were in flight when the previous process stopped: they are sent again (a receiver may see them twice)');
    }
    if (replay.unreadable > 0) logger.warn({ records: replay.unreadable }, 'unreadable delivery journal records were skipped');
    this.journal = new StateJournal(this.journalPath, entries, snapshot.journalSeq);
    // A torn last line would run into the next record: rewrite the journal without it.
    if (this.tornTail) this.journal.compact(snapshot.journalSeq);
    logger.debug({ path, journal_seq: this.journal.lastSeq }, 'state opened');
    return { alerts: snapshot.alerts, notifications: replay.notifications };
  }

  /** The state file, or a refusal naming it and where it was moved. */
  private async readSnapshot(): Promise<Snapshot> {
    const { path } = this.o;
    let snapshot: Snapshot;
    try {
      snapshot = await this.store.load();
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      const moved = await this.quarantine(path, err);
      // The journal only means something on top of the file it follows (an empty one holds nothing).
      const journal = (await sizeOf(this.journalPath)) > 0 ? await this.moveIfPresent(this.journalPath, 'corrupt') : null;
      throw new StateFileError(path, `${err.message}: moved it aside to ${moved}${journal ? ` (and its journal to ${journal})` : ''}; not starting: ${FRESH_HINT}, or put a good copy back at ${path}`, err.problem);
    }
    if (!(await exists(path))) {
      // No state file. If an earlier start moved a bad one aside, starting empty now would send every
      // firing alert again without anyone having asked for that.
      const earlier = await this.quarantined();
      if (earlier !== null) {
        throw new StateFileError(path, `alert state file ${path} was moved aside to ${earlier} because it could not be read; not starting: ${FRESH_HINT}, or put a good copy back at ${path}`, 'corrupt');
      }
    }
    return snapshot;
  }

  private async readJournal(): Promise<JournalEntry[]> {
    try {
      const r = readJournal(this.journalPath);
      this.tornTail = r.tornTail;
      if (r.tornTail) this.o.logger.warn({ journal: this.journalPath }, 'the last delivery journal record was cut short by a crash while it was written; it is ignored (its request had not been sent)');
      return r.entries;
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      const moved = await this.quarantine(this.journalPath, err);
      throw new StateFileError(this.journalPath, `${err.message}: moved it aside to ${moved}; not starting: ${FRESH_HINT}, or put a good copy back at ${this.journalPath}`, err.problem);
    }
  }

  private async quarantine(file: string, cause: StateFileError): Promise<string> {
    try {
      return await moveAside(file, 'corrupt', this.o.now());
    } catch (err) {
      throw new StateFileError(file, `${cause.message}; moving it aside failed too (${(err as Error).message}); not starting: move it away by hand, then ${FRESH_HINT}`, cause.problem);
    }
  }

  private async moveIfPresent(file: string, tag: string): Promise<string | null> {
    try {
      return await moveAside(file, tag, this.o.now());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StateFileError(file, `cannot move ${file} aside: ${(err as Error).message}`, 'write');
    }
  }

  /** --fresh-state: whatever state there is goes aside, kept for a post-mortem, never deleted. */
  private async moveAllAside(): Promise<void> {
    for (const f of [this.o.path, this.journalPath]) {
      const moved = await this.moveIfPresent(f, 'replaced');
      if (moved !== null) this.o.logger.warn({ from: f, to: moved }, `starting with fresh state (--fresh-state): moved ${f} aside to ${moved}`);
    }
  }

  /** The newest `<state file>.corrupt-*` beside the state file, if any. */
  private async quarantined(): Promise<string | null> {
    const dir = dirname(this.o.path);
    const prefix = `${basename(this.o.path)}.corrupt-`;
    try {
      const names = (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort();
      return names.length > 0 ? join(dir, names[names.length - 1]!) : null;
    } catch {
      return null;
    }
  }

  /** Writes `sections` (the state manager gathers them from their owners; see stateManager.ts). */
  async save(sections: StateSections): Promise<void> {
    const journal = this.journal;
    if (journal === null || this.closed) {
      // Not opened (a failed start) or closed: the file on disk is the only copy; leave it be.
      throw new StateFileError(this.o.path, `not saving alert state to ${this.o.path}: it was not read successfully at start`, 'write');
    }
    const seq = journal.lastSeq;
    const at = this.o.now();
    const { alerts, notifications } = sections;
    try {
      await this.store.save({ version: 3, savedAt: at, journalSeq: seq, alerts: [...alerts], notifications: [...notifications] });
    } catch (err) {
      this.failed(at, err as Error);
      throw err;
    }
    try {
      journal.compact(seq);
    } catch (err) {
      // The state file is saved; the records it holds are skipped by seq at the next start anyway.
      this.o.logger.warn({ err }, 'could not cut the saved records from the delivery journal');
    }
    this.succeeded(at);
  }

  record(r: DeliveryRecord): void {
    const journal = this.journal;
    if (journal === null || this.closed) return;
    try {
      journal.append(r);
    } catch (err) {
      this.failed(this.o.now(), err as Error);
      this.o.logger.error({ err, receiver: r.receiver, kind: r.kind }, 'could not write the delivery journal: a crash before the next successful save may repeat this delivery');
    }
  }

  /** For /readyz: ok until a save or journal write fails, ok again after the next successful save. */
  health(): ReadinessCheck {
    if (this.failure !== null) {
      return { ok: false, detail: `saving state failed ${new Date(this.failure.at).toISOString()}: ${this.failure.message}` };
    }
    return { ok: true, detail: this.lastSuccessAt === null ? 'not saved yet' : `last saved ${new Date(this.lastSuccessAt).toISOString()}` };
  }

  private failed(at: number, err: Error): void {
    this.failure = { at, message: err.message };
    this.o.onPersist?.(false, at);
  }

  private succeeded(at: number): void {
    this.failure = null;
    this.lastSuccessAt = at;
    this.o.onPersist?.(true, at);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.journal?.close();
    await this.o.lock?.release();
  }
}

async function sizeOf(p: string): Promise<number> {
  try {
    return (await stat(p)).size;
  } catch {
    return 0;
  }
}
