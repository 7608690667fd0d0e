/** `agentdrift backtest --from --to`: the rules replayed over history with the daemon's engine, sending nothing. */
import type { Command } from 'commander';
import { backtest } from '../../engine/backtest.js';
import { backtestJson, formatBacktestText } from '../backtestView.js';
import { findAggregates } from '../../store/aggregatesMigrate.js';
import { terminalProgress } from '../../util/progress.js';
import { action, out } from '../command.js';
import { agentRunsTable, resolveRules, storeNames, UsageError, withStore, type RulesOptions } from '../context.js';
import { dataOptions, durationArg, formatOption, TIME_ARG, timeOf } from '../options.js';
import { systemClock } from '../../util/clock.js';

interface BacktestOptions extends RulesOptions {
  readonly from: string;
  readonly to?: string;
  readonly step?: number;
  readonly format: string;
}

export function backtestCommand(program: Command): void {
  const cmd = dataOptions(program.command('backtest').description('replay the rules over history with the daemon\'s engine, on each group\'s schedule, sending nothing'))
    .requiredOption(`--from ${TIME_ARG}`, 'start of the replay: ISO, now, or relative such as -7d')
    .option(`--to ${TIME_ARG}`, 'end of the replay: ISO, now, or relative such as -1h (default: now)')
    .option('--step <duration>', 'evaluate every <duration> (e.g. 1h) instead of on each group\'s interval, from --from rounded up to a whole 5 minutes', durationArg)
    .option('--rules <paths...>', 'rule files or directories (default: from the config)');
  formatOption(cmd).action(
      action(async (o: BacktestOptions) => {
        const format = formatOption.read(o.format);
        const now = systemClock.now();
        const from = timeOf('--from', o.from, now)!;
        const to = timeOf('--to', o.to, now) ?? now;
        if (!(to > from)) throw new UsageError('--to must be after --from');
        const { config, ruleSet } = await resolveRules(o);
        await withStore(
          config,
          async (ch) => {
            const progress = terminalProgress(process.stderr, 'backtesting', 'group evaluations');
            let started = false;
            const result = await backtest({
              query: (sql, params, signal) => ch.query(sql, params, { signal }),
              table: agentRunsTable(config),
              aggregates: await findAggregates(ch, storeNames(config), config.aggregates),
              rules: ruleSet,
              fromMs: from,
              toMs: to,
              ...(o.step !== undefined ? { stepMs: o.step } : {}),
              onProgress: (done, total) => {
                if (!started) progress.start(total);
                started = true;
                progress.update(done);
              },
            });
            progress.stop();
            out(format === 'json' ? JSON.stringify(backtestJson(result, ruleSet), null, 2) : formatBacktestText(result, ruleSet));
          },
          { ready: true },
        );
      }),
    );
}
