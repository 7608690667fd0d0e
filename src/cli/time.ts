/**
 * Times on the command line (--at, --from, --to, --end, --demo-end): an ISO-8601 time, `now`, or a
 * time relative to the command's clock (`-7d`, `-12h`, `-1h30m`, `+1h`, `now-7d`). Pure: the clock's
 * "now" is passed in, so nothing here reads the wall clock.
 */
import { ERR } from '../util/errors.js';
import { parseDuration } from '../yaml/duration.js';

export const TIME_HINT = 'use an ISO-8601 time (2026-11-22T09:00:00Z), now, or a time relative to now such as -7d, -12h or -1h30m';

/** A time that cannot be read; the message says what is accepted. A usage error (exit 2, HTTP 400). */
export class TimeArgError extends Error {
  override readonly name = 'TimeArgError';
  readonly errorCode = ERR.USAGE;
}

/** `2026-11-22`, `2026-11-22T09:00`, `2026-11-22T09:00:00.000Z`, `2026-11-22 09:00:00+01:00`. */
const ISO_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const RELATIVE_RE = /^(?:now)?\s*([+-])\s*(\S+)$/i;

/**
 * Milliseconds since the epoch of `text`, relative times counted from `now`. A date or time without an
 * offset is read as UTC (as every time agentdrift prints is), not in the machine's zone.
 */
export function parseTime(text: string, now: number): number {
  const s = text.trim();
  if (/^now$/i.test(s)) return now;
  const rel = RELATIVE_RE.exec(s);
  if (rel) {
    let ms: number;
    try {
      ms = parseDuration(rel[2]!);
    } catch {
      throw new TimeArgError(`cannot read ${JSON.stringify(text)} as a time: ${TIME_HINT}`);
    }
    return rel[1] === '-' ? now - ms : now + ms;
  }
  if (ISO_RE.test(s)) {
    const utc = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) || !s.includes(':') ? s : `${s}Z`;
    const t = Date.parse(utc.replace(' ', 'T'));
    if (!Number.isNaN(t)) return t;
  }
  throw new TimeArgError(`cannot read ${JSON.stringify(text)} as a time: ${TIME_HINT}`);
}
