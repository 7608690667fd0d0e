/**
 * Repeated looks at sliding windows: how often does a rule alert on noise in a month, per method,
 * and what power is left for real changes at low volume (src/stats/sequential.ts explains the
 * methods and why the recommended one works).
 *
 * Setup. Runs arrive as a Poisson process (100 per 7-day window, 14.3 a day; and 500 a day, 3500 per
 * window). Each carries one tool's calls (clustered), policy activations over decisions (a per-run
 * propensity) and a lognormal cost with a success flag; see `Runs`. A rule compares the last 7 days
 * with the 7 before every 5 minutes for 30 days, for three series through the project's own tests
 * (Welch t on calls per run; delta-method ratio z on activations per decision and cost per success),
 * and alerts when |deviation| >= 20% and the method's p-value condition both hold at every look for
 * 30 minutes (`for: 30m`: 7 consecutive looks). The window sums come from prefix sums over the runs in
 * time order; a look whose three window edges did not move reuses the last one's result, which is
 * equivalent to evaluating only when a run enters or leaves a window. Methods: the fixed test per look
 * at 0.01 / 0.008 / 0.0014 / 0.001 (today's 0.001, the proposed 0.01, and the levels the two observed
 * cases, p = 0.008 and 0.0014, need), the per-look level from the horizon (`slidingLookLevel`, the
 * recommendation) and the mixture p-value (`mixturePValueOf`) at alpha 0.05 / 0.01 with tau 0.2 /
 * 0.5 / 1.0. Seeded; about 30 s. Asserted: the recommended method's monthly rate is at most
 * alpha + 2 binomial standard errors (0.064 at 0.05, 0.016 at 0.01) for every series at both volumes.
 *
 * Measured (1000 A/A months per volume): P(any false alert in 30 days), per series
 *                                              100 runs per window          500 runs a day
 *   method                                    tool   policy   cost       tool   policy   cost
 *   fixed p <= 0.01 per look                  0.295  0.345    0.153      0      0        0.104
 *   fixed p <= 0.008 per look                 0.243  0.309    0.125      0      0        0.102
 *   fixed p <= 0.0014 per look                0.066  0.092    0.015      0      0        0.036
 *   fixed p <= 0.001 per look (today)         0.049  0.076    0.011      0      0        0.026
 *   horizon level a=0.05 (p <= 6.1e-4)        0.031  0.048    0.008      0      0        0.015
 *   horizon level a=0.01 (p <= 9.6e-5)        0.003  0.011    0          0      0        0.005
 *   mixture a=0.05 tau=0.2                    0.034  0.037    0.003      0      0        0.059
 *   mixture a=0.05 tau=0.5                    0.091  0.111    0.019      0      0        0.039
 *   mixture a=0.05 tau=1                      0.079  0.121    0.020      0      0        0.019
 *   mixture a=0.01 tau=0.2                    0.003  0.005    0          0      0        0.009
 *   mixture a=0.01 tau=0.5                    0.013  0.022    0.003      0      0        0.005
 *   mixture a=0.01 tau=1                      0.012  0.031    0.005      0      0        0.005
 *   `slidingFalseAlertRate` (no threshold, no `for`): 0.01: 0.489, 0.008: 0.412, 0.0014: 0.101,
 *   0.001: 0.076, 6.1e-4: 0.05, 9.6e-5: 0.01.
 * At 500 runs a day the 20% threshold is 4-5 standard errors for calls and policy and nothing gets
 * past it; cost per success (lognormal, sigma 1.5) is the exception, its heavy tail moving the
 * window's value by 20% now and then.
 *
 * Power at 100 runs per window. "One look": 100 vs 100 runs, 4000 replications (the peak of a step,
 * 7 days after it); "14 days": a step, then looks every 5 minutes for the 14 days it takes to pass
 * through both windows, P(alert), 1000 episodes. Median fixed-test p: tool +80% 0.0013 (quartiles
 * 1.6e-4 / 0.0093; the observed case was 0.0014); policy -37% with 3 decisions per run 0.058 (0.010 /
 * 0.22), which does not reproduce the observed 0.008: with 9 decisions per run it does (median 0.0071).
 *                                  tool +80%        policy -37%, 3/run   policy -37%, 9/run
 *   method                         one look 14 days one look 14 days     one look 14 days
 *   fixed 0.01                     0.758    0.947   0.248    0.558       0.548    0.840
 *   fixed 0.008                    0.734    0.935   0.225    0.519       0.518    0.812
 *   fixed 0.0014                   0.507    0.749   0.099    0.267       0.298    0.562
 *   fixed 0.001 (today)            0.456    0.704   0.085    0.226       0.268    0.519
 *   horizon level a=0.05           0.394    0.634   0.066    0.185       0.229    0.463
 *   horizon level a=0.01           0.203    0.408   0.020    0.074       0.112    0.262
 *   mixture a=0.05 tau=0.2         0.093    0.209   0.068    0.186       0.295    0.554
 *   mixture a=0.05 tau=0.5         0.555    0.795   0.129    0.325       0.353    0.631
 *   mixture a=0.05 tau=1           0.566    0.804   0.108    0.291       0.297    0.559
 *   mixture a=0.01 tau=0.2         0.002    0.017   0.014    0.057       0.129    0.291
 *   mixture a=0.01 tau=0.5         0.272    0.506   0.050    0.147       0.188    0.399
 *   mixture a=0.01 tau=1           0.326    0.563   0.044    0.132       0.160    0.356
 * The mixture at one look is a fixed test at (median r; level for a=0.05 / a=0.01): tool tau 0.2
 * r 0.7: 5.3e-5 / 7.7e-7, tau 0.5 r 4.1: 2.1e-3 / 2.4e-4, tau 1 r 16.5: 2.2e-3 / 3.5e-4; policy
 * (9/run) tau 0.2 r 2.1: 1.2e-3 / 9.5e-5, tau 0.5 r 13.2: 2.3e-3 / 3.5e-4, tau 1 r 52.8: 1.4e-3 /
 * 2.5e-4. So at one look it is 20-40 times stricter than a fixed test at the same alpha with tau
 * 0.5-1 (up to 10^4 times with tau 0.2), and still not valid over the month: at a=0.05 with tau 0.5-1
 * it fires in 1.6-2.4 times the nominal share of months at 100 runs per window.
 *
 * Reading. Every method is, look by look, a threshold on |z|; what differs is where it sits. Only the
 * horizon level holds its nominal monthly rate on every series at both volumes, and among the methods
 * that do it has the most power (the mixture at tau 0.2, the one other that stays near nominal, loses
 * the clustered tool: 0.09). The two observed cases need per-look levels of 0.0014 and 0.008, i.e. a
 * false alert in ~7-10% and ~25-40% of months per series: with the chance held at 5%, they are found
 * at one look with probability ~0.4 and ~0.23, and within the 14 days after a step ~0.63 and ~0.46.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { equivalentZ, mixtureEquivalentLevel, mixturePValueOf, mixtureScale } from '../helpers/mixture.js';
import {
  ratioZTest,
  slidingFalseAlertRate,
  slidingLookLevel,
  welchTTest,
  type RatioSums,
  type TestResult,
} from '../../src/stats/index.js';
import { Sampler, poissonCdf } from '../helpers/aa.js';

// ---------------------------------------------------------------------------------------------------
// The rule: 7-day windows, a look every 5 minutes for 30 days, |deviation| >= 20% held for 30 minutes

const WINDOW_DAYS = 7;
const MONTH_DAYS = 30;
const LOOK_DAYS = 5 / (24 * 60);
/** `for: 30m` as the alert machine applies it: true at t0, t0+5m, ..., t0+30m, i.e. 7 looks. */
const HOLD_LOOKS = 7;
const THRESHOLD = 0.2;
const HORIZON = MONTH_DAYS / WINDOW_DAYS;

