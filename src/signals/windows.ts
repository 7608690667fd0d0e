/** Where the current and baseline windows fall for a rule evaluated at a given time (pure). */
import type { BaselineSpec } from '../rules/types.js';
import type { WindowBounds } from './types.js';

const WEEK = 7 * 24 * 3_600_000;

/** Index 0 is the current window; 1..N are the baseline windows. */
export function windowsFor(windowMs: number, baseline: BaselineSpec, at: number): WindowBounds[] {
  const current: WindowBounds = { index: 0, startMs: at - windowMs, endMs: at };
  if (baseline.kind === 'previous') {
    const end = current.startMs - baseline.offsetMs;
    return [current, { index: 1, startMs: end - baseline.lengthMs, endMs: end }];
  }
  const out = [current];
  for (let k = 1; k <= baseline.weeks; k++) out.push({ index: k, startMs: at - windowMs - k * WEEK, endMs: at - k * WEEK });
  return out;
}

