/** The `agentdrift` command line. Every command that touches data accepts --config and --clickhouse. */
import { alertmanagerOnly } from '../notify/replica.js';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { StateFileError } from '../alerting/stateFile.js';
import { acquireStateLock, StateLockError } from '../alerting/stateLock.js';
import { ClickHouseAccessError } from '../clickhouse/client.js';
import { TargetError } from '../clickhouse/target.js';
import { hoursProgress, resetStore, seedDecision, seedDemo, storeContents, type SeedMode } from '../demo/seed.js';
import { terminalProgress } from '../util/progress.js';
import { composeDaemon } from '../daemon/compose.js';
import { InvalidRulesError } from '../daemon/daemon.js';
import { loadRuleFiles } from '../rules/load.js';
import { checkPaths } from '../rules/check.js';
import { formatProblems } from '../yaml/problem.js';
import { migrate } from '../store/migrate.js';
import { clusterDdl } from '../store/cluster.js';
import { findAggregates } from '../store/aggregatesMigrate.js';
import { storeStatus, formatStatus } from '../store/status.js';
import { refuseMissingEmbeddedStore, StoreNotReadyError } from '../store/ready.js';
import { agentRunsTable, describeTarget, externalUrl, loggerFor, openReadyStore, openStore, resolveConfig, resolveSettings, storeNames, UsageError, type GlobalOptions } from './context.js';
import { buildNotifiers, closeNotifiers } from '../notify/factory.js';
import { formatTestReport, testReceivers } from '../notify/testReceivers.js';
import { evalOnce, formatEvalTable } from './evalOnce.js';
import { explainRule, NoSuchSeriesError } from './explain.js';
import { formatExplanation } from '../explain/format.js';
import { traceLink } from '../explain/traceUrl.js';
import { backtest, formatBacktest } from '../engine/backtest.js';
import { shiftedClock, systemClock } from '../util/clock.js';
import { describeCounters, rollupRange, RollupUnavailableError } from '../rollup/pass.js';
import { parseDuration } from '../yaml/duration.js';
import type { MigrationStep } from '../store/migrate.js';

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const err = (s: string) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);

function positiveInt(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x <= 0) throw new InvalidArgumentError('must be a positive integer');
  return x;
}

function isoTime(v: string): number {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError('must be an ISO-8601 time such as 2026-11-22T09:00:00Z');
  return t;
}

function durationArg(v: string): number {
  try {
    const ms = parseDuration(v);
    if (ms > 0) return ms;
  } catch {
    // the message below says what is accepted
  }
  throw new InvalidArgumentError('must be a duration such as 30m, 6h or 1d');
}

/** Prints migrate's steps; a store agentdrift cannot read is said on stderr, and the command exits 1. */
/** The message of an error answer of the daemon's API (`{"error": {"code", "message"}}` or `{"error": "..."}`), else its text. */
function errorMessage(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
    if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  } catch {
    // not JSON: the text as it is
  }
  return text.trim();
}

function reportSteps(steps: readonly MigrationStep[], print: (s: string) => void): void {
  for (const s of steps) print(`  ${s.action.padEnd(7)} ${s.kind} ${s.object}${s.detail ? ` (${s.detail})` : ''}`);
  for (const s of steps) {
    if (s.problem === undefined) continue;
    err(`agentdrift: ${s.problem}`);
    process.exitCode = 1;
  }
}

function dataOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'daemon configuration (default: ./agentdrift.yaml if present)')
    .option('--clickhouse <target>', 'chdb:<dir> or http(s)://host:port/database (overrides the config)')
    .option('--log-level <level>', 'debug | info | warn | error');
}

