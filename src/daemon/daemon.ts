/**
 * The running daemon's lifecycle: start (rules, store, restored state, HTTP, schedules), reload
 * (SIGHUP and rule-file changes; an invalid new set keeps the old one running), close. It owns the
 * group runners and the rule-file watchers; everything else it is handed, built, by compose.ts.
 */
import { ERR } from '../util/errors.js';
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { ClickHouse } from '../clickhouse/client.js';
import { describeTarget } from '../clickhouse/target.js';
import type { Config } from '../config/load.js';
import { seedDemo, storeIsEmpty } from '../demo/seed.js';
import { terminalProgress } from '../util/progress.js';
import { GroupRunner, sameEvaluation } from '../engine/scheduler.js';
import type { HttpServer } from '../http/server.js';
import type { Logger } from '../log.js';
import type { DriftMetrics } from '../metrics/registry.js';
import type { Dispatcher } from '../notify/dispatcher.js';
import { blankFileWarning } from '../rules/check.js';
import { loadRuleFilesOffThread } from '../rules/loadOffThread.js';
import type { RuleGroup, RuleSet } from '../rules/types.js';
import { formatProblems } from '../yaml/problem.js';
import { migrate } from '../store/migrate.js';
import type { StoreNames } from '../store/schema.js';
import { checkStoreAtStart } from '../store/ready.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import { Limiter } from '../util/limiter.js';
import type { StatePersistence } from '../persist/durableState.js';
import type { StateManager } from './stateManager.js';

/** What the daemon is built from (see compose.ts for the order and the wiring). */
export interface DaemonParts {
  readonly config: Config;
  readonly ch: ClickHouse;
  readonly names: StoreNames;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The state file and its journal (opened at start, saved after each evaluation, closed last). */
  readonly state: StatePersistence;
  readonly metrics: DriftMetrics;
  /** Flushed and closed at shutdown (what it still holds is in the state manager's last save). */
  readonly dispatcher: Pick<Dispatcher, 'flush' | 'close'>;
  /** Every change of alert state goes through it: evaluate, save, then send (stateManager.ts). */
  readonly manager: StateManager;
  readonly startHttp: () => Promise<HttpServer>;
  /** Migrate and seed the demo when agent_runs is empty (also `demo.seed_if_empty` in config). */
  readonly demo: boolean;
  /** Create the tables and the view before starting (implied by demo seeding). */
  readonly migrate: boolean;
  /** End of the seeded demo period (default: the clock's now). */
  readonly demoEndMs?: number;
  /** The span rollup's schedule (rollup/job.ts); null when `rollup.enabled` is false. */
  readonly rollup?: { start(): void; stop(): Promise<void> } | null;
  /** Remembers skipped ticks for the rules page (the engine reports the other skips itself). */
  readonly activity?: { skipped(alert: string, reason: 'overlap', at: number): void };
  /** Finds the aggregate tables once the store is prepared (then again in the background). */
  readonly aggregates?: { refresh(): Promise<void> };
  /** How reloads wait for rule files to settle and for removed rules to stay away (RELOAD_TIMING). */
  readonly reloadTiming?: Partial<ReloadTiming>;
}

export interface ReloadTiming {
  /** A changed rule file is read once no change to it was seen for this long. */
  readonly reloadSettleMs: number;
  /**
   * The series of a rule a reload removed are resolved only this long after: a rule that returns
   * with a reload within it keeps its state, and nothing is sent either way.
   */
  readonly removalGraceMs: number;
}

export const RELOAD_TIMING: ReloadTiming = { reloadSettleMs: 1_000, removalGraceMs: 10_000 };

/** Whether a start seeds the demo when the store is empty (`--demo`, or `demo.seed_if_empty`). */
export function seedsDemo(config: Pick<Config, 'demo'>, o: { readonly demo: boolean }): boolean {
  return o.demo || config.demo.seedIfEmpty;
}

/** Whether a start creates agent_runs itself (seeding the demo, or `--migrate`): else the store must have it. */
export function preparesStore(config: Pick<Config, 'demo'>, o: { readonly demo: boolean; readonly migrate: boolean }): boolean {
  return seedsDemo(config, o) || o.migrate;
}

/**
 * What a reload does with the running groups: a group that evaluates as before (sameEvaluation) keeps
 * its runner; every other runner stops, and changed or new groups get a new one. Group names are
 * unique within a rule set (the loader checks), so a name finds at most one runner.
 */
export function planRunners<R extends { readonly group: RuleGroup }>(running: readonly R[], next: readonly RuleGroup[]): { next: { group: RuleGroup; keep: R | null }[]; stop: R[] } {
  const byName = new Map(running.map((r) => [r.group.name, r] as const));
  const kept = new Set<R>();
  const plan = next.map((group) => {
    const r = byName.get(group.name);
    if (r !== undefined && sameEvaluation(r.group, group)) {
      kept.add(r);
      return { group, keep: r };
    }
    return { group, keep: null };
  });
  return { next: plan, stop: running.filter((r) => !kept.has(r)) };
}

/**
 * Files that held rules in `running` and read as blank (empty, comments only) now. A blank file is
 * valid, but a reload does not take it as the word to drop the file's rules: a file truncated and
 * not yet rewritten reads exactly like that. `groups: []` says it on purpose; a deleted file too.
 */
export function emptiedFiles(running: RuleSet | null, blankFiles: readonly string[]): string[] {
  if (running === null) return [];
  const blank = new Set(blankFiles);
  const held = new Set(running.groups.filter((g) => g.rules.length > 0).map((g) => g.file));
  return [...held].filter((f) => blank.has(f));
}

export class InvalidRulesError extends Error {
  override readonly name = 'InvalidRulesError';
  readonly errorCode = ERR.INVALID_RULES;
}

export class Daemon {
  private runners: GroupRunner[] = [];
  private watchers: FSWatcher[] = [];
  private http: HttpServer | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private departureTimer: TimerHandle | null = null;
  /** Reloads run one after another: the last file read is the one that runs. */
  private reloads: Promise<unknown> = Promise.resolve();
  /** Set once the stored state was read: before that, saving would overwrite it with nothing. */
  private restored = false;
  private closing: Promise<void> | null = null;

  /** Shared by every group's runner, across reloads (an old runner's evaluation keeps its slot until it ends). */
  private readonly slots: Limiter;
  private readonly timing: ReloadTiming;

  constructor(private readonly parts: DaemonParts) {
    this.slots = new Limiter(parts.config.evaluation.maxConcurrentGroups);
    this.timing = { ...RELOAD_TIMING, ...parts.reloadTiming };
  }

  /** The rule set being evaluated: the state manager's (the engine's adopted set), the one copy. */
  get rules(): RuleSet | null {
    return this.parts.manager.ruleSet;
  }

  /** Loads rules (refusing to start on invalid ones), prepares the store, restores state, starts the groups. */
  async start(): Promise<void> {
    const { config, logger, ch, names, manager, metrics, clock } = this.parts;
    const loaded = await loadRuleFilesOffThread(config.rules);
    const rules = loaded.ruleSet;
    if (!rules) {
      throw new InvalidRulesError(`invalid rules, not starting:\n${formatProblems(loaded.problems).join('\n')}`);
    }
    logger.info({ target: describeTarget(config.clickhouse.target), files: loaded.files }, 'agentdrift starting');
    for (const f of loaded.blankFiles) logger.warn({ file: f }, blankFileWarning(f));
    // Without --migrate or the demo nothing creates agent_runs: a store without it stops the start
    // with one line naming `agentdrift migrate`, before the state is touched (an outage does not).
    const seeds = seedsDemo(config, this.parts);
    if (!preparesStore(config, this.parts)) await checkStoreAtStart(ch, names, config.clickhouse.targetSpec, logger);
    // Read before the slow steps, so a state file that cannot be used stops the start at once.
    const stored = await this.parts.state.open();

    if (seeds) await this.prepareDemo();
    else if (this.parts.migrate) await migrate(ch, names, { ttlDays: config.ttlDays ?? undefined, aggregates: config.aggregates, progress: terminalProgress(process.stderr, 'aggregating', 'runs') });
    await this.parts.aggregates?.refresh();
    // Until an evaluation answers, agentdrift_clickhouse_up would read its default 0 (down): every
    // restart would look like an outage for up to an interval. One ping says how the store is now.
    manager.observePing(await ch.ping().then(() => true, () => false));

    manager.restore(stored);
    this.restored = true;
    // Series restored for rules no longer in the files: firing ones are resolved to their receivers.
    await manager.adoptRuleSet(rules, clock.now());
    metrics.recordRuleSet(rules);
    metrics.recordReload(true);
    this.http = await this.parts.startHttp();
    this.startRunners(rules);
    this.parts.rollup?.start();
    this.watchRules();
    logger.info({ groups: rules.groups.length, rules: countRules(rules) }, 'agentdrift started');
  }

  private async prepareDemo(): Promise<void> {
    const { ch, names, logger, clock, config } = this.parts;
    await migrate(ch, names, { ttlDays: config.ttlDays ?? undefined, aggregates: config.aggregates, progress: terminalProgress(process.stderr, 'aggregating', 'runs') });
    if (!(await storeIsEmpty(ch, names))) return;
    logger.info('agent_runs is empty: seeding 28 days of demo runs with seven injected drifts');
    const endMs = this.parts.demoEndMs ?? clock.now();
    const r = await seedDemo(ch, names, { days: 28, runsPerDay: 6000, seed: 'agentdrift', endMs }, terminalProgress());
    for (const d of r.plan.drifts) {
      logger.info({ signal: d.signal, workflow_id: d.workflowId, starts_at: new Date(d.startsAt).toISOString() }, `demo drift injected: ${d.description}`);
    }
    logger.info({ runs: r.inserted, ms: r.elapsedMs }, 'demo data seeded');
  }

  /** A group as its runner runs it: evaluation.timeout in the config caps every group's own timeout. */
  private capped(group: RuleGroup): RuleGroup {
    const cap = this.parts.config.evaluation.timeoutMs;
    return cap === null ? group : { ...group, timeoutMs: Math.min(group.timeoutMs, cap) };
  }

  private newRunner(group: RuleGroup): GroupRunner {
    const { clock, logger, manager, metrics } = this.parts;
    return new GroupRunner(group, {
      clock,
      logger,
      onSkip: (g) => {
        metrics.recordSkipped(g.name, g.rules.map((r) => r.alert));
        for (const r of g.rules) this.parts.activity?.skipped(r.alert, 'overlap', clock.now());
      },
      slots: this.slots,
      run: async (g, at, signal) => {
        await manager.evaluateGroup(g, at, signal);
      },
    });
  }

  private startRunners(rules: RuleSet): void {
    this.runners = rules.groups.map((g) => this.newRunner(this.capped(g)));
    for (const r of this.runners) r.start();
  }

  /** Re-reads the rule files. An invalid new set keeps the old one running and says why. */
  reload(reason: string): Promise<boolean> {
    return this.inReloadQueue(() => this.reloadNow(reason));
  }

  /** Runs `job` after every reload (or retirement) asked for before it: they never interleave. */
  private inReloadQueue<T>(job: () => Promise<T>): Promise<T> {
    const next = this.reloads.then(job);
    this.reloads = next.catch(() => undefined);
    return next;
  }

