/**
 * Generated windows of agent runs with realistic structure, reduced to exactly the rows the signals'
 * SQL returns (sums per group and window), for the calibration test: A/A pairs (both windows from
 * the same process) measure each test's false-positive rate, and a change in the current window its
 * power. Deterministic for a seed: the demo generator's approach (cyrb128 seed hash, sfc32), with the
 * state in a typed array because millions of draws are needed (closure variables holding uint32
 * values are boxed by V8, ten times slower).
 *
 * The structure is what breaks naive tests on real agents:
 * - tool calls cluster in runs: per-run intensity shared by the looping tools (gamma), per-tool
 *   gamma-Poisson (negative binomial) counts, a tool called exactly once in most runs, a rare tool;
 * - policy decisions: several per run, activations correlated within a run through a per-run
 *   propensity drawn from a beta distribution;
 * - cost: lognormal with sigma 1.5 (the top 1% of runs carry ~20% of the spend), ~90% successes;
 * - output fingerprints: one per run from a Zipf-like long tail of 24.
 */
import type { Measurement } from '../../src/signals/index.js';
import { hashSeed } from '../../src/demo/random.js';
import { costMeasure } from '../../src/signals/cost.js';
import { policyMeasure } from '../../src/signals/policy.js';
import { schemaMeasure } from '../../src/signals/schema.js';
import { toolCallsMeasure } from '../../src/signals/toolCalls.js';
import { PAIR_SEPARATOR } from '../../src/store/aggregates.js';
import type { WindowBounds } from '../../src/signals/types.js';
import type { SignalOptions } from '../../src/rules/types.js';
import { rule } from './runs.js';
import type { SignalSums } from '../../src/signals/sums.js';

export const WINDOWS: readonly WindowBounds[] = [
  { index: 0, startMs: 7, endMs: 14 },
  { index: 1, startMs: 0, endMs: 7 },
];

/** The distributions the generators draw from, on one seeded stream. */
export class Sampler {
  private readonly state: Uint32Array;
  private spare = Number.NaN;

  constructor(seed: string) {
    this.state = Uint32Array.from(hashSeed(seed));
  }

  /** sfc32, uniform in [0, 1). */
  uniform(): number {
    const st = this.state;
    const a = st[0]!, b = st[1]!, c = st[2]!;
    const d = (st[3]! + 1) >>> 0;
    const t = (a + b + d) >>> 0;
    st[0] = b ^ (b >>> 9);
    st[1] = c + (c << 3);
    st[2] = ((c << 21) | (c >>> 11)) + t;
    st[3] = d;
    return t / 4294967296;
  }

  /** Standard normal (Marsaglia polar method, the second value kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const x = this.spare;
      this.spare = Number.NaN;
      return x;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }

  /** Gamma(k, scale) for a whole k, as a sum of k exponentials (one log of a product). */
  erlang(k: number, scale: number): number {
    let prod = 1;
    for (let i = 0; i < k; i++) prod *= 1 - this.uniform();
    return -Math.log(prod) * scale;
  }

  /**
   * Negative binomial with mean `mean` and variance mean + mean²/shape (the gamma-Poisson mixture),
   * by inversion of its pmf: P(0) = (shape/(shape+mean))^shape, P(k+1) = P(k)·(k+shape)/(k+1)·q.
   */
  negBinomial(mean: number, shape: number): number {
    if (mean <= 0) return 0;
    const q = mean / (shape + mean);
    let p = Math.pow(1 - q, shape);
    let cdf = p;
    const u = this.uniform();
    let k = 0;
    while (u > cdf && p > 0) {
      p *= ((k + shape) / (k + 1)) * q;
      k++;
      cdf += p;
    }
    return k;
  }

  /**
   * Beta-binomial: successes in n trials whose common probability is drawn from Beta(a, b), drawn
   * exactly (and without the beta draw) by Pólya's urn: trial j succeeds with (a + k) / (a + b + j),
   * k the successes so far.
   */
  betaBinomial(n: number, a: number, b: number): number {
    let k = 0;
    for (let j = 0; j < n; j++) if (this.uniform() * (a + b + j) < a + k) k++;
    return k;
  }

