/**
 * tool_calls_per_run: per tool, sum(tool_calls[tool]) / runs in each window (run-weighted), tested
 * with Welch's t-test on per-run call counts; plus the tool mix as a whole (`__mix__`): the
 * Jensen-Shannon distance between the windows' call distributions, tested with a chi-square test.
 */
import type { Rule } from '../rules/types.js';
import { MIX_KEY } from '../store/contract.js';
import { chiSquareTest, jensenShannonDistance, median, welchTTest, type MomentSums } from '../stats/index.js';
import { baselinePick } from './baseline.js';
import { scalarMeasurement, type Measurement } from './result.js';
import { groupColumns, GroupTable, num, runsSubquery, type BuiltQuery } from './sql.js';
import type { WindowBounds } from './types.js';

export function toolCallsQueries(rule: Rule, table: string, windows: readonly WindowBounds[]): BuiltQuery[] {
  const groups = groupColumns(rule);
  const byGroup = [...groups, 'w'].join(', ');
  const p1: Record<string, unknown> = {};
  const runs = `SELECT ${byGroup}, count() AS runs
FROM (${runsSubquery(rule, table, windows, p1, [])})
GROUP BY ${byGroup}`;
  const p2: Record<string, unknown> = {};
  // Examples: the current-window runs that called the tool most.
  const tools = `SELECT ${byGroup}, tool, sum(c) AS calls, sum(c * c) AS calls_sq,
  arrayMap(x -> x.2, arraySlice(arrayReverseSort(groupArrayIf(1000)((c, run_id), w = 0)), 1, 3)) AS examples
FROM (${runsSubquery(rule, table, windows, p2, ['tool_calls'])})
ARRAY JOIN mapKeys(tool_calls) AS tool, mapValues(tool_calls) AS c
GROUP BY ${byGroup}, tool`;
  return [{ sql: runs, params: p1 }, { sql: tools, params: p2 }];
}

interface ToolWindow {
  calls: number;
  callsSq: number;
}

export function toolCallsMeasure(rule: Rule, windows: readonly WindowBounds[], rows: readonly (readonly Record<string, unknown>[])[]): Measurement[] {
  const [runRows = [], toolRows = []] = rows;
  const nWin = windows.length;
  const groups = new GroupTable(rule, (labels) => ({
    labels,
    runs: new Array<number>(nWin).fill(0),
    tools: new Map<string, { win: ToolWindow[]; examples: string[] }>(),
  }));
  for (const r of runRows) groups.of(r).runs[num(r.w)] = num(r.runs);
  for (const r of toolRows) {
    const g = groups.of(r);
    const name = String(r.tool);
    let t = g.tools.get(name);
    if (!t) g.tools.set(name, (t = { win: Array.from({ length: nWin }, () => ({ calls: 0, callsSq: 0 })), examples: [] }));
    const w = num(r.w);
    t.win[w] = { calls: num(r.calls), callsSq: num(r.calls_sq) };
    if (w === 0) t.examples = (r.examples as string[]) ?? [];
  }

  const out: Measurement[] = [];
  for (const g of groups.values()) {
    const currentRuns = g.runs[0] ?? 0;
    const baseIdx = baselinePick(g.runs);
    const baselineRuns = baseIdx.runs;
    const curMix: Record<string, number> = {};
    const baseMix: Record<string, number> = {};
    const perTool: Measurement[] = [];
    for (const [tool, t] of g.tools) {
      const cur = t.win[0]!;
      const current = currentRuns > 0 ? cur.calls / currentRuns : null;
      const baseVals = baseIdx.windows.map((w) => (g.runs[w]! > 0 ? t.win[w]!.calls / g.runs[w]! : null)).filter((v): v is number => v !== null);
      const baseline = median(baseVals);
      const bw = baseIdx.testWindow;
      const a: MomentSums = { n: currentRuns, sum: cur.calls, sumSq: cur.callsSq };
      const b: MomentSums = { n: g.runs[bw] ?? 0, sum: t.win[bw]!.calls, sumSq: t.win[bw]!.callsSq };
      const test = welchTTest(a, b);
      curMix[tool] = cur.calls;
      baseMix[tool] = baseIdx.windows.reduce((s, w) => s + t.win[w]!.calls, 0);
      perTool.push(scalarMeasurement({
        labels: { ...g.labels, tool },
        key: tool,
        current,
        baseline,
        currentRuns,
        baselineRuns,
        test,
        testName: 'welch_t',
        contributors: [{ name: tool, current, baseline }],
        exampleRunIds: t.examples,
      }));
    }
    // Contributors of each tool's alert: the other tools' moves, biggest first, so a message shows the mix.
    const byMove = [...perTool].sort((x, y) => Math.abs(y.deviation ?? (y.isNew ? Infinity : 0)) - Math.abs(x.deviation ?? (x.isNew ? Infinity : 0)));
    const mixContributors = byMove.slice(0, 5).map((m) => ({ name: m.key, current: m.current, baseline: m.baseline }));
    for (const m of perTool) out.push({ ...m, contributors: [m.contributors[0]!, ...mixContributors.filter((c) => c.name !== m.key)].slice(0, 5) });
    const jsd = jensenShannonDistance(curMix, baseMix);
    const chi = chiSquareTest({ current: curMix, baseline: baseMix });
    out.push({
      labels: { ...g.labels, tool: MIX_KEY },
      key: MIX_KEY,
      current: jsd,
      baseline: 0,
      deviation: jsd,
      isNew: false,
      currentRuns,
      baselineRuns,
      test: chi ? { name: 'chi_square', ...chi } : null,
      contributors: mixContributors,
      exampleRunIds: byMove[0]?.exampleRunIds ?? [],
    });
  }
  return out;
}

