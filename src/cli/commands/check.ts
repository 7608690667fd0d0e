/** `agentdrift check <paths...>`: rule files validated, every problem as file:line:col. */
import type { Command } from 'commander';
import { checkPaths } from '../../rules/check.js';
import { action, err, out } from '../command.js';
import { formatOption } from '../options.js';

export function checkCommand(program: Command): void {
  const cmd = program
    .command('check')
    .description('validate rule files and directories, reporting every problem as file:line:col')
    .argument('<paths...>', 'rule files or directories');
  formatOption(cmd).action(
    action(async (paths: string[], o: { readonly format: string }) => {
      const format = formatOption.read(o.format);
      const r = await checkPaths(paths);
      // JSON goes to stdout either way: it is the result a script reads, problems included.
      if (format === 'json') out(JSON.stringify(r.json, null, 2));
      else (r.ok ? out : err)(r.output);
      return r.ok ? 0 : 1;
    }),
  );
}
