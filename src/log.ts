/** Structured JSON logs (pino) with levels; secret-looking fields are redacted wherever they appear. */
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'pass',
  '*.pass',
  'auth.pass',
  '*.auth.pass',
  'token',
  '*.token',
  'api_url',
  '*.api_url',
  'webhook_url',
  '*.webhook_url',
  'headers.authorization',
  '*.headers.authorization',
];

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.AGENTDRIFT_LOG_LEVEL ?? 'info',
      base: { app: 'agentdrift' },
      redact: { paths: REDACT_PATHS, censor: '***' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.destination ?? process.stderr) as never,
  );
}

/** A logger that drops everything, for tests and one-shot commands that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });
