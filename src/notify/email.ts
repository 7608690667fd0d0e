/**
 * Email over SMTP (nodemailer): one message per batch with a plain-text and an HTML part stating
 * the same facts as Slack. In the HTML part every piece of data is HTML-escaped and only http(s)
 * URLs become links.
 *
 * SMTP reply classes decide recoverability, as RFC 5321 means them: 4xx (and 503, a session-state
 * error) is transient and retried; 5xx is a permanent rejection of this message and is not.
 */
import { createTransport, type Transporter } from 'nodemailer';
import { alertFacts, batchTitle, escapeHtml, oneLine, type AlertFacts } from './format.js';
import { NotifyError, secretSet } from './redact.js';
import type { AlertNotification, FailureReason, Notifier, NotifyResult } from './types.js';

export type SmtpTls = 'starttls' | 'tls' | 'none';

export interface EmailOptions {
  readonly name: string;
  readonly to: readonly string[];
  readonly from: string;
  readonly host: string;
  readonly port: number;
  /** starttls: require STARTTLS; tls: implicit TLS (port 465); none: never upgrade. */
  readonly tls: SmtpTls;
  readonly authUsername?: string | null;
  readonly authPassword?: string | null;
  /** For servers with self-signed certificates; never the default. */
  readonly insecureSkipVerify?: boolean;
  readonly timeoutMs?: number;
  /** More values to scrub from errors: every secret of the config, in case a reply echoes another's. */
  readonly secrets?: readonly string[];
}

