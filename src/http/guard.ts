/**
 * The one gate every state-changing request (POST, PUT, PATCH, DELETE) passes before its handler
 * runs: POST /api/v1/accept today, whatever a web UI adds later. A browser on the daemon's host must
 * not be able to change alert state for a page of another site, so:
 *
 * - a request a browser marks as coming from another origin is refused (403): `Origin` naming another
 *   host:port than the request's `Host` (or than external_url), `Origin: null`, or `Sec-Fetch-Site`
 *   `cross-site` / `same-site`. Requests without these headers (curl, `agentdrift accept`) pass.
 *   Without a token, a page's own origin must also be an IP address, `localhost` or external_url's
 *   host: a DNS name can be made to point at 127.0.0.1 (DNS rebinding), and the attacker's page is
 *   then "same-origin" with the daemon;
 * - the caller proves who it is: with an API token configured, `Authorization: Bearer <token>` (401
 *   otherwise), from any address (behind a proxy on the same host, loopback means nothing); without
 *   one, only loopback clients (403 otherwise);
 * - the body must be declared `application/json` (415 otherwise), which a cross-site form or a
 *   "simple" fetch cannot send without a CORS preflight, and preflights are never granted.
 *
 * The token never appears in a log line or an answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export const MUTATING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMutating(method: string | undefined): boolean {
  return MUTATING_METHODS.has((method ?? '').toUpperCase());
}

export interface MutationPolicy {
  /** The bearer token mutating requests must carry; null: loopback clients only, no token. */
  readonly token: string | null;
  /**
   * Origins besides the request's own Host that are this daemon (external_url, as a proxy in front
   * of it is reached), e.g. `https://agentdrift.example.com`.
   */
  readonly ownOrigins?: readonly string[];
}

/** Why a request was refused; `message` is safe to send and log (it never holds the token). */
export interface Refusal {
  readonly status: 401 | 403 | 415;
  readonly code: 'cross_origin' | 'untrusted_host' | 'unauthorized' | 'not_loopback' | 'unsupported_media_type';
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Null when the request may go on to its handler. */
export function guardMutation(req: IncomingMessage, policy: MutationPolicy): Refusal | null {
  return crossSite(req, policy.ownOrigins ?? [], policy.token !== null) ?? caller(req, policy.token) ?? contentType(req);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** host and port of an origin (`scheme://host[:port]`); null when it is not one (`null`, garbage). */
function originHostPort(origin: string): { host: string; port: string } | null {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return null;
  }
  const port = u.port || DEFAULT_PORTS[u.protocol];
  if (port === undefined || u.hostname === '') return null;
  return { host: u.hostname.toLowerCase(), port };
}

/**
 * Whether `origin` is the host:port the client addressed (the Host header). The scheme is left out:
 * behind a TLS-terminating proxy the daemon speaks http while the page is https. A Host without a port
 * matches an origin on its scheme's default port.
 */
function sameAsHost(origin: { host: string; port: string }, hostHeader: string | undefined): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  let u: URL;
  try {
    u = new URL(`http://${hostHeader}`);
  } catch {
    return false;
  }
  if (u.hostname.toLowerCase() !== origin.host || u.pathname !== '/' || u.username !== '' || u.search !== '') return false;
  return u.port === '' ? origin.port === '80' || origin.port === '443' : u.port === origin.port;
}

/** A host no DNS answer can move: an IP address or localhost. */
function fixedHost(host: string): boolean {
  return host === 'localhost' || isIP(host.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

function crossSite(req: IncomingMessage, ownOrigins: readonly string[], withToken: boolean): Refusal | null {
  const fetchSite = header(req, 'sec-fetch-site');
  if (fetchSite !== undefined && !['same-origin', 'none'].includes(fetchSite.trim().toLowerCase())) {
    return { status: 403, code: 'cross_origin', message: `cross-site requests are refused (Sec-Fetch-Site: ${fetchSite.trim().slice(0, 40)})` };
  }
  const origin = header(req, 'origin');
  if (origin === undefined) return null;
  const parsed = originHostPort(origin.trim());
  if (parsed !== null) {
    for (const own of ownOrigins) {
      const o = originHostPort(own);
      if (o !== null && o.host === parsed.host && o.port === parsed.port) return null;
    }
    if (sameAsHost(parsed, header(req, 'host'))) {
      // With a token, a rebound name gets the attacker nothing: the browser does not send the token.
      if (withToken || fixedHost(parsed.host)) return null;
      return {
        status: 403,
        code: 'untrusted_host',
        message: 'without api.token_file, browsers may call this from http://localhost, an IP address or external_url only',
      };
    }
  }
  return { status: 403, code: 'cross_origin', message: 'requests from another origin are refused' };
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time, whatever the lengths: both sides are hashed to 32 bytes first. */
function tokenMatches(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

function caller(req: IncomingMessage, token: string | null): Refusal | null {
  if (token === null) {
    if (isLoopback(req.socket.remoteAddress)) return null;
    return { status: 403, code: 'not_loopback', message: 'this is allowed from the daemon\'s host only (run agentdrift accept there), or configure api.token_file' };
  }
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header(req, 'authorization') ?? '');
  if (m !== null && tokenMatches(m[1]!, token)) return null;
  return {
    status: 401,
    code: 'unauthorized',
    message: m === null ? 'an Authorization: Bearer token is required' : 'the bearer token is not valid',
    headers: { 'WWW-Authenticate': 'Bearer' },
  };
}

function contentType(req: IncomingMessage): Refusal | null {
  const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return null;
  return { status: 415, code: 'unsupported_media_type', message: 'the body must be sent as Content-Type: application/json' };
}
