/** `agentdrift accept <rule>`: asks the running daemon (POST /api/v1/accept) to accept firing series as the new normal. */
import type { Command } from 'commander';
import { action, err, out } from '../command.js';
import { resolveConfig, UsageError, type GlobalOptions } from '../context.js';
import { configOption, formatOption, groupOption, parseGroup } from '../options.js';
import { humanize } from '../../util/format.js';
import { advertisedUrl } from '../server.js';

interface AcceptOptions extends GlobalOptions {
  readonly group?: string[];
  readonly reason?: string;
  readonly url?: string;
  readonly format: string;
}

/** The message of an error answer of the daemon's API (`{"error": {"code", "message"}}` or `{"error": "..."}`), else its text. */
export function errorMessage(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof e === 'string') return e;
    if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  } catch {
    // not JSON: the text as it is
  }
  return text.trim();
}

export function acceptCommand(program: Command): void {
  const cmd = groupOption(
    program
      .command('accept')
      .description('accept the current value of firing alerts as the new normal: they resolve now and are compared with it from then on')
      .argument('<rule>', 'the alert name of the rule'),
  )
    .option('--reason <text>', 'required: why this is the new normal (recorded, shown in /alerts and the resolved notification)')
    .option('--url <url>', "the daemon's HTTP address (default: the one the running daemon recorded in its lock file, else the config's listen)");
  formatOption(configOption(cmd)).action(
    action(async (rule: string, o: AcceptOptions) => {
      // Checked here, not by commander: one line that says what to pass, not a parser error.
      if (o.reason === undefined || o.reason.trim() === '') throw new UsageError('accept needs --reason TEXT (why this is the new normal)');
      const format = formatOption.read(o.format);
      const match = parseGroup(o.group);
      const config = await resolveConfig(o);
      const host = ['0.0.0.0', '::', ''].includes(config.listen.host) ? '127.0.0.1' : config.listen.host;
      // --url, else where the daemon of this config said it listens (its lock), else the config's listen.
      const base = o.url ?? (await advertisedUrl(config)) ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.listen.port}`;
      let res: Response;
      try {
        res = await fetch(`${base.replace(/\/+$/, '')}/api/v1/accept`, {
          method: 'POST',
          // The daemon takes JSON only, and the token when its config (the same file) sets api.token_file.
          headers: { 'Content-Type': 'application/json', ...(config.api ? { Authorization: `Bearer ${config.api.token}` } : {}) },
          body: JSON.stringify({ alertname: rule, match, reason: o.reason }),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (e) {
        throw new UsageError(`cannot reach the daemon at ${base}: ${(e as Error).message} (is it running? pass --url)`);
      }
      const text = await res.text();
      if (!res.ok) throw new UsageError(`the daemon refused: ${res.status} ${errorMessage(text)}`);
      const body = JSON.parse(text) as { accepted: { labels: Record<string, string>; baseline: number | null; until: string | null }[] };
      // JSON: the daemon's answer as it is (ISO times, the baseline unrounded).
      if (format === 'json') out(JSON.stringify(body, null, 2));
      if (body.accepted.length === 0) {
        err(`no firing series of ${rule} matched${o.group ? ` ${o.group.join(' ')}` : ''}: nothing accepted`);
        return 1;
      }
      if (format === 'json') return 0;
      for (const a of body.accepted) {
        out(`accepted ${rule} ${Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(' ')}: new normal ${humanize(a.baseline)}, compared with it until ${a.until}`);
      }
      return 0;
    }),
  );
}