/** Today's 0.001, the proposed 0.01, and the least levels that fire the two observed cases (p 0.008, 0.0014). */
const FIXED_LEVELS = [0.01, 0.008, 0.0014, 0.001] as const;
const ALPHAS = [0.05, 0.01] as const;
const TAUS = [0.2, 0.5, 1.0] as const;
/** The recommended per-look levels: a chance alpha of any false alert per series in 30 days. */
const HORIZON_LEVELS = ALPHAS.map((alpha) => ({ alpha, level: slidingLookLevel(alpha, HORIZON) }));

const VOLUMES = [
  { label: '100 runs/window', perDay: 100 / WINDOW_DAYS },
  { label: '500 runs/day', perDay: 500 },
] as const;
const MONTHS = 1000;
const SINGLE_LOOK_REPS = 4000;
const EPISODES = 1000;

// ---------------------------------------------------------------------------------------------------
// The runs

/**
 * Per run:
 * - calls of one tool: negative binomial with mean 1.5 × the run's loop intensity (Gamma(3, 1/3),
 *   mean 1) and shape 2 (variance 3.75 at mean 1.5): clustered enough that +80% at 100 runs per
 *   window gives a median Welch p of 1.3e-3, the observed case's 1.4e-3;
 * - policy decisions 1 + Poisson(2) (mean 3), activations beta-binomial with a per-run propensity
 *   Beta(1.5, 8.5) (mean 0.15, within-run correlation 1/11);
 * - cost lognormal (median $0.05, sigma 1.5), success with probability 0.9.
 */
