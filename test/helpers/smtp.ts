/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that collects messages. Plain text only (STARTTLS
 * disabled), so the client is configured with `tls: none`; with a username and password set, AUTH
 * is required and checked.
 */
import { SMTPServer } from 'smtp-server';
import { Arrivals } from './arrivals.js';

export interface ReceivedMail {
  readonly from: string | null;
  readonly to: readonly string[];
  readonly user: string | null;
  readonly raw: Buffer;
}

export interface SmtpCapture {
  readonly host: string;
  readonly port: number;
  readonly messages: ReceivedMail[];
  /** AUTH attempts, as username (passwords are not kept). */
  readonly authAttempts: string[];
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SmtpOptions {
  readonly username?: string;
  readonly password?: string;
  /** Replies to DATA in order: null accepts, a number rejects with that code (451 transient, 550 permanent). */
  readonly dataReplies?: readonly (number | null)[];
  /** A careless server: its AUTH failure reply quotes the credentials it got (for secret-leak tests). */
  readonly echoCredentials?: boolean;
}

export async function startSmtpServer(opts: SmtpOptions = {}): Promise<SmtpCapture> {
  const received = new Arrivals<ReceivedMail>('messages');
  const authAttempts: string[] = [];
  const replies = [...(opts.dataReplies ?? [])];
  const needAuth = opts.username !== undefined;

  const server = new SMTPServer({
    authOptional: !needAuth,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      authAttempts.push(auth.username ?? '');
      if (auth.username === opts.username && auth.password === opts.password) cb(null, { user: auth.username });
      else {
        const said = opts.echoCredentials ? ` (got ${auth.username}:${auth.password})` : '';
        cb(Object.assign(new Error(`Invalid username or password${said}`), { responseCode: 535 }));
      }
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const code = replies.shift() ?? null;
        if (code !== null) {
          cb(Object.assign(new Error(code >= 500 ? 'Message rejected' : 'Try again later'), { responseCode: code }));
          return;
        }
        const from = session.envelope.mailFrom === false ? null : session.envelope.mailFrom.address;
        received.add({ from, to: session.envelope.rcptTo.map((r) => r.address), user: (session.user as string | undefined) ?? null, raw: Buffer.concat(chunks) });
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;

  return {
    host: '127.0.0.1',
    port,
    messages: received.items,
    authAttempts,
    waitForMessages(n, timeoutMs = 10_000) {
      return received.waitFor(n, timeoutMs);
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
