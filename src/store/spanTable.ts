/**
 * What kind of otel_traces table the store holds. The Collector's ClickHouse exporter writes span and
 * resource attributes to Map(String, String) columns by default; with `json: true` (formerly the
 * `clickhouse.json` feature gate) it writes JSON columns instead, which the view and the rollup read
 * through the JSON accessors (store/attributes.ts forAttributes). `migrate`, `status` and the rollup
 * ask here, and say in the same words when a table cannot be read at all.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import type { StoreNames } from './schema.js';

export type SpanTableKind =
  /** The exporter's default: attributes in Map columns; what agentdrift reads. */
  | 'map'
  /** The exporter's `json: true` mode: read through the JSON accessors. */
  | 'json'
  /** No such table (rows are inserted into agent_runs directly, or migrate has not run). */
  | 'absent'
  /** A table without the exporter's attribute columns. */
  | 'other';

export interface SpanTable {
  readonly kind: SpanTableKind;
  /** What to change, for 'json' and 'other'; null when agentdrift can read the table. */
  readonly problem: string | null;
  /**
   * Whether it has the exporter's span events (Events.Name, Events.Attributes), where evaluation
   * results are read from; a table without them is read without (forAttributes' `events`).
   */
  readonly events: boolean;
}

/** The exact message for a JSON-mode table: what is wrong and what to change. */
export function jsonModeMessage(n: StoreNames): string {
  return (
    `${n.database}.${n.otelTraces} stores span attributes in the experimental Object('json') type (an old ClickHouse exporter with json: true), ` +
    `which agentdrift cannot read: no runs are taken from it. In the Collector config, remove json: true from the clickhouse exporter ` +
    `(and the clickhouse.json feature gate, if set) and set traces_table_name to a new table, e.g. otel_traces_map; ` +
    `set tables.otel_traces: otel_traces_map in agentdrift.yaml; then run agentdrift migrate, and agentdrift rollup --from --to ` +
    `for the period already exported.`
  );
}

function otherMessage(n: StoreNames, type: string): string {
  return (
    `${n.database}.${n.otelTraces} has no SpanAttributes Map(String, String) column (found ${type || 'none'}), so it is not ` +
    `the ClickHouse exporter's traces table: no runs are taken from it. Point tables.otel_traces at the exporter's traces_table_name.`
  );
}

export async function inspectSpanTable(ch: ClickHouse, n: StoreNames): Promise<SpanTable> {
  const rows = await ch.query<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns
     WHERE database = {db:String} AND table = {table:String} AND name IN ('SpanAttributes', 'ResourceAttributes', 'Events.Name', 'Events.Attributes')`,
    { db: n.database, table: n.otelTraces },
  );
  const events = rows.filter((r) => r.name.startsWith('Events.')).length === 2;
  if (rows.length === 0) {
    const [t] = await ch.query<{ n: number | string }>(
      'SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {table:String}',
      { db: n.database, table: n.otelTraces },
    );
    return Number(t?.n ?? 0) === 0 ? { kind: 'absent', problem: null, events } : { kind: 'other', problem: otherMessage(n, ''), events };
  }
  const type = rows.find((r) => r.name === 'SpanAttributes')?.type ?? '';
  if (type.startsWith('Map(')) return { kind: 'map', problem: null, events };
  // JSON is the current type; Object('json') the experimental one before it.
  // JSON is the current type and is read; Object('json'), the experimental one before it, is not.
  if (/^JSON/.test(type)) return { kind: 'json', problem: null, events };
  if (/^(Object\(|Nullable\(Object)/.test(type)) return { kind: 'json', problem: jsonModeMessage(n), events };
  return { kind: 'other', problem: otherMessage(n, type), events };
}
