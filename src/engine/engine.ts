/**
 * Evaluates rule groups and keeps the alert state: evaluation -> state machine -> transitions, which
 * are logged, handed to the notifier and persisted from this one place. Everything outside (the
 * query, the store, the clock, metrics, notifications) comes in through `EngineDeps`.
 */
import { applyEvaluation, applyQueryError, carryOver, newAlertStates, seriesOf, type AlertSeries, type AlertStates, type SeriesChange } from '../alerting/state.js';
import { fromSnapshot, toSnapshot, type StateStore } from '../alerting/store.js';
import { evaluateRule, type QueryFn, type RuleEvaluation } from './evaluate.js';
import type { Logger } from '../log.js';
import { renderTemplate } from '../rules/template.js';
import { formatPercentChange, humanize } from '../util/format.js';
import type { Rule, RuleGroup, RuleSet } from '../rules/types.js';
import type { SeriesEvaluation } from '../signals/index.js';

export interface TransitionEvent {
  readonly rule: Rule;
  readonly change: SeriesChange;
  /** The measurement behind the change; null when the query failed or the series vanished. */
  readonly series: SeriesEvaluation | null;
  readonly evaluation: RuleEvaluation;
}

export interface EngineDeps {
  readonly query: (sql: string, params: Record<string, unknown>, signal?: AbortSignal) => Promise<Record<string, unknown>[]>;
  /** Fully qualified agent_runs table. */
  readonly table: string;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly onEvaluation?: (ev: RuleEvaluation, states: AlertStates) => void;
  readonly onTransitions?: (events: readonly TransitionEvent[]) => void;
  /** Pending notification deliveries, persisted with the alert state. */
  readonly deliveries?: { snapshot(): unknown[]; restore(d: readonly unknown[]): void };
}

export interface GroupResult {
  readonly group: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly evaluations: readonly RuleEvaluation[];
}

export class Engine {
  private states: AlertStates = newAlertStates();
  /** Rules whose history was already replayed once (see warmStart). */
  private readonly warmed = new Set<string>();

  constructor(private readonly deps: EngineDeps) {}

  get alertStates(): ReadonlyMap<string, AlertSeries> {
    return this.states;
  }

  async restore(): Promise<void> {
    const snap = await this.deps.store.load();
    this.states = fromSnapshot(snap);
    this.deps.deliveries?.restore(snap.deliveries);
    // Restored series already carry their timers: no replay for their rules.
    for (const s of this.states.values()) this.warmed.add(s.alert);
    this.deps.logger.info({ series: this.states.size, deliveries: snap.deliveries.length }, 'alert state restored');
  }

  /** After a rule reload: drop the state of rules that no longer exist, keep the rest (Prometheus' CopyState). */
  adoptRuleSet(rules: RuleSet): string[] {
    const names = new Set(rules.groups.flatMap((g) => g.rules.map((r) => r.alert)));
    const dropped = carryOver(this.states, names);
    for (const a of [...this.warmed]) if (!names.has(a)) this.warmed.delete(a);
    return dropped;
  }

  async persist(): Promise<void> {
    await this.deps.store.save(toSnapshot(this.states, this.deps.deliveries?.snapshot() ?? [], this.deps.now()));
  }

  async evaluateGroup(group: RuleGroup, at: number, signal?: AbortSignal): Promise<GroupResult> {
    const started = this.deps.now();
    const evaluations: RuleEvaluation[] = [];
    let ok = true;
    for (const rule of group.rules) {
      if (signal?.aborted) {
        ok = false;
        break;
      }
      await this.warmStart(rule, at, signal);
      const ev = await this.evaluate(rule, at, signal);
      evaluations.push(ev);
      if (ev.error) ok = false;
      const changes = this.apply(rule, ev);
      this.deps.onEvaluation?.(ev, this.states);
      this.report(rule, ev, changes);
    }
    await this.persist().catch((err) => this.deps.logger.error({ err }, 'could not persist alert state'));
    return { group: group.name, ok, durationMs: this.deps.now() - started, evaluations };
  }

  /**
   * A rule with `for` and no state yet (first start, or a new rule) replays the evaluation at
   * `at - for` once, silently. The data are historical, so a drift that has held for days fires now
   * instead of waiting `for` after every fresh start; a condition that only just became true stays
   * pending, as it should.
   */
  private async warmStart(rule: Rule, at: number, signal?: AbortSignal): Promise<void> {
    if (this.warmed.has(rule.alert)) return;
    this.warmed.add(rule.alert);
    if (rule.forMs <= 0 || seriesOf(this.states, rule.alert).length > 0) return;
    const past = await this.evaluate(rule, at - rule.forMs, signal);
    if (past.error) return;
    this.apply(rule, past);
  }

  private evaluate(rule: Rule, at: number, signal?: AbortSignal): Promise<RuleEvaluation> {
    const query: QueryFn = (sql, params) => this.deps.query(sql, params, signal);
    return evaluateRule(query, this.deps.table, rule, at, this.deps.now);
  }

  private apply(rule: Rule, ev: RuleEvaluation): SeriesChange[] {
    if (ev.error) return applyQueryError(this.states, rule.alert, ev.error, ev.at, rule.forMs);
    const results = ev.series.map((s) => ({
      labels: s.labels,
      outcome: s.outcome,
      value: s.deviation,
      annotations: renderAnnotations(rule, s),
    }));
    return applyEvaluation(this.states, rule.alert, results, ev.at, rule.forMs);
  }

  private report(rule: Rule, ev: RuleEvaluation, changes: readonly SeriesChange[]): void {
    const log = this.deps.logger;
    if (ev.error) log.error({ rule: rule.alert, error: ev.error }, `rule ${rule.alert}: evaluation failed`);
    const bySeries = new Map(ev.series.map((s) => [JSON.stringify(s.labels), s]));
    const events = changes.map((change) => ({ rule, change, series: bySeries.get(JSON.stringify(change.labels)) ?? null, evaluation: ev }));
    for (const e of events) {
      const { transition } = e.change;
      const s = e.series;
      const where = Object.entries(e.change.labels).map(([k, v]) => `${k}=${v}`).join(' ');
      const moved = s ? `: ${humanize(s.current)} vs baseline ${humanize(s.baseline)} (${s.isNew ? 'new' : formatPercentChange(s.deviation)})` : '';
      const fields = { rule: rule.alert, signal: rule.signal, labels: e.change.labels, from: transition.from, to: transition.to, reason: transition.reason };
      const msg = `${rule.alert} ${transition.to} for ${where}${moved}`;
      if (transition.to === 'firing' || transition.to === 'error') log.warn(fields, msg);
      else log.info(fields, msg);
    }
    if (events.length > 0) this.deps.onTransitions?.(events);
  }
}

export function renderAnnotations(rule: Rule, s: SeriesEvaluation): Record<string, string> {
  const data = {
    labels: { ...rule.labels, ...s.labels },
    value: s.deviation,
    current: s.current,
    baseline: s.baseline,
    runs: s.currentRuns,
    baselineRuns: s.baselineRuns,
    pValue: s.pValue,
  };
  const out: Record<string, string> = {};
  for (const [k, tpl] of Object.entries(rule.annotations)) out[k] = renderTemplate(tpl, data);
  return out;
}
