/**
 * The demo world: nine workflows, three tenants, a weekday/weekend rhythm, and seven drifts, one per
 * signal (tool calls, policy, cost, output shape, latency tail, error rate, judge score), each
 * starting at a known time relative to the end of the seeded period. Pure data and functions of
 * time, so tests can ask "what was injected, and when" without touching a store.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ToolProfile {
  readonly name: string;
  /** Mean calls per run; realised as floor(mean) plus one more with probability frac(mean). */
  readonly callsPerRun: number;
  readonly costPerCallUsd: number;
}

export interface WorkflowProfile {
  readonly workflowId: string;
  readonly agentId: string;
  readonly agentVersion: string;
  readonly serviceName: string;
  /** Share of all runs. */
  readonly volumeShare: number;
  readonly model: string;
  readonly promptVersion: string;
  readonly policyVersion: string;
  readonly tools: readonly ToolProfile[];
  readonly successRate: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** USD per 1k tokens, input and output. */
  readonly pricePer1k: readonly [number, number];
  readonly policyDecisionsPerRun: number;
  readonly denyProbability: number;
  readonly escalateProbability: number;
  readonly deniedRules: readonly string[];
  readonly fingerprints: readonly (readonly [string, number])[];
  readonly sideEffect: string | null;
  /** Run duration: lognormal with this median (ms) and log-sd; failed runs take 30% longer. */
  readonly durationMedianMs: number;
  readonly durationSigma: number;
  /** A slow path (a timeout and a retry): this share of runs takes tailExtraMs (+-20%) longer. */
  readonly tailShare: number;
  readonly tailExtraMs: number;
  /** Of the runs that do not succeed, the share whose outcome is `error` (the rest: `failure`). */
  readonly errorShare: number;
  /** Mean of the `helpfulness` judge score (in [0, 1]) on the runs the judge scores. */
  readonly helpfulness: number;
  /**
   * Drawn from random streams of their own: the workflows added with drifts (e) to (g), so that the
   * first six workflows' runs stay exactly as they were before them.
   */
  readonly ownStream?: boolean;
}

export type DriftSignal =
  | 'tool_calls_per_run'
  | 'policy_activation_rate'
  | 'cost_per_success'
  | 'output_schema_shift'
  | 'duration'
  | 'error_rate'
  | 'score';

export interface InjectedDrift {
  readonly signal: DriftSignal;
  readonly workflowId: string;
  readonly startsAt: number;
  readonly description: string;
}

export const TENANTS: readonly (readonly [string, number])[] = [
  ['acme', 0.5],
  ['globex', 0.3],
  ['initech', 0.2],
];

/** The `customer_tier` attribute of a run (`attributes.customer_tier` in rules). */
export const CUSTOMER_TIERS: readonly (readonly [string, number])[] = [
  ['enterprise', 0.3],
  ['pro', 0.5],
  ['free', 0.2],
];

/** The share of runs the LLM judge scores (`scores['helpfulness']`). */
export const JUDGED_SHARE = 0.3;
/** How much lower the judge scores a run that did not succeed. */
export const FAILED_RUN_SCORE_PENALTY = 0.1;

