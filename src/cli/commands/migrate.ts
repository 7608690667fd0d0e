/** `agentdrift migrate`: the contract's tables and views, idempotently; or the DDL of a new cluster. */
import type { Command } from 'commander';
import { clusterDdl } from '../../store/cluster.js';
import { migrate, type MigrationStep } from '../../store/migrate.js';
import { terminalProgress } from '../../util/progress.js';
import { action, err, out } from '../command.js';
import { describeTarget, resolveConfig, storeNames, UsageError, withStore, type GlobalOptions } from '../context.js';
import { dataOptions } from '../options.js';

interface MigrateOptions extends GlobalOptions {
  readonly cluster?: string;
  readonly printSql?: boolean;
  readonly rebuildAggregates?: boolean;
}

/**
 * Prints migrate's steps with `print`; a store agentdrift cannot read is said on stderr. True when
 * there was such a problem (the command then exits 1).
 */
export function reportSteps(steps: readonly MigrationStep[], print: (s: string) => void): boolean {
  for (const s of steps) print(`  ${s.action.padEnd(7)} ${s.kind} ${s.object}${s.detail ? ` (${s.detail})` : ''}`);
  let problems = false;
  for (const s of steps) {
    if (s.problem === undefined) continue;
    err(`agentdrift: ${s.problem}`);
    problems = true;
  }
  return problems;
}

export function migrateCommand(program: Command): void {
  dataOptions(program.command('migrate').description('create the agent_runs table, otel_traces (if absent), the view between them and the aggregate tables'))
    .option('--cluster <name>', 'create replicated local tables and Distributed tables ON CLUSTER <name> (a new, empty cluster)')
    .option('--print-sql', 'with --cluster: print the DDL instead of running it')
    .option('--rebuild-aggregates', 'drop and backfill the aggregate tables again (after runs were deleted from agent_runs)')
    .action(
      action(async (o: MigrateOptions) => {
        const config = await resolveConfig(o);
        if (o.printSql && !o.cluster) throw new UsageError('--print-sql goes with --cluster <name>');
        if (o.cluster) {
          const cluster = o.cluster;
          const ddl = clusterDdl(storeNames(config), cluster, config.aggregates, config.ttlDays ?? undefined);
          if (o.printSql) {
            out(ddl.map((s) => `${s};`).join('\n\n'));
            return;
          }
          await withStore(
            config,
            async (ch) => {
              for (const sql of ddl) await ch.command(sql);
              out(`ClickHouse ${describeTarget(config.clickhouse.target)}: ${ddl.length} statements run ON CLUSTER ${cluster}`);
            },
            { ready: false },
          );
          return;
        }
        return withStore(
          config,
          async (ch) => {
            const steps = await migrate(ch, storeNames(config), {
              ttlDays: config.ttlDays ?? undefined,
              aggregates: config.aggregates,
              progress: terminalProgress(process.stderr, 'aggregating', 'runs'),
              rebuildAggregates: o.rebuildAggregates === true,
            });
            out(`ClickHouse ${describeTarget(config.clickhouse.target)}`);
            return reportSteps(steps, out) ? 1 : 0;
          },
          { ready: false },
        );
      }),
    );
}
