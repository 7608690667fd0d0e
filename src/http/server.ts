/**
 * The daemon's HTTP endpoints: /metrics for Prometheus, /healthz (the process answers) and /readyz
 * (the process does its job), /alerts, POST /api/v1/accept, and with `api` the read routes of /api/v1,
 * POST /api/v1/backtest and the web UI's pages (routes.ts), and with `commands` the reports of the
 * commands run beside the daemon (POST /api/v1/commands/<name>, commandsHandler.ts). Plain node:http: a few routes do not
 * need a framework. State-changing routes go through serveMutation, which applies ./guard.ts's checks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { DriftMetrics } from '../metrics/registry.js';
import { errorCodeOf, httpStatusOf } from '../util/errors.js';
import type { ApiSources } from './api.js';
import { backtestRunner } from './backtestHandler.js';
import { commandOf, commandRunner, type CommandSources } from './commandsHandler.js';
import { guardMutation, isMutating } from './guard.js';
import { apiGet, isUiPath, uiGet, type RouteAnswer } from './routes.js';
import { CSP } from './ui/html.js';
import { errorPage, notFoundPage } from './ui/pages.js';
import type { Readiness } from './readiness.js';

export { readinessFrom, type Readiness, type ReadinessCheck, type ReadinessInput } from './readiness.js';

export interface HttpServerOptions {
  readonly host: string;
  /** 0 picks a free port; the chosen one is in `address.port`. */
  readonly port: number;
  readonly metrics: Pick<DriftMetrics, 'metricsText' | 'contentType'>;
  readonly readiness: () => Promise<Readiness>;
  /** GET /alerts: the alert states (what notification links point at); optional. */
  readonly alerts?: (filter: { alertname: string | null; state: string | null }) => unknown;
  /**
   * POST /api/v1/accept: an operator accepts the current value of firing alerts as the new normal.
   * It changes alert state, and the listen address is usually reachable by a whole network of
   * scrapers: see guardMutation for who may call it.
   */
  readonly accept?: (request: AcceptRequest) => Promise<AcceptAnswer>;
  /**
   * The bearer token state-changing requests must carry (config api.token_file); then they are
   * answered from any address. Null or absent: from loopback clients only, without a token.
   */
  readonly apiToken?: string | null;
  /** external_url: its origin counts as the daemon's own, besides the request's Host. */
  readonly externalUrl?: string | null;
  /** The read side of /api/v1, POST /api/v1/backtest and the web UI at `/`; absent: none of them. */
  readonly api?: ApiSources;
  /** POST /api/v1/commands/<name>: the reports of eval, explain, backtest and status; absent: none. */
  readonly commands?: CommandSources;
  readonly logger: Logger;
}

export interface AcceptRequest {
  readonly alertname: string;
  readonly match: Readonly<Record<string, string>>;
  readonly reason: string;
}

export type AcceptAnswer = { readonly status: 200 | 404; readonly body: unknown };

const acceptSchema = z.object({
  alertname: z.string().min(1).max(200),
  match: z.record(z.string(), z.string()).default({}),
  reason: z.string().trim().min(1, 'a reason is required').max(1000),
});

const MAX_BODY_BYTES = 64 * 1024;
/**
 * A body over the limit is still read (and dropped) up to this much, so the client gets its 413
 * rather than a connection reset: closing a socket with unread data in it makes the kernel send RST.
 * Beyond it, or after DISCARD_TIMEOUT_MS, the answer is sent and the connection closed anyway.
 */
const MAX_DISCARD_BYTES = 1024 * 1024;
const DISCARD_TIMEOUT_MS = 5_000;

type Body = { readonly kind: 'ok'; readonly text: string } | { readonly kind: 'too-large' };

function declaredLength(req: IncomingMessage): number | null {
  const v = req.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
}

