/**
 * Owns durations as text, both ways: parsing what a rule or config file says and printing a duration
 * in a message (validation errors, alert reasons, "last 7d" in notifications). The syntax is
 * Prometheus's: units largest first, each at most once, integers only (`1h30m`, `7d`, `2w`, `500ms`).
 * Anything else is refused rather than guessed at, so `7 days`, `-1h` and `1.5h` are errors, not surprises.
 */

import { ERR } from '../util/errors.js';
import { quote } from './problem.js';

const UNITS: readonly (readonly [unit: string, ms: number])[] = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

export const DURATION_HINT = 'use an integer with a unit (ms, s, m, h, d, w, y), largest first, e.g. 30s, 5m, 1h30m, 7d';

export class DurationError extends Error {
  override readonly name = 'DurationError';
  readonly errorCode = ERR.INVALID_DURATION;
}

/** Milliseconds of a duration string. `0` alone is accepted (no unit needed for nothing). */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const m = DURATION_RE.exec(text);
  // The regex matches the empty string: every group is optional.
  if (m === null || text === '') throw new DurationError(`invalid duration ${quote(text)}: ${DURATION_HINT}`);
  let ms = 0;
  UNITS.forEach(([, unitMs], i) => {
    const n = m[i + 1];
    if (n !== undefined) ms += Number(n) * unitMs;
  });
  if (!Number.isSafeInteger(ms)) throw new DurationError(`duration ${quote(text)} is out of range`);
  return ms;
}

/**
 * Days and smaller, as rule files usually write windows: weeks and years are left out because a
 * duration printed as "1w" reads as a different setting to someone who wrote `window: 7d`.
 */
const PRINTED_UNITS = UNITS.filter(([unit]) => unit !== 'y' && unit !== 'w');

/**
 * A duration in the syntax parseDuration reads, days at most: 1800000 -> "30m", 5400000 -> "1h30m",
 * 604800000 -> "7d", 1500 -> "1s500ms". Every message that states a duration uses this.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const [unit, unitMs] of PRINTED_UNITS) {
    const n = Math.floor(rest / unitMs);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * unitMs;
    }
  }
  return out;
}