const TOOL = { mean: 1.5, shape: 2, intensityShape: 3 } as const;
const POLICY = { rate: 0.15, concentration: 10, extraDecisions: 2 } as const;
/**
 * The 3-decision model gives -37% a median p of 0.06 at 100 runs, far from the observed 0.008: the
 * real workflow carried more information per run. 1 + Poisson(8) decisions (mean 9) matches it.
 */
const POLICY_AS_OBSERVED = { ...POLICY, extraDecisions: 8 } as const;
const COST = { mu: Math.log(0.05), sigma: 1.5, success: 0.9 } as const;

type PolicyModel = typeof POLICY | typeof POLICY_AS_OBSERVED;

const DECISIONS = new Map<number, Float64Array>([POLICY.extraDecisions, POLICY_AS_OBSERVED.extraDecisions].map((m) => [m, poissonCdf(m)]));

/** A change in the current window: factors on the tool's mean calls and the activation rate. */
interface Change {
  readonly tool: number;
  readonly policy: number;
}
const NONE: Change = { tool: 1, policy: 1 };

/** Runs as columns: arrival time (days) and the per-run quantities. */
class Runs {
  n = 0;
  readonly t: Float64Array;
  readonly calls: Float64Array;
  readonly act: Float64Array;
  readonly dec: Float64Array;
  readonly cost: Float64Array;
  readonly ok: Float64Array;
  constructor(capacity: number) {
    this.t = new Float64Array(capacity);
    this.calls = new Float64Array(capacity);
    this.act = new Float64Array(capacity);
    this.dec = new Float64Array(capacity);
    this.cost = new Float64Array(capacity);
    this.ok = new Float64Array(capacity);
  }

  draw(s: Sampler, i: number, change: Change, policy: PolicyModel = POLICY): void {
    const intensity = s.erlang(TOOL.intensityShape, 1 / TOOL.intensityShape);
    this.calls[i] = s.negBinomial(TOOL.mean * intensity * change.tool, TOOL.shape);
    const d = 1 + s.discrete(DECISIONS.get(policy.extraDecisions)!);
    const rate = policy.rate * change.policy;
    this.dec[i] = d;
    this.act[i] = s.betaBinomial(d, rate * policy.concentration, (1 - rate) * policy.concentration);
    this.cost[i] = Math.exp(COST.mu + COST.sigma * s.normal());
    this.ok[i] = s.uniform() < COST.success ? 1 : 0;
  }
}

/** A Poisson process of runs over [0, days); runs from `changeAt` on carry `change`. */
function arrivals(s: Sampler, perDay: number, days: number, changeAt = Number.POSITIVE_INFINITY, change: Change = NONE, policy: PolicyModel = POLICY): Runs {
  const capacity = Math.ceil(perDay * days + 10 * Math.sqrt(perDay * days) + 20);
  const runs = new Runs(capacity);
  let t = 0;
  for (;;) {
    t -= Math.log(1 - s.uniform()) / perDay;
    if (t >= days) break;
    // Ten standard deviations above the mean: never reached, but a typed array would drop the write.
    if (runs.n === capacity) throw new Error('more arrivals than the capacity');
    runs.t[runs.n] = t;
    runs.draw(s, runs.n, t >= changeAt ? change : NONE, policy);
    runs.n++;
  }
  return runs;
}

// Prefix sums over runs in time order: a window's sums are two lookups, exact for the integer
// quantities and within a few ulp of the total for cost (the tests' own rounding guard is far wider).
const Q = { calls: 0, callsSq: 1, act: 2, actSq: 3, dec: 4, decSq: 5, actDec: 6, cost: 7, costSq: 8, ok: 9, costOk: 10 } as const;
const NQ = 11;

