/**
 * cost_per_success: sum(cost) over all runs / runs with outcome `success` (cost: token | tool | total).
 * A ratio of means, tested with the delta method (ratioZTest). Contributors split the change into
 * token cost per success, tool cost per success and the success rate, so a message says which moved.
 */
import type { Rule } from '../rules/types.js';
import { ratioZTest, type RatioSums } from '../stats/index.js';
import { baselinePick, baselineValue, medianValueWindow } from './baseline.js';
import { scalarMeasurement, type Measurement } from './result.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

/**
 * The delta method's sums for the cost the rule measures, from the totals' per-component sums:
 * X = the run's cost, Y = 1 for a successful run. For the total, Σx² = Σtoken² + 2Σtoken·tool + Σtool².
 */
export function costSums(r: Record<string, unknown>, cost: 'token' | 'tool' | 'total'): { sumX: number; sumXSq: number; sumXY: number } {
  const token = { sumX: num(r.token_cost), sumXSq: num(r.token_cost_sq), sumXY: num(r.success_token_cost) };
  const tool = { sumX: num(r.tool_cost), sumXSq: num(r.tool_cost_sq), sumXY: num(r.success_tool_cost) };
  if (cost === 'token') return token;
  if (cost === 'tool') return tool;
  return {
    sumX: token.sumX + tool.sumX,
    sumXSq: token.sumXSq + 2 * num(r.token_x_tool_cost) + tool.sumXSq,
    sumXY: token.sumXY + tool.sumXY,
  };
}

interface CostWindow extends RatioSums {
  tokenCost: number;
  toolCost: number;
}

export function costMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const empty = (): CostWindow => ({ n: 0, sumX: 0, sumXSq: 0, sumY: 0, sumYSq: 0, sumXY: 0, tokenCost: 0, toolCost: 0 });
  const groups = new GroupTable(rule, (labels) => ({ labels, win: windows.map(empty) }));
  const cost = rule.options.cost ?? 'total';
  for (const r of sums.totals) {
    const g = groups.of(r);
    const successes = num(r.successes);
    g.win[num(r.w)] = {
      n: num(r.runs),
      ...costSums(r, cost),
      sumY: successes,
      sumYSq: successes, // the success indicator is 0/1
      tokenCost: num(r.token_cost),
      toolCost: num(r.tool_cost),
    };
  }
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    const pick = baselinePick(g.win.map((w) => w.n));
    const per = (w: number, f: (x: CostWindow) => number) => (g.win[w]!.sumY > 0 ? f(g.win[w]!) / g.win[w]!.sumY : null);
    const current = per(0, (x) => x.sumX);
    const baseline = baselineValue(pick, (w) => per(w, (x) => x.sumX));
    const test = ratioZTest(g.win[0]!, g.win[medianValueWindow(pick, (w) => per(w, (x) => x.sumX))]!);
    const successRate = (w: number) => (g.win[w]!.n > 0 ? g.win[w]!.sumY / g.win[w]!.n : null);
    out.push(scalarMeasurement({
      labels: g.labels,
      key: '',
      current,
      baseline,
      currentRuns: g.win[0]!.n,
      baselineRuns: pick.runs,
      test,
      testName: 'ratio_z_delta',
      contributors: [
        { name: 'token_cost_per_success_usd', current: per(0, (x) => x.tokenCost), baseline: baselineValue(pick, (w) => per(w, (x) => x.tokenCost)) },
        { name: 'tool_cost_per_success_usd', current: per(0, (x) => x.toolCost), baseline: baselineValue(pick, (w) => per(w, (x) => x.toolCost)) },
        { name: 'success_rate', current: successRate(0), baseline: baselineValue(pick, successRate) },
      ],
      exampleRunIds: [],
    }));
  }
  return out;
}
