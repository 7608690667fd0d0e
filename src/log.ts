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

/** Errors that mean a bug in agentdrift, not a fault of its surroundings: their stack is worth a line. */
const BUG_TYPES = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError', 'EvalError', 'URIError', 'AssertionError']);

/**
 * pino's error serializer, without the stack for expected errors (ClickHouse down, a receiver
 * refusing, a file that cannot be written): the message says what and where, and a stack of
 * library frames on every failed tick buries it. Bugs keep their stack; at debug level every error does.
 */
export function errorSerializer(withStacks: boolean): (e: unknown) => unknown {
  return (e) => {
    const out = pino.stdSerializers.err(e as Error) as unknown;
    if (withStacks || !(e instanceof Error) || BUG_TYPES.has(e.name) || out === null || typeof out !== 'object') return out;
    const { stack: _stack, ...rest } = out as Record<string, unknown>;
    return rest;
  };
}

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = opts.level ?? process.env.AGENTDRIFT_LOG_LEVEL ?? 'info';
  return pino(
    {
      level,
      base: { app: 'agentdrift' },
      redact: { paths: REDACT_PATHS, censor: '***' },
      serializers: { err: errorSerializer(level === 'debug' || level === 'trace') },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.destination ?? process.stderr) as never,
  );
}

/** A logger that drops everything, for tests and one-shot commands that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });
