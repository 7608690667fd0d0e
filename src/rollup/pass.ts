/**
 * Runs rollup passes: one interval (`runPass`), or a range cut into intervals with progress
 * (`rollupRange`, for `agentdrift rollup` and `demo seed --spans`). Each pass is one INSERT ... SELECT
 * (rollup/sql.ts), then a few counts, then its row in the rollup log. Times come in as arguments.
 */
import { ERR } from '../util/errors.js';
import { randomUUID } from 'node:crypto';
import type { ClickHouse } from '../clickhouse/client.js';
import { PASS_COUNTERS, rollupNames, type PassCounter } from '../store/rollupSchema.js';
import { qualified, type StoreNames } from '../store/schema.js';
import { forAttributes, type AttributeColumns } from '../store/attributes.js';
import { inspectSpanTable } from '../store/spanTable.js';
import { agentSpansEndingSql, passInsertSql, spansWithoutRunSql } from './sql.js';
import type { AttributeOverrides, ModelPrice } from './types.js';

export type PassMode = 'schedule' | 'backfill';
export type PassCounters = Record<PassCounter, number>;

export interface PassOptions {
  /** Runs whose span ended in [fromMs, toMs). */
  readonly fromMs: number;
  readonly toMs: number;
  readonly mode: PassMode;
  /** When the pass runs (the caller's clock), for the log. */
  readonly at: number;
  /** How long a run may last: spans are read this far before the interval (and after it). */
  readonly lookbackMs: number;
  readonly prices: readonly ModelPrice[];
  /** `rollup.attributes`: span attributes read first for some columns. */
  readonly attributes?: AttributeOverrides;
  /** How the traces table holds attributes (checkSpanSource says); default the exporter's Map columns. */
  readonly attributeColumns?: AttributeColumns;
  /** Whether the traces table has the exporter's Events columns (checkSpanSource says); default true. */
  readonly eventColumns?: boolean;
}

export interface PassResult {
  readonly passId: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly mode: PassMode;
  readonly counters: PassCounters;
  readonly elapsedMs: number;
}

/** The store cannot be rolled up as it is (JSON-mode traces table, no traces table): says what to change. */
export class RollupUnavailableError extends Error {
  override readonly name = 'RollupUnavailableError';
  readonly errorCode = ERR.ROLLUP_UNAVAILABLE;
}

export const zeroCounters = (): PassCounters => Object.fromEntries(PASS_COUNTERS.map((c) => [c, 0])) as PassCounters;

/** How the traces table holds attributes and events; throws RollupUnavailableError when it is missing or not readable. */
export async function checkSpanSource(ch: ClickHouse, names: StoreNames): Promise<{ attributeColumns: AttributeColumns; eventColumns: boolean }> {
  const t = await inspectSpanTable(ch, names);
  if (t.problem !== null) throw new RollupUnavailableError(t.problem);
  if (t.kind === 'absent') {
    throw new RollupUnavailableError(`${names.database}.${names.otelTraces} does not exist: no spans to roll up (run agentdrift migrate, and point the Collector's exporter at it)`);
  }
  return { attributeColumns: t.kind === 'json' ? 'json' : 'map', eventColumns: t.events };
}

/** One pass over [fromMs, toMs). Call checkSpanSource first (once for many passes). */
export async function runPass(ch: ClickHouse, names: StoreNames, o: PassOptions): Promise<PassResult> {
  const t0 = performance.now();
  const r = rollupNames(names);
  const passId = randomUUID();
  const window = { fromMs: o.fromMs, toMs: o.toMs, lookbackMs: o.lookbackMs };
  const sums = PASS_COUNTERS.filter((c) => c !== 'spans_without_run' && c !== 'runs_summarized');
  const read = (sql: string) => forAttributes(sql, o.attributeColumns ?? 'map', o.eventColumns ?? true);
  const ending = agentSpansEndingSql(names, window);
  const [agents] = await ch.query<{ agents: number | string; summarized: number | string }>(read(ending.sql), ending.params);
  let counted: Record<string, unknown> | undefined;
  if (Number(agents?.agents ?? 0) > 0) {
    const insert = passInsertSql(names, r, window, passId, o.prices, o.attributes);
    await ch.command(read(insert.sql), insert.params);
    [counted] = await ch.query<Record<string, unknown>>(
      `SELECT ${sums.map((c) => `sum(${c}) AS ${c}`).join(', ')} FROM ${qualified(r.database, r.log)} WHERE pass_id = {pass:String} AND kind = 'runs'`,
      { pass: passId },
    );
  }
  const without = spansWithoutRunSql(names, window);
  const [orphans] = await ch.query<{ n: number | string }>(read(without.sql), without.params);
  const counters = zeroCounters();
  for (const c of sums) counters[c] = Number(counted?.[c] ?? 0);
  counters.spans_without_run = Number(orphans?.n ?? 0);
  counters.runs_summarized = Number(agents?.summarized ?? 0);

  await ch.insert(qualified(r.database, r.log), [
    {
      pass_id: passId,
      kind: 'pass',
      mode: o.mode,
      at: new Date(o.at).toISOString(),
      from_time: new Date(o.fromMs).toISOString(),
      to_time: new Date(o.toMs).toISOString(),
      ...counters,
    },
  ]);
  return { passId, fromMs: o.fromMs, toMs: o.toMs, mode: o.mode, counters, elapsedMs: performance.now() - t0 };
}

/** The end of the schedule's last pass: where its next pass starts. Null before the first. */
export async function scheduleWatermark(ch: ClickHouse, names: StoreNames): Promise<number | null> {
  const r = rollupNames(names);
  const [row] = await ch.query<{ n: number | string; wm: number | string }>(
    `SELECT count() AS n, toUnixTimestamp64Milli(max(to_time)) AS wm FROM ${qualified(r.database, r.log)} WHERE kind = 'pass' AND mode = 'schedule'`,
  );
  return Number(row?.n ?? 0) === 0 ? null : Number(row?.wm);
}

export interface RangeProgress {
  start(totalMs: number): void;
  /** After each pass: how much of the range is done and the totals so far. */
  update(doneMs: number, totals: PassCounters): void;
  stop(): void;
}

export interface RangeOptions extends Omit<PassOptions, 'fromMs' | 'toMs'> {
  readonly fromMs: number;
  readonly toMs: number;
  /** Longest interval of one pass; a long range becomes many passes (bounded memory, visible progress). */
  readonly chunkMs: number;
}

export interface RangeResult {
  readonly passes: number;
  readonly counters: PassCounters;
  readonly elapsedMs: number;
}

export async function rollupRange(ch: ClickHouse, names: StoreNames, o: RangeOptions, progress?: RangeProgress): Promise<RangeResult> {
  if (!(o.toMs > o.fromMs)) throw new RangeError('rollup: --to must be after --from');
  if (!(o.chunkMs > 0)) throw new RangeError('rollup: the chunk length must be positive');
  const t0 = performance.now();
  const source = await checkSpanSource(ch, names);
  const totals = zeroCounters();
  let passes = 0;
  progress?.start(o.toMs - o.fromMs);
  try {
    for (let from = o.fromMs; from < o.toMs; from += o.chunkMs) {
      const to = Math.min(o.toMs, from + o.chunkMs);
      const r = await runPass(ch, names, { ...o, fromMs: from, toMs: to, ...source });
      passes++;
      for (const c of PASS_COUNTERS) totals[c] += r.counters[c];
      progress?.update(to - o.fromMs, totals);
    }
  } finally {
    progress?.stop();
  }
  return { passes, counters: totals, elapsedMs: performance.now() - t0 };
}

/** One line for a terminal or a log message: what a rollup saw, wrote and skipped, and why. */
export function describeCounters(c: PassCounters): string {
  const n = (x: number, one: string, many = `${one}s`) => `${x} ${x === 1 ? one : many}`;
  const parts = [
    `${n(c.spans, 'span')} and ${n(c.runs, 'run')} seen, ${n(c.runs_written, 'run')} written`,
    `skipped: ${n(c.runs_already_present, 'run')} already in agent_runs, ${n(c.runs_summarized, 'run')} summarized on the root span (the view wrote them), ` +
      `${n(c.spans_outside_runs, 'span')} outside any agent span, ${n(c.spans_without_run, 'GenAI span')} in traces without an invoke_agent/invoke_workflow span`,
  ];
  if (c.nested_agents > 0) parts.push(`${n(c.nested_agents, 'nested agent')} counted in the outer run`);
  if (c.malformed_runs > 0) parts.push(`${n(c.malformed_runs, 'run')} with unreadable attributes (kept as 0 / empty)`);
  if (c.unpriced_model_calls > 0) parts.push(`${n(c.unpriced_model_calls, 'model call')} without a price (add the model to rollup.prices)`);
  return parts.join('; ');
}
