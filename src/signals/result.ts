/** What one evaluation of a rule measures per group and key (the verdict is the engine's). */
import { relativeDeviation, type TestResult } from '../stats/index.js';

export interface Contributor {
  /** A tool, a fingerprint, a denied policy rule, a cost component. */
  readonly name: string;
  readonly current: number | null;
  readonly baseline: number | null;
}

/** A measured series: the signal's numbers for one group (and key), without the verdict. */
export interface Measurement {
  /** Group labels plus the key label (e.g. `tool`) where the signal has one: the alert's identity. */
  readonly labels: Readonly<Record<string, string>>;
  /** Tool name, `__mix__` for the tool mix, or '' for a per-group signal. Exported as the `key` label. */
  readonly key: string;
  readonly current: number | null;
  readonly baseline: number | null;
  /** Relative change for scalars; the effect size itself for distributions. */
  readonly deviation: number | null;
  /** The key has no mass in the baseline but some now (a new tool, a new fingerprint). */
  readonly isNew: boolean;
  readonly currentRuns: number;
  readonly baselineRuns: number;
  readonly test: (TestResult & { readonly name: string }) | null;
  readonly contributors: readonly Contributor[];
  readonly exampleRunIds: readonly string[];
  /** Signal-specific extras shown in eval output and notifications. */
  readonly extra?: Readonly<Record<string, number | string | null>>;
}

/** A scalar series (a rate, a mean, a ratio): deviation and newness follow from current and baseline. */
export function scalarMeasurement(
  m: Omit<Measurement, 'deviation' | 'isNew' | 'test'> & { readonly test: (TestResult | null); readonly testName: string },
): Measurement {
  const { test, testName, ...rest } = m;
  const { current, baseline } = m;
  return {
    ...rest,
    deviation: current !== null && baseline !== null ? relativeDeviation(current, baseline) : null,
    isNew: (baseline ?? 0) === 0 && (current ?? 0) > 0,
    test: test ? { name: testName, ...test } : null,
  };
}
