/** Option values and the options several commands share: --config/--clickhouse/--log-level, --group, --format. */
import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../yaml/duration.js';
import { UsageError } from './context.js';
import { parseTime, TimeArgError } from './time.js';
import { DEFAULT_STATES, STATES, type ShownState } from '../report/evalView.js';

export function positiveInt(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x <= 0) throw new InvalidArgumentError('must be a positive integer');
  return x;
}

/**
 * The time an option names (cli/time.ts: ISO, `now`, `-7d`), counted from the command's clock `now`;
 * one usage-error line naming the option when it cannot be read. undefined when the option is absent.
 */
export function timeOf(option: string, value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTime(value, now);
  } catch (e) {
    if (e instanceof TimeArgError) throw new UsageError(`${option}: ${e.message}`);
    throw e;
  }
}

/** The help text's placeholder for a time option. */
export const TIME_ARG = '<time>';

export function durationArg(v: string): number {
  try {
    const ms = parseDuration(v);
    if (ms > 0) return ms;
  } catch {
    // the message below says what is accepted
  }
  throw new InvalidArgumentError('must be a duration such as 30m, 6h or 1d');
}

/** The options of every command that touches data. */
export function dataOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'daemon configuration (default: ./agentdrift.yaml if present)')
    .option('--clickhouse <target>', 'chdb:<dir> or http(s)://host:port/database (overrides the config)')
    .option('--log-level <level>', 'debug | info | warn | error');
}

/**
 * --server URL: the commands that read the store (eval, explain, backtest, status) ask the daemon
 * there (cli/server.ts); without it they ask the daemon that holds the embedded store, if one does.
 */
export function serverOption(cmd: Command): Command {
  return cmd.option('--server <url>', "ask the running daemon at <url> (default: the daemon that holds the embedded store, found from its lock file; else none)");
}

/** --config alone: commands that read the config but not the store (accept, test-receivers). */
export function configOption(cmd: Command): Command {
  return cmd.option('-c, --config <file>', 'daemon configuration (default: ./agentdrift.yaml if present)');
}

/** --group label=value ...: the series of a rule that have these labels (explain, accept). */
export function groupOption(cmd: Command): Command {
  return cmd.option('--group <label=value...>', 'only the series with these labels (e.g. workflow_id=invoice_enrichment tool=enrich_company)');
}

/** The labels --group asks for; a value without `label=` is a usage error. */
export function parseGroup(groups: readonly string[] | undefined): Record<string, string> {
  const match: Record<string, string> = {};
  for (const g of groups ?? []) {
    const i = g.indexOf('=');
    if (i <= 0) throw new UsageError(`--group takes label=value, got ${JSON.stringify(g)}`);
    match[g.slice(0, i)] = g.slice(i + 1);
  }
  return match;
}

/**
 * --format text|json, the same on every command that has it. `table` (what eval took) is read as
 * `text`, with a note on stderr that it is deprecated.
 */
export function formatOption(cmd: Command): Command {
  return cmd.option('--format <format>', 'text | json', 'text');
}
formatOption.read = (value: string, warn: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): 'text' | 'json' => {
  if (value === 'table') {
    warn('agentdrift: --format table is deprecated: use --format text');
    return 'text';
  }
  return oneOf('--format', value, ['text', 'json'] as const);
};

/** `value` of `option` if it is one of `allowed`, else a usage error: "--format must be text or json". */
export function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${option} must be ${allowed.join(' or ')}`);
  return value as T;
}

/** --state firing --state pending, --state firing,pending, --state all; a usage error names what is accepted. */
export function parseStates(values: readonly string[] | undefined): readonly ShownState[] {
  if (values === undefined || values.length === 0) return DEFAULT_STATES;
  const out = new Set<ShownState>();
  for (const v of values.flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== '')) {
    if (v === 'all') STATES.forEach((s) => out.add(s));
    else if ((STATES as readonly string[]).includes(v)) out.add(v as ShownState);
    else throw new UsageError(`--state must be ${STATES.join(', ')} or all (repeated or comma-separated), got ${JSON.stringify(v)}`);
  }
  if (out.size === 0) throw new UsageError(`--state must be ${STATES.join(', ')} or all`);
  return [...out];
}

