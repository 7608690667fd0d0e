/** `agentdrift eval`: every rule evaluated once as of a time, one result per rule, group and key. */
import type { Command } from 'commander';
import { traceLink } from '../../explain/traceUrl.js';
import { findAggregates } from '../../store/aggregatesMigrate.js';
import { systemClock } from '../../util/clock.js';
import { action, out } from '../command.js';
import { agentRunsTable, resolveRules, storeNames, withStore, type RulesOptions } from '../context.js';
import { evalOnce, formatEvalTable } from '../evalOnce.js';
import { FAIL_ON, failsOn, parseStates, selectRows, sortRows, STATES } from '../evalView.js';
import { dataOptions, formatOption, oneOf, TIME_ARG, timeOf } from '../options.js';

interface EvalOptions extends RulesOptions {
  readonly at?: string;
  readonly format: string;
  readonly state?: string[];
  readonly failOn: string;
}

export function evalCommand(program: Command): void {
  const cmd = dataOptions(program.command('eval').description('evaluate every rule once and print one result per rule, group and key'))
    .option('--once', 'evaluate once and exit: what eval always does (kept for scripts that pass it)')
    .option(`--at ${TIME_ARG}`, 'evaluation time: ISO, now, or relative such as -1d (default: now)')
    .option('--state <states...>', `only series in these states: ${STATES.join(', ')} or all; repeated or comma-separated (default: all but inactive)`)
    .option('--fail-on <state>', 'exit 1 when a series is firing, or pending or firing; none: exit 0 whatever fires', 'none')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)');
  formatOption(cmd).action(
    action(async (o: EvalOptions) => {
      const now = systemClock.now();
      const at = timeOf('--at', o.at, now) ?? now;
      const format = formatOption.read(o.format);
      const states = parseStates(o.state);
      const failOn = oneOf('--fail-on', o.failOn, FAIL_ON);
      const { config, ruleSet } = await resolveRules(o);
      return withStore(
        config,
        async (ch) => {
          const aggregates = await findAggregates(ch, storeNames(config), config.aggregates);
          const rows = sortRows(await evalOnce(ch, agentRunsTable(config), ruleSet, at, aggregates, { traceUrl: traceLink(config.traceUrl) }));
          const { shown, hidden } = selectRows(rows, states);
          out(format === 'json' ? JSON.stringify(shown, null, 2) : formatEvalTable(shown, hidden));
          // --fail-on looks at every series, shown or not; a rule whose evaluation failed always fails.
          return rows.some((r) => r.error) || failsOn(rows, failOn) ? 1 : 0;
        },
        { ready: true },
      );
    }),
  );
}
