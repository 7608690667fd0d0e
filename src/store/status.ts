/**
 * `agentdrift status`: what is in the store, how many runs came from malformed spans, whether the
 * traces table can be read at all, and what the span rollup saw, wrote and skipped, and why.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import { aggregatesStatus, type AggregatesStatus } from './aggregatesMigrate.js';
import { PASS_COUNTERS, rollupNames, type PassCounter } from './rollupSchema.js';
import { qualified, type StoreNames } from './schema.js';
import { inspectSpanTable, type SpanTable } from './spanTable.js';

export interface RollupStatus {
  readonly passes: number;
  /** End of the daemon's last scheduled pass (its watermark), ISO; null before the first. */
  readonly scheduledUpTo: string | null;
  /** When the last pass of any kind ran, ISO. */
  readonly lastPassAt: string | null;
  /** Summed over every pass. */
  readonly counters: Readonly<Record<PassCounter, number>>;
}

export interface StoreStatus {
  readonly runs: number;
  readonly malformedRuns: number;
  readonly firstRun: string | null;
  readonly lastRun: string | null;
  readonly workflows: number;
  readonly spans: number | null;
  readonly spanTable: SpanTable;
  /** Null when the rollup's log table does not exist (migrate has not run since it was added). */
  readonly rollup: RollupStatus | null;
  /** Null when there are no aggregate tables (disabled, or migrate has not run since they were added). */
  readonly aggregates: AggregatesStatus | null;
}

export async function storeStatus(ch: ClickHouse, names: StoreNames): Promise<StoreStatus> {
  const [r] = await ch.query<Record<string, unknown>>(
    `SELECT count() AS runs, countIf(malformed_fields > 0) AS malformed, toString(min(timestamp)) AS first_run,
            toString(max(timestamp)) AS last_run, uniqExact(workflow_id) AS workflows
     FROM ${qualified(names.database, names.agentRuns)}`,
  );
  let spans: number | null = null;
  try {
    const [s] = await ch.query<Record<string, unknown>>(`SELECT count() AS n FROM ${qualified(names.database, names.otelTraces)}`);
    spans = Number(s?.n ?? 0);
  } catch {
    spans = null; // no otel_traces: rows are inserted directly
  }
  const runs = Number(r?.runs ?? 0);
  return {
    runs,
    malformedRuns: Number(r?.malformed ?? 0),
    firstRun: runs > 0 ? String(r?.first_run) : null,
    lastRun: runs > 0 ? String(r?.last_run) : null,
    workflows: Number(r?.workflows ?? 0),
    spans,
    spanTable: await inspectSpanTable(ch, names),
    rollup: await rollupStatus(ch, names),
    aggregates: await aggregatesStatus(ch, names),
  };
}

async function rollupStatus(ch: ClickHouse, names: StoreNames): Promise<RollupStatus | null> {
  const r = rollupNames(names);
  const [has] = await ch.query<{ n: number | string }>('SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {name:String}', {
    db: r.database,
    name: r.log,
  });
  if (Number(has?.n ?? 0) === 0) return null;
  const [row] = await ch.query<Record<string, unknown>>(
    `SELECT count() AS passes,
            countIf(mode = 'schedule') AS scheduled,
            toString(maxIf(to_time, mode = 'schedule')) AS scheduled_up_to,
            toString(max(at)) AS last_at,
            ${PASS_COUNTERS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
     FROM ${qualified(r.database, r.log)} WHERE kind = 'pass'`,
  );
  const passes = Number(row?.passes ?? 0);
  return {
    passes,
    scheduledUpTo: Number(row?.scheduled ?? 0) > 0 ? String(row?.scheduled_up_to) : null,
    lastPassAt: passes > 0 ? String(row?.last_at) : null,
    counters: Object.fromEntries(PASS_COUNTERS.map((c) => [c, Number(row?.[c] ?? 0)])) as Record<PassCounter, number>,
  };
}

/** Malformed runs: rows whose root span had unreadable attributes, stored with 0 / empty there. */
export async function malformedRunCount(ch: ClickHouse, names: StoreNames): Promise<number> {
  const [r] = await ch.query<Record<string, unknown>>(`SELECT countIf(malformed_fields > 0) AS n FROM ${qualified(names.database, names.agentRuns)}`);
  return Number(r?.n ?? 0);
}

export function formatStatus(s: StoreStatus, target: string): string {
  const lines = [
    `store:          ${target}`,
    `agent runs:     ${s.runs}${s.runs > 0 ? ` (${s.firstRun} .. ${s.lastRun} UTC, ${s.workflows} workflows)` : ''}`,
    `malformed runs: ${s.malformedRuns} (spans with unreadable attributes, kept with 0 / empty values; see column malformed_fields)`,
    `otel spans:     ${s.spans === null ? 'no otel_traces table' : s.spans}`,
  ];
  if (s.spanTable.problem !== null) lines.push(`otel_traces:    NOT READ: ${s.spanTable.problem}`);
  lines.push(...formatRollup(s.rollup));
  lines.push(...formatAggregates(s.aggregates));
  return lines.join('\n');
}

function formatAggregates(a: AggregatesStatus | null): string[] {
  if (a === null) return ['aggregates:     none (rules read agent_runs; `agentdrift migrate` creates them unless aggregates.enabled is false)'];
  const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;
  return [
    `aggregates:     ${a.ready ? 'ready' : 'NOT READY (a backfill did not finish: run agentdrift migrate)'}, dimensions ${a.dimensions ?? '?'}, ` +
      `lag ${a.lagSeconds === null ? 'n/a (no runs)' : `${a.lagSeconds}s behind the newest run`}`,
    ...a.tables.map((t) => `  ${t.table.padEnd(40)} ${String(t.rows).padStart(12)} rows ${mb(t.bytes).padStart(10)}`),
  ];
}

function formatRollup(r: RollupStatus | null): string[] {
  if (r === null) return ['span rollup:    not set up (run agentdrift migrate)'];
  if (r.passes === 0) return ['span rollup:    no pass yet (the daemon runs it every rollup.interval; backfill with agentdrift rollup --from ISO --to ISO)'];
  const c = r.counters;
  const upTo = r.scheduledUpTo === null ? 'no scheduled pass yet' : `scheduled up to ${r.scheduledUpTo} UTC`;
  return [
    `span rollup:    ${r.passes} passes, ${upTo}, last pass at ${r.lastPassAt} UTC`,
    `  seen:         ${c.spans} spans, ${c.runs} runs; written: ${c.runs_written} runs (${c.nested_agents} nested agents counted in their outer run)`,
    `  skipped:      ${c.runs_already_present} runs already in agent_runs; ${c.runs_summarized} runs summarized on their root span (the view wrote them)`,
    `                ${c.spans_outside_runs} spans outside any invoke_agent/invoke_workflow span; ${c.spans_without_run} GenAI spans in traces without one (no run to roll them into)`,
    `  unreadable:   ${c.malformed_runs} runs with malformed attributes; ${c.unpriced_model_calls} model calls without a price (not in rollup.prices, no gen_ai.usage.cost)`,
  ];
}
