/**
 * duration: run duration (`duration_ms`), `stat: mean | p50 | p90 | p95 | p99`. The mean is tested
 * with Welch's t-test on per-run durations. A quantile is read from the log-spaced histogram in the
 * aggregates (histogram.ts) and tested as a quantile, not as a mean: the share of current runs
 * longer than the baseline's quantile against the share of baseline runs longer than it (1 - q by
 * construction), a two-proportion z-test over runs. A tail that moves while the mean does not (a
 * few runs hitting a timeout) moves that share; a mean that moves while the tail does not does not.
 */
import type { DurationStat, Rule } from '../rules/types.js';
import { twoProportionZTest, welchTTest } from '../stats/index.js';
import { addInto, histogramAbove, histogramQuantile } from './histogram.js';
import type { Measurement } from './result.js';
import { perRun, scalarSeries } from './scalar.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

interface DurationWindow {
  n: number;
  sum: number;
  sumSq: number;
  hist: Map<number, number>;
}

const QUANTILES: Readonly<Record<Exclude<DurationStat, 'mean'>, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

export function durationMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const groups = new GroupTable(rule, (labels) => ({ labels, win: windows.map((): DurationWindow => ({ n: 0, sum: 0, sumSq: 0, hist: new Map() })) }));
  for (const r of sums.totals) {
    const w = groups.of(r).win[num(r.w)]!;
    w.n = num(r.runs);
    w.sum = num(r.duration_sum);
    w.sumSq = num(r.duration_sq);
  }
  for (const r of sums.keyed) {
    if (r.key_kind !== 'duration') continue;
    addInto(groups.of(r).win[num(r.w)]!.hist, Number(r.key), num(r.value));
  }
  const stat = rule.options.stat ?? 'mean';
  const mean = (w: DurationWindow) => perRun(w.sum, w.n);
  const quantile = (q: number) => (w: DurationWindow) => histogramQuantile(w.hist, q);
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    const contributors = stat === 'mean' ? undefined : { p50: quantile(0.5), mean };
    out.push(
      scalarSeries({
        labels: g.labels,
        key: '',
        win: g.win,
        runs: (w) => w.n,
        value: stat === 'mean' ? mean : quantile(QUANTILES[stat]),
        testName: stat === 'mean' ? 'welch_t' : `share_above_baseline_${stat}`,
        test: (c, b) => {
          if (stat === 'mean') return welchTTest({ n: c.n, sum: c.sum, sumSq: c.sumSq }, { n: b.n, sum: b.sum, sumSq: b.sumSq });
          const q = histogramQuantile(b.hist, QUANTILES[stat]);
          if (q === null || c.n === 0 || b.n === 0) return null;
          return twoProportionZTest({ successes: histogramAbove(c.hist, q), trials: c.n }, { successes: histogramAbove(b.hist, q), trials: b.n });
        },
        // What else moved: the median and the mean beside a tail quantile, the tail beside the mean.
        contributors: (_pick, both) =>
          contributors
            ? [{ name: 'p50_ms', ...both(contributors.p50) }, { name: 'mean_ms', ...both(contributors.mean) }]
            : [{ name: 'p50_ms', ...both(quantile(0.5)) }, { name: 'p95_ms', ...both(quantile(0.95)) }],
      }),
    );
  }
  return out;
}
