/**
 * Keeping secrets out of errors and logs. Receiver URLs routinely carry credentials (a Slack webhook
 * URL *is* the credential; webhook URLs hold tokens in the path or query, userinfo holds passwords),
 * so no message ever shows more of a URL than scheme://host, and every message is scrubbed of the
 * known secret strings as a last guard, as Alertmanager does with its `<secret>` type.
 */
import { ERR } from '../util/errors.js';
import { maskSecrets } from '../util/secrets.js';

/** scheme://host[:port] of a URL; "<invalid URL>" when it does not parse (the text may be a secret). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<invalid URL>';
  }
}

/** Too short a "secret" would blank out ordinary words; such values are not worth protecting by text. */
const MIN_SECRET = 4;

/**
 * Every form in which a secret could show up in text: itself, URL-encoded (as in a query string),
 * and for URLs their path, query and userinfo parts, which are the secret-bearing pieces.
 */
export function secretVariants(secret: string): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined): void => {
    if (s !== undefined && s.length >= MIN_SECRET) out.add(s);
  };
  add(secret);
  add(encodeURIComponent(secret));
  // Header values such as "Bearer <token>": a reply may quote the token without its scheme.
  const auth = /^\s*[A-Za-z][\w-]*\s+(\S+)\s*$/.exec(secret);
  if (auth !== null) {
    add(auth[1]);
    if (/^basic\s/i.test(secret)) {
      const decoded = Buffer.from(auth[1]!, 'base64').toString('utf8');
      add(decoded);
      for (const part of decoded.split(':')) add(part);
    }
  }
  try {
    const u = new URL(secret);
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      add(u.username);
      add(u.password);
      add(decodeURIComponent(u.password));
      if (u.pathname !== '/') add(u.pathname);
      add(u.search.slice(1));
      for (const v of u.searchParams.values()) add(v);
      for (const seg of u.pathname.split('/')) if (seg.length >= 8) add(seg);
    }
  } catch {
    // Not a URL: the plain forms above are all there is.
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of every secret (longest first, so a part never leaves a tail behind). */
export function scrub(text: string, secrets: readonly string[]): string {
  const out = maskSecrets(text, secrets.filter((s) => s.length >= MIN_SECRET));
  // URLs the caller did not know about (in a server's reply, say) lose everything after the host.
  return out.replace(/\b(https?:\/\/)([^\s/?#@]*@)?([^\s/?#]+)[^\s"'<>]*/gi, (_m, scheme: string, _user, host: string) => `${scheme}${host}`);
}

/** The secrets a set of values implies, flattened to every variant worth scrubbing. */
export function secretSet(values: readonly (string | null | undefined)[]): string[] {
  const all = new Set<string>();
  for (const v of values) if (v) for (const s of secretVariants(v)) all.add(s);
  return [...all].sort((a, b) => b.length - a.length);
}

/**
 * An error built from scratch with a scrubbed message: the original is not kept as `cause`, because
 * fetch/undici and nodemailer errors may hold the full URL or the request options, and loggers
 * serialise causes.
 */
export class NotifyError extends Error {
  override readonly name = 'NotifyError';
  readonly errorCode = ERR.NOTIFY;
  constructor(
    message: string,
    secrets: readonly string[],
    /** The underlying error code (ECONNREFUSED, EAUTH...), safe to log. */
    readonly code?: string,
  ) {
    super(scrub(message, secrets));
    // The stack's first line repeats the message; it was built after scrubbing, but a subclass or a
    // runtime could prepend context, so the stack is scrubbed too.
    if (this.stack !== undefined) this.stack = scrub(this.stack, secrets);
  }
}