export class EmailNotifier implements Notifier {
  readonly integration = 'email' as const;
  readonly name: string;
  private readonly secrets: string[];
  private readonly transport: Transporter;
  private readonly where: string;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(private readonly opts: EmailOptions) {
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    const user = opts.authUsername ?? null;
    const pass = opts.authPassword ?? null;
    // A server may echo the AUTH exchange in its reply: its base64 forms are secrets too.
    const echoes = pass ? [Buffer.from(pass).toString('base64'), Buffer.from(`\0${user ?? ''}\0${pass}`).toString('base64'), Buffer.from(`${user ?? ''}\0${pass}`).toString('base64')] : [];
    this.secrets = secretSet([pass, ...echoes, ...(opts.secrets ?? [])]);
    this.where = `email receiver ${opts.name}: SMTP ${opts.host}:${opts.port}`;
    this.transport = createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.tls === 'tls',
      requireTLS: opts.tls === 'starttls',
      ignoreTLS: opts.tls === 'none',
      auth: user !== null || pass !== null ? { user: user ?? '', pass: pass ?? '' } : undefined,
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
      tls: { rejectUnauthorized: !(opts.insecureSkipVerify ?? false), servername: opts.host },
      // Message content is alert data: it must never make nodemailer read a file or fetch a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  async notify(alerts: readonly AlertNotification[], signal: AbortSignal): Promise<NotifyResult> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    const onAbort = (): void => timeout.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) timeout.abort();
    try {
      const msg = emailMessage(alerts);
      await this.transport.sendMail({ from: this.opts.from, to: [...this.opts.to], subject: msg.subject, text: msg.text, html: msg.html, signal: timeout.signal });
      return { ok: true };
    } catch (e) {
      if (signal.aborted) return this.fail(true, 'other', 'aborted');
      if (timeout.signal.aborted) return this.fail(true, 'timeout', `no answer within ${this.timeoutMs}ms`);
      return this.classify(e);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }

  private classify(e: unknown): NotifyResult {
    const err = e as { code?: string; responseCode?: number; message?: string };
    const code = typeof err.code === 'string' ? err.code : undefined;
    const rc = typeof err.responseCode === 'number' ? err.responseCode : undefined;
    const text = firstLine(err.message ?? String(e));
    const detail = `${code ?? 'error'}${rc !== undefined ? ` ${rc}` : ''}: ${text}`;
    if (rc !== undefined) {
      const permanent = rc >= 500 && rc < 600 && rc !== 503;
      return this.fail(!permanent, permanent ? 'client_error' : 'server_error', detail, code);
    }
    switch (code) {
      case 'ECONNECTION':
      case 'ESOCKET':
      case 'EDNS':
      case 'EPROXY':
        return this.fail(true, 'connection', detail, code);
      case 'ETIMEDOUT':
        return this.fail(true, 'timeout', detail, code);
      case 'EABORT':
        return this.fail(true, 'other', detail, code);
      case 'EAUTH':
      case 'ENOAUTH':
      case 'EENVELOPE':
      case 'ETLS':
      case 'EREQUIRETLS':
        // Wrong credentials, addresses or TLS setup: only a config change fixes these.
        return this.fail(false, 'client_error', detail, code);
      default:
        return this.fail(false, 'other', detail, code);
    }
  }

  private fail(recoverable: boolean, reason: FailureReason, detail: string, code?: string): NotifyResult {
    return { ok: false, recoverable, reason, error: new NotifyError(`${this.where}: ${detail}`, this.secrets, code) };
  }
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}...` : line;
}

export interface EmailMessage {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export function emailMessage(alerts: readonly AlertNotification[]): EmailMessage {
  const facts = alerts.map(alertFacts);
  const subject = batchTitle(alerts);
  const text = [subject, '', ...facts.map(textSection).join('\n----------------------------------------\n\n').split('\n')].join('\n');
  return { subject: oneLine(subject), text, html: htmlBody(subject, facts) };
}

function textSection(f: AlertFacts): string {
  const out: string[] = [];
  out.push(`${f.status === 'firing' ? 'FIRING' : 'RESOLVED'}: ${f.alertname}${f.severity ? ` (${f.severity})` : ''}`);
  if (f.summary) out.push(f.summary);
  out.push(`${f.status === 'firing' ? 'What moved' : 'Last measured'}: ${f.moved}`);
  if (f.description && f.description !== f.summary) out.push(f.description);
  if (f.onset) out.push(`Since: ${f.onset}`);
  if (f.whatMoved) out.push(`Parts: ${f.whatMoved}`);
  if (f.cause) out.push(`Cause: ${f.cause}`);
  if (f.labels.length > 0) {
    out.push('', 'Labels:');
    for (const [k, v] of f.labels) out.push(`  ${k}: ${v}`);
  }
  if (f.contributors.length > 0) {
    out.push('', 'Contributors:');
    for (const c of f.contributors) out.push(`  - ${c}`);
  }
  if (f.examples.length > 0) {
    out.push('', 'Example runs:');
    for (const x of f.examples) out.push(`  ${x.runId} (trace ${x.traceId})${x.url ? ` ${x.url}` : ''}`);
  } else if (f.exampleRunIds.length > 0) out.push('', `Example runs: ${f.exampleRunIds.join(', ')}`);
  out.push('', `Fingerprint: ${f.fingerprint}`, `Since: ${f.startsAt}`);
  if (f.status === 'resolved' && f.endsAt) out.push(`Resolved: ${f.endsAt}`);
  if (f.runbookUrl) out.push(`Runbook: ${f.runbookUrl}`);
  if (f.generatorURL) out.push(`Source: ${f.generatorURL}`);
  return `${out.join('\n')}\n`;
}

function link(url: string, text: string): string {
  return `<a href="${escapeHtml(url)}">${escapeHtml(text)}</a>`;
}

function htmlSection(f: AlertFacts): string {
  const h = escapeHtml;
  const color = f.status === 'firing' ? '#c0392b' : '#27ae60';
  const parts: string[] = [];
  parts.push(`<h3 style="color:${color};margin:16px 0 4px">${f.status === 'firing' ? 'FIRING' : 'RESOLVED'}: ${h(f.alertname)}${f.severity ? ` (${h(f.severity)})` : ''}</h3>`);
  if (f.summary) parts.push(`<p style="margin:4px 0">${h(f.summary)}</p>`);
  parts.push(`<p style="margin:4px 0"><b>${f.status === 'firing' ? 'What moved' : 'Last measured'}:</b> ${h(f.moved)}</p>`);
  if (f.description && f.description !== f.summary) parts.push(`<p style="margin:4px 0;color:#555">${h(f.description)}</p>`);
  if (f.onset) parts.push(`<p style="margin:4px 0"><b>Since:</b> ${h(f.onset)}</p>`);
  if (f.whatMoved) parts.push(`<p style="margin:4px 0"><b>Parts:</b> ${h(f.whatMoved)}</p>`);
  if (f.cause) parts.push(`<p style="margin:4px 0"><b>Cause:</b> ${h(f.cause)}</p>`);
  if (f.labels.length > 0) {
    const rows = f.labels.map(([k, v]) => `<tr><td style="padding:2px 8px 2px 0;color:#555">${h(k)}</td><td style="padding:2px 0"><code>${h(v)}</code></td></tr>`);
    parts.push(`<table style="border-collapse:collapse;margin:8px 0">${rows.join('')}</table>`);
  }
  if (f.contributors.length > 0) parts.push(`<p style="margin:8px 0 2px"><b>Contributors</b></p><ul style="margin:0">${f.contributors.map((c) => `<li>${h(c)}</li>`).join('')}</ul>`);
  if (f.examples.length > 0) parts.push(`<p style="margin:8px 0"><b>Example runs:</b> ${f.examples.map((x) => (x.url ? link(x.url, x.runId) : `<code>${h(x.runId)}</code>`)).join(', ')}</p>`);
  else if (f.exampleRunIds.length > 0) parts.push(`<p style="margin:8px 0"><b>Example runs:</b> ${f.exampleRunIds.map((r) => `<code>${h(r)}</code>`).join(', ')}</p>`);
  const meta = [`fingerprint <code>${h(f.fingerprint)}</code>`, `since ${h(f.startsAt)}`];
  if (f.status === 'resolved' && f.endsAt) meta.push(`resolved ${h(f.endsAt)}`);
  if (f.runbookUrl) meta.push(link(f.runbookUrl, 'Runbook'));
  if (f.generatorURL) meta.push(link(f.generatorURL, 'Source'));
  parts.push(`<p style="margin:8px 0;color:#777;font-size:12px">${meta.join(' &middot; ')}</p>`);
  return parts.join('\n');
}

function htmlBody(subject: string, facts: readonly AlertFacts[]): string {
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"></head>',
    '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px">',
    `<h2 style="margin:0 0 8px">${escapeHtml(subject)}</h2>`,
    facts.map(htmlSection).join('\n<hr style="border:none;border-top:1px solid #ddd">\n'),
    '</body></html>',
  ].join('\n');
}