function prefixSums(r: Runs): Float64Array {
  const P = new Float64Array((r.n + 1) * NQ);
  for (let i = 0; i < r.n; i++) {
    const c = r.calls[i]!, a = r.act[i]!, d = r.dec[i]!, x = r.cost[i]!, y = r.ok[i]!;
    const o = i * NQ;
    const values = [c, c * c, a, a * a, d, d * d, a * d, x, x * x, y, x * y];
    for (let q = 0; q < NQ; q++) P[o + NQ + q] = P[o + q]! + values[q]!;
  }
  return P;
}

// ---------------------------------------------------------------------------------------------------
// The three series, through the project's own tests

const SERIES = [
  { name: 'tool calls per run (Welch t)', kind: 't' },
  { name: 'policy per decision (ratio z)', kind: 'z' },
  { name: 'cost per success (ratio z)', kind: 'z' },
] as const;

interface Look {
  readonly deviation: number;
  readonly test: TestResult | null;
}

/** Sums of one window [lo, hi) of runs, as the tests take them. */
function windowSums(P: Float64Array, lo: number, hi: number) {
  const sum = (q: number) => P[hi * NQ + q]! - P[lo * NQ + q]!;
  const n = hi - lo;
  return {
    tool: { n, sum: sum(Q.calls), sumSq: sum(Q.callsSq) },
    policy: { n, sumX: sum(Q.act), sumXSq: sum(Q.actSq), sumY: sum(Q.dec), sumYSq: sum(Q.decSq), sumXY: sum(Q.actDec) } as RatioSums,
    // Success is 0/1: Σy² = Σy.
    cost: { n, sumX: sum(Q.cost), sumXSq: sum(Q.costSq), sumY: sum(Q.ok), sumYSq: sum(Q.ok), sumXY: sum(Q.costOk) } as RatioSums,
  };
}

const relative = (current: number, baseline: number) => (baseline > 0 && Number.isFinite(current) ? (current - baseline) / baseline : Number.NaN);

/**
 * Series k at one look. The test runs only where the deviation passes the threshold (elsewhere no
 * method can alert): that keeps 500 runs/day cheap, where the threshold almost never passes.
 */
function look(k: number, cur: ReturnType<typeof windowSums>, base: ReturnType<typeof windowSums>, always = false): Look {
  if (k === 0) {
    const deviation = cur.tool.n > 0 && base.tool.n > 0 ? relative(cur.tool.sum / cur.tool.n, base.tool.sum / base.tool.n) : Number.NaN;
    return { deviation, test: always || Math.abs(deviation) >= THRESHOLD ? welchTTest(cur.tool, base.tool) : null };
  }
  const [c, b] = k === 1 ? [cur.policy, base.policy] : [cur.cost, base.cost];
  const deviation = c.sumY > 0 ? relative(c.sumX / c.sumY, b.sumX / b.sumY) : Number.NaN;
  return { deviation, test: always || Math.abs(deviation) >= THRESHOLD ? ratioZTest(c, b) : null };
}

/**
 * Evidence streams per series, each −ln of a p-value where the deviation passes the threshold and 0
 * elsewhere: [0] the fixed test's own p, [1 + u] the mixture p at TAUS[u]. A method "p <= L" is
 * true at a look iff the stream is >= −ln L there.
 */
const STREAMS = 1 + TAUS.length;

function evidence(l: Look, kind: 't' | 'z', out: Float64Array, o: number): void {
  out.fill(0, o, o + STREAMS);
  if (l.test === null || !(Math.abs(l.deviation) >= THRESHOLD)) return;
  out[o] = -Math.log(l.test.pValue);
  for (let u = 0; u < TAUS.length; u++) {
    const p = mixturePValueOf(l.test, kind, l.deviation, TAUS[u]!);
    out[o + 1 + u] = p === null ? 0 : -Math.log(p);
  }
}

/**
 * One stream of runs looked at every 5 minutes for `lookDays` after the first 14 days (both windows
 * full): per series and stream, the largest evidence held over 7 consecutive looks (30 minutes).
 * "Some alert at level L" is then exactly "that maximum >= −ln L", for every L at once. The sums
 * change only when a run crosses a window edge, so a look with the same three edges reuses the last.
 */
