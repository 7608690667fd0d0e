/**
 * The composition root of `agentdrift start`: config and rules in, scheduled evaluations, alert
 * state, logs, reloads (SIGHUP and file changes) and a clean shutdown (SIGTERM/SIGINT) out.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { FileStateStore } from '../alerting/store.js';
import type { ClickHouse } from '../clickhouse/client.js';
import { describeTarget } from '../clickhouse/target.js';
import type { Config } from '../config/load.js';
import { seedDemo, storeIsEmpty, terminalProgress } from '../demo/seed.js';
import type { Logger } from '../log.js';
import { systemClock, type Clock } from '../util/clock.js';
import { loadRuleFiles } from '../rules/load.js';
import { formatProblem, type RuleSet } from '../rules/types.js';
import { migrate } from '../store/migrate.js';
import { qualified, type StoreNames } from '../store/schema.js';
import { Engine, type EngineDeps } from '../engine/engine.js';
import { GroupRunner } from '../engine/scheduler.js';

export interface DaemonOptions {
  readonly config: Config;
  readonly ch: ClickHouse;
  readonly names: StoreNames;
  readonly logger: Logger;
  /** Migrate and seed the demo when agent_runs is empty (also `demo.seed_if_empty` in config). */
  readonly demo: boolean;
  /** Create the tables and the view before starting (implied by demo seeding). */
  readonly migrate?: boolean;
  /** Where the daemon's time comes from (default: the system clock; `start --now` shifts it). */
  readonly clock?: Clock;
  /** End of the seeded demo period (default: the clock's now). */
  readonly demoEndMs?: number;
  /** Extra wiring (metrics, HTTP, notifications) added by the caller. */
  readonly extend?: (d: Daemon) => Promise<void> | void;
}

/** What outputs (metrics, HTTP, notifications) plug into; each method optional, all listeners called. */
export interface DaemonListener {
  onEvaluation?: NonNullable<EngineDeps['onEvaluation']>;
  onTransitions?: NonNullable<EngineDeps['onTransitions']>;
  onGroupDone?: (group: string, ok: boolean, durationMs: number, at: number) => void;
  onSkip?: (group: string) => void;
  /** After a (re)load attempt; `removed` are alert names that no longer exist. */
  onRules?: (ok: boolean, rules: RuleSet | null, removed: readonly string[]) => void;
  onClose?: () => Promise<void>;
}

export class InvalidRulesError extends Error {
  override readonly name = 'InvalidRulesError';
}

export class Daemon {
  private readonly listeners: DaemonListener[] = [];
  /** Pending notification deliveries, persisted with the alert state (set by the notification layer). */
  deliveries: EngineDeps['deliveries'];
  engine!: Engine;
  ruleSet: RuleSet | null = null;
  lastEvaluationAt: number | null = null;
  private runners: GroupRunner[] = [];
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  readonly clock: Clock;
  private readonly now: () => number;

  constructor(readonly opts: DaemonOptions) {
    this.clock = opts.clock ?? systemClock;
    this.now = () => this.clock.now();
  }

  addListener(l: DaemonListener): void {
    this.listeners.push(l);
  }

