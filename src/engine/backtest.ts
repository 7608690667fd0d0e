/**
 * `agentdrift backtest`: replays rules over history with the daemon's own engine and state machine,
 * on the daemon's own schedule (scheduleTimes: the group's interval grid or cron), without sending
 * anything. So `for`, `keep_firing_for`, warm start and Holm correction behave exactly as a daemon
 * started at `from` would have behaved; the transitions each evaluation returns are recorded instead of
 * being saved and sent.
 */
import { silentLogger, type Logger } from '../log.js';
import type { Rule, RuleGroup, RuleSet } from '../rules/types.js';
import { ManualClock } from '../util/clock.js';
import { formatP, humanize } from '../util/format.js';
import type { AggregateSource } from '../signals/index.js';
import { BACKTEST_BATCH, BatchedSums } from '../signals/batchedSums.js';
import { StoreSums } from '../signals/sums.js';
import { Engine } from './engine.js';
import { scheduleTimes } from './scheduler.js';
import { FINEST_TIER } from '../store/aggregates.js';
import type { QueryPort, TransitionEvent } from './types.js';

const WEEK_MS = 7 * 86_400_000;

export interface BacktestOptions {
  readonly query: QueryPort;
  /** Fully qualified agent_runs table. */
  readonly table: string;
  /** The store's aggregate tables, if ready. */
  readonly aggregates?: AggregateSource | null;
  readonly rules: RuleSet;
  readonly fromMs: number;
  readonly toMs: number;
  /** Evaluate every `stepMs` instead of on each group's own schedule (from `from` on the step grid: stepTimes). */
  readonly stepMs?: number;
  /**
   * With `stepMs`: start at `from` rounded up to a whole 5 minutes (default), or at `from` exactly
   * (false; what the bench measures as the worst case).
   */
  readonly alignStep?: boolean;
  readonly logger?: Logger;
  /** Called after each group evaluation with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Evaluation times per query (signals/batchedSums.ts; default 24); 1 runs each evaluation's own queries. */
  readonly batchSize?: number;
}

export interface BacktestTransition {
  readonly at: string;
  readonly rule: string;
  readonly signal: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly current: number | null;
  readonly baseline: number | null;
  readonly deviation: number | null;
  readonly p_value: number | null;
}

export interface BacktestRuleSummary {
  readonly rule: string;
  readonly signal: string;
  /** Transitions to firing. */
  readonly alerts: number;
  /** Time spent firing within [from, to], summed over series. */
  readonly firing_hours: number;
  readonly alerts_per_week: number;
}

export interface BacktestResult {
  readonly from: string;
  readonly to: string;
  readonly evaluations: number;
  readonly transitions: BacktestTransition[];
  readonly summary: BacktestRuleSummary[];
}

/** Every (time, group) evaluation of the replay, in time order (groups in file order at equal times). */
export function backtestPlan(rules: RuleSet, fromMs: number, toMs: number, stepMs?: number, alignStep = true): { at: number; group: RuleGroup }[] {
  const plan: { at: number; group: RuleGroup; order: number }[] = [];
  rules.groups.forEach((group, order) => {
    const times = stepMs === undefined ? scheduleTimes(group, fromMs, toMs) : stepTimes(fromMs, toMs, stepMs, alignStep);
    for (const at of times) plan.push({ at, group, order });
  });
  return plan.sort((a, b) => a.at - b.at || a.order - b.order).map(({ at, group }) => ({ at, group }));
}

/**
 * Every `stepMs` from `from`, first rounded up to a whole 5 minutes (the aggregates' finest bucket:
 * FINEST_TIER) unless `align` is false. A stepped replay samples history, and on that grid every
 * window ends on a bucket boundary, so it is answered from the aggregate tables alone: off the grid,
 * each evaluation re-reads the runs of the ragged minutes at each window edge from agent_runs, which
 * on a large store is most of a backtest's time (on and off the grid: docs/benchmarks.md). A replay
 * on the groups' own schedule (no step) keeps the daemon's times exactly: its first evaluation where a
 * daemon started at `from` makes its start run (startRunAt), then its ticks (on that grid where the
 * interval allows: tickOffset).
 */