export const WORKFLOWS: readonly WorkflowProfile[] = [
  {
    workflowId: 'invoice_enrichment', agentId: 'enricher', agentVersion: '3.2.0', serviceName: 'billing-agents', volumeShare: 0.22,
    model: 'gpt-4.1-mini', promptVersion: 'enrich-v12', policyVersion: 'pol-7',
    tools: [
      { name: 'crm_lookup', callsPerRun: 1.0, costPerCallUsd: 0 },
      { name: 'enrich_company', callsPerRun: 1.1, costPerCallUsd: 0.02 },
      { name: 'write_record', callsPerRun: 1.0, costPerCallUsd: 0 },
    ],
    successRate: 0.96, inputTokens: 4200, outputTokens: 700, pricePer1k: [0.0004, 0.0016],
    policyDecisionsPerRun: 2, denyProbability: 0.03, escalateProbability: 0.005, deniedRules: ['no_external_share'],
    fingerprints: [['fp-inv-7c1e', 0.93], ['fp-inv-2b40', 0.07]], sideEffect: 'record_updated',
    durationMedianMs: 4200, durationSigma: 0.35, tailShare: 0.01, tailExtraMs: 6000, errorShare: 0.3, helpfulness: 0.84,
  },
  {
    workflowId: 'support_triage', agentId: 'triage', agentVersion: '1.8.4', serviceName: 'support-agents', volumeShare: 0.25,
    model: 'gpt-4o-2024-08-06', promptVersion: 'triage-v5', policyVersion: 'pol-7',
    tools: [
      { name: 'kb_search', callsPerRun: 1.6, costPerCallUsd: 0 },
      { name: 'ticket_update', callsPerRun: 1.0, costPerCallUsd: 0 },
    ],
    successRate: 0.94, inputTokens: 2600, outputTokens: 450, pricePer1k: [0.0025, 0.01],
    policyDecisionsPerRun: 3, denyProbability: 0.04, escalateProbability: 0.01, deniedRules: ['no_refund_promise', 'pii_redaction'],
    fingerprints: [['fp-tri-91aa', 0.88], ['fp-tri-04cd', 0.12]], sideEffect: 'ticket_updated',
    durationMedianMs: 3100, durationSigma: 0.4, tailShare: 0.01, tailExtraMs: 5000, errorShare: 0.3, helpfulness: 0.78,
  },
  {
    workflowId: 'refund_processing', agentId: 'refunder', agentVersion: '2.0.1', serviceName: 'billing-agents', volumeShare: 0.12,
    model: 'claude-sonnet-4', promptVersion: 'refund-v3', policyVersion: 'pol-7',
    tools: [
      { name: 'order_lookup', callsPerRun: 1.2, costPerCallUsd: 0 },
      { name: 'issue_refund', callsPerRun: 0.9, costPerCallUsd: 0.03 },
    ],
    successRate: 0.93, inputTokens: 3100, outputTokens: 520, pricePer1k: [0.003, 0.015],
    policyDecisionsPerRun: 2, denyProbability: 0.05, escalateProbability: 0.02, deniedRules: ['refund_limit'],
    fingerprints: [['fp-ref-5e77', 1.0]], sideEffect: 'payment_processed',
    durationMedianMs: 5200, durationSigma: 0.35, tailShare: 0.01, tailExtraMs: 6000, errorShare: 0.3, helpfulness: 0.8,
  },
  {
    workflowId: 'report_generation', agentId: 'reporter', agentVersion: '0.9.2', serviceName: 'analytics-agents', volumeShare: 0.13,
    model: 'gpt-4.1', promptVersion: 'report-v8', policyVersion: 'pol-7',
    tools: [
      { name: 'sql_query', callsPerRun: 2.4, costPerCallUsd: 0.001 },
      { name: 'chart_render', callsPerRun: 1.1, costPerCallUsd: 0 },
    ],
    successRate: 0.97, inputTokens: 6000, outputTokens: 1800, pricePer1k: [0.002, 0.008],
    policyDecisionsPerRun: 1, denyProbability: 0.02, escalateProbability: 0.0, deniedRules: ['row_limit'],
    fingerprints: [['fp-rep-a310', 0.9], ['fp-rep-77b2', 0.1]], sideEffect: null,
    durationMedianMs: 9000, durationSigma: 0.45, tailShare: 0.01, tailExtraMs: 12000, errorShare: 0.3, helpfulness: 0.76,
  },
  {
    workflowId: 'lead_scoring', agentId: 'scorer', agentVersion: '4.1.0', serviceName: 'sales-agents', volumeShare: 0.16,
    model: 'gpt-4.1-mini', promptVersion: 'score-v2', policyVersion: 'pol-7',
    tools: [
      { name: 'crm_lookup', callsPerRun: 1.3, costPerCallUsd: 0 },
      { name: 'web_search', callsPerRun: 0.8, costPerCallUsd: 0.005 },
    ],
    successRate: 0.95, inputTokens: 1800, outputTokens: 200, pricePer1k: [0.0004, 0.0016],
    policyDecisionsPerRun: 2, denyProbability: 0.03, escalateProbability: 0.005, deniedRules: ['no_external_share'],
    fingerprints: [['fp-lead-19f0', 0.97], ['fp-lead-c2d3', 0.03]], sideEffect: 'record_updated',
    durationMedianMs: 2200, durationSigma: 0.3, tailShare: 0.01, tailExtraMs: 4000, errorShare: 0.3, helpfulness: 0.82,
  },
  {
    workflowId: 'email_drafting', agentId: 'drafter', agentVersion: '2.3.3', serviceName: 'sales-agents', volumeShare: 0.12,
    model: 'claude-haiku-4', promptVersion: 'draft-v9', policyVersion: 'pol-7',
    tools: [
      { name: 'crm_lookup', callsPerRun: 1.0, costPerCallUsd: 0 },
      { name: 'send_email', callsPerRun: 0.7, costPerCallUsd: 0.0005 },
    ],
    successRate: 0.97, inputTokens: 1500, outputTokens: 600, pricePer1k: [0.0008, 0.004],
    policyDecisionsPerRun: 2, denyProbability: 0.06, escalateProbability: 0.01, deniedRules: ['tone_check', 'no_discount'],
    fingerprints: [['fp-mail-3e21', 0.8], ['fp-mail-b9a0', 0.2]], sideEffect: 'email_sent',
    durationMedianMs: 2600, durationSigma: 0.35, tailShare: 0.01, tailExtraMs: 4000, errorShare: 0.3, helpfulness: 0.8,
  },
  // Added with the latency, error-rate and score drifts (e) to (g), on random streams of their own.
  {
    workflowId: 'doc_summarization', agentId: 'summarizer', agentVersion: '1.4.2', serviceName: 'docs-agents', volumeShare: 0.1,
    model: 'gpt-4.1-mini', promptVersion: 'sum-v6', policyVersion: 'pol-7',
    tools: [
      { name: 'fetch_document', callsPerRun: 1.4, costPerCallUsd: 0 },
      { name: 'vector_search', callsPerRun: 1.0, costPerCallUsd: 0.0002 },
    ],
    successRate: 0.97, inputTokens: 7000, outputTokens: 900, pricePer1k: [0.0004, 0.0016],
    policyDecisionsPerRun: 1, denyProbability: 0.01, escalateProbability: 0.0, deniedRules: ['confidential_doc'],
    fingerprints: [['fp-sum-60d2', 0.95], ['fp-sum-1f8a', 0.05]], sideEffect: null,
    durationMedianMs: 5000, durationSigma: 0.35, tailShare: 0.01, tailExtraMs: 8000, errorShare: 0.3, helpfulness: 0.81,
    ownStream: true,
  },
  {
    workflowId: 'contract_review', agentId: 'reviewer', agentVersion: '2.2.0', serviceName: 'legal-agents', volumeShare: 0.3,
    model: 'claude-sonnet-4', promptVersion: 'review-v4', policyVersion: 'pol-7',
    tools: [
      { name: 'clause_search', callsPerRun: 2.0, costPerCallUsd: 0 },
      { name: 'redline', callsPerRun: 0.8, costPerCallUsd: 0 },
    ],
    successRate: 0.96, inputTokens: 5200, outputTokens: 800, pricePer1k: [0.003, 0.015],
    policyDecisionsPerRun: 2, denyProbability: 0.02, escalateProbability: 0.01, deniedRules: ['privileged_content'],
    fingerprints: [['fp-con-8c03', 0.9], ['fp-con-e4b7', 0.1]], sideEffect: 'document_updated',
    durationMedianMs: 6500, durationSigma: 0.4, tailShare: 0.01, tailExtraMs: 8000, errorShare: 0.3, helpfulness: 0.79,
    ownStream: true,
  },
  {
    workflowId: 'faq_answering', agentId: 'answerer', agentVersion: '5.0.3', serviceName: 'support-agents', volumeShare: 0.12,
    model: 'claude-haiku-4', promptVersion: 'faq-v3', policyVersion: 'pol-7',
    tools: [{ name: 'kb_search', callsPerRun: 1.2, costPerCallUsd: 0 }],
    successRate: 0.97, inputTokens: 2200, outputTokens: 400, pricePer1k: [0.0008, 0.004],
    policyDecisionsPerRun: 1, denyProbability: 0.02, escalateProbability: 0.0, deniedRules: ['no_legal_advice'],
    fingerprints: [['fp-faq-2a9c', 1.0]], sideEffect: null,
    durationMedianMs: 2400, durationSigma: 0.3, tailShare: 0.01, tailExtraMs: 4000, errorShare: 0.3, helpfulness: 0.8,
    ownStream: true,
  },
];

