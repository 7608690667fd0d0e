/**
 * Synthetic agent runs written as OpenTelemetry root spans, exactly as the Collector's ClickHouse
 * exporter stores them (every attribute a string), so seeding exercises the materialized view.
 * Deterministic for a given seed and end time.
 */
import { createRandom, type Random } from './random.js';
import {
  DEMO_CONSTANTS,
  TENANTS,
  WORKFLOWS,
  driftSchedule,
  profileAt,
  trafficWeight,
  type InjectedDrift,
  type WorkflowProfile,
} from './scenario.js';

const { HOUR, DAY } = DEMO_CONSTANTS;

export interface DemoOptions {
  readonly days: number;
  /** Average runs per day over all workflows. */
  readonly runsPerDay: number;
  readonly seed: string;
  /** End of the seeded period (exclusive), ms; floored to the hour. */
  readonly endMs: number;
  /** Share of spans given one unreadable attribute, to show the malformed-row counter at work. */
  readonly malformedShare?: number;
}

export interface DemoPlan {
  readonly startMs: number;
  readonly endMs: number;
  readonly totalRuns: number;
  readonly drifts: readonly InjectedDrift[];
  /** Runs per (hour index, workflow index). */
  readonly counts: Uint32Array;
  readonly hours: number;
}

export function planDemo(o: DemoOptions): DemoPlan {
  const endMs = Math.floor(o.endMs / HOUR) * HOUR;
  const hours = Math.round(o.days * 24);
  const startMs = endMs - hours * HOUR;
  const rnd = createRandom(`${o.seed}:volume`);
  // Normalise the traffic curve over one week so runsPerDay is the true daily average.
  let weekWeight = 0;
  for (let h = 0; h < 168; h++) weekWeight += trafficWeight(startMs + h * HOUR);
  const perHourUnit = (o.runsPerDay * 7) / weekWeight;
  const counts = new Uint32Array(hours * WORKFLOWS.length);
  let total = 0;
  for (let h = 0; h < hours; h++) {
    const w = trafficWeight(startMs + h * HOUR) * perHourUnit;
    WORKFLOWS.forEach((wf, i) => {
      const mean = w * wf.volumeShare;
      const n = Math.max(0, Math.round(rnd.normal(mean, Math.sqrt(mean))));
      counts[h * WORKFLOWS.length + i] = n;
      total += n;
    });
  }
  return { startMs, endMs, totalRuns: total, drifts: driftSchedule(endMs), counts, hours };
}

function rounded(r: Random, mean: number): number {
  const base = Math.floor(mean);
  return base + (r.next() < mean - base ? 1 : 0);
}

const attrIndex = (k: (typeof DEMO_ATTRIBUTE_KEYS)[number]) => DEMO_ATTRIBUTE_KEYS.indexOf(k);
/** What a buggy harness does now and then; each one must become a counted malformed row, not a lost batch. */
const CORRUPTIONS: readonly ((a: string[]) => void)[] = [
  (a) => (a[attrIndex('agent.run.token_cost_usd')] = 'n/a'),
  (a) => (a[attrIndex('agent.run.tool_calls')] = (a[attrIndex('agent.run.tool_calls')] ?? '{}').slice(0, -3)),
  (a) => (a[attrIndex('agent.run.policy.denials')] = 'one'),
];

/** Span attributes the demo harness sets on every root span, in the order of the flat rows. */
export const DEMO_ATTRIBUTE_KEYS = [
  'gen_ai.operation.name',
  'gen_ai.agent.id',
  'gen_ai.agent.name',
  'gen_ai.agent.version',
  'gen_ai.request.model',
  'agent.run_id',
  'agent.workflow_id',
  'agent.tenant_id',
  'agent.prompt_version',
  'agent.policy_version',
  'agent.run.outcome',
  'agent.run.input_tokens',
  'agent.run.output_tokens',
  'agent.run.token_cost_usd',
  'agent.run.tool_cost_usd',
  'agent.run.tool_calls',
  'agent.run.side_effects',
  'agent.run.policy.allows',
  'agent.run.policy.denials',
  'agent.run.policy.escalations',
  'agent.run.policy.denied_rules',
  'agent.run.output_schema_fingerprint',
] as const;

