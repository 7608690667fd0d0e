/**
 * How a command reports its outcome: its action returns its exit code (nothing for 0) and main() reads
 * it from the program; an error it throws is mapped to an exit code by main() (src/util/errors.ts).
 * No command sets process.exitCode.
 */
import type { Command } from 'commander';

/** 0 ok, 1 findings or failures. A usage or configuration error is thrown, not returned. */
export type ExitCode = 0 | 1;

const exitCodes = new WeakMap<Command, ExitCode>();

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/**
 * A commander action whose exit code main() collects (exitCodeOfRun). Commander passes the positional
 * arguments, the options and the command itself; `run` gets them as they are.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<ExitCode | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = (await run(...args)) ?? 0;
    const cmd = args[args.length - 1] as unknown as Command;
    exitCodes.set(rootOf(cmd), code);
  };
}

/** The exit code the command run by `program` returned (0 when it returned nothing). */
export function exitCodeOfRun(program: Command): ExitCode {
  return exitCodes.get(program) ?? 0;
}

/** A line on stdout (a newline added unless there is one). */
export const out = (s: string): void => void process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
/** A line on stderr (a newline added unless there is one). */
export const err = (s: string): void => void process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
