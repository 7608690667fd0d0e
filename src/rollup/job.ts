/**
 * The daemon's rollup schedule, on the injected clock. Every `interval` it rolls up the runs whose
 * span ended between the schedule's watermark (the end of its last pass, kept in the rollup log so a
 * restart resumes there) and `now - lateness`, in passes of at most an hour, then runs the scores
 * pass (rollup/scores.ts: late scores from run_scores into the aggregates). A tick that comes while
 * a catch-up still runs is skipped and counted; a failed pass is logged and retried at the next tick
 * (the watermark only moves past a pass once it is written); stop() waits for the running pass.
 */
import type { ClickHouse } from '../clickhouse/client.js';
import type { Logger } from '../log.js';
import type { StoreNames } from '../store/schema.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { checkSpanSource, describeCounters, RollupUnavailableError, runPass, scheduleWatermark, type PassResult } from './pass.js';
import type { RollupSettings } from './types.js';
import { AGGREGATE_DEFAULTS, type AggregateSettings } from '../store/aggregates.js';
import { SCORES_COUNTERS } from '../store/rollupSchema.js';
import { describeScores, runScoresPass, zeroScoresCounters, type ScoresCounters } from './scores.js';

/** The longest interval of one pass: a catch-up after downtime becomes many short passes. */
export const MAX_PASS_MS = 3_600_000;
/** Where the schedule starts when it has never run: runs that ended this long before. */
export const FIRST_LOOKBACK_MS = 24 * 3_600_000;

export interface RollupJobOptions {
  readonly ch: ClickHouse;
  readonly names: StoreNames;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: RollupSettings;
  /** Default FIRST_LOOKBACK_MS. */
  readonly firstLookbackMs?: number;
  /** Default MAX_PASS_MS. */
  readonly maxPassMs?: number;
  /** `aggregates`: where the scores pass counts late scores (default AGGREGATE_DEFAULTS). */
  readonly aggregates?: AggregateSettings;
}

export class RollupJob {
  private timer: TimerHandle | null = null;
  private running: Promise<PassResult[]> | null = null;
  private started = false;
  /** Set by stop(): no new tick, and a running catch-up ends after its current pass. */
  private stopping = false;
  private lastProblem: string | null = null;
  /** Ticks skipped because the previous catch-up was still running. */
  skippedTicks = 0;
  /** The scores pass's counters summed since the start (also in its log table and its log lines). */
  readonly scoreTotals: ScoresCounters = zeroScoresCounters();
  /** Why the scores pass last did nothing, said once until it changes. */
  private scoresSkipped: string | null = null;
  private scoresProblem: string | null = null;

  constructor(private readonly o: RollupJobOptions) {}

  /** Runs at once, then on the interval's grid (multiples of the interval in clock time). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.arm(0);
  }

  /** Cancels the schedule and waits for a running catch-up. Idempotent. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    this.timer?.cancel();
    this.timer = null;
    await this.idle();
  }

  /** Resolves when no catch-up is running. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /**
   * Rolls up everything the schedule is behind on, as of the clock's now; the passes it ran. If a
   * catch-up is already running, waits for it instead of starting a second one.
   */
  runOnce(): Promise<PassResult[]> {
    if (this.running) return this.running;
    const run = this.catchUp().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private arm(delayMs: number): void {
    if (!this.started || this.stopping) return;
    this.timer = this.o.clock.setTimer(delayMs, () => this.tick());
  }

  private tick(): void {
    if (!this.started || this.stopping) return;
    if (this.running) {
      this.skippedTicks++;
      this.o.logger.warn({ job: 'rollup', skipped_ticks: this.skippedTicks }, 'rollup tick skipped: the previous catch-up is still running');
    } else {
      this.runOnce().catch((err: unknown) => this.report(err));
    }
    const every = this.o.settings.intervalMs;
    this.arm(every - (this.o.clock.now() % every));
  }

  /** The rollup's passes, then the scores pass (also when the passes failed or had nothing to do). */
  private async catchUp(): Promise<PassResult[]> {
    try {
      return await this.rollUp();
    } finally {
      if (!this.stopping) await this.scoresPass();
    }
  }

  private async rollUp(): Promise<PassResult[]> {
    const { ch, names, clock, logger, settings } = this.o;
    const every = settings.intervalMs;
    // Runs that ended before `target` have had `lateness` for their late spans to arrive.
    const target = Math.floor((clock.now() - settings.latenessMs) / every) * every;
    let from = (await scheduleWatermark(ch, names)) ?? target - (this.o.firstLookbackMs ?? FIRST_LOOKBACK_MS);
    const done: PassResult[] = [];
    if (from >= target) return done;
    const source = await checkSpanSource(ch, names);
    while (from < target && !this.stopping) {
      const to = Math.min(target, from + (this.o.maxPassMs ?? MAX_PASS_MS));
      const r = await runPass(ch, names, { fromMs: from, toMs: to, mode: 'schedule', at: clock.now(), lookbackMs: settings.maxRunDurationMs, prices: settings.prices, attributes: settings.attributes, ...source });
      done.push(r);
      if (this.lastProblem !== null) {
        logger.info({ job: 'rollup' }, 'rollup resumed');
        this.lastProblem = null;
      }
      const level = r.counters.runs_written > 0 || r.counters.spans_without_run > 0 ? 'info' : 'debug';
      logger[level](
        { job: 'rollup', from: new Date(from).toISOString(), to: new Date(to).toISOString(), ms: Math.round(r.elapsedMs), ...r.counters },
        `rollup pass: ${describeCounters(r.counters)}`,
      );
      from = to;
    }
    return done;
  }

  /** Late scores after the passes; its failure is its own (logged once), the rollup's passes stand. */
  private async scoresPass(): Promise<void> {
    const { ch, names, clock, logger, settings } = this.o;
    try {
      const r = await runScoresPass(ch, names, { mode: 'schedule', at: clock.now(), latenessMs: settings.latenessMs, aggregates: this.o.aggregates ?? AGGREGATE_DEFAULTS });
      this.scoresProblem = null;
      if (r.skipped !== null) {
        if (r.skipped !== this.scoresSkipped) logger.info({ job: 'scores' }, describeScores(r));
        this.scoresSkipped = r.skipped;
        return;
      }
      this.scoresSkipped = null;
      for (const c of SCORES_COUNTERS) if (c !== 'scores_pending') this.scoreTotals[c] += r.counters[c];
      this.scoreTotals.scores_pending = r.counters.scores_pending;
      const level = r.counters.scores_unmatched > 0 ? 'warn' : r.counters.scores_counted > 0 ? 'info' : 'debug';
      logger[level]({ job: 'scores', watermark: r.watermarkMs === null ? null : new Date(r.watermarkMs).toISOString(), ms: Math.round(r.elapsedMs), ...r.counters }, describeScores(r));
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (message !== this.scoresProblem) logger.error({ job: 'scores', err: message }, 'scores pass failed; retrying every rollup.interval');
      this.scoresProblem = message;
    }
  }

  /**
   * A problem that lasts (a store the rollup cannot read, a user without INSERT rights) is said once,
   * and again when it changes or after a pass succeeded, not every interval.
   */
  private report(err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    if (err instanceof RollupUnavailableError) this.o.logger.warn({ job: 'rollup' }, message);
    else this.o.logger.error({ job: 'rollup', err: message }, 'rollup pass failed; retrying every rollup.interval (set rollup.enabled: false for a read-only user)');
  }
}
