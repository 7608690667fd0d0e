/** Scalar deviation of a current value from its baseline, and the rule's threshold check on it. */

/**
 * Which way a deviation must go to count. Same union as the rule model's `Direction`, repeated here
 * so the statistics core imports nothing from the layers that use it.
 */
export type DeviationDirection = 'up' | 'down' | 'both';

/**
 * (current - baseline) / baseline.
 *
 * Null when the baseline is 0: a rise from nothing has no relative size (any finite threshold would be
 * "exceeded infinitely"), so callers report it as a new behaviour instead of as a percentage. Null too
 * when either value is not finite, e.g. a ratio whose denominator was 0 in that window. All signals are
 * non-negative, so the sign of the baseline never flips the direction.
 */
export function relativeDeviation(current: number, baseline: number): number | null {
  if (!Number.isFinite(current) || !Number.isFinite(baseline) || baseline === 0) return null;
  return (current - baseline) / baseline;
}

/**
 * Whether a deviation passes the rule's threshold in the rule's direction; the boundary counts as
 * passing, so `threshold: 20%` fires at exactly +20%. A null (undefined) deviation never passes: the
 * caller decides separately what a "new" value means.
 */
export function exceedsThreshold(deviation: number | null, threshold: number, direction: DeviationDirection): boolean {
  if (deviation === null || Number.isNaN(deviation)) return false;
  switch (direction) {
    case 'up':
      return deviation >= threshold;
    case 'down':
      return deviation <= -threshold;
    case 'both':
      return Math.abs(deviation) >= threshold;
  }
}
