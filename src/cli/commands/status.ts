/** `agentdrift status`: what the store holds, whether its spans can be read, what the rollup did. */
import type { Command } from 'commander';
import { formatStatus, storeStatus } from '../../store/status.js';
import { action, out } from '../command.js';
import { describeTarget, resolveConfig, storeNames, withStore, type GlobalOptions } from '../context.js';
import { dataOptions } from '../options.js';

export function statusCommand(program: Command): void {
  dataOptions(program.command('status').description('row counts, time range and malformed rows of the store; spans, and what the rollup saw and skipped')).action(
    action(async (o: GlobalOptions) => {
      const config = await resolveConfig(o);
      return withStore(
        config,
        async (ch) => {
          const status = await storeStatus(ch, storeNames(config));
          out(formatStatus(status, describeTarget(config.clickhouse.target)));
          // A traces table agentdrift cannot read is a finding, not a quiet zero.
          return status.spanTable.problem !== null ? 1 : 0;
        },
        { ready: false },
      );
    }),
  );
}
