/**
 * A/A windows for the signals of 2026-12 (duration, error_rate, tool_error_rate, tokens_per_run,
 * score, metric, runs, cost), reduced to exactly the rows the aggregates return (store/aggregates.ts),
 * for test/stats/signals.calibration.test.ts. Same approach as aa.ts: a seeded Sampler, per-run draws,
 * sums per window; the signals' own measure functions read them.
 *
 * Shapes:
 * - duration: lognormal (median 6 s, sigma 0.8) and 0.5% of runs piled on a 120 s timeout; the
 *   histogram rows use the aggregates' bucket key, floor(log2(max(d, 0.001)) * 8) as a string;
 * - outcomes: 2% errors (`error` 1.5%, `timeout` 0.5%), Bernoulli per run;
 * - tool errors clustered in runs: `search` calls negative binomial (mean 3, shape 2); in 3% of runs the
 *   tool is down and every call fails, otherwise each call fails with 1%; `db_query` (mean 2, shape 1)
 *   fails per call with 2%;
 * - tokens: input lognormal (median 3000, sigma 0.7), output = input x 0.15 x lognormal(sigma 0.5);
 * - scores on a subset: `judge` Beta(8, 2) (mean 0.8) on 40% of runs, `thumbs` 0/1 with 90% ones on
 *   10% of runs;
 * - metric `records`: negative binomial (mean 40, shape 1.5) on 70% of runs;
 * - runs and cost: Poisson arrivals (exponential gaps) at a rate per day over each window's length;
 *   cost per run lognormal token cost (median $0.02, sigma 1.5) plus $0.002 per tool call (negative
 *   binomial, mean 3): a compound Poisson sum.
 */
import { durationMeasure } from '../../src/signals/duration.js';
import { errorRateMeasure, toolErrorRateMeasure } from '../../src/signals/errors.js';
import type { Measurement } from '../../src/signals/index.js';
import type { SignalSums } from '../../src/signals/sums.js';
import { tokensMeasure } from '../../src/signals/tokens.js';
import type { WindowBounds } from '../../src/signals/types.js';
import { valuedMeasure } from '../../src/signals/valued.js';
import { volumeMeasure } from '../../src/signals/volume.js';
import type { Rule, SignalOptions } from '../../src/rules/types.js';
import { DURATION_BUCKETS_PER_DOUBLING } from '../../src/store/aggregates.js';
import { Sampler, WINDOWS } from './aa.js';
import { rule } from './runs.js';

type Row = Record<string, unknown>;
const DAY = 86_400_000;

/** What the current window changes (all 1 / 0: A/A). */
export interface SignalChange {
  /** Multiplies every duration. */
  readonly durationScale?: number;
  /** Multiplies the error probabilities of outcomes. */
  readonly errorFactor?: number;
  /** Multiplies the share of runs whose `search` tool is down. */
  readonly toolDownFactor?: number;
  /** Multiplies tokens. */
  readonly tokenScale?: number;
  /** Multiplies the judge score. */
  readonly scoreScale?: number;
  /** Multiplies the metric. */
  readonly metricScale?: number;
  /** Multiplies the arrival rate. */
  readonly rateFactor?: number;
  /** Multiplies every run's cost. */
  readonly costScale?: number;
}

const NONE: SignalChange = {};

const bucketOf = (d: number) => String(Math.floor(Math.log2(Math.max(d, 0.001)) * DURATION_BUCKETS_PER_DOUBLING));

const DURATION = { mu: Math.log(6000), sigma: 0.8, timeoutShare: 0.005, timeoutMs: 120_000 } as const;

function durationWindow(s: Sampler, runs: number, w: number, c: SignalChange): Row[] {
  const scale = c.durationScale ?? 1;
  const hist = new Map<string, number>();
  let sum = 0;
  let sq = 0;
  for (let r = 0; r < runs; r++) {
    const d = (s.uniform() < DURATION.timeoutShare ? DURATION.timeoutMs : Math.exp(DURATION.mu + DURATION.sigma * s.normal())) * scale;
    sum += d;
    sq += d * d;
    const b = bucketOf(d);
    hist.set(b, (hist.get(b) ?? 0) + 1);
  }
  return [
    { w, runs, duration_sum: sum, duration_sq: sq },
    ...[...hist].map(([key, n]) => ({ w, key_kind: 'duration', key, value: n, value_sq: 0, value_x_total: 0 })),
  ];
}

