/** `agentdrift eval`: every rule evaluated once as of a time, one result per rule, group and key. */
import type { Command } from 'commander';
import { asSent, evalReport, printEval, type EvalReport } from '../../report/commands.js';
import { FAIL_ON, STATES } from '../../report/evalView.js';
import { systemClock } from '../../util/clock.js';
import { action, out } from '../command.js';
import { resolveConfig, resolveRules, storeAccess, withStore, type RulesOptions } from '../context.js';
import { dataOptions, formatOption, oneOf, parseStates, serverOption, TIME_ARG, timeOf } from '../options.js';
import { askDaemon, refuseRulesViaDaemon, routeFor } from '../server.js';

interface EvalOptions extends RulesOptions {
  readonly at?: string;
  readonly format: string;
  readonly state?: string[];
  readonly failOn: string;
  readonly server?: string;
}

export function evalCommand(program: Command): void {
  const cmd = dataOptions(program.command('eval').description('evaluate every rule once and print one result per rule, group and key'))
    .option('--once', 'evaluate once and exit: what eval always does (kept for scripts that pass it)')
    .option(`--at ${TIME_ARG}`, 'evaluation time: ISO, now, or relative such as -1d (default: now)')
    .option('--state <states...>', `only series in these states: ${STATES.join(', ')} or all; repeated or comma-separated (default: all but inactive)`)
    .option('--fail-on <state>', 'exit 1 when a series is firing, or pending or firing; none: exit 0 whatever fires', 'none')
    .option('--rules <paths...>', 'rule files or directories (default: from the config)');
  formatOption(serverOption(cmd)).action(
    action(async (o: EvalOptions) => {
      const now = systemClock.now();
      const at = timeOf('--at', o.at, now) ?? now;
      const format = formatOption.read(o.format);
      const states = parseStates(o.state);
      const failOn = oneOf('--fail-on', o.failOn, FAIL_ON);
      const config = await resolveConfig(o);
      const route = await routeFor(config, o.server);
      refuseRulesViaDaemon(route, o.rules);
      let report: EvalReport;
      if (route.kind === 'daemon') {
        report = await askDaemon<EvalReport>(route, config, 'eval', { at: new Date(at).toISOString() });
      } else {
        const { ruleSet } = await resolveRules(o, config);
        report = asSent(await withStore(config, async (ch) => evalReport(await storeAccess(config, ch), ruleSet, at), { ready: true }));
      }
      // --fail-on looks at every series, shown or not; a rule whose evaluation failed always fails.
      const printed = printEval(report, { format, states, failOn });
      out(printed.text);
      return printed.exit;
    }),
  );
}