/**
 * The demo models' token prices as a rollup price table (USD per million tokens), for the plain-span
 * form, whose model spans carry tokens but no cost. A model switch there changes the price too.
 */
export function demoPrices(): { model: string; inputPerMillion: number; outputPerMillion: number; cacheReadPerMillion: null }[] {
  const seen = new Map<string, readonly [number, number]>();
  for (const wf of WORKFLOWS) if (!seen.has(wf.model)) seen.set(wf.model, wf.pricePer1k);
  return [...seen].map(([model, [input, output]]) => ({ model, inputPerMillion: input * 1000, outputPerMillion: output * 1000, cacheReadPerMillion: null }));
}

/** Workflows the scenario never changes: an evaluation must fire on none of them. */
export const STABLE_WORKFLOWS = ['lead_scoring', 'email_drafting'] as const;

/**
 * Drift start times. All fall 3 to 10 days before the end, so that with the default windows
 * (7 days against the 7 before) the drifted share of the current window is large enough to cross a
 * 20% threshold whatever weekday the period ends on.
 */
export function driftSchedule(endMs: number): InjectedDrift[] {
  // (a) starts on a Tuesday at 09:00 UTC, between 3 and 10 days before the end.
  let tuesday = Math.floor((endMs - 3 * DAY) / DAY) * DAY + 9 * HOUR;
  if (tuesday > endMs - 3 * DAY) tuesday -= DAY;
  while (new Date(tuesday).getUTCDay() !== 2) tuesday -= DAY;
  const at = (daysBefore: number) => Math.floor((endMs - daysBefore * DAY) / HOUR) * HOUR;
  return [
    {
      signal: 'tool_calls_per_run',
      workflowId: 'invoice_enrichment',
      startsAt: tuesday,
      description: 'prompt enrich-v13 calls enrich_company twice ("check", then "confirm"): 1.1 -> 2.0 calls per run',
    },
    {
      signal: 'policy_activation_rate',
      workflowId: 'support_triage',
      startsAt: at(4),
      description: 'model switch gpt-4o-2024-08-06 -> gpt-4.1: policy denials per decision 4% -> 16%',
    },
    {
      signal: 'cost_per_success',
      workflowId: 'refund_processing',
      startsAt: at(4.5),
      description: 'success rate falls 93% -> 45% (failed runs also retry and cost 30% more): cost per success rises',
    },
    {
      signal: 'output_schema_shift',
      workflowId: 'report_generation',
      startsAt: at(5),
      description: 'prompt report-v9 returns a new output shape fp-rep-new-d41e on 45% of runs',
    },
    {
      signal: 'duration',
      workflowId: 'doc_summarization',
      startsAt: at(6),
      description: 'agent 1.5.0 fetches documents with a 10 s timeout and one retry: a quarter of runs take ~9 s longer, p95 up by 70%',
    },
    {
      signal: 'error_rate',
      workflowId: 'contract_review',
      startsAt: at(5),
      description: 'model switch claude-sonnet-4 -> gpt-4.1-mini: malformed tool arguments, runs not succeeding 4% -> 10% (errors 1.2% -> 8%)',
    },
    {
      signal: 'score',
      workflowId: 'faq_answering',
      startsAt: at(5.5),
      description: 'prompt faq-v4 answers in fewer words: the helpfulness judge score falls 0.80 -> 0.62, output tokens -35%',
    },
  ];
}

