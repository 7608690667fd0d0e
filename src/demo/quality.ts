/**
 * The detection-quality scenarios behind `npm run bench:quality`: generated fleets with known truth.
 * One workflow per scenario, so one backtest over all of them with the default rules (grouped by
 * workflow) scores every scenario at once. Pure: rows are a function of the seed and the end time.
 *
 * Every workflow has weekly (weekends at 35%) and daily cycles, clustered tool calls (a run-level
 * effort factor), several policy decisions per run with a run-level propensity, lognormal cost and
 * a long tail of output fingerprints; the scenario changes one thing at a known time.
 *
 * The scenarios of detection round two are appended to the list and draw from random streams of their
 * own (`ownStream`), so the earlier scenarios' rows stay exactly as they were and their figures stay
 * comparable with earlier runs of the benchmark.
 */
import { createRandom, poisson, type Random } from './random.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type QualitySignal = 'tool_calls_per_run' | 'policy_activation_rate' | 'cost_per_success' | 'output_schema_shift';

/**
 * What a scenario changes. Sizes may be negative for policy and cost (the propensity and the cost scale
 * by 1 + size) and for tool calls (a share -size of the runs skips `enrich`); not for the schema, where
 * the size is a share of runs.
 */
export type Change =
  | { readonly kind: 'none' }
  /** From `at` on, the signal moves by `size` (+0.5 = +50%; for the schema: the share of runs on a new fingerprint). */
  | { readonly kind: 'step'; readonly signal: QualitySignal; readonly size: number }
  /** Linear from 0 at `at` to `size` 7 days later, then held. */
  | { readonly kind: 'ramp'; readonly signal: QualitySignal; readonly size: number }
  /** Only on the change's weekday, from `at` on. */
  | { readonly kind: 'weekday'; readonly signal: QualitySignal; readonly size: number }
  /** For one day from `at`. */
  | { readonly kind: 'spike'; readonly signal: QualitySignal; readonly size: number }
  /** A step that reverts after `days`. */
  | { readonly kind: 'revert'; readonly signal: QualitySignal; readonly size: number; readonly days: number }
  /** A step confined to one tenant (30% of the runs). */
  | { readonly kind: 'tenant'; readonly signal: QualitySignal; readonly size: number }
  /**
   * From `at` on, fp-0's share of the runs grows by `size` (+0.5: 30% -> 45%), the other fingerprints
   * shrinking in proportion: no new fingerprint, only a known one becoming more common.
   */
  | { readonly kind: 'share'; readonly signal: 'output_schema_shift'; readonly size: number };

export interface Scenario {
  readonly workflowId: string;
  /** Which family it belongs to in the report. */
  readonly family: string;
  readonly runsPerDay: number;
  /** Lognormal sigma of the per-run cost. */
  readonly costSigma: number;
  readonly fingerprints: number;
  /** Fingerprint weights, fp-0 first; without them fp-k has weight 1/(k+1) over `fingerprints` (a Zipf-like tail). */
  readonly fingerprintWeights?: readonly number[];
  /**
   * Draw from a random stream of its own (seeded by the seed and the workflow id) instead of the shared
   * one. The round-two scenarios do: on the shared stream, any scenario added would shift every draw
   * after it and so change the rows, and the figures, of all the others.
   */
  readonly ownStream?: boolean;
  readonly change: Change;
}

const SIGNAL_SHORT: Record<QualitySignal, string> = {
  tool_calls_per_run: 'tool',
  policy_activation_rate: 'policy',
  cost_per_success: 'cost',
  output_schema_shift: 'schema',
};

/** fp-0 at 30%, then a tail: the share scenario's top fingerprint before its change. */
const SHARE_WEIGHTS: readonly number[] = [0.3, 0.22, 0.16, 0.12, 0.09, 0.07, 0.04];

