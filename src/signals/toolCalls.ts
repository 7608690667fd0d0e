/**
 * tool_calls_per_run: per tool, sum(tool_calls[tool]) / runs in each window (run-weighted), tested
 * with Welch's t-test on per-run call counts; plus the tool mix as a whole (`__mix__`): the
 * Jensen-Shannon distance between the windows' call distributions, tested with a Rao-Scott corrected
 * chi-square. Calls cluster in runs (a run that loops calls one tool ten times), so a chi-square on
 * call counts would treat ten correlated calls as ten independent draws; the correction divides it by
 * the design effects estimated from per-run sums: per window the runs, Σm and Σm² (m = a run's calls
 * over all tools), per tool Σc, Σc² and Σc·m (c = a run's calls of the tool), and per pair of tools
 * called in the same run Σc_a·c_b (one row per pair and window: a run contributes the pairs of the
 * tools it called, so a few rows, not tools²).
 */
import type { Rule } from '../rules/types.js';
import { MIX_KEY } from '../store/contract.js';
import { jensenShannonDistance, median, raoScottChiSquareTest, welchTTest, type CategorySums, type MixSums, type MomentSums } from '../stats/index.js';
import { baselinePick, medianValueWindow } from './baseline.js';
import { scalarMeasurement, type Measurement } from './result.js';
import { PAIR_SEPARATOR } from '../store/aggregates.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

interface ToolWindow {
  calls: number;
  callsSq: number;
  /** Σ c·m: the tool's calls times the run's calls over all tools. */
  callsXTotal: number;
}

interface RunWindow {
  runs: number;
  /** Σ m and Σ m² over runs, m = the run's calls over all tools. */
  calls: number;
  callsSq: number;
}

export function toolCallsMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const runRows = sums.totals;
  const nWin = windows.length;
  const groups = new GroupTable(rule, (labels) => ({
    labels,
    runs: new Array<number>(nWin).fill(0),
    totals: Array.from({ length: nWin }, (): RunWindow => ({ runs: 0, calls: 0, callsSq: 0 })),
    tools: new Map<string, { win: ToolWindow[] }>(),
    // Σ c_a·c_b per window, products[w][a][b]
    products: Array.from({ length: nWin }, (): Record<string, Record<string, number>> => ({})),
  }));
  for (const r of runRows) {
    const g = groups.of(r);
    const w = num(r.w);
    g.runs[w] = num(r.runs);
    g.totals[w] = { runs: num(r.runs), calls: num(r.calls), callsSq: num(r.calls_sq) };
  }
  for (const r of sums.keyed) {
    const g = groups.of(r);
    const w = num(r.w);
    const key = String(r.key);
    if (r.key_kind === 'tool') {
      let t = g.tools.get(key);
      if (!t) g.tools.set(key, (t = { win: Array.from({ length: nWin }, () => ({ calls: 0, callsSq: 0, callsXTotal: 0 })) }));
      t.win[w] = { calls: num(r.value), callsSq: num(r.value_sq), callsXTotal: num(r.value_x_total) };
    } else if (r.key_kind === 'pair') {
      const [a = '', b = ''] = key.split(PAIR_SEPARATOR);
      (g.products[w]![a] ??= {})[b] = num(r.value);
    }
  }

  const out: Measurement[] = [];
  for (const g of groups.values()) {
    const currentRuns = g.runs[0] ?? 0;
    const baseIdx = baselinePick(g.runs);
    const baselineRuns = baseIdx.runs;
    const curMix: Record<string, number> = {};
    const baseMix: Record<string, number> = {};
    // The mix test's sums: the current window, and the baseline windows pooled as the mix's counts are.
    const mixSums = (ws: readonly number[], tools: Record<string, CategorySums>): MixSums => {
      const products: Record<string, Record<string, number>> = {};
      for (const w of ws) {
        for (const [a, row] of Object.entries(g.products[w]!)) {
          for (const [b, x] of Object.entries(row)) (products[a] ??= {})[b] = (products[a]?.[b] ?? 0) + x;
        }
      }
      return {
        runs: ws.reduce((s, w) => s + g.totals[w]!.runs, 0),
        sumTotal: ws.reduce((s, w) => s + g.totals[w]!.calls, 0),
        sumTotalSq: ws.reduce((s, w) => s + g.totals[w]!.callsSq, 0),
        categories: tools,
        products,
      };
    };
    const curTools: Record<string, CategorySums> = {};
    const baseTools: Record<string, CategorySums> = {};
    const perTool: Measurement[] = [];
    for (const [tool, t] of g.tools) {
      const cur = t.win[0]!;
      const current = currentRuns > 0 ? cur.calls / currentRuns : null;
      const baseVals = baseIdx.windows.map((w) => (g.runs[w]! > 0 ? t.win[w]!.calls / g.runs[w]! : null)).filter((v): v is number => v !== null);
      const baseline = median(baseVals);
      const bw = medianValueWindow(baseIdx, (w) => (g.runs[w]! > 0 ? t.win[w]!.calls / g.runs[w]! : null));
      const a: MomentSums = { n: currentRuns, sum: cur.calls, sumSq: cur.callsSq };
      const b: MomentSums = { n: g.runs[bw] ?? 0, sum: t.win[bw]!.calls, sumSq: t.win[bw]!.callsSq };
      const test = welchTTest(a, b);
      curMix[tool] = cur.calls;
      baseMix[tool] = baseIdx.windows.reduce((s, w) => s + t.win[w]!.calls, 0);
      curTools[tool] = { sum: cur.calls, sumSq: cur.callsSq, sumXTotal: cur.callsXTotal };
      baseTools[tool] = {
        sum: baseMix[tool],
        sumSq: baseIdx.windows.reduce((s, w) => s + t.win[w]!.callsSq, 0),
        sumXTotal: baseIdx.windows.reduce((s, w) => s + t.win[w]!.callsXTotal, 0),
      };
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
        exampleRunIds: [],
      }));
    }
    // Contributors of each tool's alert: the other tools' moves, biggest first, so a message shows the mix.
    const byMove = [...perTool].sort((x, y) => Math.abs(y.deviation ?? (y.isNew ? Infinity : 0)) - Math.abs(x.deviation ?? (x.isNew ? Infinity : 0)));
    const mixContributors = byMove.slice(0, 5).map((m) => ({ name: m.key, current: m.current, baseline: m.baseline }));
    for (const m of perTool) out.push({ ...m, contributors: [m.contributors[0]!, ...mixContributors.filter((c) => c.name !== m.key)].slice(0, 5) });
    const jsd = jensenShannonDistance(curMix, baseMix);
    const mixTest = raoScottChiSquareTest(mixSums([0], curTools), mixSums(baseIdx.windows, baseTools));
    out.push({
      labels: { ...g.labels, tool: MIX_KEY },
      key: MIX_KEY,
      current: jsd,
      baseline: 0,
      deviation: jsd,
      isNew: false,
      currentRuns,
      baselineRuns,
      test: mixTest ? { name: 'rao_scott_chi_square', ...mixTest } : null,
      contributors: mixContributors,
      exampleRunIds: [],
    });
  }
  return out;
}