  private emit<K extends keyof DaemonListener>(name: K, ...args: Parameters<NonNullable<DaemonListener[K]>>): void {
    for (const l of this.listeners) {
      try {
        (l[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
      } catch (err) {
        this.opts.logger.error({ err, hook: name }, 'output hook failed');
      }
    }
  }

  /** Loads rules (refusing to start on invalid ones), prepares the store, restores state, starts the groups. */
  async start(): Promise<void> {
    const { config, logger, ch, names } = this.opts;
    const loaded = await loadRuleFiles(config.rules);
    if (!loaded.ruleSet) {
      throw new InvalidRulesError(`invalid rules, not starting:\n${loaded.problems.map(formatProblem).join('\n')}`);
    }
    this.ruleSet = loaded.ruleSet;
    logger.info({ target: describeTarget(config.clickhouse.target), files: loaded.files }, 'agentdrift starting');

    if (this.opts.demo || config.demo.seedIfEmpty) await this.prepareDemo();
    else if (this.opts.migrate) await migrate(ch, names, { ttlDays: config.ttlDays ?? undefined });

    await this.opts.extend?.(this);
    this.engine = new Engine({
      query: (sql, params, signal) => ch.query(sql, params, { signal }),
      table: qualified(names.database, names.agentRuns),
      store: new FileStateStore(config.stateFile),
      logger,
      now: this.now,
      onEvaluation: (ev, states) => this.emit('onEvaluation', ev, states),
      onTransitions: (events) => this.emit('onTransitions', events),
      deliveries: this.deliveries,
    });
    await this.engine.restore();
    this.engine.adoptRuleSet(this.ruleSet);
    this.emit('onRules', true, this.ruleSet, []);
    this.startRunners(this.ruleSet);
    this.watchRules();
    logger.info({ groups: this.ruleSet.groups.length, rules: countRules(this.ruleSet) }, 'agentdrift started');
  }

  private async prepareDemo(): Promise<void> {
    const { ch, names, logger } = this.opts;
    await migrate(ch, names, { ttlDays: this.opts.config.ttlDays ?? undefined });
    if (!(await storeIsEmpty(ch, names))) return;
    logger.info('agent_runs is empty: seeding 28 days of demo runs with four injected drifts');
    const r = await seedDemo(ch, names, { days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs: this.opts.demoEndMs ?? this.now() }, terminalProgress());
    for (const d of r.plan.drifts) {
      logger.info({ signal: d.signal, workflow_id: d.workflowId, starts_at: new Date(d.startsAt).toISOString() }, `demo drift injected: ${d.description}`);
    }
    logger.info({ runs: r.inserted, ms: r.elapsedMs }, 'demo data seeded');
  }

  private startRunners(rules: RuleSet): void {
    // evaluation.timeout in the config caps every group's own timeout.
    const cap = this.opts.config.evaluation.timeoutMs;
    this.runners = rules.groups.map(
      (group) =>
        new GroupRunner(cap === null ? group : { ...group, timeoutMs: Math.min(group.timeoutMs, cap) }, {
          clock: this.clock,
          logger: this.opts.logger,
          onSkip: (g) => this.emit('onSkip', g.name),
          run: async (g, at, signal) => {
            const result = await this.engine.evaluateGroup(g, at, signal);
            if (result.ok) this.lastEvaluationAt = at;
            this.emit('onGroupDone', g.name, result.ok, result.durationMs, at);
          },
        }),
    );
    for (const r of this.runners) r.start();
  }

  /** Re-reads the rule files. An invalid new set keeps the old one running and says why. */
  async reload(reason: string): Promise<boolean> {
    const { logger, config } = this.opts;
    const loaded = await loadRuleFiles(config.rules);
    if (!loaded.ruleSet) {
      logger.error({ reason, problems: loaded.problems.map(formatProblem) }, 'rule reload failed: keeping the previous rules running');
      this.emit('onRules', false, this.ruleSet, []);
      return false;
    }
    const old = this.runners;
    this.runners = [];
    await Promise.all(old.map((r) => r.stop()));
    const previous = this.ruleSet;
    this.ruleSet = loaded.ruleSet;
    const before = alertNames(previous);
    const dropped = this.engine.adoptRuleSet(loaded.ruleSet);
    const after = alertNames(loaded.ruleSet);
    const removed = [...before].filter((a) => !after.has(a));
    this.startRunners(loaded.ruleSet);
    logger.info({ reason, groups: loaded.ruleSet.groups.length, rules: countRules(loaded.ruleSet), dropped_series: dropped.length }, 'rules reloaded');
    this.emit('onRules', true, loaded.ruleSet, removed);
    return true;
  }

  private watchRules(): void {
    const schedule = (why: string) => {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      // Editors write files in several steps: wait for the burst to end.
      this.reloadTimer = setTimeout(() => void this.reload(why), 300);
    };
    for (const p of this.opts.config.rules) {
      try {
        this.watchers.push(watch(p, () => schedule(`file change in ${p}`)));
      } catch {
        // A path that vanished: watch its directory so its return is noticed.
        try {
          this.watchers.push(watch(dirname(p), () => schedule(`file change near ${p}`)));
        } catch (err) {
          this.opts.logger.warn({ err, path: p }, 'cannot watch rule path; SIGHUP still reloads');
        }
      }
    }
  }

  /** Stops the schedules, waits for running evaluations, persists state, closes everything. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const { logger } = this.opts;
      logger.info('shutting down');
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      for (const w of this.watchers) w.close();
      const steps: [string, () => Promise<unknown>][] = [
        ['stop evaluations', () => Promise.all(this.runners.map((r) => r.stop(true)))],
        // Outputs first: notifications get a chance to flush, and what is still pending after that
        // is in the snapshot the next step writes.
        ['close outputs', () => Promise.all(this.listeners.map((l) => l.onClose?.()))],
        ['persist state', () => (this.engine ? this.engine.persist() : Promise.resolve())],
        ['close ClickHouse', () => this.opts.ch.close()],
      ];
      // Every step runs even when one fails (bullmq-style close).
      for (const [name, fn] of steps) {
        try {
          await fn();
        } catch (err) {
          logger.error({ err, step: name }, `shutdown step failed: ${name}`);
        }
      }
      logger.info('stopped');
    })();
    return this.closing;
  }
}

function alertNames(rs: RuleSet | null): Set<string> {
  return new Set(rs ? rs.groups.flatMap((g) => g.rules.map((r) => r.alert)) : []);
}

function countRules(rs: RuleSet | null): number {
  return rs ? rs.groups.reduce((n, g) => n + g.rules.length, 0) : 0;
}
