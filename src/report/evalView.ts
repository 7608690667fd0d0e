/**
 * How `agentdrift eval` (and `backtest`) show a series: which rows (the states --state names), in which order, how a
 * deviation reads (a relative change, or a distance for an effect size), and whether the command fails
 * (--fail-on). Pure: rows in, rows and text out.
 */

export { deviationKindOf, formatDeviation, type DeviationKind } from '../signals/deviationKind.js';
import { deviationKindOf, formatDeviation, type DeviationKind } from '../signals/deviationKind.js';

/** The states --state and --fail-on name. */
export const STATES = ['firing', 'pending', 'error', 'nodata', 'resolved', 'inactive'] as const;
export type ShownState = (typeof STATES)[number];

/** What eval shows without --state: everything but inactive series. */
export const DEFAULT_STATES: readonly ShownState[] = STATES.filter((s) => s !== 'inactive');

/** Firing first, then pending, then series whose evaluation failed, then the rest. */
const RANK: Readonly<Record<string, number>> = { firing: 0, pending: 1, error: 2, nodata: 3, resolved: 4, inactive: 5 };

interface Sortable {
  readonly state: string;
  readonly deviation: number | null;
}

/** Firing, then pending, then the rest; within a state the largest |deviation| first (none last). Stable. */
export function sortRows<T extends Sortable>(rows: readonly T[]): T[] {
  const mag = (r: T) => (r.deviation === null || Number.isNaN(r.deviation) ? -1 : Math.abs(r.deviation));
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => (RANK[a.r.state] ?? 9) - (RANK[b.r.state] ?? 9) || mag(b.r) - mag(a.r) || a.i - b.i)
    .map((x) => x.r);
}

/** The rows in the states asked for, and how many of each state were left out. */
export function selectRows<T extends Sortable>(rows: readonly T[], states: readonly ShownState[]): { shown: T[]; hidden: Record<string, number> } {
  const shown: T[] = [];
  const hidden: Record<string, number> = {};
  for (const r of rows) {
    if ((states as readonly string[]).includes(r.state)) shown.push(r);
    else hidden[r.state] = (hidden[r.state] ?? 0) + 1;
  }
  return { shown, hidden };
}

/** "64 inactive series not shown (--state all shows every series)", or null when nothing was left out. */
export function hiddenLine(hidden: Readonly<Record<string, number>>): string | null {
  const parts = Object.entries(hidden)
    .sort(([a], [b]) => (RANK[a] ?? 9) - (RANK[b] ?? 9))
    .map(([state, n]) => `${n} ${state}`);
  if (parts.length === 0) return null;
  return `${parts.join(', ')} series not shown (--state all shows every series)`;
}

/** --fail-on: the state from which eval exits 1 (`pending` includes firing); `none` never. */
export const FAIL_ON = ['firing', 'pending', 'none'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export function failsOn(rows: readonly Sortable[], failOn: FailOn): boolean {
  if (failOn === 'none') return false;
  const bad = failOn === 'firing' ? ['firing'] : ['firing', 'pending'];
  return rows.some((r) => bad.includes(r.state));
}