/** The profile in force for a workflow at time t, with the drifts applied. */
export function profileAt(base: WorkflowProfile, t: number, drifts: readonly InjectedDrift[]): WorkflowProfile {
  const drift = drifts.find((d) => d.workflowId === base.workflowId && t >= d.startsAt);
  if (!drift) return base;
  switch (drift.signal) {
    case 'tool_calls_per_run':
      return {
        ...base,
        promptVersion: 'enrich-v13',
        tools: base.tools.map((tool) => (tool.name === 'enrich_company' ? { ...tool, callsPerRun: 2.0 } : tool)),
      };
    case 'policy_activation_rate':
      return { ...base, model: 'gpt-4.1', denyProbability: 0.16 };
    case 'cost_per_success':
      return { ...base, successRate: 0.45 };
    case 'output_schema_shift':
      return {
        ...base,
        promptVersion: 'report-v9',
        fingerprints: [['fp-rep-new-d41e', 0.45], ['fp-rep-a310', 0.5], ['fp-rep-77b2', 0.05]],
      };
    case 'duration':
      return { ...base, agentVersion: '1.5.0', tailShare: 0.25, tailExtraMs: 9000 };
    case 'error_rate':
      return { ...base, model: 'gpt-4.1-mini', successRate: 0.9, errorShare: 0.8 };
    case 'score':
      return { ...base, promptVersion: 'faq-v4', helpfulness: 0.62, outputTokens: 260 };
  }
}

/** Relative traffic at a time: weekends run at 40%, and a day/night curve peaks mid-afternoon UTC. */
export function trafficWeight(t: number): number {
  const d = new Date(t);
  const weekday = d.getUTCDay();
  const weekend = weekday === 0 || weekday === 6 ? 0.4 : 1.0;
  const hour = d.getUTCHours();
  const diurnal = 0.35 + 0.65 * Math.max(0, Math.sin(((hour - 5) / 24) * 2 * Math.PI)) ** 1.5 + 0.15;
  return weekend * diurnal;
}

export const DEMO_CONSTANTS = { HOUR, DAY };
