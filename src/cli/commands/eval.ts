/** `agentdrift eval`: every rule evaluated once as of a time, one result per rule, group and key. */
import type { Command } from 'commander';
import { traceLink } from '../../explain/traceUrl.js';
import { findAggregates } from '../../store/aggregatesMigrate.js';
import { action, out } from '../command.js';
import { agentRunsTable, resolveRules, storeNames, withStore, type RulesOptions } from '../context.js';
import { evalOnce, formatEvalTable } from '../evalOnce.js';
import { dataOptions, oneOf, TIME_ARG, timeOf } from '../options.js';
import { systemClock } from '../../util/clock.js';

interface EvalOptions extends RulesOptions {
  readonly at?: string;
  readonly format: string;
}

export function evalCommand(program: Command): void {
  dataOptions(program.command('eval').description('evaluate every rule once and print one result per rule, group and key'))
    .option('--once', 'evaluate once and exit: what eval always does (kept for scripts that pass it)')
    .option(`--at ${TIME_ARG}`, 'evaluation time: ISO, now, or relative such as -1d (default: now)')
    .option('--format <format>', 'table | json', 'table')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)')
    .action(
      action(async (o: EvalOptions) => {
        const now = systemClock.now();
        const at = timeOf('--at', o.at, now) ?? now;
        const format = oneOf('--format', o.format, ['table', 'json']);
        const { config, ruleSet } = await resolveRules(o);
        return withStore(
          config,
          async (ch) => {
            const aggregates = await findAggregates(ch, storeNames(config), config.aggregates);
            const rows = await evalOnce(ch, agentRunsTable(config), ruleSet, at, aggregates, { traceUrl: traceLink(config.traceUrl) });
            out(format === 'json' ? JSON.stringify(rows, null, 2) : formatEvalTable(rows));
            return rows.some((r) => r.error) ? 1 : 0;
          },
          { ready: true },
        );
      }),
    );
}
