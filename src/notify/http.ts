/**
 * One JSON POST with a timeout, and the classification every HTTP integration shares: 5xx, 408,
 * connection errors and timeouts are recoverable; 429 is recoverable after its Retry-After; any other
 * 4xx is permanent (the same request would fail the same way). Errors name the receiver and
 * scheme://host only.
 */
import type { FailureReason, NotifyResult } from './types.js';

type NotifyFailure = Extract<NotifyResult, { ok: false }>;
import { NotifyError, redactUrl, scrub } from './redact.js';

export interface HttpTarget {
  /** Prefix for messages: "slack", "webhook"... */
  readonly what: string;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Scrubbed from every message (see redact.ts). */
  readonly secrets: readonly string[];
  /** For Retry-After given as an HTTP date. */
  readonly now?: () => number;
  /** Injected in tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

const USER_AGENT = 'agentdrift';
/** Enough of a reply body to explain a 4xx ("invalid_token", "no_service"), not a page of HTML. */
const BODY_EXCERPT = 200;

export async function postJson(t: HttpTarget, body: unknown, signal: AbortSignal): Promise<NotifyResult> {
  const where = `${t.what}: POST ${redactUrl(t.url)}`;
  let url: URL;
  try {
    url = new URL(t.url);
  } catch {
    return fail(false, 'other', `${where}: invalid URL`, t.secrets);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  // fetch refuses URLs with credentials; Alertmanager-style configs put basic auth there.
  if (url.username !== '' || url.password !== '') {
    const basic = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
    url.username = '';
    url.password = '';
  }
  for (const [k, v] of Object.entries(t.headers ?? {})) headers[k.toLowerCase()] = v;

  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), t.timeoutMs);
  const onAbort = (): void => timeout.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) timeout.abort();
  try {
    const res = await (t.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: timeout.signal,
      // A redirect would carry the Authorization header and the payload somewhere not configured.
      redirect: 'manual',
    });
    const text = await readExcerpt(res, t.secrets);
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const status = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), (t.now ?? Date.now)());
      const r = fail(true, 'rate_limited', `${where}: ${status}`, t.secrets);
      return retryAfterMs === null ? r : { ...r, retryAfterMs };
    }
    if (res.status >= 500) return fail(true, 'server_error', `${where}: ${status}`, t.secrets);
    if (res.status === 408) return fail(true, 'timeout', `${where}: ${status}`, t.secrets);
    if (res.status >= 400) return fail(false, 'client_error', `${where}: ${status}`, t.secrets);
    return fail(false, 'other', `${where}: unexpected ${status} (redirects are not followed)`, t.secrets);
  } catch (e) {
    if (timeout.signal.aborted) {
      // Our own shutdown is not the receiver's fault: recoverable, so the delivery stays pending.
      if (signal.aborted) return fail(true, 'other', `${where}: aborted`, t.secrets);
      return fail(true, 'timeout', `${where}: no answer within ${t.timeoutMs}ms`, t.secrets);
    }
    const { code, recoverable } = classifyThrown(e);
    return fail(recoverable, recoverable ? 'connection' : 'other', `${where}: ${recoverable ? 'connection failed' : 'request failed'}${code ? ` (${code})` : ''}`, t.secrets, code);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

function fail(recoverable: boolean, reason: FailureReason, message: string, secrets: readonly string[], code?: string): NotifyFailure {
  return { ok: false, recoverable, reason, error: new NotifyError(message, secrets, code) };
}

/** Scrubbed before it is cut: a secret cut in half at the boundary would no longer be recognised. */
async function readExcerpt(res: Response, secrets: readonly string[]): Promise<string> {
  try {
    const text = await res.text();
    const oneLine = scrub(text.slice(0, 64 * 1024), secrets).replace(/\s+/g, ' ').trim();
    return oneLine.length > BODY_EXCERPT ? `${oneLine.slice(0, BODY_EXCERPT)}...` : oneLine;
  } catch {
    return '';
  }
}

/**
 * undici reports network failures as `TypeError: fetch failed` with the system error as `cause`.
 * Only the code is kept: the cause's message can name the full address.
 */
function classifyThrown(e: unknown): { code: string | undefined; recoverable: boolean } {
  const err = e as { message?: string; code?: string; cause?: { code?: string; name?: string } };
  const code = err.cause?.code ?? err.code ?? err.cause?.name;
  if (err.message === 'fetch failed' || code !== undefined) return { code: code !== undefined ? String(code) : undefined, recoverable: true };
  // Anything else (an invalid header value, say) happens before a byte is sent and will happen again.
  return { code: undefined, recoverable: false };
}

/** Retry-After as delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
