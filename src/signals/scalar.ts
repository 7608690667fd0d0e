/**
 * The common shape of a scalar signal: per group a value per window, a baseline picked from the
 * baseline windows (the median week of a seasonal baseline, see baseline.ts), and a two-sample test
 * of the current window against the baseline window whose value is that median.
 */
import type { TestResult } from '../stats/index.js';
import { baselinePick, baselineValue, medianValueWindow, type BaselinePick } from './baseline.js';
import { scalarMeasurement, type Contributor, type Measurement } from './result.js';

export interface ScalarSpec<W> {
  readonly labels: Readonly<Record<string, string>>;
  readonly key: string;
  /** Per window (0 current, 1.. baseline) what the signal summed. */
  readonly win: readonly W[];
  /** Runs behind the window's value (what min_runs counts: the runs, or the runs carrying a score). */
  readonly runs: (w: W) => number;
  /** The value in window `i` (null where undefined: no runs, no calls). */
  readonly value: (w: W, i: number) => number | null;
  readonly test: (current: W, baseline: W, baselineIndex: number) => TestResult | null;
  readonly testName: string;
  readonly contributors?: (pick: BaselinePick, valueOf: (f: (w: W, i: number) => number | null) => { current: number | null; baseline: number | null }) => Contributor[];
  readonly extra?: Readonly<Record<string, number | string | null>>;
}

export function scalarSeries<W>(s: ScalarSpec<W>): Measurement {
  const pick = baselinePick(s.win.map(s.runs));
  const at = (f: (w: W, i: number) => number | null) => (i: number) => f(s.win[i]!, i);
  const both = (f: (w: W, i: number) => number | null) => ({ current: f(s.win[0]!, 0), baseline: baselineValue(pick, at(f)) });
  const { current, baseline } = both(s.value);
  const tw = medianValueWindow(pick, at(s.value));
  const test = pick.windows.length > 0 ? s.test(s.win[0]!, s.win[tw]!, tw) : null;
  return scalarMeasurement({
    labels: s.labels,
    key: s.key,
    current,
    baseline,
    currentRuns: s.runs(s.win[0]!),
    baselineRuns: pick.runs,
    test,
    testName: s.testName,
    contributors: s.contributors?.(pick, both) ?? [],
    exampleRunIds: [],
    ...(s.extra ? { extra: s.extra } : {}),
  });
}

/** A per-run mean (value/runs), null without runs. */
export function perRun(sum: number, n: number): number | null {
  return n > 0 ? sum / n : null;
}
