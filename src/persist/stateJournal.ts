/**
 * The state file's journal: an append-only file of JSON lines beside it (`<state_file>.journal`), for
 * what must be durable at once and cannot wait for the next full save of the state file (a delivery
 * about to be sent, a delivery the receiver accepted). Each line is `{"seq":n,"record":{...}}`,
 * written and fsynced before `append` returns: the caller may act on it (send the request, forget
 * the batch) knowing a crash now finds it. The state file says which seq it already holds; at start
 * only later records are replayed on top of it, and after each successful save the records it holds
 * are cut from the journal.
 *
 * Synchronous on purpose: a record is a few kilobytes, written once per delivery attempt, and being
 * synchronous is what guarantees the record is on disk before the request leaves. What a record
 * means is the writer's business (notify/journal.ts): here it is opaque JSON.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateFileError } from './stateFile.js';

export interface JournalEntry {
  readonly seq: number;
  readonly record: unknown;
}

export interface JournalReading {
  readonly entries: JournalEntry[];
  /**
   * A last line cut short: what a crash in the middle of an append leaves. Its request was never
   * sent (the append had not returned), so dropping it loses nothing.
   */
  readonly tornTail: boolean;
}

/** Reads a journal; a missing file is an empty one. An unreadable line before the last is corruption. */
export function readJournal(path: string): JournalReading {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornTail: false };
    throw new StateFileError(path, `could not read state journal ${path}: ${(err as Error).message}`, 'unreadable');
  }
  const lines = text.split('\n');
  // A complete journal ends with a newline, so the last piece is empty.
  const last = lines.pop() ?? '';
  const entries: JournalEntry[] = [];
  lines.forEach((line, i) => {
    const e = parseLine(line);
    if (e === null) throw new StateFileError(path, `state journal ${path} is corrupt: line ${i + 1} is not a journal record`, 'corrupt');
    if (entries.length > 0 && e.seq <= entries[entries.length - 1]!.seq) {
      throw new StateFileError(path, `state journal ${path} is corrupt: line ${i + 1} goes back to seq ${e.seq}`, 'corrupt');
    }
    entries.push(e);
  });
  return { entries, tornTail: last.trim() !== '' };
}

function parseLine(line: string): JournalEntry | null {
  try {
    const x = JSON.parse(line) as unknown;
    if (x === null || typeof x !== 'object' || !('seq' in x) || !('record' in x)) return null;
    const seq = (x as { seq: unknown }).seq;
    return typeof seq === 'number' && Number.isInteger(seq) && seq > 0 ? { seq, record: (x as { record: unknown }).record } : null;
  } catch {
    return null;
  }
}

/** The journal being written by this process. */
export class StateJournal {
  private fd: number | null = null;
  /** Bytes of whole records in the file, when known: a failed append is cut back to it. */
  private size: number | null = null;
  /** A failed append could not be cut back: nothing more is appended until a compaction rewrites the file. */
  private broken = false;
  private seq: number;
  /** Records not yet known to be in the state file: what a compaction keeps. */
  private kept: JournalEntry[];

  /**
   * `entries`: what the journal holds now (read at start); `afterSeq`: the seq the state file holds,
   * below which nothing is kept. New records continue after the highest of both.
   */
  constructor(
    readonly path: string,
    entries: readonly JournalEntry[] = [],
    afterSeq = 0,
  ) {
    this.kept = entries.filter((e) => e.seq > afterSeq);
    this.seq = Math.max(afterSeq, ...entries.map((e) => e.seq));
  }

  /** The seq of the last record appended (or read): a snapshot taken now holds everything up to it. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Appends one record and fsyncs it; returns its seq. Throws a StateFileError when it cannot. */
  append(record: unknown): number {
    const seq = this.seq + 1;
    const line = Buffer.from(`${JSON.stringify({ seq, record })}\n`, 'utf8');
    try {
      if (this.broken) throw new Error('an earlier append failed and could not be undone; waiting for the next save');
      // 0o600: records carry rendered notifications meant for one receiver only.
      if (this.fd === null) {
        this.fd = openSync(this.path, 'a', 0o600);
        this.size = fstatSync(this.fd).size;
      }
      writeSync(this.fd, line);
      fsyncSync(this.fd);
      this.size = (this.size ?? 0) + line.length;
    } catch (err) {
      // A partial line would make every later record unreadable: cut it off, or stop appending.
      this.undoPartial();
      throw new StateFileError(this.path, `could not append to state journal ${this.path}: ${(err as Error).message}`, 'write');
    }
    this.seq = seq;
    this.kept.push({ seq, record });
    return seq;
  }

  /**
   * The state file now holds every record up to `seq`: drop them. Usually nothing is newer and the
   * file is truncated; records appended while the state file was being written are rewritten into a
   * new journal (temp file, fsync, rename), so none is lost between the snapshot and the cut.
   */
  compact(seq: number): void {
    this.kept = this.kept.filter((e) => e.seq > seq);
    try {
      if (this.kept.length === 0) {
        this.fd ??= openSync(this.path, 'a', 0o600);
        ftruncateSync(this.fd, 0);
        fsyncSync(this.fd);
        this.size = 0;
        this.broken = false;
        return;
      }
      const tmp = `${this.path}.tmp-${process.pid}`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, this.kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      this.closeFd();
      renameSync(tmp, this.path);
      syncDirSync(dirname(this.path));
      this.broken = false;
    } catch (err) {
      rmSync(`${this.path}.tmp-${process.pid}`, { force: true });
      // Harmless for correctness: the records the state file holds are skipped by seq at the next start.
      throw new StateFileError(this.path, `could not compact state journal ${this.path}: ${(err as Error).message}`, 'write');
    }
  }

  private undoPartial(): void {
    try {
      if (this.fd !== null && this.size !== null) {
        ftruncateSync(this.fd, this.size);
        return;
      }
    } catch {
      // fall through
    }
    if (this.fd !== null) this.broken = true;
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // Closing a descriptor that failed a write: nothing more to do.
    }
    this.fd = null;
    this.size = null;
  }
}

function syncDirSync(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Platforms that cannot open a directory (Windows): the rename is as durable as it gets there.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
