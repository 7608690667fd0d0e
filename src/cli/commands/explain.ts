/** `agentdrift explain <rule>`: when a series' change started, what moved, what caused it, runs that show it. */
import type { Command } from 'commander';
import { asSent, explainReport, printExplain, type ExplainReport } from '../../report/commands.js';
import { systemClock } from '../../util/clock.js';
import { action, out } from '../command.js';
import { findRule, resolveConfig, resolveRules, storeAccess, withStore, type RulesOptions } from '../context.js';
import { dataOptions, formatOption, groupOption, parseGroup, serverOption, TIME_ARG, timeOf } from '../options.js';
import { askDaemon, refuseRulesViaDaemon, routeFor } from '../server.js';

interface ExplainOptions extends RulesOptions {
  readonly group?: string[];
  readonly at?: string;
  readonly format: string;
  readonly server?: string;
}

export function explainCommand(program: Command): void {
  const cmd = dataOptions(program.command('explain').description('explain a rule\'s alert: when it started, what moved, which change caused it, and runs that show it'));
  formatOption(
    serverOption(
      groupOption(cmd.argument('<rule>', 'the alert name of the rule'))
        .option(`--at ${TIME_ARG}`, 'as of this time: ISO, now, or relative such as -1d (default: now)')
        .option('--rules <paths...>', 'rule files or directories (default: from the config)'),
    ),
  ).action(
    action(async (name: string, o: ExplainOptions) => {
      const now = systemClock.now();
      const at = timeOf('--at', o.at, now) ?? now;
      const format = formatOption.read(o.format);
      const match = parseGroup(o.group);
      const config = await resolveConfig(o);
      const route = await routeFor(config, o.server);
      refuseRulesViaDaemon(route, o.rules);
      // An unknown rule, or no series matching --group: exit 2, as a usage error, either way.
      let report: ExplainReport;
      if (route.kind === 'daemon') {
        report = await askDaemon<ExplainReport>(route, config, 'explain', { alertname: name, match, at: new Date(at).toISOString() });
      } else {
        const rules = await resolveRules(o, config);
        const rule = findRule(rules, name);
        report = asSent(await withStore(config, async (ch) => explainReport(await storeAccess(config, ch), rules.ruleSet, rule, match, at), { ready: true }));
      }
      out(printExplain(report, format).text);
    }),
  );
}
