/**
 * score and metric: the mean of a named per-run value over the runs that carry it (`score: NAME`:
 * an evaluation or feedback score, inline on the run or arriving later in run_scores; `metric: NAME`:
 * a custom value of the run). Tested with Welch's t-test over those runs; min_runs counts them. The
 * share of runs that carry the value is a contributor: a judge that scores fewer runs is a change
 * of its own.
 */
import type { Rule } from '../rules/types.js';
import { welchTTest } from '../stats/index.js';
import type { Measurement } from './result.js';
import { perRun, scalarSeries } from './scalar.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

interface ValuedWindow {
  runs: number;
  n: number;
  sum: number;
  sumSq: number;
}

export function valuedMeasure(kind: 'score' | 'metric'): (rule: Rule, windows: readonly WindowBounds[], sums: SignalSums) => Measurement[] {
  return (rule, windows, sums) => {
    const name = kind === 'score' ? rule.options.score : rule.options.metric;
    const groups = new GroupTable(rule, (labels) => ({ labels, win: windows.map((): ValuedWindow => ({ runs: 0, n: 0, sum: 0, sumSq: 0 })) }));
    for (const r of sums.totals) groups.of(r).win[num(r.w)]!.runs = num(r.runs);
    for (const r of sums.keyed) {
      if (r.key_kind !== kind || String(r.key) !== name) continue;
      const w = groups.of(r).win[num(r.w)]!;
      // Inline and late scores of a run's bucket arrive as separate rows: they add.
      w.n += num(r.value_x_total);
      w.sum += num(r.value);
      w.sumSq += num(r.value_sq);
    }
    const out: Measurement[] = [];
    for (const g of groups.values()) {
      out.push(
        scalarSeries({
          labels: g.labels,
          key: name ?? '',
          win: g.win,
          runs: (w) => w.n,
          value: (w) => perRun(w.sum, w.n),
          testName: 'welch_t',
          test: (c, b) => welchTTest({ n: c.n, sum: c.sum, sumSq: c.sumSq }, { n: b.n, sum: b.sum, sumSq: b.sumSq }),
          contributors: (_pick, both) => [{ name: kind === 'score' ? 'scored_share' : 'share_with_metric', ...both((w) => (w.runs > 0 ? w.n / w.runs : null)) }],
        }),
      );
    }
    return out;
  };
}
