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

/** How log lines are written: JSON (for collectors; the default off a terminal) or pretty (for people). */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];

/** pretty on a terminal, JSON anywhere else (a file, a pipe, a container's log collector). */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY ? 'pretty' : 'json';
}

const HIDDEN = new Set(['level', 'time', 'app', 'msg']);

/** A field's value as `key=value`: bare when it has no space or quote, JSON otherwise. */
function fieldText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/**
 * One JSON log line as a person reads it: `03:00:00.012 WARN  ToolCallsPerRunUp firing ... rule=...`
 * (UTC time, level, message, then the other fields). A line that is not JSON passes as it is.
 */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const level = String(o.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(o)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  return `${[time, level, String(o.msg ?? ''), ...fields].filter((x) => x !== '').join(' ')}\n`;
}

/** A pino destination that writes each line pretty (pino writes one whole line per call). */
export function prettyDestination(out: NodeJS.WritableStream): { write(line: string): boolean } {
  return { write: (line: string) => out.write(prettyLine(line)) };
}

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream; format?: LogFormat } = {}): Logger {
  const out = opts.destination ?? process.stderr;
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
    (opts.format === 'pretty' ? prettyDestination(out) : out) as never,
  );
}

/** A logger that drops everything, for tests and one-shot commands that print their own output. */
export const silentLogger: Logger = pino({ level: 'silent' });
