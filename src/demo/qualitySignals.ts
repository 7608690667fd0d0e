/**
 * The detection-quality scenarios of the signals of issue 24 (latency, errors, failed tool calls,
 * tokens, scores, traffic, spend, custom metrics by a custom attribute), behind the `signals` part of
 * `npm run bench:quality`, scored against the rules in bench/quality-signals.yaml. A store of its own:
 * one workflow per scenario (the budget scenarios: one tenant each), 42 days, every change starting
 * on the same Tuesday 09:00 as the other scenarios (qualityPlan). Each scenario says which series of
 * which rules must fire (`expect`); every other firing is a false alert, except those a scenario
 * `allows` (a mean-latency rule may or may not see a change in the tail). Pure: rows are a function
 * of the seed and the end time, each scenario on a random stream of its own.
 */
import { createRandom, poisson, type Random } from './random.js';
import { qualityPlan } from './quality.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What a scenario changes, from the change time on. */
export type SignalChange =
  | { readonly kind: 'none' }
  /** The slow path (6% of runs) takes `size`x its usual time instead of 1.5x: the p95 moves, the mean hardly. */
  | { readonly kind: 'latency_tail'; readonly size: number; readonly days?: number }
  /** Every run takes 1 + size as long (for `days` days when given: a spike). */
  | { readonly kind: 'latency'; readonly size: number; readonly days?: number }
  /** The share of runs ending in `error` scales by 1 + size. */
  | { readonly kind: 'errors'; readonly size: number; readonly days?: number }
  /** The failure rate of tool `search`'s calls scales by 1 + size. */
  | { readonly kind: 'tool_errors'; readonly size: number }
  /** Input and output tokens per run scale by 1 + size. */
  | { readonly kind: 'tokens'; readonly size: number }
  /** The `helpfulness` score (a judge's) scales by 1 + size. */
  | { readonly kind: 'score'; readonly size: number }
  /** The `records_processed` metric scales by 1 + size for runs with attributes.region = `region` only. */
  | { readonly kind: 'metric_region'; readonly size: number; readonly region: string }
  /** Spend per run scales by 1 + size. */
  | { readonly kind: 'spend'; readonly size: number }
  /** No more runs. */
  | { readonly kind: 'stop' };

