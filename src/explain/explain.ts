/**
 * The I/O part: runs an explanation's queries for one alert series and assembles the result from the
 * pure parts (decompose, changepoint, attribution). Queries go through the same port the engine uses,
 * so the daemon, the CLI, tests and the benchmark run the very same SQL.
 *
 *   1. what moved: totals and per-key sums (tools, fingerprints, denied rules) over the rule's windows
 *   2. the quantity to follow (quantity.ts)
 *   3. in parallel: its hourly series (-> onset) and its attribution to dimension values
 *   4. example runs of the current window after the onset, on the main cause's value
 */
import type { Rule } from '../rules/types.js';
import { signalQueries } from '../signals/aggregateQuery.js';
import { num } from '../signals/sql.js';
import type { AggregateSource } from '../store/aggregates.js';
import { dimensionLabel } from '../store/contract.js';
import type { WindowBounds } from '../signals/types.js';
import { windowsFor } from '../signals/windows.js';
import { attribute } from './attribution.js';
import { estimateOnset } from './changepoint.js';
import { costParts, fingerprintParts, policyRuleParts, toolCallParts, type CostWindow, type KeyCounts } from './decompose.js';
import { quantityFor } from './quantity.js';
import { attributionQuery, examplesQuery, firstSeenQuery, hourlyQuery, keysQuery, totalsQuery, type KeyKind } from './sql.js';
import type { ExampleRun, Explanation, Quantity, ValueShare, WhatMoved } from './types.js';

export type ExplainQuery = (sql: string, params: Record<string, unknown>) => Promise<Record<string, unknown>[]>;

const DAY = 24 * 3_600_000;

/** How far back the onset is searched: twice the window, at least 14 days (a slow rule's change may predate it), at most 28. */
export function onsetRange(rule: Pick<Rule, 'windowMs'>, at: number): WindowBounds {
  const span = Math.min(28 * DAY, Math.max(14 * DAY, 2 * rule.windowMs));
  return { index: 0, startMs: at - span, endMs: at };
}

/** A value first seen later than this after the start of the lookback appeared within it. */
const APPEARED_AFTER_MS = DAY;

export interface ExplainTarget {
  readonly rule: Rule;
  /** The series' labels: the group's (group_by columns) and the key's (`tool`). */
  readonly labels: Readonly<Record<string, string>>;
  /** The signal's key: a tool, `__mix__`, or ''. */
  readonly key: string;
  readonly at: number;
  /**
   * Whether the rule's condition holds for the series (the daemon explains pending and firing series
   * only: true). Without it, a change is pinned on a value only when the hourly series shows a clear step.
   */
  readonly active?: boolean;
}

export interface ExplainOptions {
  /** Turns a trace id into a link (config `trace_url`). */
  readonly traceUrl?: ((traceId: string, runId: string) => string | null) | null;
  readonly examples?: number;
  /** Include the hourly values the onset was fitted on (Explanation.hourly), for a chart. */
  readonly hourly?: boolean;
  /**
   * The aggregate tables found ready in the store now (the daemon's lookup). With them, what moved
   * (the series' totals and keys per window) is read as an evaluation reads its sums, from the tiers
   * where they cover the rule; without them, from agent_runs.
   */
  readonly aggregates?: () => AggregateSource | null;
}

function keyKind(rule: Rule): KeyKind | null {
  switch (rule.signal) {
    case 'tool_calls_per_run':
      return 'tool';
    case 'output_schema_shift':
      return 'fingerprint';
    case 'policy_activation_rate':
      return 'denied_rule';
    default:
      return null;
  }
}

/** Totals columns whatMoved reads (totalsOf), summed over the baseline windows. */
const MOVED_TOTALS = ['runs', 'successes', 'token_cost', 'tool_cost', 'allows', 'denials', 'escalations', 'runs_activated', 'runs_denied'] as const;

/**
 * What moved, read like an evaluation's sums: the rule with its group pinned to the series' labels
 * and no grouping, through the aggregates where they cover it (signals/aggregateQuery.ts). The rows
 * come back in totalsQuery's and keysQuery's shape: window 0 the current one, 1 every baseline
 * window pooled.
 */
