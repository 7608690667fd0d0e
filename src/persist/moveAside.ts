/**
 * Moving a state file out of the way without ever destroying it: `<file>.<tag>-20261203T171500Z`
 * (a `-2`, `-3`... suffix if that name is taken, since a plain rename would replace it).
 */
import { link, rename, stat, unlink } from 'node:fs/promises';

/** 20261203T171500Z: sorts by time, and is safe in a file name on every platform. */
export function fileStamp(atMs: number): string {
  return new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Moves `path` to a new name tagged with `tag` and the time; returns the new name. */
export async function moveAside(path: string, tag: string, atMs: number): Promise<string> {
  const base = `${path}.${tag}-${fileStamp(atMs)}`;
  for (let n = 1; n < 1000; n++) {
    const target = n === 1 ? base : `${base}-${n}`;
    try {
      // link fails if the target exists, where rename would silently replace it.
      await link(path, target);
      await unlink(path);
      return target;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EMLINK') throw err;
      // A file system without hard links: check, then rename (the check-then-act gap is ours alone).
      if (await exists(target)) continue;
      await rename(path, target);
      return target;
    }
  }
  throw new Error(`cannot find a free name to move ${path} aside to`);
}

/** Whether anything is at `p` (a file, a directory, a dangling name is not). */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
