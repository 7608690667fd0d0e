/** Median, for the seasonal baseline: one bad week (an outage, a holiday) must not move the baseline. */

/**
 * The median of the finite values (mean of the two middle ones for an even count); null when there are
 * none. Non-finite values are skipped because they stand for weeks without a defined value (a ratio
 * over zero runs), which cannot vote for a baseline.
 */
export function median(values: readonly number[]): number | null {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  const n = sorted.length;
  if (n === 0) return null;
  const mid = n >> 1;
  // Halving each term before adding cannot overflow, unlike (a + b) / 2 near Number.MAX_VALUE.
  return n % 2 === 1 ? sorted[mid]! : sorted[mid - 1]! / 2 + sorted[mid]! / 2;
}