async function movedFromSums(query: ExplainQuery, table: string, rule: Rule, labels: Readonly<Record<string, string>>, windows: readonly WindowBounds[], kind: KeyKind | null, source: AggregateSource): Promise<[Record<string, unknown>[], Record<string, unknown>[]]> {
  const pinned = { where: { ...rule.where, ...Object.fromEntries(rule.groupBy.map((c) => [c, labels[dimensionLabel(c)] ?? ''])) }, groupBy: [] };
  const q = signalQueries(pinned, table, windows, source, kind === null ? [] : [kind]);
  const [totals, keyed] = await Promise.all([query(q.totals.sql, q.totals.params), q.keyed === null ? Promise.resolve([]) : query(q.keyed.sql, q.keyed.params)]);
  const pooled = [0, 1].map((w) => {
    const rows = totals.filter((r) => Math.min(1, num(r.w)) === w);
    return Object.fromEntries([['w', w], ...MOVED_TOTALS.map((c) => [c, rows.reduce((s, r) => s + num(r[c]), 0)])]);
  });
  return [pooled, keyed.map((r) => ({ w: Math.min(1, num(r.w)), key: r.key, count: r.value }))];
}

function keyCounts(rows: readonly Record<string, unknown>[]): Map<string, { current: number; baseline: number }> {
  const out = new Map<string, { current: number; baseline: number }>();
  for (const r of rows) {
    const k = String(r.key);
    const e = out.get(k) ?? { current: 0, baseline: 0 };
    if (num(r.w) === 0) e.current += num(r.count);
    else e.baseline += num(r.count);
    out.set(k, e);
  }
  return out;
}

interface Totals {
  runs: number;
  successes: number;
  tokenCost: number;
  toolCost: number;
  decisions: number;
  activations: number;
  runsActivated: number;
}

function totalsOf(rows: readonly Record<string, unknown>[], w: number, escalations: boolean): Totals {
  const r = rows.find((x) => num(x.w) === w);
  if (!r) return { runs: 0, successes: 0, tokenCost: 0, toolCost: 0, decisions: 0, activations: 0, runsActivated: 0 };
  return {
    runs: num(r.runs),
    successes: num(r.successes),
    tokenCost: num(r.token_cost),
    toolCost: num(r.tool_cost),
    decisions: num(r.allows) + num(r.denials) + num(r.escalations),
    activations: num(r.denials) + (escalations ? num(r.escalations) : 0),
    runsActivated: escalations ? num(r.runs_activated) : num(r.runs_denied),
  };
}

export function whatMoved(rule: Rule, totals: readonly Record<string, unknown>[], keys: KeyCounts): WhatMoved {
  const escalations = rule.options.escalations !== false;
  const cur = totalsOf(totals, 0, escalations);
  const base = totalsOf(totals, 1, escalations);
  switch (rule.signal) {
    case 'tool_calls_per_run':
      return toolCallParts(keys, { current: cur.runs, baseline: base.runs });
    case 'output_schema_shift':
      return fingerprintParts(keys, { current: cur.runs, baseline: base.runs });
    case 'policy_activation_rate': {
      const perRun = rule.options.per === 'run';
      const units = perRun ? { current: cur.runs, baseline: base.runs } : { current: cur.decisions, baseline: base.decisions };
      const acts = perRun ? { current: cur.runsActivated, baseline: base.runsActivated } : { current: cur.activations, baseline: base.activations };
      return policyRuleParts(keys, acts, units, perRun);
    }
    case 'cost_per_success': {
      const cw = (t: Totals): CostWindow => ({ runs: t.runs, successes: t.successes, tokenCost: t.tokenCost, toolCost: t.toolCost });
      return costParts(cw(cur), cw(base), rule.options.cost ?? 'total');
    }
    default:
      // The other signals' parts are their measurement's contributors (in the alert's evidence); the
      // explanation follows their quantity (quantity.ts) for the onset, the cause and the examples.
      return { kind: 'quantity', unit: rule.signal.replace(/_/g, ' '), baseline: null, current: null, change: null, parts: [] };
  }
}

function valueShares(rows: readonly Record<string, unknown>[], lookbackStart: number): ValueShare[] {
  return rows.map((r) => {
    const firstSeen = r.first_seen === null || r.first_seen === undefined ? null : num(r.first_seen);
    return {
      dimension: String(r.dim),
      value: String(r.value),
      explained: num(r.explained),
      currentShare: num(r.current_share),
      baselineShare: num(r.baseline_share),
      firstSeen,
      appeared: firstSeen !== null && firstSeen - lookbackStart > APPEARED_AFTER_MS,
    };
  });
}

const ratioOf = (x: number, n: number): number | null => (n > 0 ? x / n : null);

