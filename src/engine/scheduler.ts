/**
 * Runs one rule group on its schedule. Like OpenTelemetry's PeriodicExportingMetricReader: a tick
 * that arrives while the previous evaluation is still running is skipped and counted (slow queries
 * never pile up), each run is bounded by a timeout that aborts its queries, and a failing run never
 * stops the loop. Interval schedules run once at start, then on a fixed grid counted from the Unix
 * epoch (no drift from run durations, and a restart keeps the grid, as in Prometheus); cron
 * schedules run once at start, then at each match of the expression in UTC. A tick evaluates at its
 * slot's time, not at the moment its timer fired, as Prometheus does: the windows end on the grid (the
 * start run too, where the interval allows: startRunAt).
 *
 * All time comes from the injected Clock: the evaluation time, the grid, the cron fire times and the
 * per-run timeout. So the daemon's one clock (`start --now` shifts it) also decides when groups run,
 * and tests drive the runner with a ManualClock instead of sleeping. For that reason cron is not
 * handed to node-cron's own scheduler (which reads the real time): node-cron only parses the
 * expression, and `compileCron` below finds the next match.
 */
import { parse as parseCron } from 'node-cron';
import type { Limiter } from '../util/limiter.js';
import type { Logger } from '../log.js';
import type { RuleGroup, RuleSet } from '../rules/types.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { FINEST_TIER } from '../store/aggregates.js';
import { EvaluationTimeoutError } from './skips.js';

export interface RunnerDeps {
  readonly run: (group: RuleGroup, at: number, signal: AbortSignal) => Promise<void>;
  readonly onSkip: (group: RuleGroup) => void;
  readonly logger: Logger;
  /** The evaluation time (`at`), the schedule's timers and the per-run timeout. */
  readonly clock: Clock;
  /** Evaluation slots shared with the other groups' runners (none: no bound). */
  readonly slots?: Limiter;
}

