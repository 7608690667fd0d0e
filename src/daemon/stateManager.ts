/**
 * The one owner of the commit order, in the spirit of Grafana's state.Manager (ProcessEvalResults:
 * update, persist, then send). Every step that changes alert state goes through here: a group
 * evaluation, an operator's accept, a rule set adopted, a removed rule's grace ending. Each is
 *
 *   1. applied: the engine steps its series and returns the transitions it made;
 *   2. handed over, held: the notifications go to the Dispatcher, which may not send them yet;
 *   3. saved: the state file is written with both sections (coalesced: a save asked for while one is
 *      written is done once, right after it, with the state as it is then);
 *   4. released: the held sends may leave.
 *
 * So a transition a receiver hears of is always in the state file first: a crash never re-derives it,
 * with another start time, from an older file. A failed save still releases the sends (alerts go out;
 * /readyz and agentdrift_state_persist_failures_total say the state is not being saved).
 *
 * It is also the one owner of what the daemon says about its store (`agentdrift_clickhouse_up`: from
 * evaluations and pings alike) and the one place the current rule set is read from (the engine's
 * adopted set; the daemon and readiness ask here).
 */
import type { Engine } from '../engine/engine.js';
import type { GroupResult, NotifyPort, Retirement, TransitionEvent } from '../engine/types.js';
import type { Logger } from '../log.js';
import type { Dispatcher } from '../notify/dispatcher.js';
import type { RuleGroup, RuleSet } from '../rules/types.js';
import { coalesce } from '../util/coalesce.js';
import type { RestoredState, StateSections } from '../persist/durableState.js';

export interface StateManagerParts {
  readonly engine: Engine;
  readonly dispatcher: Pick<Dispatcher, 'hold' | 'snapshot' | 'restore'>;
  /** Hands an update's notifications to the dispatcher (notify/fromAlerts.ts). */
  readonly notify: NotifyPort;
  /** Writes the state file from the two sections (DurableState.save). */
  readonly save: (sections: StateSections) => Promise<void>;
  /** Where `agentdrift_clickhouse_up` goes (the metrics). */
  readonly clickhouseUp: (up: boolean) => void;
  readonly logger: Logger;
}

export class StateManager {
  /** Releases of the holds taken since the last save started: freed when the save that covers them ends. */
  private holds: (() => void)[] = [];
  /** Saves the whole state; coalesced (see the header). Resolves when the save that covers the caller's state ends. */
  readonly save: () => Promise<void>;

  constructor(private readonly parts: StateManagerParts) {
    this.save = coalesce(async () => {
      const mine = this.holds;
      this.holds = [];
      try {
        await parts.save({ alerts: parts.engine.snapshot(), notifications: parts.dispatcher.snapshot() });
      } finally {
        for (const release of mine) release();
      }
    });
  }

  /** The rule set being evaluated (null before the first): the engine's adopted set, the one copy. */
  get ruleSet(): RuleSet | null {
    return this.parts.engine.ruleSet;
  }

  /** Takes the state of a previous run, before the first evaluation. */
  restore(stored: RestoredState): void {
    this.parts.engine.restore(stored.alerts);
    this.parts.dispatcher.restore(stored.notifications);
  }

  /** One group evaluation, committed. Every evaluation commits (and saves), transitions or not: the firing set is offered for repeat_interval re-sends. */
  async evaluateGroup(group: RuleGroup, at: number, signal?: AbortSignal): Promise<GroupResult> {
    const result = await this.parts.engine.evaluateGroup(group, at, signal);
    this.observeEvaluation(result);
    await this.commit(at, result.transitions, { group: group.name });
    return result;
  }

  /** An operator accepts firing series of `alert` as the new normal (throws UnknownRuleError for a rule not loaded). */
  async accept(alert: string, match: Readonly<Record<string, string>>, reason: string, at: number): Promise<TransitionEvent[]> {
    const events = await this.parts.engine.accept(alert, match, reason, at);
    if (events.length > 0) await this.commit(at, events, { rule: alert });
    return events;
  }

  /** Adopts a rule set; the resolutions of removed rules' firing series (at once, or after `graceMs`) are committed. */
  async adoptRuleSet(rules: RuleSet, at: number, graceMs = 0): Promise<Retirement> {
    const r = this.parts.engine.adoptRuleSet(rules, at, graceMs);
    if (r.retired.length > 0) await this.commit(at, r.retired, { reason: 'rule removed' });
    return r;
  }

  /** Resolves the series of removed rules whose grace has ended by `at`. */
  async retireDeparted(at: number): Promise<Retirement> {
    const r = this.parts.engine.retireDeparted(at);
    if (r.retired.length > 0) await this.commit(at, r.retired, { reason: 'rule removed' });
    return r;
  }

  /** When the earliest removed rule's grace ends; null when none waits. */
  get nextDepartureAt(): number | null {
    return this.parts.engine.nextDepartureAt;
  }

  /**
   * A ping's answer (at start, from /readyz). With evaluations, the only writers of clickhouse_up: a
   * restart would otherwise read as an outage until the first evaluation ends.
   */
  observePing(ok: boolean): void {
    this.parts.clickhouseUp(ok);
  }

  /**
   * ClickHouse is down when a query of the evaluation failed, up when it answered every query that was
   * not cut by the timeout: a group that runs out of time is slow, not a store that is down.
   */
  private observeEvaluation(r: GroupResult): void {
    if (r.evaluations.some((e) => e.error)) this.parts.clickhouseUp(false);
    else if (r.evaluations.length > 0) this.parts.clickhouseUp(true);
  }

  /** Hand over held, save, release (see the header). Never throws: a failure is logged and reported by the save's health. */
  private async commit(at: number, transitions: readonly TransitionEvent[], context: Record<string, string>): Promise<void> {
    const { dispatcher, notify, engine, logger } = this.parts;
    this.holds.push(dispatcher.hold());
    try {
      notify({ at, transitions, firing: engine.firing() });
    } catch (err) {
      logger.error({ err, ...context }, 'handing alerts to the notification pipeline failed');
    }
    await this.save().catch((err: unknown) => logger.error({ err, ...context }, 'could not persist alert state'));
  }
}
