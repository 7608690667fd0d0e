/**
 * Quantiles of run durations from the aggregates' log-spaced histogram (store/aggregates.ts: bucket b
 * holds durations in [2^(b/B), 2^((b+1)/B)) ms, B buckets per doubling). Within a bucket durations
 * are taken as spread evenly on a log scale, so a quantile is within one bucket's width (9% at B = 8)
 * of the true one whatever the scale (runs piled on one value are the worst case; a spread of
 * durations comes much closer).
 */
import { DURATION_BUCKETS_PER_DOUBLING as B } from '../store/aggregates.js';

/** Runs per bucket index. */
export type Histogram = ReadonlyMap<number, number>;

function sortedBuckets(h: Histogram): [number, number][] {
  return [...h.entries()].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
}

export function histogramTotal(h: Histogram): number {
  let n = 0;
  for (const c of h.values()) n += c;
  return n;
}

/** The q-quantile (0 < q < 1) in ms, or null for an empty histogram. */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const buckets = sortedBuckets(h);
  const n = buckets.reduce((s, [, c]) => s + c, 0);
  if (n === 0) return null;
  const target = q * n;
  let cum = 0;
  for (const [b, c] of buckets) {
    if (cum + c >= target) return 2 ** ((b + Math.min(1, Math.max(0, (target - cum) / c))) / B);
    cum += c;
  }
  const last = buckets[buckets.length - 1]![0];
  return 2 ** ((last + 1) / B);
}

/** Runs longer than `ms`: whole buckets above it, and the part of its own bucket above it. */
export function histogramAbove(h: Histogram, ms: number): number {
  const t = Math.log2(Math.max(ms, 0.001)) * B;
  const b0 = Math.floor(t);
  let above = 0;
  for (const [b, c] of h) {
    if (b > b0) above += c;
    else if (b === b0) above += c * (1 - (t - b0));
  }
  return above;
}

/** Adds histograms (windows pooled, or rows of one window). */
export function addInto(target: Map<number, number>, bucket: number, count: number): void {
  target.set(bucket, (target.get(bucket) ?? 0) + count);
}
