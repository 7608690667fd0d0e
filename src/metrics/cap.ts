/**
 * Which series of one rule are exported when the rule has more than the cap (pure). A rule grouped
 * by a high-cardinality column must not be able to blow up Prometheus, but the series an operator
 * needs (the ones alerting, the ones moving most) must be the ones that stay.
 */
import type { AlertState } from '../alerting/types.js';

export interface CapCandidate {
  readonly id: string;
  /** |deviation|; Infinity for a new key; -1 when unknown (no value, no earlier value). */
  readonly magnitude: number;
  readonly state: AlertState | null;
}

export interface CapResult<T extends CapCandidate> {
  readonly kept: T[];
  readonly dropped: number;
}

/** Order: pending or firing first, then the largest |deviation|, then the id so ties are stable. */
export function compareCandidates(a: CapCandidate, b: CapCandidate): number {
  const activeA = a.state === 'firing' || a.state === 'pending' ? 1 : 0;
  const activeB = b.state === 'firing' || b.state === 'pending' ? 1 : 0;
  if (activeA !== activeB) return activeB - activeA;
  if (a.magnitude !== b.magnitude) return b.magnitude > a.magnitude ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function capSeries<T extends CapCandidate>(candidates: readonly T[], max: number): CapResult<T> {
  if (candidates.length <= max) return { kept: [...candidates], dropped: 0 };
  const sorted = [...candidates].sort(compareCandidates);
  return { kept: sorted.slice(0, max), dropped: sorted.length - max };
}

/** Ranking value of a deviation; NaN and null rank last, a new key (no baseline) first. */
export function magnitudeOf(deviation: number | null, isNew: boolean): number {
  if (deviation === null || Number.isNaN(deviation)) return isNew ? Infinity : -1;
  return Math.abs(deviation);
}
