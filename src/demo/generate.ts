/**
 * Synthetic agent runs written as OpenTelemetry spans, exactly as the Collector's ClickHouse exporter
 * stores them (every attribute a string): as root spans with a run summary (the materialized view's
 * path), or as plain GenAI traces (the rollup's path). Each run is drawn once and then written in
 * either form, so both carry the same runs. Deterministic for a given seed and end time.
 */
import { createRandom, type Random } from './random.js';
import {
  CUSTOMER_TIERS,
  DEMO_CONSTANTS,
  FAILED_RUN_SCORE_PENALTY,
  JUDGED_SHARE,
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
  /**
   * Average runs per day of the first six workflows (their volume shares sum to 1); the three
   * workflows of drifts (e) to (g) run on top of them (shares 0.52: about half as many runs again).
   */
  readonly runsPerDay: number;
  readonly seed: string;
  /** End of the seeded period (exclusive), ms; floored to the hour. */
  readonly endMs: number;
  /** Share of spans given one unreadable attribute, to show the malformed-row counter at work. */
  readonly malformedShare?: number;
  /**
   * `summary` (default): one root span per run carrying the agent.run.* summary (the view's path);
   * `spans`: plain GenAI traces without a summary (the rollup's path).
   */
  readonly form?: 'summary' | 'spans';
  /** With `spans`: which instrumentation family's conventions the traces follow (default genai). */
  readonly dialect?: DemoDialect;
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
  // The later workflows draw their volumes from a stream of their own (WorkflowProfile.ownStream).
  const own = createRandom(`${o.seed}:volume:own`);
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
      const n = Math.max(0, Math.round((wf.ownStream ? own : rnd).normal(mean, Math.sqrt(mean))));
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

/** One run as the demo draws it, before it is written in either form. */
interface RunDraw {
  readonly wf: WorkflowProfile;
  readonly t: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly runId: string;
  readonly outcome: 'success' | 'failure' | 'error';
  readonly inTok: number;
  readonly outTok: number;
  readonly tokenCost: number;
  /** Tool names in call order, one entry per call. */
  readonly calls: readonly string[];
  readonly toolCost: number;
  /** Policy decisions in order, with the rule of each deny / escalate. */
  readonly decisions: readonly (readonly ['allow' | 'deny' | 'escalate', string])[];
  readonly sideEffect: string | null;
  readonly tenant: string;
  readonly environment: string;
  readonly durationMs: number;
  readonly fingerprint: string;
  /** Which corruption this run gets (an index into the form's list), or -1. */
  readonly corruption: number;
  /** The judge's scores (`helpfulness` on JUDGED_SHARE of the runs), custom metrics and attributes. */
  readonly scores: Readonly<Record<string, number>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * `r` draws what the first demo drew (in the same order, so those runs stay as they were); `x` draws
 * the later fields (slow path, scores, metrics, attributes) from a stream of their own.
 */
function drawRun(r: Random, x: Random, wf: WorkflowProfile, t: number, malformedShare: number): RunDraw {
  const traceId = r.hex8() + r.hex8() + r.hex8() + r.hex8();
  const spanId = r.hex8() + r.hex8();
  const success = r.next() < wf.successRate;
  const outcome = success ? 'success' : r.next() < 1 - wf.errorShare ? 'failure' : 'error';
  // Failed runs tend to retry: they burn more tokens.
  const effort = success ? 1 : 1.3;
  const inTok = Math.max(50, Math.round(r.normal(wf.inputTokens, wf.inputTokens * 0.2) * effort));
  const outTok = Math.max(10, Math.round(r.normal(wf.outputTokens, wf.outputTokens * 0.25) * effort));
  const tokenCost = (inTok / 1000) * wf.pricePer1k[0] + (outTok / 1000) * wf.pricePer1k[1];
  const calls: string[] = [];
  let toolCost = 0;
  for (const tool of wf.tools) {
    const n = rounded(r, tool.callsPerRun);
    for (let i = 0; i < n; i++) calls.push(tool.name);
    toolCost += n * tool.costPerCallUsd;
  }
  const decisions: ['allow' | 'deny' | 'escalate', string][] = [];
  for (let i = 0; i < wf.policyDecisionsPerRun; i++) {
    const x = r.next();
    if (x < wf.denyProbability) decisions.push(['deny', wf.deniedRules[Math.floor(r.next() * wf.deniedRules.length)]!]);
    else if (x < wf.denyProbability + wf.escalateProbability) decisions.push(['escalate', wf.deniedRules[0]!]);
    else decisions.push(['allow', '']);
  }
  const tenant = r.weighted(TENANTS);
  const environment = r.next() < 0.9 ? 'prod' : 'staging';
  // Lognormal around the workflow's median; now and then a slow path (a timeout, then a retry).
  const slow = x.next() < wf.tailShare ? wf.tailExtraMs * (0.8 + 0.4 * x.next()) : 0;
  const durationMs = Math.max(200, wf.durationMedianMs * Math.exp(wf.durationSigma * r.normal(0, 1)) * effort + slow);
  const runId = `run-${r.hex8()}${r.hex8()}`;
  const fingerprint = r.weighted(wf.fingerprints);
  const corruption = r.next() < malformedShare ? Math.floor(r.next() * 3) : -1;
  const judged = x.next() < JUDGED_SHARE;
  const judgeMean = wf.helpfulness - (success ? 0 : FAILED_RUN_SCORE_PENALTY);
  const helpfulness = Math.round(Math.min(1, Math.max(0, x.normal(judgeMean, 0.12))) * 100) / 100;
  const scores: Record<string, number> = judged ? { helpfulness } : {};
  const metrics = { steps: 2 + calls.length + Math.max(0, decisions.length - calls.length) };
  const attributes = { customer_tier: x.weighted(CUSTOMER_TIERS) };
  return {
    wf, t, traceId, spanId, runId, outcome, inTok, outTok, tokenCost, calls, toolCost, decisions,
    sideEffect: success ? wf.sideEffect : null, tenant, environment, durationMs, fingerprint, corruption,
    scores, metrics, attributes,
  };
}

/** Span attributes the demo harness sets on every root span, in the order of the flat rows. */
export const SUMMARY_ATTRIBUTE_KEYS = [
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
  'agent.run.scores',
  'agent.run.metrics',
  'agent.run.attributes',
] as const;

/** Span attributes of the plain GenAI form (`demo seed --spans`); each span sets the ones it needs. */
export const TRACE_ATTRIBUTE_KEYS = [
  'gen_ai.operation.name',
  'gen_ai.agent.id',
  'gen_ai.agent.name',
  'gen_ai.agent.version',
  'gen_ai.request.model',
  'gen_ai.provider.name',
  'agent.run_id',
  'agent.workflow_id',
  'agent.tenant_id',
  'agent.prompt_version',
  'agent.policy_version',
  'agent.output_schema_fingerprint',
  'error.type',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.tool.name',
  'tool.cost_usd',
  'tool.side_effect_type',
  'policy_decision',
  'policy_rule',
  'http.request.method',
  'http.route',
  // The other instrumentation families' names (`demo seed --spans --dialect`).
  'openinference.span.kind',
  'agent.name',
  'llm.model_name',
  'llm.provider',
  'llm.token_count.prompt',
  'llm.token_count.completion',
  'tool.name',
  'traceloop.span.kind',
  'traceloop.workflow.name',
  'traceloop.entity.name',
  'llm.request.type',
  'gen_ai.system',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.completion_tokens',
  'ai.operationId',
  'ai.telemetry.functionId',
  'ai.model.id',
  'ai.model.provider',
  'ai.toolCall.name',
  'ai.toolCall.id',
  // The app's custom dimension and metric on the run span, under the default prefixes.
  'agent.attributes.customer_tier',
  'agent.metrics.steps',
] as const;

/**
 * The plain GenAI form carries what the summary form writes as agent.run.scores / metrics /
 * attributes the way instrumented apps do: each judge score as a `gen_ai.evaluation.result` event on
 * the final model span, the custom metric and dimension as root-span attributes under the default
 * prefixes (agent.metrics., agent.attributes.).
 */
function evaluationOf(d: RunDraw): readonly (readonly [string, string])[] {
  return Object.entries(d.scores).map(([name, v]) => [name, String(v)] as const);
}

/**
 * How `demo seed --spans` writes its traces: plain GenAI spans, or as another instrumentation family
 * writes the same run (docs/design/trace-dialects-research.md). The app's own attributes (run id,
 * workflow, tenant, versions, fingerprint, policy decisions, tool costs) are the same in every dialect.
 */
export const DEMO_DIALECTS = ['genai', 'openinference', 'openllmetry', 'vercel-ai'] as const;
export type DemoDialect = (typeof DEMO_DIALECTS)[number];

type TraceKey = (typeof TRACE_ATTRIBUTE_KEYS)[number];
type Attrs = Partial<Record<TraceKey, string>>;

/** The run, model and tool spans' names and family attributes, per dialect. */
interface DialectSpans {
  run(agentId: string, workflowId: string): { name: string; attrs: Attrs };
  chat(model: string, provider: string, inTok: string, outTok: string): { name: string; attrs: Attrs };
  tool(name: string, callId: string): { name: string; attrs: Attrs };
}

const DIALECT_SPANS: Readonly<Record<DemoDialect, DialectSpans>> = {
  genai: {
    run: (agent) => ({ name: `invoke_agent ${agent}`, attrs: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.id': agent, 'gen_ai.agent.name': agent } }),
    chat: (model, provider, i, o) => ({ name: `chat ${model}`, attrs: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': model, 'gen_ai.provider.name': provider, 'gen_ai.usage.input_tokens': i, 'gen_ai.usage.output_tokens': o } }),
    tool: (name) => ({ name: `execute_tool ${name}`, attrs: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name } }),
  },
  openinference: {
    run: (agent) => ({ name: agent, attrs: { 'openinference.span.kind': 'AGENT', 'agent.name': agent } }),
    chat: (model, provider, i, o) => ({ name: 'ChatCompletion', attrs: { 'openinference.span.kind': 'LLM', 'llm.model_name': model, 'llm.provider': provider, 'llm.token_count.prompt': i, 'llm.token_count.completion': o } }),
    tool: (name) => ({ name, attrs: { 'openinference.span.kind': 'TOOL', 'tool.name': name } }),
  },
  openllmetry: {
    run: (agent, workflow) => ({ name: `${agent}.agent`, attrs: { 'traceloop.span.kind': 'agent', 'traceloop.entity.name': agent, 'traceloop.workflow.name': workflow } }),
    chat: (model, provider, i, o) => ({ name: `${provider}.chat`, attrs: { 'llm.request.type': 'chat', 'gen_ai.system': provider, 'gen_ai.request.model': model, 'gen_ai.usage.prompt_tokens': i, 'gen_ai.usage.completion_tokens': o } }),
    tool: (name) => ({ name: `${name}.tool`, attrs: { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': name } }),
  },
  'vercel-ai': {
    run: (agent) => ({ name: 'ai.generateText', attrs: { 'ai.operationId': 'ai.generateText', 'ai.telemetry.functionId': agent } }),
    chat: (model, provider, i, o) => ({
      name: 'ai.generateText.doGenerate',
      attrs: { 'ai.operationId': 'ai.generateText.doGenerate', 'ai.model.id': model, 'ai.model.provider': `${provider}.chat`, 'gen_ai.system': `${provider}.chat`, 'gen_ai.request.model': model, 'gen_ai.usage.input_tokens': i, 'gen_ai.usage.output_tokens': o },
    }),
    tool: (name, callId) => ({ name: 'ai.toolCall', attrs: { 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': name, 'ai.toolCall.id': callId } }),
  },
};

/**
 * One span as a flat row: Timestamp (ISO, UTC), TraceId, SpanId, ParentSpanId, SpanName, SpanKind,
 * ServiceName, environment, Duration (ns), StatusCode, StatusMessage, then the string values of the
 * form's attribute keys ('' = not set), then the name and score of one evaluation event ('' = none).
 * Flat rows are cheap to parse; the staging view in seed.ts builds the exporter's Map columns from them.
 */
export type SpanRow = (string | number)[];

function summaryRow(d: RunDraw): SpanRow {
  const { wf } = d;
  const calls: Record<string, number> = {};
  for (const c of d.calls) calls[c] = (calls[c] ?? 0) + 1;
  const count = (k: string) => d.decisions.filter(([x]) => x === k).length;
  const attrs: string[] = [
    'invoke_agent',
    wf.agentId,
    wf.agentId,
    wf.agentVersion,
    wf.model,
    d.runId,
    wf.workflowId,
    d.tenant,
    wf.promptVersion,
    wf.policyVersion,
    d.outcome,
    String(d.inTok),
    String(d.outTok),
    d.tokenCost.toFixed(6),
    d.toolCost.toFixed(6),
    JSON.stringify(calls),
    JSON.stringify(d.sideEffect ? { [d.sideEffect]: 1 } : {}),
    String(count('allow')),
    String(count('deny')),
    String(count('escalate')),
    JSON.stringify(d.decisions.filter(([x]) => x !== 'allow').map(([, rule]) => rule)),
    d.fingerprint,
    JSON.stringify(d.scores),
    JSON.stringify(d.metrics),
    JSON.stringify(d.attributes),
  ];
  // What a buggy harness does now and then; each one must become a counted malformed row, not a lost batch.
  const at = (k: (typeof SUMMARY_ATTRIBUTE_KEYS)[number]) => SUMMARY_ATTRIBUTE_KEYS.indexOf(k);
  if (d.corruption === 0) attrs[at('agent.run.token_cost_usd')] = 'n/a';
  if (d.corruption === 1) attrs[at('agent.run.tool_calls')] = attrs[at('agent.run.tool_calls')]!.slice(0, -3);
  if (d.corruption === 2) attrs[at('agent.run.policy.denials')] = 'one';
  const failed = d.outcome === 'error';
  return [
    new Date(d.t).toISOString(), d.traceId, d.spanId, '', `invoke_agent ${wf.agentId}`, 'Internal', wf.serviceName, d.environment,
    Math.round(d.durationMs * 1e6), failed ? 'Error' : 'Ok', failed ? 'agent run failed' : '', ...attrs, '', '',
  ];
}

const providerOf = (model: string) => (model.startsWith('claude') ? 'anthropic' : 'openai');

/**
 * The same run as a plain GenAI trace, as an instrumentation library writes it (no summary): an HTTP
 * server span, the invoke_agent span under it, two chat spans sharing the tokens, one execute_tool
 * span per call, and the policy decisions on the tool spans (on extra guardrail spans when there are
 * more decisions than calls). Token cost is left to the rollup's price table.
 */
function traceRows(r: Random, d: RunDraw, dialect: DemoDialect): SpanRow[] {
  const { wf } = d;
  const keys = TRACE_ATTRIBUTE_KEYS;
  const rows: SpanRow[] = [];
  const ns = (ms: number) => Math.max(1, Math.round(ms * 1e6));
  const iso = (ms: number) => new Date(ms).toISOString();
  const failed = d.outcome !== 'success';
  const span = (id: string, parent: string, name: string, kind: string, start: number, durMs: number, error: string, attrs: Attrs, evaluation: readonly (readonly [string, string])[] = []) => {
    // One evaluation event at most per span in the flat row (the demo's judge gives one score).
    const ev = evaluation[0];
    rows.push([
      iso(start), d.traceId, id, parent, name, kind, wf.serviceName, d.environment, ns(durMs), error ? 'Error' : 'Unset', error, ...keys.map((k) => attrs[k] ?? ''),
      ev?.[0] ?? '', ev?.[1] ?? '',
    ]);
  };
  const httpId = r.hex8() + r.hex8();
  span(httpId, '', `POST /v1/${wf.workflowId}`, 'Server', d.t - 4, d.durationMs + 9, '', { 'http.request.method': 'POST', 'http.route': `/v1/${wf.workflowId}` });
  const family = DIALECT_SPANS[dialect];
  const runSpan = family.run(wf.agentId, wf.workflowId);
  span(d.spanId, httpId, runSpan.name, 'Internal', d.t, d.durationMs, failed ? 'agent run failed' : '', {
    ...runSpan.attrs,
    // The GenAI run span's own model and provider, and the agent's version (no family writes one).
    ...(dialect === 'genai' ? { 'gen_ai.request.model': wf.model, 'gen_ai.provider.name': providerOf(wf.model) } : {}),
    'gen_ai.agent.version': wf.agentVersion,
    'agent.run_id': d.runId,
    'agent.workflow_id': wf.workflowId,
    'agent.tenant_id': d.tenant,
    'agent.prompt_version': wf.promptVersion,
    'agent.policy_version': wf.policyVersion,
    'agent.output_schema_fingerprint': d.fingerprint,
    'error.type': failed ? (d.outcome === 'error' ? 'AgentError' : 'TaskFailed') : '',
    'agent.attributes.customer_tier': d.attributes.customer_tier ?? '',
    'agent.metrics.steps': String(d.metrics.steps),
  });
  // Spans inside the run share its duration in order: two model calls around the tool calls.
  const steps = 2 + d.calls.length + Math.max(0, d.decisions.length - d.calls.length);
  const slot = d.durationMs / (steps + 1);
  let at = d.t + slot / 2;
  const next = () => {
    const start = at;
    at += slot;
    return start;
  };
  const firstIn = Math.round(d.inTok * 0.6);
  const firstOut = Math.round(d.outTok * 0.3);
  const chat = (inTok: number, outTok: number, bad: boolean, evaluation: readonly (readonly [string, string])[] = []) => {
    const c = family.chat(wf.model, providerOf(wf.model), bad ? `${inTok}abc` : String(inTok), String(outTok));
    span(r.hex8() + r.hex8(), d.spanId, c.name, 'Client', next(), slot * 0.9, '', c.attrs, evaluation);
  };
  chat(firstIn, firstOut, d.corruption === 1);
  const policyAttrs = (i: number) => {
    const p = d.decisions[i];
    if (p === undefined) return {};
    return { policy_decision: d.corruption === 2 && i === 0 ? 'maybe' : p[0], policy_rule: p[1] };
  };
  d.calls.forEach((tool, i) => {
    const cost = wf.tools.find((x) => x.name === tool)?.costPerCallUsd ?? 0;
    const sideEffect = d.sideEffect !== null && i === d.calls.length - 1 ? d.sideEffect : '';
    const toolId = r.hex8() + r.hex8();
    const t = family.tool(tool, `call_${toolId}`);
    span(toolId, d.spanId, t.name, 'Internal', next(), slot * 0.9, '', {
      ...t.attrs,
      'tool.cost_usd': d.corruption === 0 && i === 0 ? 'n/a' : cost > 0 ? String(cost) : '',
      'tool.side_effect_type': sideEffect,
      ...policyAttrs(i),
    });
  });
  for (let i = d.calls.length; i < d.decisions.length; i++) {
    span(r.hex8() + r.hex8(), d.spanId, 'guardrail check', 'Internal', next(), slot * 0.9, '', policyAttrs(i));
  }
  // The final answer, evaluated by an online judge on some runs.
  chat(d.inTok - firstIn, d.outTok - firstOut, false, evaluationOf(d));
  return rows;
}

/** A batch of span rows and how many runs they hold. */
export interface SpanBatch {
  readonly rows: SpanRow[];
  readonly runs: number;
}

/** Span rows in batches of about `batchSize` rows (whole runs), in time order, hour by hour. */
export function* generateSpans(o: DemoOptions, plan: DemoPlan, batchSize = 50_000): Generator<SpanBatch> {
  const r = createRandom(`${o.seed}:runs`);
  // The later workflows' runs (WorkflowProfile.ownStream), and every run's later fields (drawRun).
  const own = createRandom(`${o.seed}:runs:own`);
  const x = createRandom(`${o.seed}:runs:extra`);
  const malformed = o.malformedShare ?? 0.0005;
  const traces = o.form === 'spans';
  let rows: SpanRow[] = [];
  let runs = 0;
  for (let h = 0; h < plan.hours; h++) {
    const hourStart = plan.startMs + h * HOUR;
    for (let i = 0; i < WORKFLOWS.length; i++) {
      const n = plan.counts[h * WORKFLOWS.length + i]!;
      const rr = WORKFLOWS[i]!.ownStream ? own : r;
      for (let k = 0; k < n; k++) {
        const t = hourStart + Math.floor(rr.next() * HOUR);
        const d = drawRun(rr, x, profileAt(WORKFLOWS[i]!, t, plan.drifts), t, malformed);
        if (traces) rows.push(...traceRows(rr, d, o.dialect ?? 'genai'));
        else rows.push(summaryRow(d));
        runs++;
        if (rows.length >= batchSize) {
          yield { rows, runs };
          rows = [];
          runs = 0;
        }
      }
    }
  }
  if (rows.length > 0) yield { rows, runs };
}

export { DAY as DEMO_DAY_MS };