function* stepTimes(fromMs: number, toMs: number, stepMs: number, align: boolean): Generator<number> {
  if (!(stepMs > 0)) throw new RangeError(`step must be a positive duration, got ${stepMs} ms`);
  const first = align ? Math.ceil(fromMs / FINEST_TIER.ms) * FINEST_TIER.ms : fromMs;
  for (let at = first; at <= toMs; at += stepMs) yield at;
}

export async function backtest(o: BacktestOptions): Promise<BacktestResult> {
  if (!(o.toMs > o.fromMs)) throw new RangeError('backtest: --to must be after --from');
  const clock = new ManualClock(o.fromMs);
  const events: TransitionEvent[] = [];
  const plan = backtestPlan(o.rules, o.fromMs, o.toMs, o.stepMs, o.alignStep ?? true);
  const source = o.aggregates ?? null;
  const sums =
    (o.batchSize ?? BACKTEST_BATCH) > 1
      ? new BatchedSums({ query: o.query, table: o.table, source, plan, batchSize: o.batchSize })
      : new StoreSums({ query: o.query, table: o.table, aggregates: () => source });
  const engine = new Engine({ sums, clock, logger: o.logger ?? silentLogger });
  engine.adoptRuleSet(o.rules);
  for (const [i, { at, group }] of plan.entries()) {
    await clock.advance(at - clock.now());
    const result = await engine.evaluateGroup(group, at);
    events.push(...result.transitions);
    o.onProgress?.(i + 1, plan.length);
  }
  const transitions = events.map(toRow);
  return { from: iso(o.fromMs), to: iso(o.toMs), evaluations: plan.length, transitions, summary: summarize(o.rules, events, o.fromMs, o.toMs) };
}

function toRow(e: TransitionEvent): BacktestTransition {
  const ev = e.series.measured ? e.series.evidence : undefined;
  return {
    at: iso(e.transition.at),
    rule: e.rule.alert,
    signal: e.rule.signal,
    labels: e.series.labels,
    from: e.transition.from,
    to: e.transition.to,
    reason: e.transition.reason,
    current: ev?.current ?? null,
    baseline: ev?.baseline ?? null,
    deviation: ev?.deviation ?? null,
    p_value: ev?.pValue ?? null,
  };
}

function summarize(rules: RuleSet, events: readonly TransitionEvent[], fromMs: number, toMs: number): BacktestRuleSummary[] {
  const all: Rule[] = rules.groups.flatMap((g) => g.rules);
  const weeks = (toMs - fromMs) / WEEK_MS;
  return all.map((rule) => {
    const mine = events.filter((e) => e.rule.alert === rule.alert);
    let alerts = 0;
    let firingMs = 0;
    const since = new Map<string, number>();
    for (const e of mine) {
      const { from, to, at } = e.transition;
      if (to === 'firing') {
        alerts++;
        since.set(e.series.id, at);
      } else if (from === 'firing') {
        firingMs += at - (since.get(e.series.id) ?? fromMs);
        since.delete(e.series.id);
      }
    }
    for (const t of since.values()) firingMs += toMs - t;
    return { rule: rule.alert, signal: rule.signal, alerts, firing_hours: round(firingMs / 3_600_000, 2), alerts_per_week: round(weeks > 0 ? alerts / weeks : 0, 3) };
  });
}

const iso = (t: number) => new Date(t).toISOString();
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The text form: one line per transition, then one line per rule. */
export function formatBacktest(r: BacktestResult): string {
  const lines = [`backtest ${r.from} .. ${r.to}: ${r.evaluations} group evaluations, ${r.transitions.length} transitions`, ''];
  for (const t of r.transitions) {
    const where = Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',');
    const nums = t.deviation === null ? '' : `  value=${humanize(t.current)} baseline=${humanize(t.baseline)} deviation=${humanize(t.deviation)} p=${formatP(t.p_value)}`;
    lines.push(`${t.at}  ${t.rule}{${where}}  ${t.from} -> ${t.to}${nums}`);
  }
  lines.push('', 'RULE  SIGNAL  ALERTS  FIRING_HOURS  ALERTS_PER_WEEK');
  for (const s of r.summary) lines.push(`${s.rule}  ${s.signal}  ${s.alerts}  ${s.firing_hours}  ${s.alerts_per_week}`);
  return lines.join('\n');
}
