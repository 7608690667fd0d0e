/**
 * cost_per_success: sum(cost) over all runs / runs with outcome `success` (cost: token | tool | total).
 * A ratio of means, tested with the delta method (ratioZTest). Contributors split the change into
 * token cost per success, tool cost per success and the success rate, so a message says which moved.
 */
import type { Rule } from '../rules/types.js';
import { ratioZTest, type RatioSums } from '../stats/index.js';
import { baselinePick, baselineValue, medianValueWindow } from './baseline.js';
import { scalarMeasurement, type Measurement } from './result.js';
import { groupColumns, GroupTable, num, runsSubquery, type BuiltQuery } from './sql.js';
import type { WindowBounds } from './types.js';

const COST_EXPR = { token: 'token_cost_usd', tool: 'tool_cost_usd', total: '(token_cost_usd + tool_cost_usd)' } as const;

export function costQueries(rule: Rule, table: string, windows: readonly WindowBounds[]): BuiltQuery[] {
  const groups = groupColumns(rule);
  const byGroup = [...groups, 'w'].join(', ');
  const cost = COST_EXPR[rule.options.cost ?? 'total'];
  const params: Record<string, unknown> = {};
  const sql = `SELECT ${byGroup}, count() AS runs,
  sum(${cost}) AS sum_x, sum(${cost} * ${cost}) AS sum_x_sq,
  countIf(outcome = 'success') AS sum_y,
  sumIf(${cost}, outcome = 'success') AS sum_xy,
  sum(token_cost_usd) AS token_cost, sum(tool_cost_usd) AS tool_cost,
  arrayMap(x -> x.2, arraySlice(arrayReverseSort(groupArrayIf(1000)((${cost}, run_id), w = 0)), 1, 3)) AS examples
FROM (${runsSubquery(rule, table, windows, params, ['token_cost_usd', 'tool_cost_usd', 'outcome'])})
GROUP BY ${byGroup}`;
  return [{ sql, params }];
}

interface CostWindow extends RatioSums {
  tokenCost: number;
  toolCost: number;
  examples: string[];
}

export function costMeasure(rule: Rule, windows: readonly WindowBounds[], rows: readonly (readonly Record<string, unknown>[])[]): Measurement[] {
  const empty = (): CostWindow => ({ n: 0, sumX: 0, sumXSq: 0, sumY: 0, sumYSq: 0, sumXY: 0, tokenCost: 0, toolCost: 0, examples: [] });
  const groups = new GroupTable(rule, (labels) => ({ labels, win: windows.map(empty) }));
  for (const r of rows[0] ?? []) {
    const g = groups.of(r);
    const successes = num(r.sum_y);
    g.win[num(r.w)] = {
      n: num(r.runs),
      sumX: num(r.sum_x),
      sumXSq: num(r.sum_x_sq),
      sumY: successes,
      sumYSq: successes, // the success indicator is 0/1
      sumXY: num(r.sum_xy),
      tokenCost: num(r.token_cost),
      toolCost: num(r.tool_cost),
      examples: (r.examples as string[]) ?? [],
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
      exampleRunIds: g.win[0]!.examples,
    }));
  }
  return out;
}