/** The version in the package's own package.json (found from this module, not the working directory). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

export function buildProgram(): Command {
  const program = new Command('agentdrift')
    .description('Detects behaviour drift of tool-using AI agents from their runs in ClickHouse')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride();

  dataOptions(program.command('migrate').description('create the agent_runs table, otel_traces (if absent), the view between them and the aggregate tables'))
    .option('--cluster <name>', 'create replicated local tables and Distributed tables ON CLUSTER <name> (a new, empty cluster)')
    .option('--print-sql', 'with --cluster: print the DDL instead of running it')
    .option('--rebuild-aggregates', 'drop and backfill the aggregate tables again (after runs were deleted from agent_runs)')
    .action(async (o: GlobalOptions & { cluster?: string; printSql?: boolean; rebuildAggregates?: boolean }) => {
      const config = await resolveConfig(o);
      if (o.printSql && !o.cluster) throw new UsageError('--print-sql goes with --cluster <name>');
      if (o.cluster) {
        const ddl = clusterDdl(storeNames(config), o.cluster, config.aggregates, config.ttlDays ?? undefined);
        if (o.printSql) {
          out(ddl.map((s) => `${s};`).join('\n\n'));
          return;
        }
        const ch = await openStore(config);
        try {
          for (const sql of ddl) await ch.command(sql);
          out(`ClickHouse ${describeTarget(config.clickhouse.target)}: ${ddl.length} statements run ON CLUSTER ${o.cluster}`);
        } finally {
          await ch.close();
        }
        return;
      }
      const ch = await openStore(config);
      try {
        const steps = await migrate(ch, storeNames(config), {
          ttlDays: config.ttlDays ?? undefined,
          aggregates: config.aggregates,
          progress: terminalProgress(process.stderr, 'aggregating', 'runs'),
          rebuildAggregates: o.rebuildAggregates === true,
        });
        out(`ClickHouse ${describeTarget(config.clickhouse.target)}`);
        reportSteps(steps, out);
      } finally {
        await ch.close();
      }
    });

  const demo = program.command('demo').description('demo data');
  dataOptions(demo.command('seed').description('write synthetic runs with four injected drifts as OpenTelemetry spans'))
    .option('--days <n>', 'days of history', positiveInt, 28)
    .option('--runs-per-day <n>', 'average runs per day over all workflows', positiveInt, 6000)
    .option('--seed <text>', 'random seed: the same seed and --end give the same runs', 'agentdrift')
    .option('--end <iso>', 'end of the seeded period (default: now)', isoTime)
    .option('--append', 'add the demo to a store that already holds runs or spans')
    .option('--reset', 'delete every run and span first (truncates agent_runs and otel_traces)')
    .option('--if-empty', 'seed only an empty store; leave one that holds data alone and succeed')
    .option('--spans', 'write plain GenAI traces (no run summary) and roll them up into agent_runs, instead of summary root spans')
    .action(async (o: GlobalOptions & { days: number; runsPerDay: number; seed: string; end?: number; append?: boolean; reset?: boolean; ifEmpty?: boolean; spans?: boolean }) => {
      const modes: SeedMode[] = [...(o.append ? (['append'] as const) : []), ...(o.reset ? (['reset'] as const) : []), ...(o.ifEmpty ? (['if-empty'] as const) : [])];
      if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} exclude each other`);
      const config = await resolveConfig(o);
      const ch = await openStore(config);
      try {
        const names = storeNames(config);
        const steps = await migrate(ch, names, { ttlDays: config.ttlDays ?? undefined, aggregates: config.aggregates, progress: terminalProgress(process.stderr, 'aggregating', 'runs') });
        reportSteps(steps.filter((s) => s.problem !== undefined), err);
        if (process.exitCode === 1) return;
        const held = await storeContents(ch, names);
        const holds = `${describeTarget(config.clickhouse.target)} already holds ${held.runs} runs (${names.agentRuns}) and ${held.spans} spans (${names.otelTraces})`;
        switch (seedDecision(held, modes[0] ?? 'refuse')) {
          case 'refuse':
            throw new UsageError(`${holds}: seeding would add the demo to them. Pass --append to do that, --reset to delete them first, or --if-empty to leave them alone`);
          case 'skip':
            out(`${holds}: not seeding (--if-empty)`);
            return;
          case 'reset-then-seed':
            await resetStore(ch, names);
            out(`deleted ${held.runs} runs and ${held.spans} spans (--reset)`);
            break;
          case 'seed':
            break;
        }
        const r = await seedDemo(
          ch,
          names,
          { days: o.days, runsPerDay: o.runsPerDay, seed: o.seed, endMs: o.end ?? Date.now(), form: o.spans ? 'spans' : 'summary' },
          terminalProgress(),
          hoursProgress(terminalProgress(process.stderr, 'rolling up', 'hours')),
        );
        const form = o.spans ? `as ${r.spans} plain GenAI spans ` : '';
        out(`seeded ${r.inserted} runs ${form}from ${new Date(r.plan.startMs).toISOString()} to ${new Date(r.plan.endMs).toISOString()} in ${(r.elapsedMs / 1000).toFixed(1)}s`);
        if (r.rollup) out(`rolled up in ${(r.rollup.elapsedMs / 1000).toFixed(1)}s: ${describeCounters(r.rollup.counters)}`);
        out('injected drifts:');
        for (const d of r.plan.drifts) {
          const when = new Date(d.startsAt);
          const day = when.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
          out(`  ${d.signal.padEnd(22)} ${d.workflowId.padEnd(19)} from ${when.toISOString()} (${day}): ${d.description}`);
        }
        out('workflows that never drift: lead_scoring, email_drafting');
      } finally {
        await ch.close();
      }
    });

  dataOptions(
    program
      .command('rollup')
      .description('roll plain GenAI spans up into agent_runs rows: one per agent run whose span ended in [--from, --to) (backfill; the daemon does the same on a schedule)'),
  )
    .requiredOption('--from <iso>', 'first run end to roll up', isoTime)
    .requiredOption('--to <iso>', 'roll up runs that ended before this time', isoTime)
    .option('--chunk <duration>', 'longest interval of one pass: bounds memory, shows progress', durationArg, 6 * 3_600_000)
    .action(async (o: GlobalOptions & { from: number; to: number; chunk: number }) => {
      if (!(o.to > o.from)) throw new UsageError('--to must be after --from');
      const config = await resolveConfig(o);
      const ch = await openStore(config);
      try {
        // No migrate here: a backfill needs INSERT rights, not DDL ones. A store migrate has not
        // prepared fails with ClickHouse's "unknown table" and the hint to run it.
        const r = await rollupRange(
          ch,
          storeNames(config),
          {
            fromMs: o.from,
            toMs: o.to,
            chunkMs: o.chunk,
            mode: 'backfill',
            at: systemClock.now(),
            lookbackMs: config.rollup.maxRunDurationMs,
            prices: config.rollup.prices,
          },
          hoursProgress(terminalProgress(process.stderr, 'rolling up', 'hours')),
        );
        out(`rolled up runs that ended from ${new Date(o.from).toISOString()} to ${new Date(o.to).toISOString()} in ${r.passes} passes (${(r.elapsedMs / 1000).toFixed(1)}s)`);
        out(describeCounters(r.counters));
      } finally {
        await ch.close();
      }
    });

  program
    .command('check')
    .description('validate rule files and directories, reporting every problem as file:line:col')
    .argument('<paths...>', 'rule files or directories')
    .action(async (paths: string[]) => {
      const r = await checkPaths(paths);
      (r.ok ? out : err)(r.output);
      if (!r.ok) process.exitCode = 1;
    });

  dataOptions(program.command('eval').description('evaluate every rule once and print one result per rule, group and key'))
    .option('--once', 'evaluate once and exit: what eval always does (kept for scripts that pass it)')
    .option('--at <iso>', 'evaluation time (default: now)', isoTime)
    .option('--format <format>', 'table | json', 'table')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)')
    .action(async (o: GlobalOptions & { at?: number; format: string; rules?: string[] }) => {
      if (o.format !== 'table' && o.format !== 'json') throw new UsageError('--format must be table or json');
      const config = await resolveConfig(o);
      const loaded = await loadRuleFiles(o.rules ?? config.rules);
      if (!loaded.ruleSet) throw new UsageError(formatProblems(loaded.problems).join('\n'));
      const ch = await openReadyStore(config);
      try {
        const rows = await evalOnce(ch, agentRunsTable(config), loaded.ruleSet, o.at ?? Date.now(), await findAggregates(ch, storeNames(config), config.aggregates), { traceUrl: traceLink(config.traceUrl) });
        out(o.format === 'json' ? JSON.stringify(rows, null, 2) : formatEvalTable(rows));
        if (rows.some((r) => r.error)) process.exitCode = 1;
      } finally {
        await ch.close();
      }
    });

  dataOptions(program.command('explain').description('explain a rule\'s alert: when it started, what moved, which change caused it, and runs that show it'))
    .argument('<rule>', 'the alert name of the rule')
    .option('--group <label=value...>', 'only the series with these labels (e.g. workflow_id=invoice_enrichment tool=enrich_company)')
    .option('--at <iso>', 'as of this time (default: now)', isoTime)
    .option('--format <format>', 'text | json', 'text')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)')
    .action(async (name: string, o: GlobalOptions & { group?: string[]; at?: number; format: string; rules?: string[] }) => {
      if (o.format !== 'text' && o.format !== 'json') throw new UsageError('--format must be text or json');
      const match: Record<string, string> = {};
      for (const g of o.group ?? []) {
        const i = g.indexOf('=');
        if (i <= 0) throw new UsageError(`--group takes label=value, got ${JSON.stringify(g)}`);
        match[g.slice(0, i)] = g.slice(i + 1);
      }
      const config = await resolveConfig(o);
      const loaded = await loadRuleFiles(o.rules ?? config.rules);
      if (!loaded.ruleSet) throw new UsageError(formatProblems(loaded.problems).join('\n'));
      const rule = loaded.ruleSet.groups.flatMap((g) => g.rules).find((r) => r.alert === name);
      if (!rule) throw new UsageError(`no rule named ${JSON.stringify(name)} in ${(o.rules ?? config.rules).join(', ')}`);
      const ch = await openReadyStore(config);
      try {
        const aggregates = await findAggregates(ch, storeNames(config), config.aggregates);
        const found = await explainRule(ch, agentRunsTable(config), rule, match, o.at ?? Date.now(), { aggregates, traceUrl: traceLink(config.traceUrl) }).catch((e: unknown) => {
          if (e instanceof NoSuchSeriesError) throw new UsageError(e.message);
          throw e;
        });
        out(o.format === 'json' ? JSON.stringify(found, null, 2) : found.map(formatExplanation).join('\n\n'));
      } finally {
        await ch.close();
      }
    });

  dataOptions(program.command('status').description('row counts, time range and malformed rows of the store; spans, and what the rollup saw and skipped')).action(async (o: GlobalOptions) => {
    const config = await resolveConfig(o);
    const ch = await openStore(config);
    try {
      const status = await storeStatus(ch, storeNames(config));
      out(formatStatus(status, describeTarget(config.clickhouse.target)));
      // A traces table agentdrift cannot read is a finding, not a quiet zero.
      if (status.spanTable.problem !== null) process.exitCode = 1;
    } finally {
      await ch.close();
    }
  });

  dataOptions(program.command('backtest').description('replay the rules over history with the daemon\'s engine, on each group\'s schedule, sending nothing'))
    .requiredOption('--from <iso>', 'start of the replay', isoTime)
    .requiredOption('--to <iso>', 'end of the replay', isoTime)
    .option('--step <duration>', 'evaluate every <duration> (e.g. 1h) instead of on each group\'s interval, from --from rounded up to a whole 5 minutes', durationArg)
    .option('--rules <paths...>', 'rule files or directories (default: from the config)')
    .option('--format <format>', 'text | json', 'text')
    .action(async (o: GlobalOptions & { from: number; to: number; step?: number; rules?: string[]; format: string }) => {
      if (o.format !== 'text' && o.format !== 'json') throw new UsageError('--format must be text or json');
      if (!(o.to > o.from)) throw new UsageError('--to must be after --from');
      const config = await resolveConfig(o);
      const loaded = await loadRuleFiles(o.rules ?? config.rules);
      if (!loaded.ruleSet) throw new UsageError(formatProblems(loaded.problems).join('\n'));
      const ch = await openReadyStore(config);
      try {
        const progress = terminalProgress(process.stderr, 'backtesting', 'group evaluations');
        let started = false;
        const result = await backtest({
          query: (sql, params, signal) => ch.query(sql, params, { signal }),
          table: agentRunsTable(config),
          aggregates: await findAggregates(ch, storeNames(config), config.aggregates),
          rules: loaded.ruleSet,
          fromMs: o.from,
          toMs: o.to,
          ...(o.step !== undefined ? { stepMs: o.step } : {}),
          onProgress: (done, total) => {
            if (!started) progress.start(total);
            started = true;
            progress.update(done);
          },
        });
        progress.stop();
        out(o.format === 'json' ? JSON.stringify(result, null, 2) : formatBacktest(result));
      } finally {
        await ch.close();
      }
    });

  program
    .command('accept')
    .description('accept the current value of firing alerts as the new normal: they resolve now and are compared with it from then on')
    .argument('<rule>', 'the alert name of the rule')
    .option('--group <label=value...>', 'only the series with these labels (e.g. workflow_id=invoice_enrichment tool=enrich_company)')
    .requiredOption('--reason <text>', 'why (recorded, shown in /alerts and the resolved notification)')
    .option('--url <url>', "the daemon's HTTP address (default: from the config's listen)")
    .option('-c, --config <file>', 'daemon configuration (default: ./agentdrift.yaml if present)')
    .action(async (rule: string, o: GlobalOptions & { group?: string[]; reason: string; url?: string }) => {
      const match: Record<string, string> = {};
      for (const g of o.group ?? []) {
        const i = g.indexOf('=');
        if (i <= 0) throw new UsageError(`--group takes label=value, got ${JSON.stringify(g)}`);
        match[g.slice(0, i)] = g.slice(i + 1);
      }
      const config = await resolveConfig(o);
      const host = ['0.0.0.0', '::', ''].includes(config.listen.host) ? '127.0.0.1' : config.listen.host;
      const base = o.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.listen.port}`;
      let res: Response;
      try {
        res = await fetch(`${base.replace(/\/+$/, '')}/api/v1/accept`, {
          method: 'POST',
          // The daemon takes JSON only, and the token when its config (the same file) sets api.token_file.
          headers: { 'Content-Type': 'application/json', ...(config.api ? { Authorization: `Bearer ${config.api.token}` } : {}) },
          body: JSON.stringify({ alertname: rule, match, reason: o.reason }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        throw new UsageError(`cannot reach the daemon at ${base}: ${(e as Error).message} (is it running? pass --url)`);
      }
      const text = await res.text();
      if (!res.ok) throw new UsageError(`the daemon refused: ${res.status} ${errorMessage(text)}`);
      const body = JSON.parse(text) as { accepted: { labels: Record<string, string>; baseline: number | null; until: string | null }[] };
      if (body.accepted.length === 0) {
        err(`no firing series of ${rule} matched${o.group ? ` ${o.group.join(' ')}` : ''}: nothing accepted`);
        process.exitCode = 1;
        return;
      }
      for (const a of body.accepted) {
        out(`accepted ${rule} ${Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' ')}: new normal ${a.baseline}, compared with it until ${a.until}`);
      }
    });

  dataOptions(program.command('start').description('run the daemon: evaluate rules on schedule, export metrics, send alerts'))
    .option('--demo', 'seed demo data when the store is empty (what `npm start` does); implies --migrate')
    .option('--migrate', 'run `migrate` first (needs DDL rights; the daemon itself only reads)')
    .option('--demo-end <iso>', 'end of the demo period --demo seeds (default: the daemon\'s current time)', isoTime)
    .option('--now <iso>', 'start the daemon\'s clock at this time instead of the system time (it then advances in real time): replays a pinned period, as the tests do', isoTime)
    .option('--alertmanager-only', 'send to the Alertmanager receivers only, not to Slack, email or webhooks: for every replica but one (README, "Running two replicas")')
    .option('--fresh-state', 'start with empty alert and notification state: an existing state file and journal are moved aside (never deleted) first; needed after a corrupt state file was moved aside')
    .action(async (o: GlobalOptions & { demo?: boolean; migrate?: boolean; demoEnd?: number; now?: number; freshState?: boolean; alertmanagerOnly?: boolean }) => {
      const settings = await resolveSettings(o);
      const { config } = settings;
      const logger = loggerFor(config, o);
      let notify = settings.notify;
      if (o.alertmanagerOnly) {
        const only = alertmanagerOnly(notify);
        notify = only.notify;
        logger.info({ disabled_receivers: only.disabled }, `--alertmanager-only: direct receivers not used by this replica${only.disabled.length > 0 ? `: ${only.disabled.join(', ')}` : ''}`);
      }
      // Without --demo or --migrate nothing creates agent_runs: an embedded store that does not exist yet is
      // refused before the lock or the store would create its directory (an existing one: in Daemon.start).
      if (!o.demo && !o.migrate && !config.demo.seedIfEmpty) refuseMissingEmbeddedStore(config.clickhouse.target, storeNames(config), config.clickhouse.targetSpec);
      const clock = o.now === undefined ? systemClock : shiftedClock(o.now);
      // Before the store: a second daemon on this state file is refused for that, whatever else it shares.
      const lock = await acquireStateLock(config.stateFile, { logger, now: clock.now() });
      let ch;
      try {
        ch = await openStore(config);
      } catch (e) {
        await lock.release();
        throw e;
      }
      const names = storeNames(config);
      const daemon = composeDaemon({
        config,
        notify,
        ch,
        names,
        logger,
        clock,
        externalUrl: externalUrl(config),
        demo: !!o.demo,
        migrate: !!o.migrate,
        freshState: !!o.freshState,
        lock,
        ...(o.demoEnd !== undefined ? { demoEndMs: o.demoEnd } : {}),
      });
      const stop = async (signal: string) => {
        logger.info({ signal }, 'signal received');
        await daemon.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      process.on('SIGHUP', () => void daemon.reload('SIGHUP'));
      try {
        await daemon.start();
      } catch (e) {
        // The reason the start failed is what the user needs to read, not a failure of the cleanup.
        await daemon.close().catch((closeErr: unknown) => logger.debug({ err: closeErr }, 'cleanup after a failed start failed too'));
        throw e;
      }
      // Runs until a signal arrives.
      await new Promise<never>(() => undefined);
    });

  program
    .command('test-receivers')
    .description('send one sample alert to every configured receiver and report each result')
    .option('-c, --config <file>', 'daemon configuration (default: ./agentdrift.yaml if present)')
    .action(async (o: GlobalOptions) => {
      const { config, notify } = await resolveSettings(o);
      const notifiers = buildNotifiers(notify, { externalURL: externalUrl(config) });
      if (notifiers.length === 0) throw new UsageError('no receivers configured: add some under `receivers:` in agentdrift.yaml');
      try {
        const results = await testReceivers(notifiers);
        out(formatTestReport(results));
        if (results.some((r) => !r.ok)) process.exitCode = 1;
      } finally {
        await closeNotifiers(notifiers);
      }
    });

  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 findings/failures, 2 usage or configuration errors). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof TargetError) {
      err(`agentdrift: ${e.message}`);
      return 2;
    }
    if (e instanceof ClickHouseAccessError || e instanceof InvalidRulesError || e instanceof StateFileError || e instanceof StateLockError || e instanceof RollupUnavailableError || e instanceof StoreNotReadyError) {
      err(`agentdrift: ${e.message}`);
      return 1;
    }
    err(unexpected(e));
    return 1;
  }
}

/**
 * Anything else that stops a command, as one line: a failure to listen, a file that cannot be read.
 * The stack trace is for developers: AGENTDRIFT_DEBUG=1 prints it.
 */
export function unexpected(e: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const error = e instanceof Error ? e : new Error(String(e));
  if (env.AGENTDRIFT_DEBUG) return `agentdrift: ${error.stack ?? error.message}`;
  const line = error.message.split('\n')[0]!.trim() || error.name;
  // A plain Error or a system error (ENOENT, EADDRINUSE, ...) says what happened; a TypeError is a bug.
  const expected = error.constructor === Error || typeof (error as NodeJS.ErrnoException).code === 'string';
  return expected ? `agentdrift: ${line}` : `agentdrift: ${error.name}: ${line} (a bug: AGENTDRIFT_DEBUG=1 prints where)`;
}