function heldEvidence(runs: Runs, lookDays: number): Float64Array {
  const P = prefixSums(runs);
  const width = SERIES.length * STREAMS;
  const now = new Float64Array(width);
  const ring = new Float64Array(width * HOLD_LOOKS);
  const best = new Float64Array(width);
  let end = 0, mid = 0, start = 0;
  let last = -1;
  const looks = Math.round(lookDays / LOOK_DAYS);
  for (let j = 0; j <= looks; j++) {
    const at = 2 * WINDOW_DAYS + j * LOOK_DAYS;
    while (end < runs.n && runs.t[end]! <= at) end++;
    while (mid < runs.n && runs.t[mid]! <= at - WINDOW_DAYS) mid++;
    while (start < runs.n && runs.t[start]! <= at - 2 * WINDOW_DAYS) start++;
    const edges = (end * runs.n + mid) * runs.n + start;
    if (edges !== last) {
      last = edges;
      const cur = windowSums(P, mid, end);
      const base = windowSums(P, start, mid);
      for (let k = 0; k < SERIES.length; k++) evidence(look(k, cur, base), SERIES[k]!.kind, now, k * STREAMS);
    }
    const slot = j % HOLD_LOOKS;
    for (let m = 0; m < width; m++) {
      ring[m * HOLD_LOOKS + slot] = now[m]!;
      if (j < HOLD_LOOKS - 1) continue;
      let held = Number.POSITIVE_INFINITY;
      for (let h = 0; h < HOLD_LOOKS; h++) held = Math.min(held, ring[m * HOLD_LOOKS + h]!);
      if (held > best[m]!) best[m] = held;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Methods, read off the held evidence

interface Method {
  readonly label: string;
  /** Index of the stream within a series, and the −ln of the level it must reach. */
  readonly stream: number;
  readonly bar: number;
  /** The monthly chance the method claims, where it claims one. */
  readonly nominal?: number;
  readonly recommended?: boolean;
}

const METHODS: readonly Method[] = [
  ...FIXED_LEVELS.map((level) => ({ label: `fixed p <= ${level} per look`, stream: 0, bar: -Math.log(level) })),
  ...HORIZON_LEVELS.map(({ alpha, level }) => ({ label: `horizon level a=${alpha} (p <= ${level.toPrecision(2)})`, stream: 0, bar: -Math.log(level), nominal: alpha, recommended: true })),
  ...ALPHAS.flatMap((alpha) => TAUS.map((tau, u) => ({ label: `mixture a=${alpha} tau=${tau}`, stream: 1 + u, bar: -Math.log(alpha), nominal: alpha }))),
];

const se = (p: number, n: number) => Math.sqrt((p * (1 - p)) / n);
const lines: string[] = [];
afterAll(() => console.log(lines.join('\n')));

// ---------------------------------------------------------------------------------------------------

describe('sliding 7-day windows looked at every 5 minutes for 30 days, A/A: chance of any false alert per series', () => {
  for (const volume of VOLUMES) {
    it(`${volume.label}, ${MONTHS} months`, () => {
      const s = new Sampler(`looks-aa-${volume.perDay}`);
      const held: Float64Array[] = [];
      for (let i = 0; i < MONTHS; i++) held.push(heldEvidence(arrivals(s, volume.perDay, 2 * WINDOW_DAYS + MONTH_DAYS + LOOK_DAYS), MONTH_DAYS));
      const rate = (k: number, m: Method) => held.filter((h) => h[k * STREAMS + m.stream]! >= m.bar).length / MONTHS;

      lines.push(`A/A, ${volume.label} (${(volume.perDay * WINDOW_DAYS).toFixed(0)} per window), ${MONTHS} months: monthly P(any false alert) per series`);
      lines.push(`  ${'method'.padEnd(44)} ${SERIES.map((x) => x.name.split(' (')[0]!.padStart(21)).join(' ')}`);
      for (const m of METHODS) lines.push(`  ${m.label.padEnd(44)} ${SERIES.map((_, k) => rate(k, m).toFixed(3).padStart(21)).join(' ')}`);
      lines.push(`  (slidingFalseAlertRate, no threshold or for: ${FIXED_LEVELS.map((l) => `${l}: ${slidingFalseAlertRate(equivalentZ(l), HORIZON).toFixed(3)}`).join(', ')}; ` +
        `${HORIZON_LEVELS.map((x) => `${x.level.toPrecision(2)}: ${x.alpha}`).join(', ')})`);

      // The recommended method keeps its nominal monthly rate, within 2 binomial standard errors.
      for (const m of METHODS.filter((x) => x.recommended === true)) {
        for (let k = 0; k < SERIES.length; k++) {
          expect(rate(k, m), `${m.label}, ${SERIES[k]!.name}, ${volume.label}`).toBeLessThanOrEqual(m.nominal! + 2 * se(m.nominal!, MONTHS));
        }
      }
      // The problem: at low volume a fixed 0.01 per look alerts on noise in about a third of months.
      if (volume.perDay < 20) for (let k = 0; k < 2; k++) expect(rate(k, METHODS[0]!)).toBeGreaterThan(0.15);
    }, 60_000);
  }
});

/** Sums of `n` runs drawn at once (a window of exactly n runs). */
function fixedWindow(s: Sampler, n: number, change: Change, policy: PolicyModel): ReturnType<typeof windowSums> {
  const runs = new Runs(n);
  for (let i = 0; i < n; i++) runs.draw(s, i, change, policy);
  runs.n = n;
  return windowSums(prefixSums(runs), 0, n);
}

const CHANGES = [
  { label: 'tool calls +80% (1.5 -> 2.7 per run)', series: 0, change: { tool: 1.8, policy: 1 }, policy: POLICY },
  { label: 'policy -37% (0.15 -> 0.095), 3 decisions/run', series: 1, change: { tool: 1, policy: 0.63 }, policy: POLICY },
  { label: 'policy -37%, 9 decisions/run (p as observed)', series: 1, change: { tool: 1, policy: 0.63 }, policy: POLICY_AS_OBSERVED },
] as const;

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

describe('single-look power at 100 vs 100 runs', () => {
  it(`for the two real changes, ${SINGLE_LOOK_REPS} replications each`, () => {
    lines.push(`Single-look power, 100 vs 100 runs, ${SINGLE_LOOK_REPS} replications (threshold |dev| >= 0.2 applied)`);
    for (const c of CHANGES) {
      const s = new Sampler(`looks-power-${c.label}`);
      const ps: number[] = [];
      const ev = new Float64Array(STREAMS);
      const fires = new Float64Array(METHODS.length);
      const scales: number[][] = TAUS.map(() => []);
      for (let i = 0; i < SINGLE_LOOK_REPS; i++) {
        const l = look(c.series, fixedWindow(s, 100, c.change, c.policy), fixedWindow(s, 100, NONE, c.policy), true);
        const test = l.test;
        ps.push(test?.pValue ?? 1);
        evidence(l, SERIES[c.series]!.kind, ev, 0);
        METHODS.forEach((m, j) => (fires[j]! += ev[m.stream]! >= m.bar ? 1 : 0));
        if (test !== null) {
          const z = c.series === 0 ? equivalentZ(test.pValue) : test.statistic;
          TAUS.forEach((tau, u) => scales[u]!.push(mixtureScale(l.deviation, z * z, tau)));
        }
      }
      lines.push(`  ${c.label}: fixed-test p median ${quantile(ps, 0.5).toPrecision(2)}, quartiles ${quantile(ps, 0.25).toPrecision(2)} / ${quantile(ps, 0.75).toPrecision(2)}`);
      METHODS.forEach((m, j) => lines.push(`    ${m.label.padEnd(44)} ${(fires[j]! / SINGLE_LOOK_REPS).toFixed(3)}`));
      lines.push(`    the mixture at one look is a fixed test at (median r -> level for a=0.05 / a=0.01): ` +
        TAUS.map((tau, u) => { const r = quantile(scales[u]!, 0.5); return `tau ${tau}: r ${r.toFixed(1)} -> ${mixtureEquivalentLevel(0.05, 1, r).toPrecision(2)} / ${mixtureEquivalentLevel(0.01, 1, r).toPrecision(2)}`; }).join('; '));
    }
  }, 60_000);
});

describe('power over the looks of a step change at 100 runs per window', () => {
  it(`fires within the 14 days after a step, ${EPISODES} episodes per change`, () => {
    lines.push(`A step at day 0 at 100 runs/window: P(alert within 14 days), ${EPISODES} episodes (the single-look power is the peak, day 7)`);
    for (const c of CHANGES) {
      const s = new Sampler(`looks-episode-${c.label}`);
      const held: Float64Array[] = [];
      for (let i = 0; i < EPISODES; i++) held.push(heldEvidence(arrivals(s, 100 / WINDOW_DAYS, 4 * WINDOW_DAYS + LOOK_DAYS, 2 * WINDOW_DAYS, c.change, c.policy), 2 * WINDOW_DAYS));
      lines.push(`  ${c.label}`);
      for (const m of METHODS) lines.push(`    ${m.label.padEnd(44)} ${(held.filter((h) => h[c.series * STREAMS + m.stream]! >= m.bar).length / EPISODES).toFixed(3)}`);
    }
  }, 60_000);
});
