/** `agentdrift status`: what the store holds, whether its spans can be read, what the rollup did. */
import type { Command } from 'commander';
import { asSent, printStatus, type StatusReport } from '../../report/commands.js';
import { storeStatus } from '../../store/status.js';
import { action, out } from '../command.js';
import { describeTarget, resolveConfig, storeNames, withStore, type GlobalOptions } from '../context.js';
import { dataOptions, formatOption, serverOption } from '../options.js';
import { askDaemon, routeFor } from '../server.js';

interface StatusOptions extends GlobalOptions {
  readonly format: string;
  readonly server?: string;
}

export function statusCommand(program: Command): void {
  const cmd = dataOptions(program.command('status').description('row counts, time range and malformed rows of the store; spans, and what the rollup saw and skipped'));
  formatOption(serverOption(cmd)).action(
    action(async (o: StatusOptions) => {
      const format = formatOption.read(o.format);
      const config = await resolveConfig(o);
      const route = await routeFor(config, o.server);
      const report =
        route.kind === 'daemon'
          ? await askDaemon<StatusReport>(route, config, 'status', {})
          : asSent(await withStore(config, async (ch): Promise<StatusReport> => ({ store: describeTarget(config.clickhouse.target), status: await storeStatus(ch, storeNames(config)) }), { ready: false }));
      const printed = printStatus(report, format);
      out(printed.text);
      // A traces table agentdrift cannot read is a finding, not a quiet zero.
      return printed.exit;
    }),
  );
}
