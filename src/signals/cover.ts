/**
 * Which part of each window is read from which tier (pure). A window [start, end) is covered by the
 * widest whole buckets that fit inside it, the rest by the next tier's whole buckets, and what is
 * left at the edges (less than the finest bucket at each end) by raw runs. The pieces of one window
 * are disjoint and together exactly the window, so summing them gives the window's sums.
 */
import type { WindowBounds } from './types.js';

export interface Interval {
  /** Index of the window this piece belongs to (0 = current). */
  readonly window: number;
  readonly startMs: number; // inclusive
  readonly endMs: number; // exclusive
}

export interface Cover {
  /** Per tier (in the order given, widest first): the bucket-aligned pieces it answers. */
  readonly tiers: readonly (readonly Interval[])[];
  /** Pieces read from agent_runs. */
  readonly raw: readonly Interval[];
}

const floorTo = (t: number, ms: number) => Math.floor(t / ms) * ms;
const ceilTo = (t: number, ms: number) => Math.ceil(t / ms) * ms;

/** `tierMs` widest first, each a multiple of the next (1d, 1h, 5m). Empty: everything raw. */
export function coverWindows(windows: readonly WindowBounds[], tierMs: readonly number[]): Cover {
  const tiers: Interval[][] = tierMs.map(() => []);
  const raw: Interval[] = [];
  const place = (window: number, startMs: number, endMs: number, level: number): void => {
    if (endMs <= startMs) return;
    if (level >= tierMs.length) {
      raw.push({ window, startMs, endMs });
      return;
    }
    const ms = tierMs[level]!;
    const a = ceilTo(startMs, ms);
    const b = floorTo(endMs, ms);
    if (a >= b) {
      place(window, startMs, endMs, level + 1);
      return;
    }
    tiers[level]!.push({ window, startMs: a, endMs: b });
    place(window, startMs, a, level + 1);
    place(window, b, endMs, level + 1);
  };
  for (const w of windows) place(w.index, w.startMs, w.endMs, 0);
  return { tiers, raw };
}

/** The union of pieces as sorted, merged ranges: what a WHERE clause must let through. */
export function mergedRanges(pieces: readonly Interval[]): { startMs: number; endMs: number }[] {
  const sorted = [...pieces].sort((a, b) => a.startMs - b.startMs);
  const out: { startMs: number; endMs: number }[] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && p.startMs <= last.endMs) last.endMs = Math.max(last.endMs, p.endMs);
    else out.push({ startMs: p.startMs, endMs: p.endMs });
  }
  return out;
}
