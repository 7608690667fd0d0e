/**
 * runs and cost: volumes over the window, not rates per run. `runs` counts the runs (traffic);
 * `cost` sums their spend (`cost: token | tool | total`). A baseline window of another length is
 * scaled to the current window's (a 1-day window against `previous: 7d` compares with the daily
 * average of those 7 days). A group whose runs stopped still has its baseline rows, so it is
 * measured at 0: a drop to zero is a change, not "no data". Tests: traffic as Poisson counts over
 * their windows' lengths (poissonRateTest), spend as a compound Poisson sum (spendZTest).
 */
import type { Rule } from '../rules/types.js';
import { poissonRateTest, spendZTest } from '../stats/index.js';
import { costSums } from './cost.js';
import type { Measurement } from './result.js';
import { scalarSeries } from './scalar.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

interface VolumeWindow {
  runs: number;
  /** Scale to the current window's length. */
  scale: number;
  exposure: number;
  tokenCost: number;
  toolCost: number;
  spend: number;
  spendSq: number;
}

/** A window's spend and its sum of squares: the cost per success's X sums (cost.ts), without its Y. */
function spendOf(r: Record<string, unknown>, cost: 'token' | 'tool' | 'total'): { sum: number; sumSq: number } {
  const s = costSums(r, cost);
  return { sum: s.sumX, sumSq: s.sumXSq };
}

export function volumeMeasure(kind: 'runs' | 'cost'): (rule: Rule, windows: readonly WindowBounds[], sums: SignalSums) => Measurement[] {
  return (rule, windows, sums) => {
    const length = (w: WindowBounds) => Math.max(1, w.endMs - w.startMs);
    const current = length(windows[0]!);
    const empty = (w: WindowBounds): VolumeWindow => ({ runs: 0, scale: current / length(w), exposure: length(w), tokenCost: 0, toolCost: 0, spend: 0, spendSq: 0 });
    const groups = new GroupTable(rule, (labels) => ({ labels, win: windows.map(empty) }));
    const cost = rule.options.cost ?? 'total';
    for (const r of sums.totals) {
      const w = groups.of(r).win[num(r.w)]!;
      const s = spendOf(r, cost);
      Object.assign(w, { runs: num(r.runs), tokenCost: num(r.token_cost), toolCost: num(r.tool_cost), spend: s.sum, spendSq: s.sumSq });
    }
    const out: Measurement[] = [];
    for (const g of groups.values()) {
      // A baseline window without runs is no baseline; the current one is a 0.
      const value = (w: VolumeWindow, i: number) => (i > 0 && w.runs === 0 ? null : (kind === 'runs' ? w.runs : w.spend) * (i === 0 ? 1 : w.scale));
      out.push(
        scalarSeries({
          labels: g.labels,
          key: '',
          win: g.win,
          // What min_runs asks of the baseline: its runs per current window's length.
          runs: (w) => w.runs,
          value,
          testName: kind === 'runs' ? 'poisson_rate_z' : 'compound_poisson_z',
          test: (c, b) =>
            kind === 'runs'
              ? poissonRateTest({ count: c.runs, exposure: c.exposure }, { count: b.runs, exposure: b.exposure })
              : spendZTest({ sum: c.spend, sumSq: c.spendSq, exposure: c.exposure }, { sum: b.spend, sumSq: b.spendSq, exposure: b.exposure }),
          contributors: (_pick, both) =>
            kind === 'runs'
              ? []
              : [
                  { name: 'runs', ...both((w, i) => (i > 0 && w.runs === 0 ? null : w.runs * (i === 0 ? 1 : w.scale))) },
                  { name: 'cost_per_run_usd', ...both((w) => (w.runs > 0 ? w.spend / w.runs : null)) },
                ],
        }),
      );
    }
    return out;
  };
}
