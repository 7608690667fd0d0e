/**
 * A real HTTP server on 127.0.0.1 (port 0) standing in for Slack, a webhook or anything else that
 * receives JSON: it records every request and answers from a script ([500, 200], [429 with
 * Retry-After, 200], [400]...), then with `fallback` once the script runs out.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Arrivals } from './arrivals.js';
import { freePort } from './process.js';

export type ScriptedResponse =
  | number
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: string;
      /** Answer this late (to provoke client timeouts). */
      readonly delayMs?: number;
      /** Never answer: the request stays open until the client goes away or the receiver closes. */
      readonly hold?: boolean;
    };

export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when it is not JSON. */
  readonly body: unknown;
  readonly raw: string;
  /** Date.now() when the request was complete. */
  readonly at: number;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Replaces what is left of the script. */
  script(responses: readonly ScriptedResponse[]): void;
  /** Resolves once `n` requests have arrived; rejects after `timeoutMs`. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startHttpReceiver(
  responses: readonly ScriptedResponse[] = [],
  /** `port`: a specific port (e.g. one a client was refused on before), else any free one. */
  opts: {
    fallback?: ScriptedResponse;
    port?: number;
    /** Called with each request once it is recorded, before it is answered (to act at that moment). */
    onRequest?: (r: RecordedRequest, n: number) => void;
    /** Called once the answer to a request has been handed to the network. */
    onAnswered?: (r: RecordedRequest, n: number) => void;
  } = {},
): Promise<HttpReceiver> {
  let script = [...responses];
  const fallback = opts.fallback ?? 200;
  const received = new Arrivals<RecordedRequest>('requests');

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // Not JSON: kept as text.
      }
      const rec: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, raw, at: Date.now() };
      received.add(rec);
      const n = received.items.length;
      opts.onRequest?.(rec, n);
      const next = script.shift() ?? fallback;
      const r = typeof next === 'number' ? { status: next } : next;
      const answer = (): void => {
        res.writeHead(r.status, { 'content-type': 'text/plain', ...r.headers });
        res.end(r.body ?? (r.status < 300 ? 'ok' : `status ${r.status}`), () => opts.onAnswered?.(rec, n));
      };
      if (r.hold === true) return;
      if (r.delayMs !== undefined) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  // Keep-alive sockets would hold close() open until they time out.
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: received.items,
    script(r) {
      script = [...r];
    },
    waitForRequests(n, timeoutMs = 10_000) {
      return received.waitFor(n, timeoutMs);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released): connections are refused. */
export const closedPort: () => Promise<number> = freePort;