function readBody(req: IncomingMessage, res: ServerResponse): Promise<Body> {
  const declared = declaredLength(req);
  const expectsContinue = /^100-continue$/i.test(req.headers.expect ?? '');
  if (declared !== null && declared > MAX_BODY_BYTES) {
    // A client waiting for 100 Continue has sent nothing: answer now, it will not send the body.
    if (expectsContinue || declared > MAX_DISCARD_BYTES) return Promise.resolve({ kind: 'too-large' });
  }
  if (expectsContinue) res.writeContinue();
  return new Promise((resolveBody, reject) => {
    let size = 0;
    let tooLarge = false;
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const giveUp = () => {
      req.pause();
      resolveBody({ kind: 'too-large' });
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (!tooLarge && size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        timer = setTimeout(giveUp, DISCARD_TIMEOUT_MS);
        timer.unref();
      }
      if (!tooLarge) chunks.push(c);
      else if (size > MAX_DISCARD_BYTES) {
        clearTimeout(timer);
        giveUp();
      }
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolveBody(tooLarge ? { kind: 'too-large' } : { kind: 'ok', text: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The JSON error answer of the API routes: `{"error": {"code", "message"}}`. */
function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  send(res, status, JSON_TYPE, `${JSON.stringify({ error: { code, message } })}\n`, extra);
}

/**
 * Every state-changing route is served through here: OPTIONS gets the allowed methods and no CORS
 * grant (so a browser's preflight fails), other methods than `methods` get 405, and mutating ones pass
 * guardMutation before `handler` runs.
 */
async function serveMutation(
  req: IncomingMessage,
  res: ServerResponse,
  opts: HttpServerOptions,
  methods: readonly string[],
  handler: () => Promise<void>,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const allow = [...methods, 'OPTIONS'].join(', ');
  // A CORS preflight included: never any Access-Control-Allow-* header, so the browser stops there.
  if (method === 'OPTIONS') return send(res, 204, TEXT, '', { Allow: allow });
  if (!methods.includes(method)) return sendError(res, 405, 'method_not_allowed', `use ${methods.join(' or ')}`, { Allow: allow });
  if (isMutating(method)) {
    const refusal = guardMutation(req, { token: opts.apiToken ?? null, ownOrigins: opts.externalUrl ? [opts.externalUrl] : [] });
    if (refusal !== null) {
      opts.logger.warn({ method, path: req.url, remote: req.socket.remoteAddress, origin: req.headers.origin, code: refusal.code }, 'refused a state-changing request');
      return sendError(res, refusal.status, refusal.code, refusal.message, { ...refusal.headers });
    }
  }
  return handler();
}

/** The JSON body of a POST, or null once an error answer (413, 400) was sent. */
async function readJson(req: IncomingMessage, res: ServerResponse, shape: string): Promise<{ value: unknown } | null> {
  const body = await readBody(req, res);
  if (body.kind === 'too-large') {
    // Connection: close: node closes the socket once the answer is out (and reads no more of a body
    // it gave up on).
    sendError(res, 413, 'payload_too_large', `the body must be at most ${MAX_BODY_BYTES / 1024} KB`, { Connection: 'close' });
    return null;
  }
  try {
    return { value: JSON.parse(body.text) };
  } catch {
    sendError(res, 400, 'bad_request', `the body must be JSON: ${shape}`);
    return null;
  }
}

async function handleAccept(req: IncomingMessage, res: ServerResponse, accept: NonNullable<HttpServerOptions['accept']>): Promise<void> {
  const body = await readJson(req, res, '{"alertname", "match", "reason"}');
  if (body === null) return;
  const raw = body.value;
  const parsed = acceptSchema.safeParse(raw);
  if (!parsed.success) return sendError(res, 400, 'bad_request', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  const answer = await accept(parsed.data);
  return send(res, answer.status, JSON_TYPE, `${JSON.stringify(answer.body, null, 2)}\n`);
}

export interface HttpServer {
  readonly address: { readonly host: string; readonly port: number };
  /** Stops listening and closes connections; safe to call more than once. */
  close(): Promise<void>;
}

// In-flight scrapes get this long to finish on close before their connections are cut.
const CLOSE_GRACE_MS = 2_000;

function send(res: ServerResponse, status: number, contentType: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    // Every answer describes the present moment: a cached /readyz or /metrics would lie.
    'Cache-Control': 'no-store',
    ...extra,
  });
  // Node leaves the body out of a HEAD response by itself; the length header still tells the truth.
  res.end(body);
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
/** Pages and their script: no inline scripts, no other origins, never framed (see ui/html.ts). */
const UI_HEADERS = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'same-origin' };

function sendAnswer(res: ServerResponse, a: RouteAnswer): void {
  if (a.kind === 'json') return send(res, a.status, JSON_TYPE, `${JSON.stringify(a.body, null, 2)}\n`);
  return send(res, a.status, a.kind === 'html' ? HTML : JS, String(a.body), UI_HEADERS);
}

/**
 * An error thrown by an API or page handler: catalogued ones (unknown rule, bad input, ClickHouse)
 * answer with their catalogue status and code; anything else is a bug, logged, and a 500.
 */
function sendFailure(res: ServerResponse, err: unknown, html: boolean, logger: Logger): void {
  const code = errorCodeOf(err);
  const status = httpStatusOf(err);
  const message = code === null ? 'internal error' : ((err as Error).message ?? String(err));
  if (code === null || status >= 500) logger.error({ err }, 'http handler failed');
  if (html) return send(res, status, HTML, status === 404 ? notFoundPage(message) : errorPage(message), UI_HEADERS);
  return sendError(res, status, code ?? 'internal_error', message);
}

async function routeApi(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions, api: ApiSources, backtest: (raw: unknown) => Promise<unknown>, url: URL): Promise<void> {
  const path = url.pathname;
  if (path === '/api/v1/backtest') {
    return serveMutation(req, res, opts, ['POST'], async () => {
      const body = await readJson(req, res, '{"days", "step", "rules"}');
      if (body === null) return;
      try {
        sendAnswer(res, { status: 200, kind: 'json', body: await backtest(body.value) });
      } catch (err) {
        sendFailure(res, err, false, opts.logger);
      }
    });
  }
  const method = (req.method ?? 'GET').toUpperCase();
  try {
    const answer = await apiGet(api, path, url.searchParams);
    if (answer === null) return sendError(res, 404, 'not_found', `no API route ${path.slice(0, 200)}; see docs/http-api.md`);
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'use GET', { Allow: 'GET, HEAD' });
    return sendAnswer(res, answer);
  } catch (err) {
    return sendFailure(res, err, false, opts.logger);
  }
}

type Runners = { readonly backtest: ((raw: unknown) => Promise<unknown>) | null; readonly commands: ReturnType<typeof commandRunner> | null };

async function route(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions, runners: Runners): Promise<void> {
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const { backtest, commands } = runners;
  if (path === '/api/v1/accept' && opts.accept) {
    const accept = opts.accept;
    return serveMutation(req, res, opts, ['POST'], () => handleAccept(req, res, accept));
  }
  const command = commands ? commandOf(path) : null;
  if (command !== null && commands) {
    return serveMutation(req, res, opts, ['POST'], async () => {
      const body = await readJson(req, res, 'see docs/http-api.md, "Commands"');
      if (body === null) return;
      try {
        sendAnswer(res, { status: 200, kind: 'json', body: await commands(command, body.value) });
      } catch (err) {
        sendFailure(res, err, false, opts.logger);
      }
    });
  }
  if (opts.api && backtest && path.startsWith('/api/v1/')) return routeApi(req, res, opts, opts.api, backtest, url);
  if (opts.api && isUiPath(path)) {
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, TEXT, 'method not allowed\n', { Allow: 'GET, HEAD' });
    try {
      return sendAnswer(res, await uiGet(opts.api, path, url.searchParams));
    } catch (err) {
      return sendFailure(res, err, true, opts.logger);
    }
  }
  const known = path === '/metrics' || path === '/healthz' || path === '/readyz' || (path === '/alerts' && opts.alerts !== undefined);
  if (!known) return send(res, 404, TEXT, 'not found\n');
  if (method !== 'GET' && method !== 'HEAD') return send(res, 405, TEXT, 'method not allowed\n', { Allow: 'GET, HEAD' });

  if (path === '/healthz') return send(res, 200, TEXT, 'ok\n');
  if (path === '/alerts' && opts.alerts) {
    const body = opts.alerts({ alertname: url.searchParams.get('alertname'), state: url.searchParams.get('state') });
    return send(res, 200, JSON_TYPE, `${JSON.stringify(body, null, 2)}\n`);
  }

  if (path === '/metrics') {
    try {
      const text = await opts.metrics.metricsText();
      return send(res, 200, opts.metrics.contentType, text);
    } catch (err) {
      opts.logger.error({ err }, 'collecting metrics failed');
      return send(res, 500, TEXT, 'collecting metrics failed\n');
    }
  }

  let readiness: Readiness;
  try {
    readiness = await opts.readiness();
  } catch (err) {
    // A readiness check that cannot run is an answer too: not ready, and why.
    const detail = (err as Error)?.message ?? String(err);
    readiness = { ready: false, checks: { readiness: { ok: false, detail: `readiness check failed: ${detail}` } } };
  }
  return send(res, readiness.ready ? 200 : 503, JSON_TYPE, `${JSON.stringify(readiness)}\n`);
}

export function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  // One runner per server: it keeps backtests one at a time.
  const runners: Runners = { backtest: opts.api ? backtestRunner(opts.api) : null, commands: opts.commands ? commandRunner(opts.commands) : null };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res, opts, runners).catch((err: unknown) => {
      opts.logger.error({ err }, 'http handler failed');
      if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  };
  const server = createServer(handle);
  // `Expect: 100-continue`: no automatic 100, readBody sends it once the request passed its checks,
  // so a refused or too large request is answered before its body is sent. Such a connection is not
  // reused: a client that got its answer without sending the body may not send it at all.
  server.on('checkContinue', (req, res) => {
    res.setHeader('Connection', 'close');
    handle(req, res);
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolveClose) => {
      const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolveClose();
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return new Promise<HttpServer>((resolveStart, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${opts.host}:${opts.port}: ${err.message}`));
    server.once('error', onError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onError);
      server.on('error', (err) => opts.logger.error({ err }, 'http server error'));
      const addr = server.address() as AddressInfo;
      const address = { host: addr.address, port: addr.port };
      opts.logger.info({ address }, 'http server listening');
      resolveStart({ address, close });
    });
  });
}
