/** `agentdrift explain <rule>`: when a series' change started, what moved, what caused it, runs that show it. */
import type { Command } from 'commander';
import { seriesId } from '../../alerting/types.js';
import { formatExplanation } from '../../explain/format.js';
import { traceLink } from '../../explain/traceUrl.js';
import { findAggregates } from '../../store/aggregatesMigrate.js';
import { systemClock } from '../../util/clock.js';
import { action, out } from '../command.js';
import { agentRunsTable, findRule, resolveRules, storeNames, withStore, type RulesOptions } from '../context.js';
import { evalOnce } from '../evalOnce.js';
import { explainRule } from '../explain.js';
import { explanationJson, notFiringLine, type SeriesStatus } from '../explainView.js';
import { dataOptions, formatOption, groupOption, parseGroup, TIME_ARG, timeOf } from '../options.js';

interface ExplainOptions extends RulesOptions {
  readonly group?: string[];
  readonly at?: string;
  readonly format: string;
}

export function explainCommand(program: Command): void {
  const cmd = dataOptions(program.command('explain').description('explain a rule\'s alert: when it started, what moved, which change caused it, and runs that show it'));
  formatOption(
    groupOption(cmd.argument('<rule>', 'the alert name of the rule'))
      .option(`--at ${TIME_ARG}`, 'as of this time: ISO, now, or relative such as -1d (default: now)')
      .option('--rules <paths...>', 'rule files or directories (default: from the config)'),
  ).action(
    action(async (name: string, o: ExplainOptions) => {
      const now = systemClock.now();
      const at = timeOf('--at', o.at, now) ?? now;
      const format = formatOption.read(o.format);
      const match = parseGroup(o.group);
      const rules = await resolveRules(o);
      const rule = findRule(rules, name);
      const group = rules.ruleSet.groups.find((g) => g.rules.includes(rule))!;
      const { config } = rules;
      // No series matching --group is a NoSuchSeriesError: exit 2, as a usage error.
      await withStore(
        config,
        async (ch) => {
          const aggregates = await findAggregates(ch, storeNames(config), config.aggregates);
          const table = agentRunsTable(config);
          const found = await explainRule(ch, table, rule, match, at, { aggregates, traceUrl: traceLink(config.traceUrl) });
          // Each series' alert state as eval finds it (a daemon started at --at), to say first when it is not firing.
          const rows = await evalOnce(ch, table, { groups: [{ ...group, rules: [rule] }] }, at, aggregates);
          const statusOf = (labels: Readonly<Record<string, string>>): SeriesStatus | null => {
            const r = rows.find((x) => seriesId(x.rule, x.labels) === seriesId(rule.alert, labels));
            if (!r) return null;
            return { state: r.state, deviation: r.deviation, deviationKind: r.deviation_kind, isNew: r.is_new, pValue: r.p_value, reason: r.error };
          };
          if (format === 'json') {
            out(JSON.stringify(found.map((e) => explanationJson(e, statusOf(e.labels))), null, 2));
            return;
          }
          const texts = found.map((e) => {
            const status = statusOf(e.labels);
            const first = status === null ? null : notFiringLine(rule, status);
            return [...(first ? [first] : []), formatExplanation(e)].join('\n');
          });
          out(texts.join('\n\n'));
        },
        { ready: true },
      );
    }),
  );
}