function outcomeWindow(s: Sampler, runs: number, w: number, c: SignalChange): Row[] {
  const f = c.errorFactor ?? 1;
  const counts = { success: 0, error: 0, timeout: 0 };
  for (let r = 0; r < runs; r++) {
    const u = s.uniform();
    if (u < 0.015 * f) counts.error++;
    else if (u < 0.02 * f) counts.timeout++;
    else counts.success++;
  }
  return [
    { w, runs, successes: counts.success },
    ...Object.entries(counts).flatMap(([key, n]) => (n > 0 ? [{ w, key_kind: 'outcome', key, value: n, value_sq: n, value_x_total: 0 }] : [])),
  ];
}

function binomial(s: Sampler, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (s.uniform() < p) k++;
  return k;
}

function toolErrorWindow(s: Sampler, runs: number, w: number, c: SignalChange): Row[] {
  const down = 0.03 * (c.toolDownFactor ?? 1);
  const acc = {
    search: { c: 0, cSq: 0, cM: 0, e: 0, eSq: 0, eC: 0 },
    db_query: { c: 0, cSq: 0, cM: 0, e: 0, eSq: 0, eC: 0 },
  };
  for (let r = 0; r < runs; r++) {
    const cs = s.negBinomial(3, 2);
    const cd = s.negBinomial(2, 1);
    const es = s.uniform() < down ? cs : binomial(s, cs, 0.01);
    const ed = binomial(s, cd, 0.02);
    const m = cs + cd;
    for (const [t, calls, errs] of [['search', cs, es], ['db_query', cd, ed]] as const) {
      const a = acc[t];
      a.c += calls;
      a.cSq += calls * calls;
      a.cM += calls * m;
      a.e += errs;
      a.eSq += errs * errs;
      a.eC += errs * calls;
    }
  }
  const rows: Row[] = [{ w, runs }];
  for (const [key, a] of Object.entries(acc)) {
    if (a.c > 0) rows.push({ w, key_kind: 'tool', key, value: a.c, value_sq: a.cSq, value_x_total: a.cM });
    if (a.e > 0) rows.push({ w, key_kind: 'tool_error', key, value: a.e, value_sq: a.eSq, value_x_total: a.eC });
  }
  return rows;
}

function tokenWindow(s: Sampler, runs: number, w: number, c: SignalChange): Row[] {
  const scale = c.tokenScale ?? 1;
  let i = 0, o = 0, iSq = 0, oSq = 0, io = 0;
  for (let r = 0; r < runs; r++) {
    const input = Math.round(Math.exp(Math.log(3000) + 0.7 * s.normal()) * scale);
    const output = Math.round(input * 0.15 * Math.exp(0.5 * s.normal()));
    i += input;
    o += output;
    iSq += input * input;
    oSq += output * output;
    io += input * output;
  }
  return [{ w, runs, input_tokens_sum: i, output_tokens_sum: o, input_tokens_sq: iSq, output_tokens_sq: oSq, input_x_output_tokens: io }];
}

function valuedWindow(s: Sampler, runs: number, w: number, c: SignalChange): Row[] {
  const acc = {
    judge: { kind: 'score', n: 0, sum: 0, sq: 0 },
    thumbs: { kind: 'score', n: 0, sum: 0, sq: 0 },
    records: { kind: 'metric', n: 0, sum: 0, sq: 0 },
  };
  const add = (a: { n: number; sum: number; sq: number }, v: number) => {
    a.n++;
    a.sum += v;
    a.sq += v * v;
  };
  for (let r = 0; r < runs; r++) {
    if (s.uniform() < 0.4) {
      const x = s.erlang(8, 1);
      add(acc.judge, (x / (x + s.erlang(2, 1))) * (c.scoreScale ?? 1));
    }
    if (s.uniform() < 0.1) add(acc.thumbs, s.uniform() < 0.9 ? 1 : 0);
    if (s.uniform() < 0.7) add(acc.records, s.negBinomial(40, 1.5) * (c.metricScale ?? 1));
  }
  return [
    { w, runs },
    ...Object.entries(acc).flatMap(([key, a]) => (a.n > 0 ? [{ w, key_kind: a.kind, key, value: a.sum, value_sq: a.sq, value_x_total: a.n }] : [])),
  ];
}

/**
 * Runs arriving as a Poisson process at `perDay` over `days`, each with a compound cost: the totals
 * row of a volume window.
 */
