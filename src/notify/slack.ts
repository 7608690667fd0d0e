/**
 * Slack incoming webhooks with Block Kit. The webhook URL is the credential: it appears nowhere but
 * in the request. Every piece of text that comes from data (labels, tool names, fingerprints,
 * annotations, run ids) goes through escapeSlack, so data cannot mention @channel or forge a link.
 */
import { alertFacts, batchTitle, escapeSlack, slackUrl, truncate, type AlertFacts } from './format.js';
import { postJson } from './http.js';
import { secretSet } from './redact.js';
import type { AlertNotification, Notifier, NotifyResult } from './types.js';

export interface SlackOptions {
  readonly name: string;
  readonly webhookUrl: string;
  readonly channel?: string | null;
  readonly timeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** More values to scrub from errors: every secret of the config, in case a reply echoes another's. */
  readonly secrets?: readonly string[];
}

/** Block Kit limits: 50 blocks, 150 characters in a header, 3000 in a section, 10 fields of 2000. */
const MAX_ALERTS_SHOWN = 10;
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const MAX_FIELDS = 10;

export class SlackNotifier implements Notifier {
  readonly integration = 'slack' as const;
  readonly name: string;
  private readonly secrets: string[];

  constructor(private readonly opts: SlackOptions) {
    this.name = opts.name;
    this.secrets = secretSet([opts.webhookUrl, ...(opts.secrets ?? [])]);
  }

  notify(alerts: readonly AlertNotification[], signal: AbortSignal): Promise<NotifyResult> {
    return postJson(
      { what: `slack receiver ${this.name}`, url: this.opts.webhookUrl, timeoutMs: this.opts.timeoutMs ?? 10_000, secrets: this.secrets, now: this.opts.now, fetch: this.opts.fetch },
      slackPayload(alerts, this.opts.channel ?? null),
      signal,
    );
  }
}

type Block = Record<string, unknown>;

const mrkdwn = (text: string): Block => ({ type: 'mrkdwn', text });

export function slackPayload(alerts: readonly AlertNotification[], channel: string | null): Record<string, unknown> {
  const facts = alerts.map(alertFacts);
  const title = batchTitle(alerts);
  const firing = facts.some((f) => f.status === 'firing');
  const emoji = firing ? (facts.some((f) => f.severity === 'critical') ? ':rotating_light:' : ':warning:') : ':white_check_mark:';
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(`${firing ? '🔥' : '✅'} ${escapeSlack(title)}`, HEADER_MAX), emoji: true } }];
  facts.slice(0, MAX_ALERTS_SHOWN).forEach((f, i) => {
    if (i > 0) blocks.push({ type: 'divider' });
    blocks.push(...alertBlocks(f));
  });
  if (facts.length > MAX_ALERTS_SHOWN) {
    blocks.push({ type: 'context', elements: [mrkdwn(`…and ${facts.length - MAX_ALERTS_SHOWN} more alerts`)] });
  }
  // `text` is what notifications and screen readers show; it carries the headline facts too.
  const first = facts[0];
  const text = `${emoji} ${escapeSlack(title)}${first ? `: ${escapeSlack(first.moved)}` : ''}`;
  return { ...(channel !== null ? { channel } : {}), text: truncate(text, SECTION_MAX), blocks };
}

function alertBlocks(f: AlertFacts): Block[] {
  const e = escapeSlack;
  const blocks: Block[] = [];
  const lines: string[] = [];
  const state = f.status === 'firing' ? '*Firing*' : '*Resolved* (no longer drifting)';
  lines.push(`${state}: *${e(f.alertname)}*${f.severity ? ` (${e(f.severity)})` : ''}`);
  if (f.summary) lines.push(e(f.summary));
  lines.push(f.status === 'firing' ? e(f.moved) : `Last measured: ${e(f.moved)}`);
  if (f.description && f.description !== f.summary) lines.push(`_${e(f.description)}_`);
  blocks.push({ type: 'section', text: mrkdwn(truncate(lines.join('\n'), SECTION_MAX)) });

  const fields = f.labels.slice(0, MAX_FIELDS).map(([k, v]) => mrkdwn(truncate(`*${e(k)}*\n${e(v)}`, FIELD_MAX)));
  if (fields.length > 0) blocks.push({ type: 'section', fields });

  const why: string[] = [];
  if (f.onset) why.push(`*Since* ${e(f.onset)}`);
  if (f.whatMoved) why.push(`*What moved* ${e(f.whatMoved)}`);
  if (f.cause) why.push(`*Cause* ${e(f.cause)}`);
  if (why.length > 0) blocks.push({ type: 'section', text: mrkdwn(truncate(why.join('\n'), SECTION_MAX)) });

  const details: string[] = [];
  if (f.contributors.length > 0) details.push(`*Contributors*\n${f.contributors.map((c) => `• ${e(c)}`).join('\n')}`);
  if (f.examples.length > 0) details.push(`*Example runs*\n${f.examples.map((x) => (x.url ? `<${slackUrl(x.url)}|${e(x.runId)}>` : `\`${e(x.runId)}\``)).join(', ')}`);
  else if (f.exampleRunIds.length > 0) details.push(`*Example runs*\n${f.exampleRunIds.map((r) => `\`${e(r)}\``).join(', ')}`);
  if (details.length > 0) blocks.push({ type: 'section', text: mrkdwn(truncate(details.join('\n'), SECTION_MAX)) });

  const context: string[] = [`fingerprint \`${e(f.fingerprint)}\``, `since ${e(f.startsAt)}`];
  if (f.status === 'resolved' && f.endsAt) context.push(`resolved ${e(f.endsAt)}`);
  if (f.runbookUrl) context.push(`<${slackUrl(f.runbookUrl)}|Runbook>`);
  if (f.generatorURL) context.push(`<${slackUrl(f.generatorURL)}|Source>`);
  blocks.push({ type: 'context', elements: [mrkdwn(truncate(context.join(' · '), SECTION_MAX))] });
  return blocks;
}
