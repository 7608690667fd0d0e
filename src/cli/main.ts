/**
 * The `agentdrift` command line: one module per command in commands/. Every command that touches data
 * accepts --config and --clickhouse. A command's action returns its exit code; an error it throws is
 * mapped to one through the error catalogue (src/util/errors.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CATALOGUE, ERR, exitCodeOf, isCatalogued } from '../util/errors.js';
import { err, exitCodeOfRun } from './command.js';
import { acceptCommand } from './commands/accept.js';
import { backtestCommand } from './commands/backtest.js';
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { explainCommand } from './commands/explain.js';
import { migrateCommand } from './commands/migrate.js';
import { rollupCommand } from './commands/rollup.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { testReceiversCommand } from './commands/testReceivers.js';

/** The commands, in the order `agentdrift --help` lists them. */
const COMMANDS: readonly ((program: Command) => void)[] = [
  migrateCommand,
  demoCommand,
  rollupCommand,
  checkCommand,
  evalCommand,
  explainCommand,
  statusCommand,
  backtestCommand,
  acceptCommand,
  startCommand,
  testReceiversCommand,
];

/** The version in the package's own package.json (found from this module, not the working directory). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

export function buildProgram(): Command {
  const program = new Command('agentdrift')
    .description('Detects behaviour drift of tool-using AI agents from their runs in ClickHouse')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    // A usage error says what is wrong and where the usage is, not the whole help (which buries the error).
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const add of COMMANDS) add(program);
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 findings/failures, 2 usage or configuration errors). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCodeOfRun(program);
  } catch (e) {
    // Commander has said what is wrong (and --help and --version what they print).
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : CATALOGUE[ERR.USAGE].exitCode;
    if (isCatalogued(e)) {
      err(`agentdrift: ${e.message}`);
      return exitCodeOf(e);
    }
    err(unexpected(e));
    return 1;
  }
}

/**
 * Anything else that stops a command, as one line: a failure to listen, a file that cannot be read.
 * The stack trace is for developers: AGENTDRIFT_DEBUG=1 prints it.
 */
export function unexpected(e: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const error = e instanceof Error ? e : new Error(String(e));
  if (env.AGENTDRIFT_DEBUG) return `agentdrift: ${error.stack ?? error.message}`;
  const line = error.message.split('\n')[0]!.trim() || error.name;
  // A plain Error or a system error (ENOENT, EADDRINUSE, ...) says what happened; a TypeError is a bug.
  const expected = error.constructor === Error || typeof (error as NodeJS.ErrnoException).code === 'string';
  return expected ? `agentdrift: ${line}` : `agentdrift: ${error.name}: ${line} (a bug: AGENTDRIFT_DEBUG=1 prints where)`;
}