function volumeWindow(s: Sampler, perDay: number, days: number, w: number, c: SignalChange): Row {
  const rate = perDay * (c.rateFactor ?? 1);
  const scale = c.costScale ?? 1;
  let runs = 0, token = 0, tool = 0, tokenSq = 0, toolSq = 0, tt = 0;
  for (let t = -Math.log(1 - s.uniform()) / rate; t < days; t += -Math.log(1 - s.uniform()) / rate) {
    runs++;
    const tk = Math.exp(Math.log(0.02) + 1.5 * s.normal()) * scale;
    const tl = 0.002 * s.negBinomial(3, 2) * scale;
    token += tk;
    tool += tl;
    tokenSq += tk * tk;
    toolSq += tl * tl;
    tt += tk * tl;
  }
  return { w, runs, token_cost: token, tool_cost: tool, token_cost_sq: tokenSq, tool_cost_sq: toolSq, token_x_tool_cost: tt };
}

/** Current and baseline window of one shape, split into the totals and keyed result sets. */
function pair(gen: (s: Sampler, runs: number, w: number, c: SignalChange) => Row[], s: Sampler, nominal: number, change: SignalChange): SignalSums {
  const all = [...gen(s, s.windowRuns(nominal), 0, change), ...gen(s, s.windowRuns(nominal), 1, NONE)];
  return { totals: all.filter((r) => !('key_kind' in r)), keyed: all.filter((r) => 'key_kind' in r) };
}

export const durationSums = (s: Sampler, runs: number, c: SignalChange = NONE) => pair(durationWindow, s, runs, c);
export const outcomeSums = (s: Sampler, runs: number, c: SignalChange = NONE) => pair(outcomeWindow, s, runs, c);
export const toolErrorSums = (s: Sampler, runs: number, c: SignalChange = NONE) => pair(toolErrorWindow, s, runs, c);
export const tokenSums = (s: Sampler, runs: number, c: SignalChange = NONE) => pair(tokenWindow, s, runs, c);
export const valuedSums = (s: Sampler, runs: number, c: SignalChange = NONE) => pair(valuedWindow, s, runs, c);

/** Volume windows: the current window `currentDays` long, the baseline `baselineDays` right before it. */
export function volumeWindows(currentDays: number, baselineDays: number): WindowBounds[] {
  return [
    { index: 0, startMs: baselineDays * DAY, endMs: (baselineDays + currentDays) * DAY },
    { index: 1, startMs: 0, endMs: baselineDays * DAY },
  ];
}

export function volumeSums(s: Sampler, perDay: number, currentDays: number, baselineDays: number, c: SignalChange = NONE): SignalSums {
  return { totals: [volumeWindow(s, perDay, currentDays, 0, c), volumeWindow(s, perDay, baselineDays, 1, NONE)], keyed: [] };
}

const ruleWith = (signal: Rule['signal'], options: SignalOptions, windowMs?: number): Rule =>
  rule(signal, { options, ...(windowMs !== undefined ? { windowMs, baseline: { kind: 'previous', lengthMs: 7 * DAY, offsetMs: 0 } } : {}) });

/** p-values of one measure, by key ('' for a per-group signal). */
export function pValues(ms: readonly Measurement[]): Map<string, number | null> {
  return new Map(ms.map((m) => [m.key, m.test?.pValue ?? null]));
}

export const measure = {
  duration: (sums: SignalSums, stat: NonNullable<SignalOptions['stat']>) => durationMeasure(ruleWith('duration', { stat }), WINDOWS, sums)[0]!,
  errorRate: (sums: SignalSums, outcome?: string[]) => errorRateMeasure(ruleWith('error_rate', outcome ? { outcome } : {}), WINDOWS, sums)[0]!,
  toolErrorRate: (sums: SignalSums) => toolErrorRateMeasure(ruleWith('tool_error_rate', {}), WINDOWS, sums),
  tokens: (sums: SignalSums, tokens: 'input' | 'output' | 'total') => tokensMeasure(ruleWith('tokens_per_run', { tokens }), WINDOWS, sums)[0]!,
  score: (sums: SignalSums, score: string) => valuedMeasure('score')(ruleWith('score', { score }), WINDOWS, sums)[0]!,
  metric: (sums: SignalSums, metric: string) => valuedMeasure('metric')(ruleWith('metric', { metric }), WINDOWS, sums)[0]!,
  volume: (kind: 'runs' | 'cost', sums: SignalSums, windows: readonly WindowBounds[]) =>
    volumeMeasure(kind)(ruleWith(kind, {}, windows[0]!.endMs - windows[0]!.startMs), windows, sums)[0]!,
};
