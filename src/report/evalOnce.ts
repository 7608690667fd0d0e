/** `agentdrift eval --once`: every rule evaluated once as of a time, one result per rule, group and key. */
import { seriesId } from '../alerting/types.js';
import type { AggregateSource } from '../signals/index.js';
import type { ClickHouse } from '../clickhouse/client.js';
import { StoreSums } from '../signals/sums.js';
import { Engine } from '../engine/engine.js';
import { SeriesExplainer } from '../explain/enrich.js';
import type { ExplanationSummary } from '../alerting/types.js';
import { silentLogger } from '../log.js';
import type { RuleSet } from '../rules/types.js';
import { systemClock } from '../util/clock.js';
import { formatP, humanize } from '../util/format.js';
import { deviationKindOf, formatDeviation, hiddenLine, type DeviationKind } from './evalView.js';

export interface EvalRow {
  readonly rule: string;
  readonly signal: string;
  readonly labels: Record<string, string>;
  readonly key: string;
  /** The signal's value now; for a distance (deviation_kind other than relative), the distance itself. */
  readonly current: number | null;
  /** The baseline's value; null for a distance, which compares the windows and has no baseline value. */
  readonly baseline: number | null;
  readonly deviation: number | null;
  /** What `deviation` is: a relative change, a Jensen-Shannon distance or an unseen share (evalView.ts). */
  readonly deviation_kind: DeviationKind;
  readonly is_new: boolean;
  readonly current_runs: number;
  readonly baseline_runs: number;
  readonly p_value: number | null;
  readonly state: string;
  readonly example_run_ids: readonly string[];
  /** Pending and firing series: since when, what moved, which change caused it, runs that show it. */
  readonly explanation: ExplanationSummary | null;
  readonly error: string | null;
}

/**
 * Runs like a daemon's first evaluation with no stored state: a rule with `for` replays `at - for`
 * first (see Engine.warmStart), so the state shown is the one a daemon started at `at` would reach.
 */
export async function evalOnce(
  ch: ClickHouse,
  table: string,
  rules: RuleSet,
  at: number,
  aggregates: AggregateSource | null = null,
  /**
   * Explain pending and firing series as the daemon does (`agentdrift eval` does; off by default, so
   * callers that time evaluations, like the benchmark, time the evaluation alone).
   */
  explain: { readonly traceUrl?: ((traceId: string, runId: string) => string | null) | null } | false = false,
): Promise<EvalRow[]> {
  const query = (sql: string, params: Record<string, unknown>) => ch.query(sql, params);
  const explainer = explain === false ? null : new SeriesExplainer({ query, table, logger: silentLogger, traceUrl: explain.traceUrl ?? null, aggregates: () => aggregates });
  // No notify, record or persist port: an evaluation that changes nothing outside.
  const engine = new Engine({ sums: new StoreSums({ query, table, aggregates: () => aggregates }), clock: systemClock, logger: silentLogger, ...(explainer ? { explain: explainer.port } : {}) });
  engine.adoptRuleSet(rules);
  const rows: EvalRow[] = [];
  for (const group of rules.groups) {
    const result = await engine.evaluateGroup(group, at);
    for (const ev of result.evaluations) {
      if (ev.error) {
        rows.push({
          rule: ev.rule.alert, signal: ev.rule.signal, labels: {}, key: '', current: null, baseline: null, deviation: null, deviation_kind: deviationKindOf(ev.rule, ''), is_new: false,
          current_runs: 0, baseline_runs: 0, p_value: null, state: 'error', example_run_ids: [], explanation: null, error: ev.error,
        });
        continue;
      }
      for (const s of ev.series) {
        const st = engine.alertStates.get(seriesId(ev.rule.alert, s.labels));
        const kind = deviationKindOf(ev.rule, s.key);
        rows.push({
          rule: s.rule,
          signal: s.signal,
          labels: { ...s.labels },
          key: s.key,
          current: s.current,
          baseline: kind === 'relative' ? s.baseline : null,
          deviation: s.deviation,
          deviation_kind: kind,
          is_new: kind === 'relative' && s.isNew,
          current_runs: s.currentRuns,
          baseline_runs: s.baselineRuns,
          p_value: s.pValue,
          state: st?.record.state ?? 'inactive',
          example_run_ids: st?.evidence?.exampleRunIds ?? s.exampleRunIds,
          explanation: st?.evidence?.explanation ?? null,
          error: null,
        });
      }
    }
  }
  return rows;
}

/**
 * The table of `agentdrift eval`: the rows as given (the command sorts and selects them), a line saying
 * how many series were left out, then each explained series' explanation. A distance shows in DEVIATION
 * only ("JSD 0.41"): it has no current and baseline value of its own.
 */
export function formatEvalTable(rows: readonly EvalRow[], hidden: Readonly<Record<string, number>> = {}): string {
  const header = ['RULE', 'GROUP', 'KEY', 'CURRENT', 'BASELINE', 'DEVIATION', 'RUNS', 'P', 'STATE'];
  const body = rows.map((r) => [
    r.rule,
    Object.entries(r.labels).filter(([k, v]) => k !== 'tool' && !(r.key !== '' && v === r.key)).map(([k, v]) => `${k}=${v}`).join(',') || '-',
    r.key || '-',
    r.deviation_kind === 'relative' ? humanize(r.current) : '-',
    r.deviation_kind === 'relative' ? humanize(r.baseline) : '-',
    formatDeviation(r.deviation_kind, r.deviation, r.is_new),
    `${r.current_runs}/${r.baseline_runs}`,
    formatP(r.p_value),
    r.error ? `error: ${r.error}` : r.state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const explained = rows.filter((r) => r.explanation !== null);
  const notes = explained.flatMap((r) => {
    const x = r.explanation!;
    const where = Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' ');
    return [
      '',
      `${r.rule} ${where} (${r.state})`,
      ...(x.onset ? [`  since: ${x.onset}`] : []),
      ...(x.moved ? [`  moved: ${x.moved}`] : []),
      ...(x.cause ? [`  cause: ${x.cause}`] : []),
      ...(x.examples.length > 0 ? [`  runs:  ${x.examples.map((e) => e.url ?? e.runId).join(', ')}`] : []),
    ];
  });
  const more = hiddenLine(hidden);
  const table = rows.length === 0 ? ['no series in the states asked for'] : [line(header), ...body.map(line)];
  return [...table, ...(more ? [more] : []), ...notes].join('\n');
}