/**
 * One root span as a flat row: Timestamp (ISO, UTC), TraceId, SpanId, ServiceName, environment,
 * Duration (ns), StatusCode, StatusMessage, then the string values of DEMO_ATTRIBUTE_KEYS.
 * Flat rows are cheap to parse; the INSERT ... SELECT in seed.ts builds the exporter's Map columns.
 */
export type SpanRow = (string | number)[];

function makeRun(r: Random, wf: WorkflowProfile, t: number, malformedShare: number): SpanRow {
  const traceId = r.hex8() + r.hex8() + r.hex8() + r.hex8();
  const spanId = r.hex8() + r.hex8();
  const success = r.next() < wf.successRate;
  const outcome = success ? 'success' : r.next() < 0.7 ? 'failure' : 'error';
  // Failed runs tend to retry: they burn more tokens.
  const effort = success ? 1 : 1.3;
  const inTok = Math.max(50, Math.round(r.normal(wf.inputTokens, wf.inputTokens * 0.2) * effort));
  const outTok = Math.max(10, Math.round(r.normal(wf.outputTokens, wf.outputTokens * 0.25) * effort));
  const tokenCost = (inTok / 1000) * wf.pricePer1k[0] + (outTok / 1000) * wf.pricePer1k[1];
  const calls: Record<string, number> = {};
  let toolCost = 0;
  for (const tool of wf.tools) {
    const n = rounded(r, tool.callsPerRun);
    if (n > 0) {
      calls[tool.name] = n;
      toolCost += n * tool.costPerCallUsd;
    }
  }
  let allows = 0, denials = 0, escalations = 0;
  const denied: string[] = [];
  for (let i = 0; i < wf.policyDecisionsPerRun; i++) {
    const x = r.next();
    if (x < wf.denyProbability) {
      denials++;
      denied.push(wf.deniedRules[Math.floor(r.next() * wf.deniedRules.length)]!);
    } else if (x < wf.denyProbability + wf.escalateProbability) {
      escalations++;
      denied.push(wf.deniedRules[0]!);
    } else allows++;
  }
  const tenant = r.weighted(TENANTS);
  const environment = r.next() < 0.9 ? 'prod' : 'staging';
  const durationMs = Math.max(200, r.normal(3500, 1000) * effort);
  const attrs: string[] = [
    'invoke_agent',
    wf.agentId,
    wf.agentId,
    wf.agentVersion,
    wf.model,
    `run-${r.hex8()}${r.hex8()}`,
    wf.workflowId,
    tenant,
    wf.promptVersion,
    wf.policyVersion,
    outcome,
    String(inTok),
    String(outTok),
    tokenCost.toFixed(6),
    toolCost.toFixed(6),
    JSON.stringify(calls),
    JSON.stringify(success && wf.sideEffect ? { [wf.sideEffect]: 1 } : {}),
    String(allows),
    String(denials),
    String(escalations),
    JSON.stringify(denied),
    r.weighted(wf.fingerprints),
  ];
  if (r.next() < malformedShare) CORRUPTIONS[Math.floor(r.next() * CORRUPTIONS.length)]!(attrs);
  return [
    new Date(t).toISOString(),
    traceId,
    spanId,
    wf.serviceName,
    environment,
    Math.round(durationMs * 1e6),
    outcome === 'error' ? 'Error' : 'Ok',
    outcome === 'error' ? 'agent run failed' : '',
    ...attrs,
  ];
}

/** Spans in batches of at most `batchSize`, in time order, hour by hour. */
export function* generateSpans(o: DemoOptions, plan: DemoPlan, batchSize = 50_000): Generator<SpanRow[]> {
  const r = createRandom(`${o.seed}:runs`);
  const malformed = o.malformedShare ?? 0.0005;
  let batch: SpanRow[] = [];
  for (let h = 0; h < plan.hours; h++) {
    const hourStart = plan.startMs + h * HOUR;
    for (let i = 0; i < WORKFLOWS.length; i++) {
      const n = plan.counts[h * WORKFLOWS.length + i]!;
      for (let k = 0; k < n; k++) {
        const t = hourStart + Math.floor(r.next() * HOUR);
        const wf = profileAt(WORKFLOWS[i]!, t, plan.drifts);
        batch.push(makeRun(r, wf, t, malformed));
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length > 0) yield batch;
}

export { DAY as DEMO_DAY_MS };