/** The scenario set: stable workflows of five kinds, and the changes the issues list. */
export function qualityScenarios(): Scenario[] {
  const out: Scenario[] = [];
  const stable = (family: string, n: number, over: Partial<Scenario>) => {
    for (let i = 1; i <= n; i++) out.push({ workflowId: `${family}-${i}`, family, runsPerDay: 500, costSigma: 0.5, fingerprints: 6, change: { kind: 'none' }, ...over });
  };
  stable('stable', 12, {});
  stable('stable-low-volume', 6, { runsPerDay: 50 });
  stable('stable-heavy-cost', 6, { costSigma: 1.5 });
  stable('stable-many-fingerprints', 6, { fingerprints: 24 });
  const signals: QualitySignal[] = ['tool_calls_per_run', 'policy_activation_rate', 'cost_per_success', 'output_schema_shift'];
  for (const signal of signals) {
    for (const pct of [10, 20, 50, 80]) {
      out.push({ workflowId: `step-${SIGNAL_SHORT[signal]}-${pct}`, family: `step +${pct}%`, runsPerDay: 500, costSigma: 0.5, fingerprints: 6, change: { kind: 'step', signal, size: pct / 100 } });
    }
  }
  const one = (workflowId: string, family: string, change: Change) => out.push({ workflowId, family, runsPerDay: 500, costSigma: 0.5, fingerprints: 6, change });
  one('weekday-tool-double', 'weekday doubling', { kind: 'weekday', signal: 'tool_calls_per_run', size: 1 });
  one('ramp-cost-80', 'ramp to +80%', { kind: 'ramp', signal: 'cost_per_success', size: 0.8 });
  one('ramp-tool-80', 'ramp to +80%', { kind: 'ramp', signal: 'tool_calls_per_run', size: 0.8 });
  one('spike-tool-100', 'one-day spike', { kind: 'spike', signal: 'tool_calls_per_run', size: 1 });
  one('spike-cost-100', 'one-day spike', { kind: 'spike', signal: 'cost_per_success', size: 1 });
  one('spike-policy-100', 'one-day spike', { kind: 'spike', signal: 'policy_activation_rate', size: 1 });
  one('revert-tool-80', 'revert after 4 days', { kind: 'revert', signal: 'tool_calls_per_run', size: 0.8, days: 4 });
  one('revert-cost-80', 'revert after 4 days', { kind: 'revert', signal: 'cost_per_success', size: 0.8, days: 4 });
  one('tenant-tool-80', 'one tenant +80%', { kind: 'tenant', signal: 'tool_calls_per_run', size: 0.8 });
  roundTwo(out);
  return out;
}

/** Detection round two: a spike for the fourth signal, a growing fingerprint share, more policy steps, 100 runs/day. */
function roundTwo(out: Scenario[]): void {
  const two = (workflowId: string, family: string, change: Change, over: Partial<Scenario> = {}) =>
    out.push({ workflowId, family, runsPerDay: 500, costSigma: 0.5, fingerprints: 6, change, ownStream: true, ...over });
  two('spike-schema-50', 'one-day spike', { kind: 'spike', signal: 'output_schema_shift', size: 0.5 });
  two('share-schema-30-45', 'fingerprint share 30% -> 45%', { kind: 'share', signal: 'output_schema_shift', size: 0.5 }, { fingerprints: SHARE_WEIGHTS.length, fingerprintWeights: SHARE_WEIGHTS });
  // Three policy steps, so that the policy delay is not one sample (step-policy-50 is the first).
  two('step-policy-50-b', 'policy step +50%', { kind: 'step', signal: 'policy_activation_rate', size: 0.5 });
  two('step-policy-50-c', 'policy step +50%', { kind: 'step', signal: 'policy_activation_rate', size: 0.5 });
  for (let i = 1; i <= 6; i++) two(`stable-100-${i}`, 'stable-low-volume-100', { kind: 'none' }, { runsPerDay: 100 });
  const low = (workflowId: string, signal: QualitySignal, size: number) => two(workflowId, 'step at 100 runs/day', { kind: 'step', signal, size }, { runsPerDay: 100 });
  low('low-tool-80', 'tool_calls_per_run', 0.8);
  low('low-policy-down-37', 'policy_activation_rate', -0.37);
  low('low-cost-50', 'cost_per_success', 0.5);
  low('low-schema-new-30', 'output_schema_shift', 0.3);
}

