/**
 * The rule manager. Owns the alert state of every series (the only copy: metrics, notifications,
 * /alerts and the state file read it from here) and the rule set it evaluates. One group evaluation:
 * evaluate each rule, step the state machine, log each transition, count through the record port,
 * and return the transitions. Saving and sending them is the caller's (daemon/stateManager.ts: save,
 * then send), so the commit order has one owner. Everything outside (query, clock, record, explain)
 * comes in through `EnginePorts`.
 */
import { ERR } from '../util/errors.js';
import { applyEvaluation, applyQueryError, carryOver, newAlertStates, seriesOf, type AlertSeries, type AlertStates, type SeriesChange } from '../alerting/state.js';
import { deserializeAlerts, serializeAlerts, type SerializedAlert } from '../alerting/serialize.js';
import type { Evidence } from '../alerting/types.js';
import { ruleFacts, type RuleFacts } from '../rules/facts.js';
import { renderTemplate } from '../rules/template.js';
import { formatPercentChange, humanize } from '../util/format.js';
import type { Rule, RuleGroup, RuleSet } from '../rules/types.js';
import { SIGNAL_IMPLS, windowsFor, type SumsReader } from '../signals/index.js';
import { evaluateRule } from './evaluate.js';
import { onSchedule, peersOf } from './scheduler.js';
import { abortReason, nextStart, rotated, type SkippedRule } from './skips.js';
import type { AlertStateView, EnginePorts, FiringAlert, GroupResult, Retirement, RuleEvaluation, SeriesEvaluation, SeriesExplanation, TransitionEvent } from './types.js';

export class Engine implements AlertStateView {
  private states: AlertStates = newAlertStates();
  private ruleIndex = new Map<string, Rule>();
  private adopted: RuleSet | null = null;
  /** Rules whose history was already replayed once (see warmStart). */
  private readonly warmed = new Set<string>();
  private lastOkAt: number | null = null;
  /** Per group: the index of the rule its next evaluation starts with (see skips.ts). */
  private readonly cursor = new Map<string, number>();
  /** Per group: the time of its latest evaluation (begun): a peer that evaluated a tick already is not due at it. */
  private readonly lastAt = new Map<string, number>();
  /** Per group: the groups of the adopted rule set on the same schedule, its own among them (peersOf). */
  private peerGroups = new Map<string, readonly RuleGroup[]>();
  /**
   * The facts of rules known only from the state file (restored series whose rule is not loaded):
   * what their resolution is sent with if the rule turns out to be gone.
   */
  private storedFacts = new Map<string, RuleFacts>();
  /** Removed rules whose series wait out a grace before they are resolved: alert -> when it ends. */
  private readonly departed = new Map<string, number>();

  constructor(private readonly ports: EnginePorts) {}

  get alertStates(): ReadonlyMap<string, AlertSeries> {
    return this.states;
  }

  get rules(): ReadonlyMap<string, Rule> {
    return this.ruleIndex;
  }

  /** The rule set adopted last (null before the first): the one copy; the daemon and readiness read it here. */
  get ruleSet(): RuleSet | null {
    return this.adopted;
  }

  /** Evaluation time of the last group evaluation in which every rule succeeded; null before one. */
  get lastSuccessAt(): number | null {
    return this.lastOkAt;
  }

  /** The engine's section of the state file, each series with the facts of its rule. */
  snapshot(): SerializedAlert[] {
    return serializeAlerts(this.states, (alert) => this.factsOf(alert));
  }

  private factsOf(alert: string): RuleFacts | undefined {
    const rule = this.ruleIndex.get(alert);
    return rule !== undefined ? ruleFacts(rule) : this.storedFacts.get(alert);
  }

  /** Takes the alert state of a previous run (before the first evaluation). */
  restore(alerts: readonly SerializedAlert[]): void {
    this.states = deserializeAlerts(alerts);
    this.storedFacts = new Map(alerts.flatMap((a) => (a.rule !== undefined ? [[a.alert, a.rule] as const] : [])));
    // Restored series already carry their timers: no replay for their rules.
    for (const s of this.states.values()) this.warmed.add(s.alert);
    this.ports.logger.info({ series: this.states.size }, 'alert state restored');
  }

