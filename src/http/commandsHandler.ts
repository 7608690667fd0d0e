/**
 * POST /api/v1/commands/<eval|explain|backtest|status>: the reports `agentdrift eval`, `explain`,
 * `backtest` and `status` print (report/commands.ts), built by the daemon over the store it holds. A
 * command run while a daemon holds the embedded store (one process per chDB directory) asks here
 * (cli/server.ts) and prints the answer with its own printer, so it prints what it would print
 * running alone. POSTs through the guard of accept and backtest: each costs ClickHouse real work, and
 * a page of another site must not be able to start one.
 *
 * Times arrive absolute (ISO 8601): the command resolves `-7d` and `now` against its own clock, so a
 * command prints the same whichever way it ran.
 */
import { z } from 'zod';
import type { BacktestReport, EvalReport, ExplainReport, StatusReport } from '../report/commands.js';
import { badRequest } from './api.js';

export interface CommandSources {
  /** Every loaded rule evaluated once as of `at`, as `agentdrift eval` reports it. */
  readonly eval: (at: number) => Promise<EvalReport>;
  /** The loaded rule `alertname`'s series that have the `match` labels, explained as of `at`. */
  readonly explain: (alertname: string, match: Readonly<Record<string, string>>, at: number) => Promise<ExplainReport>;
  /** The loaded rules replayed over [fromMs, toMs], every stepMs or on each group's schedule (null). */
  readonly backtest: (fromMs: number, toMs: number, stepMs: number | null) => Promise<BacktestReport>;
  readonly status: () => Promise<StatusReport>;
}

export const COMMAND_NAMES = ['eval', 'explain', 'backtest', 'status'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

const iso = z.string().max(40);
const labels = z.record(z.string().max(200), z.string().max(1000));

const schemas = {
  eval: z.object({ at: iso }).strict(),
  explain: z.object({ alertname: z.string().min(1).max(200), match: labels.default({}), at: iso }).strict(),
  backtest: z.object({ from: iso, to: iso, step_seconds: z.number().positive().max(366 * 86_400).nullable().default(null) }).strict(),
  status: z.object({}).strict(),
};

function timeOf(name: string, text: string): number {
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t)) throw badRequest(`${name} must be an ISO-8601 time such as 2026-11-22T03:00:00Z, got ${JSON.stringify(text.slice(0, 40))}`);
  return t;
}

/** The command named by the path after /api/v1/commands/, or null for any other path. */
export function commandOf(path: string): CommandName | null {
  const name = path.slice('/api/v1/commands/'.length);
  return path.startsWith('/api/v1/commands/') && (COMMAND_NAMES as readonly string[]).includes(name) ? (name as CommandName) : null;
}

/**
 * Runs one command's report from a request body. Backtests run one at a time (each can keep
 * ClickHouse busy for minutes); the other reports cost about one evaluation and run as they come.
 */
export function commandRunner(src: CommandSources): (name: CommandName, raw: unknown) => Promise<unknown> {
  let backtests: Promise<unknown> = Promise.resolve();
  const parse = <K extends CommandName>(name: K, raw: unknown): z.infer<(typeof schemas)[K]> => {
    const parsed = schemas[name].safeParse(raw ?? {});
    if (!parsed.success) throw badRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
    return parsed.data as z.infer<(typeof schemas)[K]>;
  };
  return async (name, raw) => {
    switch (name) {
      case 'eval':
        return src.eval(timeOf('at', parse('eval', raw).at));
      case 'explain': {
        const b = parse('explain', raw);
        return src.explain(b.alertname, b.match, timeOf('at', b.at));
      }
      case 'status':
        parse('status', raw);
        return src.status();
      case 'backtest': {
        const b = parse('backtest', raw);
        const from = timeOf('from', b.from);
        const to = timeOf('to', b.to);
        if (!(to > from)) throw badRequest('--to must be after --from');
        const run = () => src.backtest(from, to, b.step_seconds === null ? null : b.step_seconds * 1000);
        const next = backtests.then(run, run);
        backtests = next.catch(() => undefined);
        return next;
      }
    }
  };
}