/** A series that must fire: one of `alerts`, on a series whose labels include `labels`. */
export interface Expectation {
  readonly alerts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface SignalScenario {
  readonly workflowId: string;
  readonly family: string;
  readonly runsPerDay: number;
  /** The tenant of every run; default: acme, globex or initech (50/30/20%). */
  readonly tenant?: string;
  /** Mean spend per run in USD (default 0.002). */
  readonly costPerRun?: number;
  readonly change: SignalChange;
  /** The series that must fire after the change (none: a control). */
  readonly expect: readonly Expectation[];
  /** Alerts on this scenario's workflow that may fire after the change without counting as false (rule names). */
  readonly allow?: readonly string[];
  /** At most this many firings of `allow`ed alerts (a spike: one short warning). */
  readonly allowAtMost?: number;
}

const REGIONS: readonly (readonly [string, number])[] = [
  ['us', 0.5],
  ['eu', 0.3],
  ['apac', 0.2],
];
const TENANTS: readonly (readonly [string, number])[] = [
  ['acme', 0.5],
  ['globex', 0.3],
  ['initech', 0.2],
];

/** The scenario set: changes on every new signal, one-day spikes, and stable controls. */
export function signalScenarios(): SignalScenario[] {
  const out: SignalScenario[] = [];
  const wf = (id: string) => ({ workflow_id: id });
  const add = (workflowId: string, family: string, change: SignalChange, expect: readonly Expectation[], over: Partial<SignalScenario> = {}) =>
    out.push({ workflowId, family, runsPerDay: 500, change, expect, ...over });
  add('sig-latency-tail', 'latency: tail only (slow 6% of runs 1.5x -> 4x)', { kind: 'latency_tail', size: 4 }, [{ alerts: ['LatencyP95Up', 'LatencyP95UpFast'], labels: wf('sig-latency-tail') }], {
    allow: ['LatencyMeanUp'],
  });
  add('sig-latency-30', 'latency: every run +30%', { kind: 'latency', size: 0.3 }, [{ alerts: ['LatencyP95Up', 'LatencyP95UpFast', 'LatencyMeanUp'], labels: wf('sig-latency-30') }]);
  add('sig-errors-100', 'error rate 2% -> 4%', { kind: 'errors', size: 1 }, [{ alerts: ['ErrorRateUp', 'ErrorRateUpFast'], labels: wf('sig-errors-100') }]);
  add('sig-errors-50', 'error rate 2% -> 3%', { kind: 'errors', size: 0.5 }, [{ alerts: ['ErrorRateUp', 'ErrorRateUpFast'], labels: wf('sig-errors-50') }]);
  add('sig-tool-errors-200', 'tool errors 3% -> 9% of search calls', { kind: 'tool_errors', size: 2 }, [{ alerts: ['ToolErrorRateUp'], labels: { ...wf('sig-tool-errors-200'), tool: 'search' } }]);
  add('sig-tokens-30', 'tokens per run +30%', { kind: 'tokens', size: 0.3 }, [{ alerts: ['TokensPerRunUp'], labels: wf('sig-tokens-30') }]);
  add('sig-score-down-10', 'judge score helpfulness -10% (0.80 -> 0.72)', { kind: 'score', size: -0.1 }, [{ alerts: ['HelpfulnessDown'], labels: wf('sig-score-down-10') }]);
  add('sig-metric-eu-down-30', 'metric records_processed -30% for region eu only', { kind: 'metric_region', size: -0.3, region: 'eu' }, [
    { alerts: ['RecordsProcessedDown'], labels: { ...wf('sig-metric-eu-down-30'), attributes_region: 'eu' } },
  ]);
  add('sig-traffic-stop', 'traffic stops', { kind: 'stop' }, [{ alerts: ['TrafficDropped'], labels: wf('sig-traffic-stop') }]);
  // Budgets: a tenant of its own each; the weekday spend is about 0.65 of the cost per run x 1000
  // (500 runs a day on average, weekends at 35%).
  add('sig-budget-over', 'tenant spend $16/day -> $32/day (budget $25/day)', { kind: 'spend', size: 1 }, [{ alerts: ['TenantDailyBudget'], labels: { tenant_id: 'tenant-over' } }], {
    tenant: 'tenant-over',
    costPerRun: 0.026,
  });
  add('sig-budget-steady', 'control: tenant steady at $21/day (budget $25/day)', { kind: 'none' }, [], { tenant: 'tenant-steady', costPerRun: 0.034 });
  // One-day spikes: no 7-day alert; at most one short warning from a fast rule.
  add('sig-spike-latency', 'one-day spike: every run 2x as long', { kind: 'latency', size: 1, days: 1 }, [], { allow: ['LatencyP95UpFast'], allowAtMost: 1 });
  add('sig-spike-errors', 'one-day spike: error rate 2% -> 6%', { kind: 'errors', size: 2, days: 1 }, [], { allow: ['ErrorRateUpFast'], allowAtMost: 1 });
  for (let i = 1; i <= 8; i++) add(`sig-stable-${i}`, 'control: stable, 500 runs/day', { kind: 'none' }, []);
  for (let i = 1; i <= 4; i++) add(`sig-stable-low-${i}`, 'control: stable, 100 runs/day', { kind: 'none' }, [], { runsPerDay: 100 });
  return out;
}

/** Relative traffic: weekends at 35%, a day/night curve peaking mid-afternoon UTC (as quality.ts). */
function traffic(t: number): number {
  const d = new Date(t);
  const weekend = d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 0.35 : 1;
  const diurnal = 0.3 + Math.max(0, Math.sin(((d.getUTCHours() - 5) / 24) * 2 * Math.PI));
  return weekend * diurnal;
}

export interface SignalRow {
  timestamp: string;
  run_id: string;
  workflow_id: string;
  agent_id: string;
  tenant_id: string;
  environment: string;
  outcome: string;
  duration_ms: number;
  input_tokens: number;
  output_tokens: number;
  token_cost_usd: number;
  tool_cost_usd: number;
  tool_calls: Record<string, number>;
  tool_errors: Record<string, number>;
  scores: Record<string, number>;
  metrics: Record<string, number>;
  attributes: Record<string, string>;
  output_schema_fingerprint: string;
}

/** Whether the scenario's change is in force at t. */
function active(c: SignalChange, at: number, t: number): boolean {
  if (c.kind === 'none' || t < at) return false;
  const days = 'days' in c ? c.days : undefined;
  return days === undefined || t < at + days * DAY;
}

function binomial(r: Random, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (r.next() < p) k++;
  return k;
}

function run(r: Random, s: SignalScenario, t: number, on: boolean): SignalRow {
  const c = s.change;
  const size = (kind: SignalChange['kind']) => (on && c.kind === kind && 'size' in c ? c.size : 0);
  const tenant = s.tenant ?? r.weighted(TENANTS);
  const region = r.weighted(REGIONS);
  // Duration: lognormal around 4 s; a slow path (6% of runs) at 1.5x, or `latency_tail`'s size x.
  const slow = r.next() < 0.06;
  const slowFactor = slow ? (on && c.kind === 'latency_tail' ? c.size : 1.5) : 1;
  const duration = 4000 * Math.exp(r.normal(0, 0.4)) * slowFactor * (1 + size('latency'));
  const u = r.next();
  const errorShare = 0.02 * (1 + size('errors'));
  const outcome = u < errorShare ? 'error' : u < errorShare + 0.05 ? 'failure' : 'success';
  const tokenScale = 1 + size('tokens');
  const input = Math.round(1500 * Math.exp(r.normal(0, 0.3)) * tokenScale);
  const output = Math.round(400 * Math.exp(r.normal(0, 0.4)) * tokenScale);
  const mean = (s.costPerRun ?? 0.002) * (1 + size('spend'));
  const cost = mean * Math.exp(r.normal(0, 0.5) - 0.125);
  const search = 1 + poisson(r, 1.5);
  const searchErrors = binomial(r, search, 0.03 * (1 + size('tool_errors')));
  const fetchErrors = binomial(r, 1, 0.03);
  const toolErrors: Record<string, number> = {};
  if (searchErrors > 0) toolErrors.search = searchErrors;
  if (fetchErrors > 0) toolErrors.fetch = fetchErrors;
  const scores: Record<string, number> = {};
  if (r.next() < 0.4) scores.helpfulness = +Math.min(1, Math.max(0, r.normal(0.8, 0.1) * (1 + size('score')))).toFixed(4);
  const regionScale = on && c.kind === 'metric_region' && region === c.region ? 1 + c.size : 1;
  const records = Math.max(0, Math.round(r.normal(100, 25) * regionScale));
  return {
    timestamp: new Date(t).toISOString(),
    run_id: `${s.workflowId}-${t}-${r.hex8()}`,
    workflow_id: s.workflowId,
    agent_id: 'agent-signals',
    tenant_id: tenant,
    environment: 'prod',
    outcome,
    duration_ms: +duration.toFixed(1),
    input_tokens: input,
    output_tokens: output,
    token_cost_usd: +cost.toFixed(6),
    tool_cost_usd: 0,
    tool_calls: { search, fetch: 1 },
    tool_errors: toolErrors,
    scores,
    metrics: { records_processed: records },
    attributes: { region },
    output_schema_fingerprint: 'fp-0',
  };
}

export interface SignalPlan {
  readonly startMs: number;
  readonly endMs: number;
  readonly changeAt: number;
  readonly scenarios: readonly SignalScenario[];
}

/** 42 days ending at `endMs`, the change on the same Tuesday as qualityPlan's. */
export function signalPlan(endMs: number, scenarios: readonly SignalScenario[] = signalScenarios()): SignalPlan {
  const p = qualityPlan(endMs, []);
  return { startMs: p.startMs, endMs: p.endMs, changeAt: p.changeAt, scenarios };
}

/** Rows hour by hour, in batches; each scenario on a stream of its own (seed/workflow). */
export function* signalRows(plan: SignalPlan, seed = 'quality-signals', batchSize = 50_000): Generator<SignalRow[]> {
  const streams = new Map(plan.scenarios.map((s) => [s.workflowId, createRandom(`${seed}/${s.workflowId}`)]));
  let weekWeight = 0;
  for (let h = 0; h < 168; h++) weekWeight += traffic(plan.startMs + h * HOUR);
  let batch: SignalRow[] = [];
  for (let t0 = plan.startMs; t0 < plan.endMs; t0 += HOUR) {
    const w = traffic(t0) / weekWeight;
    for (const s of plan.scenarios) {
      const r = streams.get(s.workflowId)!;
      const mean = s.runsPerDay * 7 * w;
      const n = Math.max(0, Math.round(r.normal(mean, Math.sqrt(mean))));
      for (let k = 0; k < n; k++) {
        const t = t0 + Math.floor(r.next() * HOUR);
        if (s.change.kind === 'stop' && t >= plan.changeAt) continue;
        batch.push(run(r, s, t, active(s.change, plan.changeAt, t)));
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) yield batch;
}

/** Whether a firing's labels include an expectation's. */
export function matches(e: Expectation, rule: string, labels: Readonly<Record<string, string>>): boolean {
  return e.alerts.includes(rule) && Object.entries(e.labels).every(([k, v]) => labels[k] === v);
}
