/** `agentdrift status`: what is in the store, including how many runs came from malformed spans. */
import type { ClickHouse } from '../clickhouse/client.js';
import { qualified, type StoreNames } from './schema.js';

export interface StoreStatus {
  readonly runs: number;
  readonly malformedRuns: number;
  readonly firstRun: string | null;
  readonly lastRun: string | null;
  readonly workflows: number;
  readonly spans: number | null;
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
  };
}

/** Malformed runs: rows whose root span had unreadable attributes, stored with 0 / empty there. */
export async function malformedRunCount(ch: ClickHouse, names: StoreNames): Promise<number> {
  const [r] = await ch.query<Record<string, unknown>>(`SELECT countIf(malformed_fields > 0) AS n FROM ${qualified(names.database, names.agentRuns)}`);
  return Number(r?.n ?? 0);
}

export function formatStatus(s: StoreStatus, target: string): string {
  return [
    `store:          ${target}`,
    `agent runs:     ${s.runs}${s.runs > 0 ? ` (${s.firstRun} .. ${s.lastRun} UTC, ${s.workflows} workflows)` : ''}`,
    `malformed runs: ${s.malformedRuns} (spans with unreadable attributes, kept with 0 / empty values; see column malformed_fields)`,
    `otel spans:     ${s.spans === null ? 'no otel_traces table' : s.spans}`,
  ].join('\n');
}
