/**
 * Runs one rule group on its schedule. Like OpenTelemetry's PeriodicExportingMetricReader: a tick
 * that arrives while the previous evaluation is still running is skipped and counted (slow queries
 * never pile up), each run is bounded by a timeout that aborts its queries, and a failing run never
 * stops the loop. Interval schedules run once at start, then on a fixed grid from the start time
 * (no drift from run durations); cron schedules fire through node-cron.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import type { RuleGroup } from '../rules/types.js';

export interface RunnerDeps {
  readonly run: (group: RuleGroup, at: number, signal: AbortSignal) => Promise<void>;
  readonly onSkip: (group: RuleGroup) => void;
  readonly logger: Logger;
  readonly now: () => number;
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

export class GroupRunner {
  private timer: NodeJS.Timeout | null = null;
  private task: ScheduledTask | null = null;
  private inFlight: Promise<void> | null = null;
  private controller: AbortController | null = null;
  private stopped = false;

  constructor(
    readonly group: RuleGroup,
    private readonly deps: RunnerDeps,
  ) {}

  start(): void {
    const s = this.group.schedule;
    if (s.kind === 'interval') {
      // After the first run (at once, so a fresh start shows results), ticks sit on a grid offset by
      // a hash of the group name: groups with the same interval do not all query at the same moment.
      const origin = this.deps.now() + slotOffset(this.group.name, s.everyMs) - s.everyMs;
      let k = 0;
      const next = () => {
        if (this.stopped) return;
        k += 1;
        // Next slot on the grid; if several were missed (a long pause), skip to the upcoming one.
        const now = this.deps.now();
        while (origin + k * s.everyMs <= now) k += 1;
        this.timer = setTimeout(() => {
          this.tick();
          next();
        }, origin + k * s.everyMs - now);
      };
      this.tick();
      next();
    } else {
      this.tick();
      this.task = cron.schedule(s.expression, () => this.tick(), { name: `agentdrift:${this.group.name}`, timezone: 'UTC' });
    }
  }

  /** Runs one evaluation unless one is in flight (then counts a skip). Resolves when it ends. */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.inFlight) {
      this.deps.onSkip(this.group);
      this.deps.logger.warn({ group: this.group.name }, `group ${this.group.name}: previous evaluation still running, tick skipped`);
      return this.inFlight;
    }
    const controller = new AbortController();
    this.controller = controller;
    const timeout = setTimeout(() => controller.abort(new Error(`evaluation timed out after ${this.group.timeoutMs} ms`)), this.group.timeoutMs);
    const at = this.deps.now();
    this.inFlight = this.deps
      .run(this.group, at, controller.signal)
      .catch((err) => this.deps.logger.error({ err, group: this.group.name }, `group ${this.group.name}: evaluation failed`))
      .finally(() => {
        clearTimeout(timeout);
        this.inFlight = null;
        this.controller = null;
      });
    return this.inFlight;
  }

  /** Stops scheduling; lets the running evaluation finish (or aborts it when `abort` is set). Idempotent. */
  async stop(abort = false): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.task) await this.task.destroy();
    this.task = null;
    if (abort) this.controller?.abort(new Error('shutting down'));
    await this.inFlight;
  }
}
