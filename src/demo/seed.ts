/**
 * `agentdrift demo seed`: write the demo spans into otel_traces with a progress bar; with `--spans`,
 * as plain GenAI traces that the rollup then turns into agent_runs rows.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import { rollupRange, type RangeProgress, type RangeResult } from '../rollup/pass.js';
import { ROLLUP_DEFAULTS } from '../rollup/types.js';
import { silentProgress, type Progress } from '../util/progress.js';
import { qualified, type StoreNames } from '../store/schema.js';
import { INGEST_SETTINGS } from '../store/aggregates.js';
import { generateSpans, planDemo, SUMMARY_ATTRIBUTE_KEYS, TRACE_ATTRIBUTE_KEYS, type DemoOptions, type DemoPlan } from './generate.js';
import { demoPrices } from './scenario.js';

export interface SeedResult {
  readonly plan: DemoPlan;
  /** Runs written. */
  readonly inserted: number;
  /** Spans written (as many as runs in the summary form). */
  readonly spans: number;
  /** For the plain-span form: the rollup that turned the traces into agent_runs rows. */
  readonly rollup: RangeResult | null;
  readonly elapsedMs: number;
}

/** The rollup of a `--spans` demo: a pass per day, from the first run to an hour after the last. */
export const DEMO_ROLLUP_CHUNK_MS = 24 * 3_600_000;

/** A rollup's progress in hours of the range, on a Progress. */
export function hoursProgress(p: Progress): RangeProgress {
  return {
    start: (totalMs) => p.start(Math.ceil(totalMs / 3_600_000)),
    update: (doneMs) => p.update(Math.ceil(doneMs / 3_600_000)),
    stop: () => p.stop(),
  };
}

const STAGE = 'agentdrift_demo_spans';
const STAGE_VIEW = 'agentdrift_demo_spans_to_otel';

/**
 * Flat rows in, exporter-shaped spans out. ClickHouse parses flat JSON arrays several times faster
 * than rows with Map columns, so the demo inserts flat rows into a Null-engine table whose
 * materialized view builds the exporter's Map columns (attributes left empty are not set) and writes
 * real spans into otel_traces, every attribute a string.
 */