  /** A draw from a discrete distribution on 0, 1, 2, ... given its cumulative probabilities. */
  discrete(cdf: Float64Array): number {
    const u = this.uniform();
    let k = 0;
    while (k < cdf.length - 1 && u >= cdf[k]!) k++;
    return k;
  }

  /** Index into a cumulative weight table (last entry = total). */
  categorical(cumulative: readonly number[]): number {
    const u = this.uniform() * cumulative[cumulative.length - 1]!;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (u < cumulative[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** A window's runs: `nominal` ± 15%, as traffic moves from week to week. */
  windowRuns(nominal: number): number {
    return Math.round(nominal * (0.85 + 0.3 * this.uniform()));
  }
}

/** One generated pair of windows as the signal's queries return it. */
type Rows = readonly (readonly Record<string, unknown>[])[];

/** The change applied to the current window (1 = A/A). */
export interface Change {
  readonly factor: number;
}

const NO_CHANGE: Change = { factor: 1 };

// ---------------------------------------------------------------------------------------------------
// tool_calls_per_run

/**
 * Tools of one workflow, in the order of the counts `toolWindow` draws per run:
 * - search: negative binomial, mean 2.0 x the run's loop intensity, shape 1 (the tool a change hits);
 * - db_query: negative binomial, mean 3.0 x the run's loop intensity, shape 2;
 * - llm_judge: negative binomial, mean 0.8, shape 0.3 (bursty: most runs 0, some 5+);
 * - enrich: exactly once per run, a second call in 10% of runs;
 * - send_email: 0 or 1, in 30% of runs;
 * - refund: rare, negative binomial mean 0.05, shape 0.5.
 * The loop intensity is Gamma(3, 1/3) per run (mean 1), shared by search and db_query.
 */
export const TOOL_NAMES = ['search', 'db_query', 'llm_judge', 'enrich', 'send_email', 'refund'] as const;

/** The tool whose calls per run a `Change` multiplies. */
export const CHANGED_TOOL = 'search';

/** Cumulative negative binomial probabilities (fixed mean and shape) for `Sampler.discrete`. */
function negBinomialCdf(mean: number, shape: number): Float64Array {
  const q = mean / (shape + mean);
  const out: number[] = [];
  let p = Math.pow(1 - q, shape);
  let cdf = p;
  for (let k = 0; cdf < 1 - 1e-15 && k < 10_000; k++) {
    out.push(cdf);
    p *= ((k + shape) / (k + 1)) * q;
    cdf += p;
  }
  out.push(1);
  return Float64Array.from(out);
}
const LLM_JUDGE = negBinomialCdf(0.8, 0.3);
const REFUND = negBinomialCdf(0.05, 0.5);

function toolWindow(s: Sampler, runs: number, w: number, change: Change): Record<string, unknown>[] {
  const k = TOOL_NAMES.length;
  const sum = new Float64Array(k);
  const sumSq = new Float64Array(k);
  const sumXTotal = new Float64Array(k);
  const c = new Float64Array(k);
  const products = new Float64Array(k * k);
  let total = 0;
  let totalSq = 0;
  for (let r = 0; r < runs; r++) {
    const intensity = s.erlang(3, 1 / 3);
    c[0] = s.negBinomial(2.0 * intensity * change.factor, 1);
    c[1] = s.negBinomial(3.0 * intensity, 2);
    c[2] = s.discrete(LLM_JUDGE);
    c[3] = s.uniform() < 0.1 ? 2 : 1;
    c[4] = s.uniform() < 0.3 ? 1 : 0;
    c[5] = s.discrete(REFUND);
    const m = c[0]! + c[1]! + c[2]! + c[3]! + c[4]! + c[5]!;
    for (let i = 0; i < k; i++) {
      const x = c[i]!;
      if (x === 0) continue;
      sum[i]! += x;
      sumSq[i]! += x * x;
      sumXTotal[i]! += x * m;
      for (let j = i + 1; j < k; j++) products[i * k + j]! += x * c[j]!;
    }
    total += m;
    totalSq += m * m;
  }
  const pairs: Record<string, unknown>[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      if (products[i * k + j]! > 0) pairs.push({ w, key_kind: 'pair', key: `${TOOL_NAMES[i]}${PAIR_SEPARATOR}${TOOL_NAMES[j]}`, value: products[i * k + j], value_sq: 0, value_x_total: 0 });
    }
  }
  return [
    { w, runs, calls: total, calls_sq: totalSq },
    // The keyed rows: a tool no run called has no row, nor a pair never called together.
    ...TOOL_NAMES.flatMap((tool, i) => (sum[i]! > 0 ? [{ w, key_kind: 'tool', key: tool, value: sum[i], value_sq: sumSq[i], value_x_total: sumXTotal[i] }] : [])),
    ...pairs,
  ];
}

/** The signals' two result sets: the totals (one row per window) and the keyed sums (tools, pairs). */
export function toolCallsRows(s: Sampler, nominalRuns: number, change: Change = NO_CHANGE): Rows {
  const cur = toolWindow(s, s.windowRuns(nominalRuns), 0, change);
  const base = toolWindow(s, s.windowRuns(nominalRuns), 1, NO_CHANGE);
  const all = [...cur, ...base];
  return [all.filter((r) => !('key_kind' in r)), all.filter((r) => 'key_kind' in r)];
}

// ---------------------------------------------------------------------------------------------------
// policy_activation_rate

/**
 * Decisions per run 1 + Poisson(5); activations binomial given a per-run propensity from Beta(a, b)
 * with mean 0.08 and a + b = 10 (the correlation of two decisions of one run is 1/11).
 */
const POLICY = { mean: 0.08, concentration: 10, decisionsExtra: 5 } as const;

/** Cumulative Poisson(mean) probabilities up to where they reach 1 in double precision. */
export function poissonCdf(mean: number): Float64Array {
  const out: number[] = [];
  let p = Math.exp(-mean);
  let cdf = p;
  for (let k = 0; cdf < 1 - 1e-15 && k < 1000; k++) {
    out.push(cdf);
    p *= mean / (k + 1);
    cdf += p;
  }
  out.push(1);
  return Float64Array.from(out);
}
const EXTRA_DECISIONS = poissonCdf(POLICY.decisionsExtra);

function policyWindow(s: Sampler, runs: number, w: number, change: Change): Record<string, unknown> {
  const mean = POLICY.mean * change.factor;
  const a = mean * POLICY.concentration;
  const b = (1 - mean) * POLICY.concentration;
  // An activation is a denial here (no escalations): allows = decisions - activations.
  let allows = 0, denials = 0, allowsSq = 0, denialsSq = 0, allowsDenials = 0, withAct = 0;
  for (let r = 0; r < runs; r++) {
    const d = 1 + s.discrete(EXTRA_DECISIONS);
    const x = s.betaBinomial(d, a, b);
    allows += d - x;
    denials += x;
    allowsSq += (d - x) * (d - x);
    denialsSq += x * x;
    allowsDenials += (d - x) * x;
    if (x > 0) withAct++;
  }
  return {
    w,
    runs,
    allows,
    denials,
    escalations: 0,
    allows_sq: allowsSq,
    denials_sq: denialsSq,
    escalations_sq: 0,
    allows_x_denials: allowsDenials,
    allows_x_escalations: 0,
    denials_x_escalations: 0,
    runs_denied: withAct,
    runs_activated: withAct,
  };
}

export function policyRows(s: Sampler, nominalRuns: number, change: Change = NO_CHANGE): Rows {
  return [[policyWindow(s, s.windowRuns(nominalRuns), 0, change), policyWindow(s, s.windowRuns(nominalRuns), 1, NO_CHANGE)], []];
}

// ---------------------------------------------------------------------------------------------------
// cost_per_success

/** Lognormal cost (median $0.05, sigma 1.5), 90% successes; token cost 80% of it, tool cost 20%. */
const COST = { mu: Math.log(0.05), sigma: 1.5, success: 0.9 } as const;

function costWindow(s: Sampler, runs: number, w: number, change: Change): Record<string, unknown> {
  let x = 0, xSq = 0, y = 0, xy = 0;
  for (let r = 0; r < runs; r++) {
    const cost = Math.exp(COST.mu + COST.sigma * s.normal()) * change.factor;
    const ok = s.uniform() < COST.success ? 1 : 0;
    x += cost;
    xSq += cost * cost;
    y += ok;
    xy += cost * ok;
  }
  // Token cost is 80% of every run's cost and tool cost 20%, so the totals' moments split exactly.
  const [tk, tl] = [0.8, 0.2];
  return {
    w,
    runs,
    successes: y,
    token_cost: tk * x,
    tool_cost: tl * x,
    token_cost_sq: tk * tk * xSq,
    tool_cost_sq: tl * tl * xSq,
    token_x_tool_cost: tk * tl * xSq,
    success_token_cost: tk * xy,
    success_tool_cost: tl * xy,
  };
}

export function costRows(s: Sampler, nominalRuns: number, change: Change = NO_CHANGE): Rows {
  return [[costWindow(s, s.windowRuns(nominalRuns), 0, change), costWindow(s, s.windowRuns(nominalRuns), 1, NO_CHANGE)], []];
}

// ---------------------------------------------------------------------------------------------------
// output_schema_shift

/** 24 fingerprints, weights 1/k^1.1: the top one ~30% of runs, the last ~1.3%. */
const FINGERPRINTS = 24;
const ZIPF = Array.from({ length: FINGERPRINTS }, (_, k) => 1 / Math.pow(k + 1, 1.1));

function cumulative(weights: readonly number[]): number[] {
  let t = 0;
  return weights.map((x) => (t += x));
}

/** Share of runs on the top fingerprint with no change. */
export const TOP_SHARE = ZIPF[0]! / ZIPF.reduce((a, b) => a + b, 0);

/** `factor` multiplies the top fingerprint's share; the others shrink in proportion. */
function fingerprintWeights(change: Change): number[] {
  const total = ZIPF.reduce((a, b) => a + b, 0);
  const top = TOP_SHARE * change.factor;
  return ZIPF.map((x, k) => (k === 0 ? top : ((x / total) * (1 - top)) / (1 - TOP_SHARE)));
}

function schemaWindow(s: Sampler, runs: number, w: number, change: Change): { fps: Record<string, unknown>[]; total: Record<string, unknown> } {
  const table = cumulative(fingerprintWeights(change));
  const counts = new Array<number>(FINGERPRINTS).fill(0);
  for (let r = 0; r < runs; r++) counts[s.categorical(table)]!++;
  return {
    fps: counts.flatMap((n, k) => (n > 0 ? [{ w, key_kind: 'fingerprint', key: `fp_${k}`, value: n, value_sq: n, value_x_total: 0 }] : [])),
    total: { w, runs },
  };
}

export function schemaRows(s: Sampler, nominalRuns: number, change: Change = NO_CHANGE): Rows {
  const cur = schemaWindow(s, s.windowRuns(nominalRuns), 0, change);
  const base = schemaWindow(s, s.windowRuns(nominalRuns), 1, NO_CHANGE);
  return [[cur.total, base.total], [...cur.fps, ...base.fps]];
}

// ---------------------------------------------------------------------------------------------------
// The signals' own measure code on those rows.

/** The rows as the signals' named inputs: [totals, keyed]. */
function named(rows: Rows): SignalSums {
  return { totals: rows[0] ?? [], keyed: rows[1] ?? [] };
}

export function measureToolCalls(rows: Rows): Measurement[] {
  return toolCallsMeasure(rule('tool_calls_per_run'), WINDOWS, named(rows));
}

export function measurePolicy(rows: Rows, options: SignalOptions = {}): Measurement {
  return policyMeasure(rule('policy_activation_rate', { options }), WINDOWS, named(rows))[0]!;
}

export function measureCost(rows: Rows): Measurement {
  return costMeasure(rule('cost_per_success'), WINDOWS, named(rows))[0]!;
}

export function measureSchema(rows: Rows): Measurement {
  return schemaMeasure(rule('output_schema_shift'), WINDOWS, named(rows))[0]!;
}

export type { Rows };
