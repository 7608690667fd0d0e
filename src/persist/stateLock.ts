/**
 * One daemon per state file. Two daemons writing the same file would each send every alert (neither
 * knows what the other told the receivers) and overwrite each other's state. The lock is a file
 * beside it, `<state_file>.lock`, holding who holds it: `{"pid":..,"host":..,"startedAt":..}`.
 *
 * It is created complete or not at all: written to a temp file, then hard-linked to the lock name,
 * which fails if the lock exists (a half-written lock is never seen). A lock whose process is gone
 * (same host, pid not running: the daemon was killed) is stale and taken over with a warning; a lock
 * held by a live process, or by another host (whose processes cannot be checked from here), refuses.
 */
import { ERR } from '../util/errors.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../log.js';

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** ISO-8601. */
  readonly startedAt: string;
  /** Tells this lock from a later one of the same pid. */
  readonly token: string;
  /** The daemon's HTTP address for local clients (`http://127.0.0.1:9464`), once it listens. */
  readonly url?: string;
}

export class StateLockError extends Error {
  override readonly name = 'StateLockError';
  readonly errorCode = ERR.STATE_LOCK;
}

export interface StateLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** Removes the lock if it is still ours; idempotent. */
  release(): Promise<void>;
  /**
   * Records the daemon's HTTP address in the lock, if it is still ours: rewritten whole (a temp file
   * renamed over it), so a reader sees the old lock or the new one, never half of one.
   */
  advertise(url: string): Promise<void>;
}

export interface LockOptions {
  readonly logger: Logger;
  readonly now: number;
  /** For tests: whether a pid runs on this host (default: signal 0). */
  readonly isAlive?: (pid: number) => boolean;
}

export const lockPathOf = (stateFile: string): string => `${stateFile}.lock`;

export async function acquireStateLock(stateFile: string, o: LockOptions): Promise<StateLock> {
  const path = lockPathOf(stateFile);
  const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date(o.now).toISOString(), token: randomUUID() };
  const isAlive = o.isAlive ?? pidAlive;
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw new StateLockError(`cannot create the directory of the state file ${stateFile}: ${(err as Error).message}`);
  }
  // Twice at most: once, and once more after removing a stale lock.
  for (let round = 0; round < 2; round++) {
    if (await tryCreate(path, owner)) return held(path, owner);
    const holder = await readOwner(path);
    if (holder === 'gone') continue; // released between our attempt and the read: try again
    const who = holder === null ? 'an unreadable lock' : `pid ${holder.pid} on ${holder.host}, since ${holder.startedAt}`;
    const stale = holder !== null && holder.host === owner.host && holder.pid !== process.pid && !isAlive(holder.pid);
    if (!stale) {
      throw new StateLockError(
        `state file ${stateFile} is locked by another agentdrift (${who}; lock file ${path}): two daemons on one state file would each send every alert. Stop the other one, give this one its own state_file, or remove ${path} if you are sure it is not running`,
      );
    }
    o.logger.warn({ lock: path, pid: holder.pid, host: holder.host, since: holder.startedAt }, `taking over the stale lock on ${stateFile}: pid ${holder.pid} is no longer running (it did not stop cleanly)`);
    await unlink(path).catch(() => undefined);
  }
  throw new StateLockError(`could not lock state file ${stateFile} (lock file ${path}): another process keeps taking it`);
}

async function tryCreate(path: string, owner: LockOwner): Promise<boolean> {
  const tmp = `${path}.${owner.token}`;
  try {
    await writeFile(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateLockError(`cannot create lock file ${path}: ${(err as Error).message}`);
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** The lock's owner; null when the file is not a lock we can read; 'gone' when there is none. */
export async function readOwner(path: string): Promise<LockOwner | null | 'gone'> {
  try {
    const x = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    if (typeof x.pid !== 'number' || typeof x.host !== 'string') return null;
    return { pid: x.pid, host: x.host, startedAt: String(x.startedAt ?? '?'), token: String(x.token ?? ''), ...(typeof x.url === 'string' ? { url: x.url } : {}) };
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
}

function held(path: string, first: LockOwner): StateLock {
  let released = false;
  let owner = first;
  return {
    path,
    get owner() {
      return owner;
    },
    async advertise(url) {
      if (released) return;
      const now = await readOwner(path);
      if (now === null || now === 'gone' || now.token !== owner.token) return;
      owner = { ...owner, url };
      const tmp = `${path}.${owner.token}`;
      try {
        await writeFile(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
        await rename(tmp, path);
      } finally {
        await rm(tmp, { force: true }).catch(() => undefined);
      }
    },
    async release() {
      if (released) return;
      released = true;
      const now = await readOwner(path);
      // Only our own lock: never one taken over by a later daemon after this one was thought dead.
      if (now !== null && now !== 'gone' && now.token === owner.token) await unlink(path).catch(() => undefined);
    },
  };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