export async function explainSeries(query: ExplainQuery, table: string, target: ExplainTarget, o: ExplainOptions = {}): Promise<Explanation> {
  const { rule, labels, key, at } = target;
  const windows = windowsFor(rule.windowMs, rule.baseline, at);
  const kind = keyKind(rule);
  const source = o.aggregates?.() ?? null;
  let totalRows: Record<string, unknown>[];
  let keyRows: Record<string, unknown>[];
  // A label with a `*` would read as a glob in a rule's where (signals/sql.ts): such a group is pinned by agent_runs' equality instead.
  const pinnable = rule.groupBy.every((c) => !(labels[dimensionLabel(c)] ?? '').includes('*'));
  if (source !== null && pinnable) [totalRows, keyRows] = await movedFromSums(query, table, rule, labels, windows, kind, source);
  else {
    const totalsQ = totalsQuery(rule, labels, table, windows);
    const keysQ = kind === null ? null : keysQuery(kind, rule, labels, table, windows);
    [totalRows, keyRows] = await Promise.all([query(totalsQ.sql, totalsQ.params), keysQ ? query(keysQ.sql, keysQ.params) : Promise.resolve([])]);
  }
  const moved = whatMoved(rule, totalRows, keyCounts(keyRows));

  const spec = quantityFor(rule, key, moved);
  const base = {
    rule: rule.alert,
    signal: rule.signal,
    labels: { ...labels },
    key,
    at,
    windowStart: windows[0]!.startMs,
    moved,
  };
  if (spec === null) {
    return { ...base, quantity: { name: '', baseline: null, current: null }, onset: null, attribution: { causes: [], dimensions: [] }, examples: [] };
  }

  const lookback = { index: 0, startMs: Math.min(...windows.map((w) => w.startMs)), endMs: at };
  const range = onsetRange(rule, at);
  // The quantity's own values per window come with the attribution (Σ over one dimension's values).
  const probe: Quantity = { ...spec, carries: 'true' };
  const hq = hourlyQuery(rule, labels, table, probe, range);
  const aq = attributionQuery(rule, labels, table, probe, windows);
  const [hourRows, attrRows] = await Promise.all([query(hq.sql, hq.params), query(aq.sql, aq.params)]);

  const onset = estimateOnset(hourRows.map((r) => ({ t: num(r.t), x: num(r.x), n: num(r.n) })));
  let values = valueShares(attrRows, lookback.startMs);
  // First sightings of the values that may be causes, over the onset's range.
  const candidates = attribute(values, null).causes;
  const fq = firstSeenQuery(rule, labels, table, candidates, range);
  if (fq !== null) {
    const [row = {}] = await query(fq.sql, fq.params);
    const seen = new Map(candidates.map((c, i) => [`${c.dimension}\u0000${c.value}`, num(row[`c${i}`]) > 0 ? num(row[`f${i}`]) : null]));
    values = values.map((v) => {
      const k = `${v.dimension}\u0000${v.value}`;
      if (!seen.has(k)) return v;
      const firstSeen = seen.get(k) ?? null;
      return { ...v, firstSeen, appeared: firstSeen !== null && firstSeen - range.startMs > APPEARED_AFTER_MS };
    });
  }
  const attribution = attribute(values, onset?.at ?? null, target.active === true || onset !== null);

  // The quantity in each window, from any one dimension's values (they partition the rows).
  const oneDim = attrRows.filter((r) => r.dim === attrRows[0]?.dim);
  const sum = (f: string) => oneDim.reduce((s, r) => s + num(r[f]), 0);
  const current = ratioOf(sum('x1'), sum('n1'));
  const baseline = ratioOf(sum('x0'), sum('n0'));

  let examples: ExampleRun[] = [];
  if (current !== null && baseline !== null && current !== baseline) {
    const q: Quantity = { ...spec, params: { ...spec.params, r0: baseline }, carries: spec.carries(current > baseline) };
    const from = Math.max(windows[0]!.startMs, onset?.at ?? windows[0]!.startMs);
    const cause = attribution.causes[0] ?? null;
    const eq = examplesQuery(rule, labels, table, q, { index: 0, startMs: from, endMs: at }, cause, o.examples ?? 5);
    const rows = await query(eq.sql, eq.params);
    examples = rows.map((r) => {
      const traceId = String(r.trace_id);
      const runId = String(r.run_id);
      const url = o.traceUrl?.(traceId, runId) ?? null;
      return { runId, traceId, timestamp: num(r.ts_ms), value: num(r.x), ...(url ? { url } : {}) };
    });
  }
  const hourly = o.hourly ? { hourly: hourRows.map((r) => ({ t: num(r.t), value: ratioOf(num(r.x), num(r.n)), n: num(r.n) })) } : {};
  return { ...base, quantity: { name: spec.name, baseline, current }, onset, attribution, examples, ...hourly };
}