/** A stable offset in [0, everyMs) from the group's name (FNV-1a). */
export function slotOffset(name: string, everyMs: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % everyMs;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Where an interval group's ticks sit in its interval: the name's slotOffset, rounded down to a
 * multiple of gcd(interval, 5 minutes). Ticks at `tickOffset + k * everyMs` from the epoch then land
 * on whole 5 minutes (the aggregates' finest bucket: FINEST_TIER) whenever the interval allows: every
 * tick of a 5m, 10m or 1h group, every fifth of a 1m group. A window that ends on that grid is
 * answered from the aggregate tables alone; off it, every evaluation re-reads the runs of the ragged
 * minutes at each window edge from agent_runs, which on a large store is much of a cycle's time
 * (ClickHouse reads whole granules, far more than those minutes; docs/benchmarks.md). The price:
 * groups whose interval divides 5 minutes share one slot instead of spreading over the interval; the
 * evaluation slots (evaluation.max_concurrent_groups) bound that burst. Longer intervals still
 * spread, over everyMs / 5 min slots.
 */
export function tickOffset(name: string, everyMs: number): number {
  const offset = slotOffset(name, everyMs);
  return offset - (offset % gcd(everyMs, FINEST_TIER.ms));
}

/** The last tick of an interval group's grid at or before `ms`. */
export function tickAtOrBefore(name: string, everyMs: number, ms: number): number {
  const offset = tickOffset(name, everyMs);
  return offset + Math.floor((ms - offset) / everyMs) * everyMs;
}

/**
 * Groups that tick at the same times: interval groups with one interval and one tickOffset (every
 * group whose interval divides 5 minutes), cron groups with one expression. Per group name, those
 * of `rules` on its schedule, in the rule set's order, itself among them: whose reads at a tick can
 * be shared (signals/sharedReads.ts).
 */
export function peersOf(rules: RuleSet): Map<string, readonly RuleGroup[]> {
  const key = (g: RuleGroup): string => (g.schedule.kind === 'interval' ? `every ${g.schedule.everyMs} at ${tickOffset(g.name, g.schedule.everyMs)}` : `cron ${g.schedule.expression}`);
  const bySchedule = new Map<string, RuleGroup[]>();
  for (const g of rules.groups) bySchedule.set(key(g), [...(bySchedule.get(key(g)) ?? []), g]);
  return new Map(rules.groups.map((g) => [g.name, bySchedule.get(key(g))!]));
}

/**
 * Whether `at` is one of the group's ticks (a start run off the grid, at the start itself, is not):
 * only there do its peers evaluate at the same time.
 */
export function onSchedule(group: RuleGroup, at: number): boolean {
  const s = group.schedule;
  if (s.kind === 'interval') return tickAtOrBefore(group.name, s.everyMs, at) === at;
  return compileCron(s.expression)(at - 1) === at;
}

/**
 * The evaluation time of a group's start run (the run at once, when the daemon starts or the group is
 * (re)loaded). A group whose interval is a whole number of 5 minutes ticks only on whole 5 minutes
 * (tickOffset); its start run evaluates at the last whole 5 minutes too, so that, like every tick, it
 * reads the aggregates alone: at the start time itself each window edge would re-read the ragged
 * minutes from agent_runs, which on a large store costs several cycles (docs/benchmarks.md). The data
 * it misses are at most 5 minutes old and the next tick reads them; and since every earlier tick of the
 * group sat on that grid at or before the start, the start run is never before one of them (at most
 * the same time, after a restart within 5 minutes of a tick: the same windows, the same verdicts).
 * Cron groups and intervals off that grid evaluate at the start itself.
 */
export function startRunAt(group: RuleGroup, nowMs: number): number {
  const s = group.schedule;
  if (s.kind !== 'interval' || s.everyMs % FINEST_TIER.ms !== 0) return nowMs;
  return Math.floor(nowMs / FINEST_TIER.ms) * FINEST_TIER.ms;
}

/**
 * The evaluation times of a group started at `fromMs`, up to `toMs` (inclusive), with no pause: what
 * a GroupRunner on an undisturbed clock would do (the start run at startRunAt), and what a backtest
 * replays.
 */
export function* scheduleTimes(group: RuleGroup, fromMs: number, toMs: number): Generator<number> {
  if (fromMs > toMs) return;
  yield startRunAt(group, fromMs);
  const s = group.schedule;
  if (s.kind === 'interval') {
    for (let at = tickAtOrBefore(group.name, s.everyMs, fromMs) + s.everyMs; at <= toMs; at += s.everyMs) yield at;
    return;
  }
  const next = compileCron(s.expression);
  for (let at = next(fromMs); at !== null && at <= toMs; at = next(at)) yield at;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** How far ahead a match is looked for (node-cron's own walker gives up after the same span). */
const MAX_DAYS = 366 * 100;

/**
 * Compiles a cron expression (5 fields, or 6 with seconds first; names, ranges, steps, nicknames and
 * the L / W / # tokens, exactly as node-cron parses it) into a function that returns the first
 * instant strictly after `afterMs` that it matches, in UTC, or null if none within 100 years (such
 * as "0 0 1 * 1#5": the 1st is never a month's fifth Monday). Day of month and day of week must both
 * match, as in node-cron. Throws on an expression node-cron rejects.
 */
export function compileCron(expression: string): (afterMs: number) => number | null {
  const f = parseCron(expression);
  const asc = (xs: readonly (number | string)[]): number[] => xs.filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
  const seconds = asc(f.second);
  const minutes = asc(f.minute);
  const hours = asc(f.hour);
  const months = new Set(f.month);
  return (afterMs) => {
    let day = Math.floor(afterMs / DAY_MS) * DAY_MS;
    for (let i = 0; i < MAX_DAYS; i++, day += DAY_MS) {
      const d = new Date(day);
      const year = d.getUTCFullYear();
      const month = d.getUTCMonth() + 1;
      const date = d.getUTCDate();
      if (!months.has(month) || !dayOfMonthMatches(f.dayOfMonth, year, month, date) || !dayOfWeekMatches(f.dayOfWeek, year, month, date, d.getUTCDay())) continue;
      for (const h of hours) {
        const hour = day + h * HOUR_MS;
        if (hour + HOUR_MS <= afterMs) continue;
        for (const m of minutes) {
          const minute = hour + m * MINUTE_MS;
          if (minute + MINUTE_MS <= afterMs) continue;
          for (const s of seconds) if (minute + s * SECOND_MS > afterMs) return minute + s * SECOND_MS;
        }
      }
    }
    return null;
  };
}

const lastDayOf = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Day-of-month values as node-cron parses them: a day, L (last), nW / LW (nearest weekday), L-n. */
function dayOfMonthMatches(field: readonly (number | string)[], year: number, month: number, date: number): boolean {
  const last = lastDayOf(year, month);
  return field.some((v) => {
    if (typeof v === 'number') return v === date;
    if (v === 'L') return date === last;
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w) {
      const target = w[1] === 'L' ? last : Number(w[1]);
      if (target < 1 || target > last) return false;
      // The weekday nearest to the target, without leaving the month.
      const wd = new Date(Date.UTC(year, month - 1, target)).getUTCDay();
      const nearest = wd === 6 ? (target === 1 ? 3 : target - 1) : wd === 0 ? (target === last ? target - 2 : target + 1) : target;
      return nearest === date;
    }
    const off = /^L-(\d{1,2})$/.exec(v);
    return off !== null && last - Number(off[1]) === date;
  });
}

/** Day-of-week values as node-cron parses them (0 = Sunday): a day, d#n (n-th in the month), dL (last in the month). */
function dayOfWeekMatches(field: readonly (number | string)[], year: number, month: number, date: number, weekday: number): boolean {
  return field.some((v) => {
    if (typeof v === 'number') return v % 7 === weekday;
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth) return Number(nth[1]) % 7 === weekday && Math.floor((date - 1) / 7) + 1 === Number(nth[2]);
    const lastOf = /^([0-7])L$/i.exec(v);
    return lastOf !== null && Number(lastOf[1]) % 7 === weekday && date + 7 > lastDayOf(year, month);
  });
}

export class GroupRunner {
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private controller: AbortController | null = null;
  private stopped = false;

  constructor(
    private current: RuleGroup,
    private readonly deps: RunnerDeps,
  ) {}

  /** The definition the next tick evaluates. */
  get group(): RuleGroup {
    return this.current;
  }

  /**
   * Takes a reloaded definition that evaluates the same (sameEvaluation: only source positions or the
   * file differ) without touching the schedule: the runner stays on its grid, with no extra run.
   */
  adopt(group: RuleGroup): void {
    if (!sameEvaluation(group, this.current)) throw new Error(`group ${group.name}: a changed definition needs a new runner`);
    this.current = group;
  }

  start(): void {
    const s = this.group.schedule;
    const clock = this.deps.clock;
    const name = this.group.name;
    if (s.kind === 'interval') {
      // After the first run (at once, so a fresh start shows results), ticks sit on the group's grid.
      const startedAt = clock.now();
      let slot = tickAtOrBefore(name, s.everyMs, startedAt); // a slot at the start itself is the start run
      const next = (): void => {
        if (this.stopped) return;
        // The next slot on the grid. If the clock has passed several (the process was paused, or a
        // run blocked the event loop), skip to the upcoming one rather than fire a burst.
        const upcoming = tickAtOrBefore(name, s.everyMs, clock.now()) + s.everyMs;
        const missed = (upcoming - slot) / s.everyMs - 1;
        if (missed > 0) this.deps.logger.warn({ group: name, missed }, `group ${name}: ${missed} scheduled evaluation(s) missed, resuming at the next slot`);
        slot = upcoming;
        // A timer fires a little late (more after a pause): the evaluation is of the last slot it
        // reached, so its windows end on the grid.
        this.armAt(slot, () => Math.max(slot, tickAtOrBefore(name, s.everyMs, clock.now())), next);
      };
      void this.tick(startRunAt(this.group, startedAt));
      next();
    } else {
      void this.tick();
      let nextMatch: (afterMs: number) => number | null;
      try {
        nextMatch = compileCron(s.expression);
      } catch (err) {
        this.deps.logger.error({ err, group: name }, `group ${name}: cron ${JSON.stringify(s.expression)} not usable, group will not be scheduled`);
        return;
      }
      let last = -Infinity;
      const next = (): void => {
        if (this.stopped) return;
        // Never before the match just served (a timer firing early must not serve it twice); a
        // clock that jumped ahead lands on the upcoming match, without a burst.
        const at = nextMatch(Math.max(clock.now(), last));
        if (at === null) {
          this.deps.logger.error({ group: name }, `group ${name}: cron ${JSON.stringify(s.expression)} has no further match, group will not be scheduled`);
          return;
        }
        last = at;
        // The match's own time, unless the clock has passed a later match (after a pause): then now.
        this.armAt(at, () => (nextMatch(at) ?? Infinity) > clock.now() ? at : clock.now(), next);
      };
      next();
    }
  }

  /** Ticks at `due` on the clock, evaluating at `evalAt()`, then calls `then` (which arms the following tick). */
  private armAt(due: number, evalAt: () => number, then: () => void): void {
    this.timer = this.deps.clock.setTimer(due - this.deps.clock.now(), () => {
      this.timer = null;
      void this.tick(evalAt());
      then();
    });
  }

  /**
   * Runs one evaluation unless one is in flight or waiting for a slot (then counts a skip). With
   * shared `slots`, it waits for one first; its timeout counts from when it runs, so time spent in
   * the queue is not taken from it. `at` (now unless given: a scheduled tick passes its slot's time)
   * is the evaluation time either way. Resolves when it ends.
   */
  tick(at: number = this.deps.clock.now()): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) {
      this.deps.onSkip(this.group);
      this.deps.logger.warn({ group: this.group.name }, `group ${this.group.name}: previous evaluation still running (or waiting for an evaluation slot), tick skipped`);
      return this.inFlight;
    }
    const controller = new AbortController();
    this.controller = controller;
    // The async wrapper turns a synchronous throw into a rejection, so it cannot escape a timer
    // callback and stop the schedule.
    this.inFlight = (async () => {
      const release = this.deps.slots ? await this.deps.slots.acquire(controller.signal) : null;
      // A typed reason: the engine reports the rules it did not reach as skipped by a timeout, not as
      // failed queries (which would read as ClickHouse being down).
      const timeout = this.deps.clock.setTimer(this.group.timeoutMs, () => controller.abort(new EvaluationTimeoutError(this.group.timeoutMs)));
      try {
        await this.deps.run(this.group, at, controller.signal);
      } finally {
        timeout.cancel();
        release?.();
      }
    })()
      .catch((err) => {
        // Stopped while waiting for a slot: nothing ran, nothing failed.
        if (controller.signal.aborted && err === controller.signal.reason) return;
        this.deps.logger.error({ err, group: this.group.name }, `group ${this.group.name}: evaluation failed`);
      })
      .finally(() => {
        this.inFlight = null;
        this.controller = null;
      });
    return this.inFlight;
  }

  /** Stops scheduling; lets the running evaluation finish (or aborts it when `abort` is set). Idempotent. */
  async stop(abort = false): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    if (abort) this.controller?.abort(new Error('shutting down'));
    await this.inFlight;
  }
}

/**
 * Whether two definitions of a group evaluate the same: name, schedule, timeout and every rule equal,
 * where they were written (source positions, the file) left out. A reload keeps such a group's runner
 * running on its grid, as Prometheus keeps a group for which `oldg.Equals(newg)`; only changed groups
 * restart (and run at once).
 */
export function sameEvaluation(a: RuleGroup, b: RuleGroup): boolean {
  return canonical(a) === canonical(b);
}

function canonical(g: RuleGroup): string {
  const { pos: _pos, file: _file, rules, ...rest } = g;
  return JSON.stringify([rest, rules.map(({ pos: _rulePos, ...r }) => r)]);
}