/** Which signal a scenario changes (null for the stable ones). */
export function changedSignal(s: Scenario): QualitySignal | null {
  return s.change.kind === 'none' ? null : s.change.signal;
}

/** The change's size in force at time t for a scenario whose change starts at `at`; 0 when none. */
export function sizeAt(c: Change, at: number, t: number, tenant: string): number {
  if (c.kind === 'none' || t < at) return 0;
  switch (c.kind) {
    case 'step':
    case 'share':
      return c.size;
    case 'ramp':
      return c.size * Math.min(1, (t - at) / (7 * DAY));
    case 'weekday':
      return new Date(t).getUTCDay() === new Date(at).getUTCDay() ? c.size : 0;
    case 'spike':
      return t < at + DAY ? c.size : 0;
    case 'revert':
      return t < at + c.days * DAY ? c.size : 0;
    case 'tenant':
      return tenant === 'globex' ? c.size : 0;
  }
}

/** Relative traffic: weekends at 35%, a day/night curve peaking mid-afternoon UTC. */
function traffic(t: number): number {
  const d = new Date(t);
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 0.35 : 1;
  const diurnal = 0.3 + Math.max(0, Math.sin(((d.getUTCHours() - 5) / 24) * 2 * Math.PI));
  return weekend * diurnal;
}

const TENANTS: readonly (readonly [string, number])[] = [
  ['acme', 0.5],
  ['globex', 0.3],
  ['initech', 0.2],
];

export interface QualityRow {
  timestamp: string;
  run_id: string;
  workflow_id: string;
  tenant_id: string;
  environment: string;
  outcome: string;
  token_cost_usd: number;
  tool_cost_usd: number;
  tool_calls: Record<string, number>;
  policy_allows: number;
  policy_denials: number;
  policy_escalations: number;
  output_schema_fingerprint: string;
}

