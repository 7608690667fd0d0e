/** The `agentdrift` command line. Every command that touches data accepts --config and --clickhouse. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ClickHouseAccessError } from '../clickhouse/client.js';
import { TargetError } from '../clickhouse/target.js';
import { hoursProgress, seedDemo, terminalProgress } from '../demo/seed.js';
import { composeDaemon } from '../daemon/compose.js';
import { InvalidRulesError } from '../daemon/daemon.js';
import { loadRuleFiles } from '../rules/load.js';
import { checkPaths } from '../rules/check.js';
import { formatProblem } from '../yaml/problem.js';
import { migrate } from '../store/migrate.js';
import { storeStatus, formatStatus } from '../store/status.js';
import { agentRunsTable, describeTarget, externalUrl, loggerFor, openStore, resolveConfig, resolveSettings, storeNames, UsageError, type GlobalOptions } from './context.js';
import { buildNotifiers, closeNotifiers } from '../notify/factory.js';
import { formatTestReport, testReceivers } from '../notify/testReceivers.js';
import { evalOnce, formatEvalTable } from './evalOnce.js';
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

export function buildProgram(): Command {
  const program = new Command('agentdrift')
    .description('Detects behaviour drift of tool-using AI agents from their runs in ClickHouse')
    .showHelpAfterError()
    .exitOverride();

  dataOptions(program.command('migrate').description('create the agent_runs table, otel_traces (if absent) and the view between them')).action(
    async (o: GlobalOptions) => {
      const config = await resolveConfig(o);
      const ch = await openStore(config);
      try {
        const steps = await migrate(ch, storeNames(config), { ttlDays: config.ttlDays ?? undefined });
        out(`ClickHouse ${describeTarget(config.clickhouse.target)}`);
        reportSteps(steps, out);
      } finally {
        await ch.close();
      }
    },
  );

  const demo = program.command('demo').description('demo data');
  dataOptions(demo.command('seed').description('write synthetic runs with four injected drifts as OpenTelemetry spans'))
    .option('--days <n>', 'days of history', positiveInt, 28)
    .option('--runs-per-day <n>', 'average runs per day over all workflows', positiveInt, 6000)
    .option('--seed <text>', 'random seed: the same seed and --end give the same runs', 'agentdrift')
    .option('--end <iso>', 'end of the seeded period (default: now)', isoTime)
    .option('--spans', 'write plain GenAI traces (no run summary) and roll them up into agent_runs, instead of summary root spans')
    .action(async (o: GlobalOptions & { days: number; runsPerDay: number; seed: string; end?: number; spans?: boolean }) => {
      const config = await resolveConfig(o);
      const ch = await openStore(config);
      try {
        const names = storeNames(config);
        const steps = await migrate(ch, names, { ttlDays: config.ttlDays ?? undefined });
        reportSteps(steps.filter((s) => s.problem !== undefined), err);
        if (process.exitCode === 1) return;
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
    .requiredOption('--once', 'evaluate once and exit (the only mode)')
    .option('--at <iso>', 'evaluation time (default: now)', isoTime)
    .option('--format <format>', 'table | json', 'table')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)')
    .action(async (o: GlobalOptions & { at?: number; format: string; rules?: string[] }) => {
      if (o.format !== 'table' && o.format !== 'json') throw new UsageError('--format must be table or json');
      const config = await resolveConfig(o);
      const loaded = await loadRuleFiles(o.rules ?? config.rules);
      if (!loaded.ruleSet) throw new UsageError(loaded.problems.map(formatProblem).join('\n'));
      const ch = await openStore(config);
      try {
        const rows = await evalOnce(ch, agentRunsTable(config), loaded.ruleSet, o.at ?? Date.now());
        out(o.format === 'json' ? JSON.stringify(rows, null, 2) : formatEvalTable(rows));
        if (rows.some((r) => r.error)) process.exitCode = 1;
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

  dataOptions(program.command('start').description('run the daemon: evaluate rules on schedule, export metrics, send alerts'))
    .option('--demo', 'seed demo data when the store is empty (what `npm start` does); implies --migrate')
    .option('--migrate', 'run `migrate` first (needs DDL rights; the daemon itself only reads)')
    .option('--demo-end <iso>', 'end of the demo period --demo seeds (default: the daemon\'s current time)', isoTime)
    .option('--now <iso>', 'start the daemon\'s clock at this time instead of the system time (it then advances in real time): replays a pinned period, as the tests do', isoTime)
    .action(async (o: GlobalOptions & { demo?: boolean; migrate?: boolean; demoEnd?: number; now?: number }) => {
      const { config, notify } = await resolveSettings(o);
      const logger = loggerFor(config, o);
      const ch = await openStore(config);
      const names = storeNames(config);
      const daemon = composeDaemon({
        config,
        notify,
        ch,
        names,
        logger,
        clock: o.now === undefined ? systemClock : shiftedClock(o.now),
        externalUrl: externalUrl(config),
        demo: !!o.demo,
        migrate: !!o.migrate,
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
        await daemon.close();
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
    if (e instanceof ClickHouseAccessError || e instanceof InvalidRulesError || e instanceof RollupUnavailableError) {
      err(`agentdrift: ${e.message}`);
      return 1;
    }
    err(`agentdrift: ${(e as Error)?.stack ?? String(e)}`);
    return 1;
  }
}