  /**
   * Starts evaluating `rules`. The state of rules that still exist is kept (Prometheus' CopyState);
   * the state of removed (or renamed) rules is dropped. A firing series of a removed rule is first
   * resolved, with the reason, to every receiver that heard it fire: without that, receivers would
   * show it firing forever. Its pending and resolved series just go. `at` is the time of the
   * resolution; without it (a backtest, which never removes rules) nothing is sent.
   *
   * With `graceMs`, a removed rule's series are kept, unevaluated and unexported, for that long
   * before they are resolved and dropped (retireDeparted): a rule file caught half-written by a
   * reload loses rules that the next reload brings back, and a rule that returns in time carries on
   * with its state (start time, frozen baseline) as if it had never left, with nothing sent.
   * Returns the dropped series ids and the resolutions to send (the caller commits them).
   */
  adoptRuleSet(rules: RuleSet, at: number | null = null, graceMs = 0): Retirement {
    this.adopted = rules;
    this.peerGroups = peersOf(rules);
    const before = this.ruleIndex;
    this.ruleIndex = new Map(rules.groups.flatMap((g) => g.rules.map((r) => [r.alert, r] as const)));
    for (const alert of this.ruleIndex.keys()) this.departed.delete(alert);
    if (at !== null && graceMs > 0) {
      for (const [alert, rule] of before) {
        if (this.ruleIndex.has(alert) || this.departed.has(alert)) continue;
        this.departed.set(alert, at + graceMs);
        // What its resolution is sent with, and what the state file says of it meanwhile.
        this.storedFacts.set(alert, ruleFacts(rule));
      }
    }
    for (const a of [...this.storedFacts.keys()]) if (this.ruleIndex.has(a)) this.storedFacts.delete(a);
    return this.dropRemoved(before, at);
  }

  /** When the earliest departed rule's grace ends (retireDeparted is due); null when none waits. */
  get nextDepartureAt(): number | null {
    let next: number | null = null;
    for (const due of this.departed.values()) if (next === null || due < next) next = due;
    return next;
  }

  /** Resolves and drops the series of removed rules whose grace has ended by `at` (the caller commits the resolutions). */
  retireDeparted(at: number): Retirement {
    return this.dropRemoved(this.ruleIndex, at);
  }

  private dropRemoved(before: ReadonlyMap<string, Rule>, at: number | null): Retirement {
    const keep = new Set(this.ruleIndex.keys());
    for (const [alert, due] of this.departed) {
      if (at !== null && due > at) keep.add(alert);
      else this.departed.delete(alert);
    }
    const retired = at === null ? [] : this.retireRemoved(keep, before, at);
    const dropped = carryOver(this.states, keep);
    for (const a of [...this.warmed]) if (!keep.has(a)) this.warmed.delete(a);
    for (const a of [...this.storedFacts.keys()]) if (!keep.has(a)) this.storedFacts.delete(a);
    return { dropped, retired };
  }

  /** Resolution events for the firing series of rules not in `names`, with their old rule's facts. */
  private retireRemoved(names: ReadonlySet<string>, before: ReadonlyMap<string, Rule>, at: number): TransitionEvent[] {
    const events: TransitionEvent[] = [];
    for (const s of this.states.values()) {
      if (names.has(s.alert) || s.record.state !== 'firing') continue;
      const old = before.get(s.alert);
      const rule: Rule | RuleFacts | undefined = old ?? this.storedFacts.get(s.alert);
      if (rule === undefined) {
        // A state file from before version 3 holds no rule facts: the labels it fired with are unknown.
        this.ports.logger.warn({ rule: s.alert, labels: s.labels }, `firing series of ${s.alert}, a rule no longer in the rule files, dropped without a resolved notification: the state file does not say which labels it fired with`);
        continue;
      }
      const transition = { from: 'firing' as const, to: 'resolved' as const, at, reason: REMOVED_RULE_REASON };
      const series: AlertSeries = {
        ...s,
        record: { ...s.record, state: 'resolved', resolvedAt: at, keepFiringSince: null },
        annotations: { ...(s.annotations ?? {}), resolved_reason: REMOVED_RULE_REASON },
      };
      this.ports.logger.info({ rule: s.alert, labels: s.labels, from: 'firing', to: 'resolved', reason: REMOVED_RULE_REASON }, `${s.alert} resolved for ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(' ')}: ${REMOVED_RULE_REASON}`);
      events.push({ rule, series, transition });
    }
    return events;
  }