function stageSql(names: StoreNames, keys: readonly string[]): { create: string[]; drop: string[] } {
  const stage = qualified(names.database, STAGE);
  const view = qualified(names.database, STAGE_VIEW);
  const structure =
    'ts String, trace_id String, span_id String, parent_span_id String, span_name String, span_kind String, service String, env String, ' +
    'duration UInt64, status String, status_message String, ' +
    keys.map((_, i) => `a${i} String`).join(', ') +
    ', eval_name String, eval_value String';
  const attrMap = keys.map((k, i) => `'${k}', a${i}`).join(', ');
  return {
    create: [
      `CREATE TABLE IF NOT EXISTS ${stage} (${structure}) ENGINE = Null`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS ${view}
       TO ${qualified(names.database, names.otelTraces)} (Timestamp DateTime64(9), TraceId String, SpanId String, ParentSpanId String,
         TraceState String, SpanName String, SpanKind String, ServiceName String, ResourceAttributes Map(String, String),
         ScopeName String, ScopeVersion String, SpanAttributes Map(String, String), Duration UInt64, StatusCode String, StatusMessage String,
         \`Events.Timestamp\` Array(DateTime64(9)), \`Events.Name\` Array(String), \`Events.Attributes\` Array(Map(String, String)))
       AS SELECT parseDateTime64BestEffort(ts, 9, 'UTC') AS Timestamp, trace_id AS TraceId, span_id AS SpanId,
         parent_span_id AS ParentSpanId, '' AS TraceState, span_name AS SpanName, span_kind AS SpanKind,
         service AS ServiceName,
         map('service.name', service, 'deployment.environment.name', env, 'telemetry.sdk.language', 'python') AS ResourceAttributes,
         'agentdrift-demo' AS ScopeName, '1' AS ScopeVersion, mapFilter((k, v) -> v != '', map(${attrMap})) AS SpanAttributes,
         duration AS Duration, status AS StatusCode, status_message AS StatusMessage,
         if(eval_name != '', [Timestamp], []) AS \`Events.Timestamp\`,
         if(eval_name != '', ['gen_ai.evaluation.result'], []) AS \`Events.Name\`,
         if(eval_name != '', [map('gen_ai.evaluation.name', eval_name, 'gen_ai.evaluation.score.value', eval_value)], []) AS \`Events.Attributes\`
       FROM ${stage}`,
    ],
    drop: [`DROP VIEW IF EXISTS ${view}`, `DROP TABLE IF EXISTS ${stage}`],
  };
}

export async function seedDemo(
  ch: ClickHouse,
  names: StoreNames,
  o: DemoOptions,
  progress: Progress = silentProgress,
  rollupProgress?: RangeProgress,
): Promise<SeedResult> {
  const t0 = Date.now();
  const plan = planDemo(o);
  const spansForm = o.form === 'spans';
  const stage = stageSql(names, spansForm ? TRACE_ATTRIBUTE_KEYS : SUMMARY_ATTRIBUTE_KEYS);
  for (const sql of stage.drop) await ch.command(sql); // leftovers of an interrupted seed
  for (const sql of stage.create) await ch.command(sql);
  progress.start(plan.totalRuns);
  let inserted = 0;
  let spans = 0;
  try {
    // Generate the next batch while the engine parses the previous one.
    let inFlight: Promise<void> | null = null;
    for (const batch of generateSpans(o, plan)) {
      if (inFlight) await inFlight;
      // The staging view leads to otel_traces and, for the summary form, on to agent_runs and its
      // aggregate views: pushed to concurrently, as every agentdrift insert into them is.
      inFlight = ch.insert(qualified(names.database, STAGE), batch.rows, 'JSONCompactEachRow', { settings: INGEST_SETTINGS }).then(() => {
        inserted += batch.runs;
        spans += batch.rows.length;
        progress.update(inserted);
      });
    }
    if (inFlight) await inFlight;
  } finally {
    progress.stop();
    for (const sql of stage.drop) await ch.command(sql).catch(() => undefined);
  }
  const rollup = spansForm
    ? await rollupRange(
        ch,
        names,
        {
          fromMs: plan.startMs,
          toMs: plan.endMs + ROLLUP_DEFAULTS.maxRunDurationMs,
          chunkMs: DEMO_ROLLUP_CHUNK_MS,
          mode: 'backfill',
          at: plan.endMs,
          lookbackMs: ROLLUP_DEFAULTS.maxRunDurationMs,
          prices: demoPrices(),
        },
        rollupProgress,
      )
    : null;
  return { plan, inserted, spans, rollup, elapsedMs: Date.now() - t0 };
}

/** True when agent_runs has no row yet (the daemon seeds the demo only then). */
export async function storeIsEmpty(ch: ClickHouse, names: StoreNames): Promise<boolean> {
  const rows = await ch.query<{ n: number | string }>(`SELECT count() AS n FROM ${qualified(names.database, names.agentRuns)}`);
  return Number(rows[0]?.n ?? 0) === 0;
}

/** What is already in the store: runs in agent_runs and spans in otel_traces. */
export interface StoreContents {
  readonly runs: number;
  readonly spans: number;
}

export async function storeContents(ch: ClickHouse, names: StoreNames): Promise<StoreContents> {
  const count = async (table: string) => {
    const rows = await ch.query<{ n: number | string }>(`SELECT count() AS n FROM ${qualified(names.database, table)}`);
    return Number(rows[0]?.n ?? 0);
  };
  return { runs: await count(names.agentRuns), spans: await count(names.otelTraces) };
}

/**
 * `demo seed` into a store that already holds data: by default it refuses (seeding twice silently
 * doubled every run); `append` adds the demo anyway, `reset` empties agent_runs and otel_traces
 * first, `if-empty` leaves a non-empty store alone and succeeds (what `start --demo` does).
 */
export type SeedMode = 'refuse' | 'append' | 'reset' | 'if-empty';
export type SeedDecision = 'seed' | 'reset-then-seed' | 'skip' | 'refuse';

export function seedDecision(contents: StoreContents, mode: SeedMode): SeedDecision {
  if (contents.runs === 0 && contents.spans === 0) return 'seed';
  switch (mode) {
    case 'append':
      return 'seed';
    case 'reset':
      return 'reset-then-seed';
    case 'if-empty':
      return 'skip';
    case 'refuse':
      return 'refuse';
  }
}

/** Deletes every run and span: agent_runs and otel_traces are truncated (the view stays). */
export async function resetStore(ch: ClickHouse, names: StoreNames): Promise<void> {
  for (const table of [names.agentRuns, names.otelTraces]) await ch.command(`TRUNCATE TABLE IF EXISTS ${qualified(names.database, table)}`);
}