function gamma1(r: Random, shape: number): number {
  // Marsaglia-Tsang for shape >= 1; shape < 1 via the boost u^(1/shape).
  if (shape < 1) return gamma1(r, shape + 1) * r.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = r.normal(0, 1);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    if (Math.log(r.next()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Calls of `enrich` in a run, from a uniform draw: once, twice for a share `extra` of runs, none for a share -`extra`. */
function enrichCalls(u: number, extra: number): number {
  return extra >= 0 ? 1 + (u < extra ? 1 : 0) : u < -extra ? 0 : 1;
}

/** The scenario's fingerprint weights (not normalized), fp-0 first. */
function fingerprintWeights(s: Scenario): readonly number[] {
  return s.fingerprintWeights ?? Array.from({ length: s.fingerprints }, (_, k) => 1 / (k + 1));
}

/**
 * The weights with fp-0's share multiplied by 1 + `grow` (capped to [0, 1]) and the others scaled to
 * share the rest in their old proportions. The same array when `grow` is 0, so that unchanged
 * scenarios pick exactly as before.
 */
export function growTopShare(weights: readonly number[], grow: number): readonly number[] {
  if (grow === 0 || weights.length < 2) return weights;
  const total = weights.reduce((a, b) => a + b, 0);
  const top = weights[0]! / total;
  const next = Math.min(1, Math.max(0, top * (1 + grow)));
  const rest = (1 - next) / (1 - top);
  return weights.map((w, k) => (k === 0 ? next * total : w * rest));
}

/** The index that a uniform draw `u` picks among `weights`. */
function pickIndex(u: number, weights: readonly number[]): number {
  let left = u * weights.reduce((a, b) => a + b, 0);
  let k = 0;
  while (k < weights.length - 1 && (left -= weights[k]!) > 0) k++;
  return k;
}

function run(r: Random, s: Scenario, t: number, size: (signal: QualitySignal, tenant: string) => number): QualityRow {
  const tenant = r.weighted(TENANTS);
  // Run-level heterogeneity: some runs are long and call everything more (calls cluster in runs).
  const effort = gamma1(r, 4) / 4;
  // `enrich` is called exactly once per run (the story's tool); a change of +x makes a share x of
  // the runs call it twice ("check", then "confirm").
  const extra = size('tool_calls_per_run', tenant);
  const calls: Record<string, number> = { enrich: enrichCalls(r.next(), extra) };
  const search = poisson(r, 1.5 * effort);
  if (search > 0) calls.search = search;
  const propensity = Math.min(0.95, (0.05 * (1 + size('policy_activation_rate', tenant)) * gamma1(r, 2)) / 2);
  let denials = 0;
  const decisions = 2 + poisson(r, 1);
  for (let i = 0; i < decisions; i++) if (r.next() < propensity) denials++;
  const success = r.next() < 0.92;
  const cost = 0.01 * Math.exp(r.normal(0, s.costSigma)) * (1 + size('cost_per_success', tenant)) * (success ? 1 : 1.3);
  // A `share` change moves runs between known fingerprints; any other schema change sends a share of
  // the runs to a new one.
  const schema = size('output_schema_shift', tenant);
  const grows = s.change.kind === 'share';
  let fp: string;
  if (!grows && schema > 0 && r.next() < schema) fp = `fp-${s.workflowId}-new`;
  else fp = `fp-${pickIndex(r.next(), growTopShare(fingerprintWeights(s), grows ? schema : 0))}`;
  return {
    timestamp: new Date(t).toISOString(),
    run_id: `${s.workflowId}-${t}-${r.hex8()}`,
    workflow_id: s.workflowId,
    tenant_id: tenant,
    environment: 'prod',
    outcome: success ? 'success' : 'failure',
    token_cost_usd: +cost.toFixed(6),
    tool_cost_usd: +(0.002 * (calls.enrich ?? 0)).toFixed(6),
    tool_calls: calls,
    policy_allows: decisions - denials,
    policy_denials: denials,
    policy_escalations: 0,
    output_schema_fingerprint: fp,
  };
}

export interface QualityPlan {
  readonly startMs: number;
  readonly endMs: number;
  /** When every scenario's change starts: a Tuesday, 09:00 UTC. */
  readonly changeAt: number;
  readonly scenarios: readonly Scenario[];
}

/** 42 days ending at `endMs`; changes start on the Tuesday 14 to 20 days before the end. */
export function qualityPlan(endMs: number, scenarios: readonly Scenario[] = qualityScenarios()): QualityPlan {
  const end = Math.floor(endMs / HOUR) * HOUR;
  let changeAt = Math.floor((end - 14 * DAY) / DAY) * DAY + 9 * HOUR;
  while (new Date(changeAt).getUTCDay() !== 2) changeAt -= DAY;
  return { startMs: end - 42 * DAY, endMs: end, changeAt, scenarios };
}

/**
 * Rows hour by hour, in batches; deterministic for the seed and the plan. A scenario with `ownStream`
 * gets the same rows whatever other scenarios the plan holds.
 */
export function* qualityRows(plan: QualityPlan, seed = 'quality', batchSize = 50_000): Generator<QualityRow[]> {
  const shared = createRandom(seed);
  const streams = new Map(plan.scenarios.filter((s) => s.ownStream).map((s) => [s.workflowId, createRandom(`${seed}/${s.workflowId}`)]));
  let weekWeight = 0;
  for (let h = 0; h < 168; h++) weekWeight += traffic(plan.startMs + h * HOUR);
  let batch: QualityRow[] = [];
  for (let t0 = plan.startMs; t0 < plan.endMs; t0 += HOUR) {
    const w = traffic(t0) / weekWeight;
    for (const s of plan.scenarios) {
      const r = streams.get(s.workflowId) ?? shared;
      const mean = s.runsPerDay * 7 * w;
      const n = Math.max(0, Math.round(r.normal(mean, Math.sqrt(mean))));
      for (let k = 0; k < n; k++) {
        const t = t0 + Math.floor(r.next() * HOUR);
        batch.push(run(r, s, t, (signal, tenant) => (changedSignal(s) === signal ? sizeAt(s.change, plan.changeAt, t, tenant) : 0)));
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) yield batch;
}