  /**
   * An operator accepts the current value of the firing series of `alert` whose labels include every
   * `match` label as the new normal: each is resolved now (the notification says why), and compared
   * with the accepted value until the live baseline holds only data from after the acceptance. A
   * later move away from the new normal fires again. Returns what was accepted.
   */
  async accept(alert: string, match: Readonly<Record<string, string>>, reason: string, at: number): Promise<TransitionEvent[]> {
    const rule = this.ruleIndex.get(alert);
    if (rule === undefined) throw new UnknownRuleError(`no rule named ${JSON.stringify(alert)} is loaded`);
    const events: TransitionEvent[] = [];
    for (const s of seriesOf(this.states, alert)) {
      if (s.record.state !== 'firing' || !Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
      const value = s.evidence?.current;
      if (value === null || value === undefined) continue;
      const transition = { from: 'firing' as const, to: 'resolved' as const, at, reason: `accepted as the new normal: ${reason}` };
      const { frozenBaseline: _unfrozen, ...rest } = s;
      const series: AlertSeries = {
        ...rest,
        record: { ...s.record, state: 'resolved', resolvedAt: at, keepFiringSince: null },
        annotations: { ...(s.annotations ?? {}), accepted: `${reason} (accepted ${new Date(at).toISOString()})` },
        accepted: { at, reason, baseline: value, until: at + lookback(rule, at) },
      };
      this.states.set(s.id, series);
      events.push({ rule, series, transition });
    }
    this.report(rule, null, events);
    return events;
  }

  /** Every series firing now, with its rule. */
  firing(): FiringAlert[] {
    const out: FiringAlert[] = [];
    for (const series of this.states.values()) {
      const rule = this.ruleIndex.get(series.alert);
      if (rule !== undefined && series.record.state === 'firing') out.push({ rule, series });
    }
    return out;
  }

  /**
   * Evaluates the rules of `group` at `at`, one after another, starting where the previous
   * evaluation of the group could not go on (see skips.ts). When `signal` aborts (the group's
   * timeout, a shutdown), the rule whose queries were cut and every rule after it are reported as
   * skipped with the reason, not as failed: an aborted query says nothing about ClickHouse or the data.
   */
  async evaluateGroup(group: RuleGroup, at: number, signal?: AbortSignal): Promise<GroupResult> {
    const { clock } = this.ports;
    const started = clock.now();
    const evaluations: RuleEvaluation[] = [];
    const transitions: TransitionEvent[] = [];
    const skipped: SkippedRule[] = [];
    const start = this.cursor.get(group.name) ?? 0;
    const order = rotated(group.rules, start);
    // One scope of reads: rules of the group that need the same sums at the same time share them,
    // and groups on the same schedule share their reads at this tick (signals/sharedReads.ts).
    const peers = (onSchedule(group, at) ? (this.peerGroups.get(group.name) ?? [group]) : [group]).map((g) => ({ rules: g.rules, due: g.name === group.name || this.lastAt.get(g.name) !== at }));
    this.lastAt.set(group.name, at);
    const sums = this.ports.sums.reader(signal, group.rules, { at, groups: peers });
    // A cold start's `for` replays and the evaluations after them: fetched together where the reader can.
    const replays = order.filter((r) => this.needsWarmStart(r));
    if (replays.length > 0) sums.prefetch?.([...replays.map((rule) => ({ rule, at: at - rule.forMs })), ...order.map((rule) => ({ rule, at }))]);
    for (let i = 0; i < order.length; i++) {
      const rule = order[i]!;
      if (!signal?.aborted) {
        const warmed = await this.warmStart(rule, at, signal, sums);
        const ev = await this.evaluate(rule, at, signal, sums);
        if (signal?.aborted && ev.error && warmed) this.undoWarmStart(rule);
        if (!(signal?.aborted && ev.error)) {
          evaluations.push(ev);
          const changes = this.apply(rule, ev);
          // Counted with the state change, before anything else is awaited: /alerts and the
          // counters agree on what was evaluated.
          this.ports.record?.rule(ev);
          // Pending and firing series get their explanation (and example runs) before the
          // transitions go out, so a firing notification carries them.
          await this.explain(rule, at, signal);
          const events = changes.map((c) => this.event(rule, c));
          this.report(rule, ev, events);
          transitions.push(...events);
          continue;
        }
      }
      const reason = abortReason(signal!);
      for (const r of order.slice(i)) skipped.push({ rule: r.alert, reason });
      break;
    }
    this.cursor.set(group.name, nextStart(group.rules, start, evaluations.length));
    const ok = skipped.length === 0 && evaluations.every((e) => !e.error);
    if (ok) this.lastOkAt = at;
    const result: GroupResult = { group: group.name, at, ok, durationMs: clock.now() - started, evaluations, skipped, ruleCount: group.rules.length, transitions };
    this.ports.record?.group(result);
    return result;
  }

  /**
   * A rule with `for` and no state yet (first start, or a new rule) replays the evaluation at
   * `at - for` once, silently. The data are historical, so a drift that has held for days fires now
   * instead of waiting `for` after every fresh start; a condition that only just became true stays
   * pending, as it should.
   */
  private async warmStart(rule: Rule, at: number, signal: AbortSignal | undefined, sums: SumsReader): Promise<boolean> {
    const needed = this.needsWarmStart(rule);
    this.warmed.add(rule.alert);
    if (!needed) return false;
    const past = await this.evaluate(rule, at - rule.forMs, signal, sums);
    if (past.error) return false;
    this.apply(rule, past);
    return true;
  }

  private needsWarmStart(rule: Rule): boolean {
    return !this.warmed.has(rule.alert) && rule.forMs > 0 && seriesOf(this.states, rule.alert).length === 0;
  }

  /**
   * The evaluation after a warm start was cut (timeout, shutdown): the rule counts as skipped, so
   * the series the replay created go too (the rule had none before it) and the next evaluation
   * replays again. Otherwise /alerts would show the rule as evaluated while the counters say skipped.
   */
  private undoWarmStart(rule: Rule): void {
    for (const s of seriesOf(this.states, rule.alert)) this.states.delete(s.id);
    this.warmed.delete(rule.alert);
  }

  private async evaluate(rule: Rule, at: number, signal: AbortSignal | undefined, sums: SumsReader): Promise<RuleEvaluation> {
    const frozen = new Map<string, number>();
    const holding = new Set<string>();
    for (const s of seriesOf(this.states, rule.alert)) {
      if (s.record.state === 'firing') holding.add(s.id);
      if (s.record.state === 'firing' && s.frozenBaseline !== undefined) frozen.set(s.id, s.frozenBaseline);
      else if (s.accepted !== undefined && s.accepted.until > at) frozen.set(s.id, s.accepted.baseline);
    }
    try {
      return await evaluateRule(sums, rule, at, () => this.ports.clock.now(), signal, frozen, holding);
    } catch (err) {
      // Not a ClickHouse failure (those are outcomes): a bug. Said as one, then the group stops.
      this.ports.logger.error({ err, rule: rule.alert }, `rule ${rule.alert}: evaluation failed with an unexpected error (a bug in agentdrift, not a ClickHouse problem)`);
      throw err;
    }
  }

  /**
   * The explain port's explanations of the rule's pending and firing series go into their evidence
   * (summary and example runs), before transitions are handed out, so a firing notification carries
   * them. A failing port is logged; the alert goes out as measured.
   */
  private async explain(rule: Rule, at: number, signal?: AbortSignal): Promise<void> {
    if (!this.ports.explain) return;
    const series = seriesOf(this.states, rule.alert).filter((s) => s.record.state === 'pending' || s.record.state === 'firing');
    if (series.length === 0) return;
    let found: ReadonlyMap<string, SeriesExplanation>;
    try {
      found = await this.ports.explain(rule, series, at, signal);
    } catch (err) {
      this.ports.logger.warn({ err, rule: rule.alert }, `rule ${rule.alert}: explaining its alerts failed`);
      return;
    }
    for (const s of series) {
      const x = found.get(s.id);
      if (x === undefined || s.evidence === undefined) continue;
      this.states.set(s.id, { ...s, evidence: { ...s.evidence, exampleRunIds: x.exampleRunIds, explanation: x.summary } });
    }
  }

  private apply(rule: Rule, ev: RuleEvaluation): SeriesChange[] {
    return applyRuleEvaluation(this.states, rule, ev);
  }

  private event(rule: Rule, change: SeriesChange): TransitionEvent {
    return { rule, series: this.states.get(change.key)!, transition: change.transition };
  }

  /** Every transition is logged here, once: warn for firing and error, info for the rest. */
  private report(rule: Rule, ev: RuleEvaluation | null, events: readonly TransitionEvent[]): void {
    const log = this.ports.logger;
    if (ev?.error) log.error({ rule: rule.alert, error: ev.error }, `rule ${rule.alert}: evaluation failed`);
    for (const { series, transition } of events) {
      const where = Object.entries(series.labels).map(([k, v]) => `${k}=${v}`).join(' ');
      const e = series.measured ? series.evidence : undefined;
      const moved = e === undefined ? '' : rule.absolute
        ? `: ${humanize(e.current)} (limit: ${rule.absolute.bound} ${humanize(rule.absolute.value)})`
        : SIGNAL_IMPLS[rule.signal].effectSize(series.key, rule)
        ? `: distance ${humanize(e.current)} (threshold ${humanize(rule.threshold)})`
        : `: ${humanize(e.current)} vs baseline ${humanize(e.baseline)} (${e.isNew ? 'new' : formatPercentChange(e.deviation)})`;
      const fields = { rule: rule.alert, signal: rule.signal, labels: series.labels, from: transition.from, to: transition.to, reason: transition.reason };
      const msg = `${rule.alert} ${transition.to} for ${where}${moved}`;
      if (transition.to === 'firing' || transition.to === 'error') log.warn(fields, msg);
      else log.info(fields, msg);
    }
  }
}

/**
 * Steps the state of every series of `rule` by one evaluation (pure apart from updating `states`):
 * a failed query puts every known series in error; otherwise each measured series is stepped by its
 * verdict and keeps its annotations and evidence, and series the evaluation no longer lists go to
 * no data.
 */
export function applyRuleEvaluation(states: AlertStates, rule: Rule, ev: RuleEvaluation): SeriesChange[] {
  const opts = { keepFiringForMs: rule.keepFiringForMs ?? 0 };
  if (ev.error) return applyQueryError(states, rule.alert, ev.error, ev.at, rule.forMs, opts);
  const effectSize = SIGNAL_IMPLS[rule.signal].effectSize;
  const results = ev.series.map((s) => ({
    labels: s.labels,
    key: s.key,
    outcome: s.outcome,
    annotations: renderAnnotations(rule, s),
    evidence: evidenceOf(s),
    freezable: !effectSize(s.key, rule),
  }));
  return applyEvaluation(states, rule.alert, results, ev.at, rule.forMs, opts);
}

/** Why a series of a rule that was removed or renamed resolves (the notification's `resolved_reason`). */
export const REMOVED_RULE_REASON = 'rule removed from the rule files';

export class UnknownRuleError extends Error {
  override readonly name = 'UnknownRuleError';
  readonly errorCode = ERR.UNKNOWN_RULE;
}

/** How far back an evaluation at `at` reads: from the start of its earliest window (current or baseline). */
function lookback(rule: Rule, at: number): number {
  return at - Math.min(...windowsFor(rule.windowMs, rule.baseline, at).map((w) => w.startMs));
}

function evidenceOf(s: SeriesEvaluation): Evidence {
  return {
    current: s.current,
    baseline: s.baseline,
    deviation: s.deviation,
    isNew: s.isNew,
    currentRuns: s.currentRuns,
    baselineRuns: s.baselineRuns,
    contributors: s.contributors,
    exampleRunIds: s.exampleRunIds,
    pValue: s.pValue,
  };
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
