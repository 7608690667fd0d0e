/** `agentdrift test-receivers`: one sample alert to every configured receiver, and each result. */
import type { Command } from 'commander';
import { buildNotifiers, closeNotifiers } from '../../notify/factory.js';
import { formatTestReport, testReceivers } from '../../notify/testReceivers.js';
import { action, out } from '../command.js';
import { externalUrl, resolveSettings, UsageError, type GlobalOptions } from '../context.js';
import { configOption } from '../options.js';

export function testReceiversCommand(program: Command): void {
  configOption(program.command('test-receivers').description('send one sample alert to every configured receiver and report each result')).action(
    action(async (o: GlobalOptions) => {
      const { config, notify } = await resolveSettings(o);
      const notifiers = buildNotifiers(notify, { externalURL: externalUrl(config) });
      if (notifiers.length === 0) throw new UsageError('no receivers configured: add some under `receivers:` in agentdrift.yaml');
      try {
        const results = await testReceivers(notifiers);
        out(formatTestReport(results));
        return results.some((r) => !r.ok) ? 1 : 0;
      } finally {
        await closeNotifiers(notifiers);
      }
    }),
  );
}
