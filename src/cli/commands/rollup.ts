/** `agentdrift rollup --from --to`: plain GenAI spans rolled up into agent_runs rows (a backfill). */
import { Option, type Command } from 'commander';
import { hoursProgress } from '../../demo/seed.js';
import { describeCounters, rollupRange } from '../../rollup/pass.js';
import { describeScores, runScoresPass } from '../../rollup/scores.js';
import { systemClock } from '../../util/clock.js';
import { terminalProgress } from '../../util/progress.js';
import { action, out } from '../command.js';
import { resolveConfig, storeNames, UsageError, withStore, type GlobalOptions } from '../context.js';
import { dataOptions, durationArg, TIME_ARG, timeOf } from '../options.js';

interface RollupOptions extends GlobalOptions {
  readonly from: string;
  readonly to: string;
  readonly chunk: number;
}

export function rollupCommand(program: Command): void {
  dataOptions(
    program
      .command('rollup')
      .description('roll plain GenAI spans up into agent_runs rows: one per agent run whose span ended in [--from, --to) (backfill; the daemon does the same on a schedule)'),
  )
    .requiredOption(`--from ${TIME_ARG}`, 'first run end to roll up (ISO, now, or relative: -7d)')
    .requiredOption(`--to ${TIME_ARG}`, 'roll up runs that ended before this time (ISO, now, or relative: -1h)')
    // A duration's default is shown as one ("6h"), not as the milliseconds it parses to.
    .addOption(new Option('--chunk <duration>', 'longest interval of one pass: bounds memory, shows progress').argParser(durationArg).default(6 * 3_600_000, '6h'))
    .action(
      action(async (o: RollupOptions) => {
        const now = systemClock.now();
        const from = timeOf('--from', o.from, now)!;
        const to = timeOf('--to', o.to, now)!;
        if (!(to > from)) throw new UsageError('--to must be after --from');
        const config = await resolveConfig(o);
        // No migrate here: a backfill needs INSERT rights, not DDL ones. A store migrate has not
        // prepared fails with ClickHouse's "unknown table" and the hint to run it.
        await withStore(
          config,
          async (ch) => {
            const r = await rollupRange(
              ch,
              storeNames(config),
              {
                fromMs: from,
                toMs: to,
                chunkMs: o.chunk,
                mode: 'backfill',
                at: now,
                lookbackMs: config.rollup.maxRunDurationMs,
                prices: config.rollup.prices,
                attributes: config.rollup.attributes,
              },
              hoursProgress(terminalProgress(process.stderr, 'rolling up', 'hours')),
            );
            out(`rolled up runs that ended from ${new Date(from).toISOString()} to ${new Date(to).toISOString()} in ${r.passes} passes (${(r.elapsedMs / 1000).toFixed(1)}s)`);
            out(describeCounters(r.counters));
            // Late scores (run_scores) into the aggregates, as the daemon does after its passes.
            const s = await runScoresPass(ch, storeNames(config), { mode: 'backfill', at: systemClock.now(), latenessMs: config.rollup.latenessMs, aggregates: config.aggregates });
            out(describeScores(s));
          },
          { ready: false },
        );
      }),
    );
}
