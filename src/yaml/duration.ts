/**
 * Durations as Prometheus writes them: units largest first, each at most once, integers only
 * (`1h30m`, `7d`, `2w`, `500ms`). Anything else is refused rather than guessed at, so `7 days`,
 * `-1h` and `1.5h` are errors, not surprises.
 */

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
}

/** Milliseconds of a duration string. `0` alone is accepted (no unit needed for nothing). */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const m = DURATION_RE.exec(text);
  // The regex matches the empty string: every group is optional.
  if (m === null || text === '') throw new DurationError(`invalid duration ${JSON.stringify(text)}: ${DURATION_HINT}`);
  let ms = 0;
  UNITS.forEach(([, unitMs], i) => {
    const n = m[i + 1];
    if (n !== undefined) ms += Number(n) * unitMs;
  });
  if (!Number.isSafeInteger(ms)) throw new DurationError(`duration ${JSON.stringify(text)} is out of range`);
  return ms;
}

/** The shortest Prometheus spelling: 1800000 -> "30m", 5400000 -> "1h30m", 604800000 -> "1w". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';
  let out = ms < 0 ? '-' : '';
  for (const [unit, unitMs] of UNITS) {
    const n = Math.floor(rest / unitMs);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * unitMs;
    }
  }
  return out;
}
