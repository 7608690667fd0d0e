/** `agentdrift backtest --from --to`: the rules replayed over history with the daemon's engine, sending nothing. */
import type { Command } from 'commander';
import { backtest } from '../../engine/backtest.js';
import { asSent, backtestReport, printBacktest, type BacktestReport } from '../../report/commands.js';
import { terminalProgress } from '../../util/progress.js';
import { action, out } from '../command.js';
import { resolveConfig, resolveRules, storeAccess, UsageError, withStore, type RulesOptions } from '../context.js';
import { dataOptions, durationArg, formatOption, serverOption, TIME_ARG, timeOf } from '../options.js';
import { askDaemon, refuseRulesViaDaemon, routeFor } from '../server.js';
import { systemClock } from '../../util/clock.js';

interface BacktestOptions extends RulesOptions {
  readonly from: string;
  readonly to?: string;
  readonly step?: number;
  readonly format: string;
  readonly server?: string;
}

export function backtestCommand(program: Command): void {
  const cmd = dataOptions(program.command('backtest').description('replay the rules over history with the daemon\'s engine, on each group\'s schedule, sending nothing'))
    .requiredOption(`--from ${TIME_ARG}`, 'start of the replay: ISO, now, or relative such as -7d')
    .option(`--to ${TIME_ARG}`, 'end of the replay: ISO, now, or relative such as -1h (default: now)')
    .option('--step <duration>', 'evaluate every <duration> (e.g. 1h) instead of on each group\'s interval, from --from rounded up to a whole 5 minutes', durationArg)
    .option('--rules <paths...>', 'rule files or directories (default: from the config)');
  formatOption(serverOption(cmd)).action(
    action(async (o: BacktestOptions) => {
      const format = formatOption.read(o.format);
      const now = systemClock.now();
      const from = timeOf('--from', o.from, now)!;
      const to = timeOf('--to', o.to, now) ?? now;
      if (!(to > from)) throw new UsageError('--to must be after --from');
      const config = await resolveConfig(o);
      const route = await routeFor(config, o.server);
      refuseRulesViaDaemon(route, o.rules);
      let report: BacktestReport;
      if (route.kind === 'daemon') {
        const body = { from: new Date(from).toISOString(), to: new Date(to).toISOString(), step_seconds: o.step === undefined ? null : o.step / 1000 };
        report = await askDaemon<BacktestReport>(route, config, 'backtest', body);
      } else {
        const { ruleSet } = await resolveRules(o, config);
        const result = await withStore(
          config,
          async (ch) => {
            const s = await storeAccess(config, ch);
            const progress = terminalProgress(process.stderr, 'backtesting', 'group evaluations');
            let started = false;
            const r = await backtest({
              query: (sql, params, signal) => ch.query(sql, params, { signal }),
              table: s.table,
              aggregates: s.aggregates,
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
            return r;
          },
          { ready: true },
        );
        report = asSent(backtestReport(result, ruleSet));
      }
      out(printBacktest(report, format).text);
    }),
  );
}
