/** `agentdrift demo seed`: synthetic runs with seven injected drifts, as OpenTelemetry spans. */
import type { Command } from 'commander';
import { hoursProgress, resetStore, seedDecision, seedDemo, storeContents, type SeedMode } from '../../demo/seed.js';
import { describeCounters } from '../../rollup/pass.js';
import { migrate } from '../../store/migrate.js';
import { terminalProgress } from '../../util/progress.js';
import { action, err, out } from '../command.js';
import { describeTarget, resolveConfig, storeNames, UsageError, withStore, type GlobalOptions } from '../context.js';
import { dataOptions, oneOf, positiveInt, TIME_ARG, timeOf } from '../options.js';
import { systemClock } from '../../util/clock.js';
import { DEMO_DIALECTS } from '../../demo/generate.js';
import { reportSteps } from './migrate.js';

interface SeedOptions extends GlobalOptions {
  readonly days: number;
  readonly runsPerDay: number;
  readonly seed: string;
  readonly end?: string;
  readonly append?: boolean;
  readonly reset?: boolean;
  readonly ifEmpty?: boolean;
  readonly spans?: boolean;
  readonly dialect?: string;
}

export function demoCommand(program: Command): void {
  const demo = program
    .command('demo')
    .description('the demo fleet: `demo seed` writes 28 days of synthetic runs of nine agent workflows with drifts injected for the default rules to find (what `npm start` seeds)');
  dataOptions(demo.command('seed').description('seed the store with the demo fleet: synthetic agent runs (as OpenTelemetry spans) with injected drifts, and print each drift and when it starts'))
    .option('--days <n>', 'days of history', positiveInt, 28)
    .option('--runs-per-day <n>', 'average runs per day over all workflows', positiveInt, 6000)
    .option('--seed <text>', 'random seed: the same seed and --end give the same runs', 'agentdrift')
    .option(`--end ${TIME_ARG}`, 'end of the seeded period: ISO, now, or relative such as -1d (default: now)')
    .option('--append', 'add the demo to a store that already holds runs or spans')
    .option('--reset', 'delete every run and span first (truncates agent_runs and otel_traces)')
    .option('--if-empty', 'seed only an empty store; leave one that holds data alone and succeed')
    .option('--spans', 'write plain GenAI traces (no run summary) and roll them up into agent_runs, instead of summary root spans')
    .option('--dialect <name>', `with --spans: the instrumentation family whose conventions the traces follow (${DEMO_DIALECTS.join(', ')})`, 'genai')
    .action(
      action(async (o: SeedOptions) => {
        const now = systemClock.now();
        const endMs = timeOf('--end', o.end, now) ?? now;
        const modes: SeedMode[] = [...(o.append ? (['append'] as const) : []), ...(o.reset ? (['reset'] as const) : []), ...(o.ifEmpty ? (['if-empty'] as const) : [])];
        if (modes.length > 1) throw new UsageError(`--${modes.join(' and --')} exclude each other`);
        const dialect = oneOf('--dialect', o.dialect ?? 'genai', DEMO_DIALECTS);
        if (dialect !== 'genai' && !o.spans) throw new UsageError('--dialect applies to traces: pass --spans with it');
        const config = await resolveConfig(o);
        return withStore(
          config,
          async (ch) => {
            const names = storeNames(config);
            const steps = await migrate(ch, names, { ttlDays: config.ttlDays ?? undefined, aggregates: config.aggregates, progress: terminalProgress(process.stderr, 'aggregating', 'runs') });
            if (reportSteps(steps.filter((s) => s.problem !== undefined), err)) return 1;
            const held = await storeContents(ch, names);
            const holds = `${describeTarget(config.clickhouse.target)} already holds ${held.runs} runs (${names.agentRuns}) and ${held.spans} spans (${names.otelTraces})`;
            switch (seedDecision(held, modes[0] ?? 'refuse')) {
              case 'refuse':
                throw new UsageError(`${holds}: seeding would add the demo to them. Pass --append to do that, --reset to delete them first, or --if-empty to leave them alone`);
              case 'skip':
                out(`${holds}: not seeding (--if-empty)`);
                return 0;
              case 'reset-then-seed':
                await resetStore(ch, names);
                out(`deleted ${held.runs} runs and ${held.spans} spans (--reset)`);
                break;
              case 'seed':
                break;
            }
            const r = await seedDemo(
              ch,
              names,
              { days: o.days, runsPerDay: o.runsPerDay, seed: o.seed, endMs, form: o.spans ? 'spans' : 'summary', dialect },
              terminalProgress(),
              hoursProgress(terminalProgress(process.stderr, 'rolling up', 'hours')),
            );
            const form = o.spans ? `as ${r.spans} ${dialect === 'genai' ? 'plain GenAI' : dialect} spans ` : '';
            out(`seeded ${r.inserted} runs ${form}from ${new Date(r.plan.startMs).toISOString()} to ${new Date(r.plan.endMs).toISOString()} in ${(r.elapsedMs / 1000).toFixed(1)}s`);
            if (r.rollup) out(`rolled up in ${(r.rollup.elapsedMs / 1000).toFixed(1)}s: ${describeCounters(r.rollup.counters)}`);
            out('injected drifts:');
            for (const d of r.plan.drifts) {
              const when = new Date(d.startsAt);
              const day = when.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
              out(`  ${d.signal.padEnd(22)} ${d.workflowId.padEnd(19)} from ${when.toISOString()} (${day}): ${d.description}`);
            }
            out('workflows that never drift: lead_scoring, email_drafting');
            return 0;
          },
          { ready: false },
        );
      }),
    );
}
