/** `agentdrift check <paths...>`: rule files validated, every problem as file:line:col. */
import type { Command } from 'commander';
import { checkPaths } from '../../rules/check.js';
import { action, err, out } from '../command.js';

export function checkCommand(program: Command): void {
  program
    .command('check')
    .description('validate rule files and directories, reporting every problem as file:line:col')
    .argument('<paths...>', 'rule files or directories')
    .action(
      action(async (paths: string[]) => {
        const r = await checkPaths(paths);
        (r.ok ? out : err)(r.output);
        return r.ok ? 0 : 1;
      }),
    );
}