  private async reloadNow(reason: string): Promise<boolean> {
    const { logger, config, manager, metrics, clock } = this.parts;
    if (this.closing) return false;
    const loaded = await loadRuleFilesOffThread(config.rules);
    if (!loaded.ruleSet) {
      logger.error({ reason, problems: formatProblems(loaded.problems) }, 'rule reload failed: keeping the previous rules running');
      metrics.recordReload(false);
      return false;
    }
    const emptied = emptiedFiles(manager.ruleSet, loaded.blankFiles);
    if (emptied.length > 0) {
      logger.error(
        { reason, files: emptied },
        `rule reload refused: ${emptied.join(', ')} ${emptied.length === 1 ? 'is' : 'are'} empty now but held rules (a file caught between truncation and rewrite looks the same); keeping the previous rules running. To remove every rule of a file, write \`groups: []\` in it or delete it`,
      );
      metrics.recordReload(false);
      return false;
    }
    // Groups that evaluate as before keep their runner, on its grid and without an extra run; the
    // others (changed, removed) stop before the new set is adopted, and changed or new ones start.
    const plan = planRunners(this.runners, loaded.ruleSet.groups.map((g) => this.capped(g)));
    this.runners = [];
    await Promise.all(plan.stop.map((r) => r.stop()));
    const { dropped } = await manager.adoptRuleSet(loaded.ruleSet, clock.now(), this.timing.removalGraceMs);
    this.armDepartures();
    metrics.recordRuleSet(loaded.ruleSet);
    metrics.recordReload(true);
    const fresh: GroupRunner[] = [];
    this.runners = plan.next.map((p) => {
      if (p.keep === null) {
        const r = this.newRunner(p.group);
        fresh.push(r);
        return r;
      }
      p.keep.adopt(p.group);
      return p.keep;
    });
    if (this.closing) await Promise.all(this.runners.map((r) => r.stop()));
    else for (const r of fresh) r.start();
    logger.info(
      { reason, groups: loaded.ruleSet.groups.length, rules: countRules(loaded.ruleSet), restarted_groups: fresh.length, dropped_series: dropped.length },
      'rules reloaded',
    );
    return true;
  }

  /** Resolves removed rules' series once their grace ends (they are kept meanwhile, see Engine.adoptRuleSet). */
  private armDepartures(): void {
    const { manager, clock } = this.parts;
    this.departureTimer?.cancel();
    this.departureTimer = null;
    const due = manager.nextDepartureAt;
    if (due === null || this.closing) return;
    this.departureTimer = clock.setTimer(Math.max(0, due - clock.now()), () => {
      this.departureTimer = null;
      void this.inReloadQueue(async () => {
        if (this.closing) return;
        await manager.retireDeparted(clock.now());
        this.armDepartures();
      });
    });
  }

  private watchRules(): void {
    const schedule = (why: string) => {
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      // Editors and config-management tools write files in several steps (truncate, then write;
      // write, then rename): read only once the files have been quiet for a moment.
      this.reloadTimer = setTimeout(() => void this.reload(why), this.timing.reloadSettleMs);
    };
    for (const p of this.parts.config.rules) {
      try {
        this.watchers.push(watch(p, () => schedule(`file change in ${p}`)));
      } catch {
        // A path that vanished: watch its directory so its return is noticed.
        try {
          this.watchers.push(watch(dirname(p), () => schedule(`file change near ${p}`)));
        } catch (err) {
          this.parts.logger.warn({ err, path: p }, 'cannot watch rule path; SIGHUP still reloads');
        }
      }
    }
  }

  /** Stops the schedules, waits for running evaluations, persists state, closes everything. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const { logger, dispatcher } = this.parts;
      logger.info('shutting down');
      if (this.reloadTimer) clearTimeout(this.reloadTimer);
      this.departureTimer?.cancel();
      for (const w of this.watchers) w.close();
      const steps: [string, () => Promise<unknown>][] = [
        ['stop evaluations', async () => {
          await this.reloads;
          await Promise.all(this.runners.map((r) => r.stop(true)));
        }],
        ['stop rollup', () => this.parts.rollup?.stop() ?? Promise.resolve()],
        // Notifications get a chance to flush; what is still pending after that is in the snapshot
        // the persist step writes.
        ['flush notifications', async () => {
          const left = await dispatcher.flush(10_000);
          if (left > 0) logger.warn({ pending: left }, 'notifications still pending at shutdown: kept in the state file for the next start');
          await dispatcher.close();
        }],
        ['close HTTP server', () => this.http?.close() ?? Promise.resolve()],
        // Never over a state file that could not be read: it is the only copy of what was sent.
        ['persist state', () => (this.restored ? this.parts.manager.save() : Promise.resolve())],
        // Last of the state: the journal, then the lock (a next daemon may take the file from here).
        ['close state', () => this.parts.state.close()],
        ['close ClickHouse', () => this.parts.ch.close()],
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

function countRules(rs: RuleSet | null): number {
  return rs ? rs.groups.reduce((n, g) => n + g.rules.length, 0) : 0;
}
