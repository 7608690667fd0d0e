/**
 * The daemon's HTTP endpoints: /metrics for Prometheus, /healthz (the process answers) and /readyz
 * (the process does its job). Plain node:http: three read-only routes do not need a framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { DriftMetrics } from '../metrics/registry.js';
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
   * Answered for loopback clients only (`agentdrift accept` on the same host): it changes alert
   * state, and the listen address is usually reachable by a whole network of scrapers.
   */
  readonly accept?: (request: AcceptRequest) => Promise<AcceptAnswer>;
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

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolveBody, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolveBody(null);
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

async function handleAccept(req: IncomingMessage, res: ServerResponse, accept: NonNullable<HttpServerOptions['accept']>): Promise<void> {
  if (req.method !== 'POST') return send(res, 405, TEXT, 'method not allowed\n', { Allow: 'POST' });
  if (!isLoopback(req.socket.remoteAddress)) return send(res, 403, TEXT, 'accepting alerts is allowed from this host only (run agentdrift accept there)\n');
  const text = await readBody(req);
  if (text === null) return send(res, 413, TEXT, 'request body too large\n');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return send(res, 400, TEXT, 'body must be JSON: {"alertname", "match", "reason"}\n');
  }
  const parsed = acceptSchema.safeParse(raw);
  if (!parsed.success) return send(res, 400, TEXT, `${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}\n`);
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

async function route(req: IncomingMessage, res: ServerResponse, opts: HttpServerOptions): Promise<void> {
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (path === '/api/v1/accept' && opts.accept) return handleAccept(req, res, opts.accept);
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
  const server = createServer((req, res) => {
    route(req, res, opts).catch((err: unknown) => {
      opts.logger.error({ err }, 'http handler failed');
      if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
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
