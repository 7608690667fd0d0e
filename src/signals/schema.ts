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
 *
 * `measure: share` watches each fingerprint's share of runs instead, one series per fingerprint
 * (label `fingerprint`), as tool_calls_per_run watches each tool: the distance of a 30% -> 45% move
 * of one existing shape is ~0.1, under any distance threshold that stays quiet on noise, while its
 * relative share change is +50%. Each run has one fingerprint, so a share is a proportion of runs
 * and the two-proportion z-test over runs is exact in its unit. Only fingerprints holding at least
 * MIN_SHARE of the baseline's runs get a series: the long tail's shares are noise, and a shape the
 * baseline hardly had is a new shape, which the distance and `unseen_share` report (one alert for
 * one change, not two).
 */
import type { Rule } from '../rules/types.js';
import { chiSquareTest, jensenShannonDistance, poolSparseCategories, twoProportionZTest, unseenShare } from '../stats/index.js';
import { baselinePick, baselineValue, medianValueWindow, type BaselinePick } from './baseline.js';
import { scalarMeasurement, type Measurement } from './result.js';
import { TOP_FINGERPRINTS } from './aggregateQuery.js';
import { GroupTable, num } from './sql.js';
import type { SignalSums } from './sums.js';
import type { WindowBounds } from './types.js';

export { TOP_FINGERPRINTS };
export const OTHER = '__other__';
/** A fingerprint gets a share series from this share of a window's runs on. */
export const MIN_SHARE = 0.05;

interface FingerprintGroup {
  readonly labels: Record<string, string>;
  readonly runs: number[];
  readonly fps: Record<string, number>[];
}

/** One series per fingerprint with at least MIN_SHARE of the runs in a baseline window. */
function shareMeasurements(g: FingerprintGroup, pick: BaselinePick): Measurement[] {
  const share = (w: number, fp: string) => (g.runs[w]! > 0 ? (g.fps[w]![fp] ?? 0) / g.runs[w]! : null);
  const names = new Set<string>();
  for (const w of pick.windows) for (const fp of Object.keys(g.fps[w]!)) if (fp !== OTHER && (share(w, fp) ?? 0) >= MIN_SHARE) names.add(fp);
  return [...names].sort().map((fp) => {
    const current = share(0, fp);
    const baseline = baselineValue(pick, (w) => share(w, fp));
    const bw = medianValueWindow(pick, (w) => share(w, fp));
    const test = twoProportionZTest({ successes: g.fps[0]![fp] ?? 0, trials: g.runs[0]! }, { successes: g.fps[bw]![fp] ?? 0, trials: g.runs[bw]! });
    return scalarMeasurement({
      labels: { ...g.labels, fingerprint: fp },
      key: fp,
      current,
      baseline,
      currentRuns: g.runs[0]!,
      baselineRuns: pick.runs,
      test,
      testName: 'two_proportion_z',
      contributors: [{ name: fp, current, baseline }],
      exampleRunIds: [],
      extra: { measure: 'share' },
    });
  });
}

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
    if (measure === 'share') {
      out.push(...shareMeasurements(g, pick));
      continue;
    }
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
