/**
 * Hand-made agent_runs rows and rules for the signal tests: rows go straight into the contract table
 * (no spans, no view), so every number a test asserts can be worked out by hand from the rows it wrote.
 */
import { expect } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { evaluateRule } from '../../src/engine/evaluate.js';
import { StoreSums } from '../../src/signals/sums.js';
import type { RuleEvaluation, SeriesEvaluation } from '../../src/engine/types.js';
import type { Rule, SignalName } from '../../src/rules/types.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

/** The evaluation time of every signal test: current window [Mar 8, Mar 15), baseline [Mar 1, Mar 8). */
export const AT = Date.parse('2026-03-15T00:00:00Z');

/** ISO timestamp (with Z) `ms` milliseconds before AT. */
export function beforeAt(ms: number): string {
  return new Date(AT - ms).toISOString();
}

/** A time in the middle of the current window (7d before AT + `hours`), with day offsets 0..6. */
export function cur(day = 0, hours = 12): string {
  return beforeAt(WEEK - day * DAY - hours * HOUR);
}

/** A time inside the previous-7d baseline window [AT - 14d, AT - 7d). */
export function base(day = 0, hours = 12): string {
  return beforeAt(2 * WEEK - day * DAY - hours * HOUR);
}

/** A time inside the seasonal baseline window `k` weeks back: [AT - 7d - k w, AT - k w). */
export function weeksBack(k: number, day = 0, hours = 12): string {
  return beforeAt(WEEK + k * WEEK - day * DAY - hours * HOUR);
}

export interface AgentRunRow {
  timestamp: string;
  trace_id: string;
  run_id: string;
  workflow_id: string;
  agent_id: string;
  agent_version: string;
  tenant_id: string;
  environment: string;
  service_name: string;
  model: string;
  prompt_version: string;
  policy_version: string;
  outcome: string;
  duration_ms: number;
  input_tokens: number;
  output_tokens: number;
  token_cost_usd: number;
  tool_cost_usd: number;
  tool_calls: Record<string, number>;
  side_effects: Record<string, number>;
  policy_allows: number;
  policy_denials: number;
  policy_escalations: number;
  denied_rules: string[];
  output_schema_fingerprint: string;
  malformed_fields: number;
  tool_errors?: Record<string, number>;
  scores?: Record<string, number>;
  metrics?: Record<string, number>;
  attributes?: Record<string, string>;
}

export type RunInput = Partial<Omit<AgentRunRow, 'timestamp'>> & { ts: string };

let seq = 0;

/** One agent_runs row with contract defaults for everything the test does not set. */
export function run(input: RunInput): AgentRunRow {
  const { ts, ...rest } = input;
  seq += 1;
  const id = `run-${String(seq).padStart(5, '0')}`;
  return {
    timestamp: ts,
    trace_id: `trace-${id}`,
    run_id: id,
    workflow_id: 'wf',
    agent_id: 'agent',
    agent_version: '1.0.0',
    tenant_id: '',
    environment: 'prod',
    service_name: 'svc',
    model: 'model-a',
    prompt_version: 'p1',
    policy_version: 'pol1',
    outcome: 'success',
    duration_ms: 1000,
    input_tokens: 0,
    output_tokens: 0,
    token_cost_usd: 0,
    tool_cost_usd: 0,
    tool_calls: {},
    side_effects: {},
    policy_allows: 0,
    policy_denials: 0,
    policy_escalations: 0,
    denied_rules: [],
    output_schema_fingerprint: 'fp',
    malformed_fields: 0,
    ...rest,
  };
}

/** A rule built directly (no YAML): 7d window, previous 7d baseline, min_runs 1, no significance. */
export function rule(signal: SignalName, over: Partial<Rule> = {}): Rule {
  return {
    alert: `test_${signal}`,
    signal,
    where: {},
    groupBy: [],
    windowMs: WEEK,
    baseline: { kind: 'previous', lengthMs: WEEK, offsetMs: 0 },
    threshold: 0.2,
    direction: 'up',
    minRuns: 1,
    significance: null,
    forMs: 0,
    options: {},
    labels: {},
    annotations: {},
    pos: { file: 'test.yaml', line: 1, col: 1 },
    ...over,
  };
}

export const TABLE = 'agent_runs';

/** Empties the table and writes `rows` (each test starts from its own data). */
export async function resetRuns(ch: ClickHouse, rows: readonly AgentRunRow[]): Promise<void> {
  await ch.command(`TRUNCATE TABLE ${TABLE}`);
  await ch.insert(TABLE, rows);
}

/** Evaluates a rule on agent_runs at AT (by default) and fails the test on a query error. */
export async function evaluate(ch: ClickHouse, r: Rule, at = AT): Promise<RuleEvaluation> {
  const ev = await evaluateRule(new StoreSums({ query: (sql, params) => ch.query(sql, params), table: TABLE }).reader(), r, at);
  expect(ev.error).toBeNull();
  return ev;
}

/** The one series whose labels include all of `labels`; fails when there is none or more than one. */
export function series(ev: RuleEvaluation, labels: Record<string, string>): SeriesEvaluation {
  const found = ev.series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found, `series ${JSON.stringify(labels)} among ${JSON.stringify(ev.series.map((s) => s.labels))}`).toHaveLength(1);
  return found[0]!;
}

/** true / false for an evaluated series, 'nodata' when it had too few runs (or an undefined value). */
export function verdict(s: SeriesEvaluation): boolean | 'nodata' | 'error' {
  if (s.outcome.kind === 'ok') return s.outcome.active;
  return s.outcome.kind === 'nodata' ? 'nodata' : 'error';
}
