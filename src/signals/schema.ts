/**
 * output_schema_shift: the distribution of output_schema_fingerprint per group. Effect sizes: the
 * Jensen-Shannon distance between the windows and the share of current runs on fingerprints unseen in
 * the baseline; the rule's `measure` picks which one the threshold applies to. Seasonal baselines
 * pool the weeks' counts (a median of distributions is not one).
 *
 * Test: Pearson chi-square of homogeneity on runs per fingerprint. Each run has one fingerprint, so the
 * counts are runs and the cells are independent draws; but a long tail of fingerprints seen a few
 * times each breaks the chi-square approximation (many cells with expected counts near 0), so the
 * fingerprints whose expected count is below 5 in either window are pooled into one column first
 * (`poolSparseCategories`). The effect sizes and contributors use the unpooled counts.
 */
import type { Rule } from '../rules/types.js';
import { chiSquareTest, jensenShannonDistance, poolSparseCategories, unseenShare } from '../stats/index.js';
import { baselinePick } from './baseline.js';
import type { Measurement } from './result.js';
import { TOP_FINGERPRINTS } from './aggregateQuery.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

export { TOP_FINGERPRINTS };
export const OTHER = '__other__';

export function schemaMeasure(rule: Rule, windows: readonly WindowBounds[], sums: SignalSums): Measurement[] {
  const groups = new GroupTable(rule, (labels) => ({
    labels,
    runs: windows.map(() => 0),
    fps: windows.map((): Record<string, number> => ({})),
  }));
  for (const r of sums.totals) groups.of(r).runs[num(r.w)] = num(r.runs);
  for (const r of sums.keyed) if (r.key_kind === 'fingerprint') groups.of(r).fps[num(r.w)]![String(r.key)] = num(r.value);
  const measure = rule.options.measure ?? 'js_distance';
  const out: Measurement[] = [];
  for (const g of groups.values()) {
    // Pool what LIMIT BY cut off, so the shares still sum to the window's runs.
    g.fps.forEach((counts, w) => {
      const listed = Object.values(counts).reduce((s, x) => s + x, 0);
      if (g.runs[w]! > listed) counts[OTHER] = (counts[OTHER] ?? 0) + g.runs[w]! - listed;
    });
    const pick = baselinePick(g.runs);
    const cur = g.fps[0]!;
    const base: Record<string, number> = {};
    for (const w of pick.windows) for (const [fp, n] of Object.entries(g.fps[w]!)) base[fp] = (base[fp] ?? 0) + n;
    const jsd = jensenShannonDistance(cur, base);
    const unseen = unseenShare(cur, base);
    const chi = chiSquareTest(poolSparseCategories({ current: cur, baseline: base }));
    const curTotal = g.runs[0]!;
    const baseTotal = Object.values(base).reduce((s, x) => s + x, 0);
    const contributors = [...new Set([...Object.keys(cur), ...Object.keys(base)])]
      .map((name) => ({
        name,
        current: curTotal > 0 ? (cur[name] ?? 0) / curTotal : null,
        baseline: baseTotal > 0 ? (base[name] ?? 0) / baseTotal : null,
      }))
      .sort((a, b) => Math.abs((b.current ?? 0) - (b.baseline ?? 0)) - Math.abs((a.current ?? 0) - (a.baseline ?? 0)))
      .slice(0, 5);
    const value = measure === 'js_distance' ? jsd : unseen;
    out.push({
      labels: g.labels,
      key: '',
      current: value,
      baseline: 0,
      deviation: value,
      isNew: false,
      currentRuns: curTotal,
      baselineRuns: pick.runs,
      test: chi ? { name: 'chi_square', ...chi } : null,
      contributors,
      exampleRunIds: [],
      extra: { measure, js_distance: jsd, unseen_share: unseen },
    });
  }
  return out;
}
