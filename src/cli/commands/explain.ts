/** `agentdrift explain <rule>`: when a series' change started, what moved, what caused it, runs that show it. */
import type { Command } from 'commander';
import { formatExplanation } from '../../explain/format.js';
import { traceLink } from '../../explain/traceUrl.js';
import { findAggregates } from '../../store/aggregatesMigrate.js';
import { action, out } from '../command.js';
import { agentRunsTable, findRule, resolveRules, storeNames, withStore, type RulesOptions } from '../context.js';
import { explainRule } from '../explain.js';
import { dataOptions, groupOption, oneOf, parseGroup, TIME_ARG, timeOf } from '../options.js';
import { systemClock } from '../../util/clock.js';

interface ExplainOptions extends RulesOptions {
  readonly group?: string[];
  readonly at?: string;
  readonly format: string;
}

export function explainCommand(program: Command): void {
  const cmd = dataOptions(program.command('explain').description('explain a rule\'s alert: when it started, what moved, which change caused it, and runs that show it'));
  groupOption(cmd.argument('<rule>', 'the alert name of the rule'))
    .option(`--at ${TIME_ARG}`, 'as of this time: ISO, now, or relative such as -1d (default: now)')
    .option('--format <format>', 'text | json', 'text')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)')
    .action(
      action(async (name: string, o: ExplainOptions) => {
        const format = oneOf('--format', o.format, ['text', 'json']);
        const now = systemClock.now();
        const at = timeOf('--at', o.at, now) ?? now;
        const match = parseGroup(o.group);
        const rules = await resolveRules(o);
        const rule = findRule(rules, name);
        const { config } = rules;
        // No series matching --group is a NoSuchSeriesError: exit 2, as a usage error.
        await withStore(
          config,
          async (ch) => {
            const aggregates = await findAggregates(ch, storeNames(config), config.aggregates);
            const found = await explainRule(ch, agentRunsTable(config), rule, match, at, { aggregates, traceUrl: traceLink(config.traceUrl) });
            out(format === 'json' ? JSON.stringify(found, null, 2) : found.map(formatExplanation).join('\n\n'));
          },
          { ready: true },
        );
      }),
    );
}
